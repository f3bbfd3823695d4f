"""Rotational dynamics and actuators against closed forms; vehicle input validation."""

from __future__ import annotations

import numpy as np
import pytest

from touchdown.errors import InputError
from touchdown.moon.constants import G0, R_MOON
from touchdown.moon.frames import quat_rotate
from touchdown.moon.gravity import UniformGravity
from touchdown.moon.terrain.base import FlatTerrain
from touchdown.sim.initial import make_state
from touchdown.sim.simulator import Simulator
from touchdown.vehicle.commands import Commands
from touchdown.vehicle.dynamics import M, Q, RigidBodyDynamics, W
from touchdown.vehicle.model import Engine, MassProperties, Vehicle
from touchdown.vehicle.presets import apollo_lm, series1, vehicle_preset

HIGH = np.array([0.0, 0.0, R_MOON + 100_000.0])  # well clear of the ground


def sim_for(veh, dt=0.01):
    return Simulator(
        veh,
        UniformGravity([0.0, 0.0, 0.0]),
        FlatTerrain(),
        target_lat=0.0,
        target_lon=0.0,
        dt_s=dt,
        record_period_s=1.0,
    )


def test_torque_free_tumble_conserves_momentum_and_energy():
    """Asymmetric body spinning near its intermediate axis: Euler's equations keep the inertial angular
    momentum and the rotational energy constant, while the body rates change a lot."""
    veh = Vehicle(
        name="tumbler",
        mass=MassProperties(100.0, 10.0, (100.0, 200.0, 300.0), (100.0, 200.0, 300.0)),
        engines=(Engine("e", 1.0, 300.0),),
    )
    w0 = np.array([0.01, 0.5, 0.01])
    x0 = make_state(veh, HIGH, (0, 0, 0), (1, 0, 0, 0), propellant_kg=5.0, w_body=w0)
    res = sim_for(veh).run(x0, lambda t, x: Commands.off(len(x), 1), t_max_s=60.0)
    inertia = np.array([100.0, 200.0, 300.0])
    w = res.history_x[:, 0, W]
    q = res.history_x[:, 0, Q]
    h_inertial = quat_rotate(q, inertia * w)
    np.testing.assert_allclose(h_inertial, np.broadcast_to(h_inertial[0], h_inertial.shape), atol=1e-7 * 100)
    energy = 0.5 * np.sum(inertia * w * w, axis=1)
    np.testing.assert_allclose(energy, energy[0], rtol=1e-8)
    assert np.ptp(w[:, 1]) > 0.5  # it really tumbled (intermediate-axis instability)


def test_constant_rcs_torque_spins_up_and_burns_propellant_as_closed_form():
    veh = series1()
    tau = 12.0  # N·m about body z, within the 20 N·m limit
    x0 = make_state(veh, HIGH, (0, 0, 0), (1, 0, 0, 0), propellant_kg=100.0)

    def source(t, x):
        c = Commands.off(len(x), len(veh.engines))
        c.torque_body_nm[:, 2] = tau
        return c

    t_run = 5.0
    res = sim_for(veh).run(x0, source, t_max_s=t_run)
    used = x0[0, M] - res.x_end[0, M]
    expected_used = tau * t_run / (veh.rcs.moment_arm_m * veh.rcs.isp_s * G0)
    assert used == pytest.approx(expected_used, rel=1e-9)
    # ω̇ = τ / I_zz(m) with I_zz varying with the propellant burnt (tiny); bound it between the two
    izz = veh.mass.inertia(np.array([100.0 - used, 100.0]))[:, 2]
    assert tau * t_run / izz[1] <= res.x_end[0, W][2] <= tau * t_run / izz[0]


def test_rcs_torque_saturates_at_the_vehicle_limit():
    veh = series1()
    dyn = RigidBodyDynamics(veh, UniformGravity([0.0, 0.0, 0.0]))
    cmd = Commands.off(1, len(veh.engines))
    cmd.torque_body_nm[:] = [1e4, -1e4, 0.0]
    applied = dyn.rcs_torque(cmd, np.array([True]))
    np.testing.assert_array_equal(applied[0], [40.0, -40.0, 0.0])


def test_off_axis_engine_makes_torque_r_cross_f():
    veh = Vehicle(
        name="offset",
        mass=MassProperties(100.0, 50.0, (10.0, 20.0, 30.0), (10.0, 20.0, 30.0)),
        engines=(Engine("e", 200.0, 300.0, position_body_m=(0.1, 0.0, -1.0)),),
    )
    dyn = RigidBodyDynamics(veh, UniformGravity([0.0, 0.0, 0.0]))
    x = make_state(veh, HIGH, (0, 0, 0), (1, 0, 0, 0), propellant_kg=50.0)
    cmd = Commands(np.ones((1, 1)), np.ones((1, 1), bool), np.zeros((1, 3)))
    xdot = dyn.derivative(0.0, x, cmd, np.array([True]))
    # r × F = (0.1, 0, −1) × (0, 0, 200) = (0, −20, 0) N·m; ω̇_y = −20 / 20
    np.testing.assert_allclose(xdot[0, W], [0.0, -1.0, 0.0], atol=1e-15)
    assert xdot[0, 5] == pytest.approx(200.0 / 150.0)


def test_thrust_loss_scales_delivered_thrust_and_flow_of_an_on_off_engine():
    """Series 1's 400 N engine is on/off (REFERENCE §3.1): a degraded engine delivers (1 − loss) of its
    thrust at the same Isp, whatever the (clipped) throttle command."""
    veh = series1()
    dyn = RigidBodyDynamics(veh, UniformGravity([0.0, 0.0, 0.0]))
    n_e = len(veh.engines)
    lit = np.r_[1.0, np.zeros(n_e - 1)]  # lagged thrust level already at the command
    x = make_state(veh, HIGH, (0, 0, 0), (1, 0, 0, 0), propellant_kg=400.0, throttle=lit)
    throttle, on = np.ones((1, n_e)), np.zeros((1, n_e), bool)
    on[0, 0] = True  # main_400n alone
    full = dyn.derivative(0.0, x, Commands(throttle, on, np.zeros((1, 3))), np.array([True]))
    scale = np.ones((1, n_e))
    scale[0, 0] = 0.5
    half = dyn.derivative(0.0, x, Commands(throttle, on, np.zeros((1, 3)), scale), np.array([True]))
    m = x[0, M]
    assert full[0, 5] == pytest.approx(400.0 / m) and half[0, 5] == pytest.approx(200.0 / m)
    assert half[0, M] == pytest.approx(0.5 * full[0, M]) and full[0, M] == pytest.approx(
        -400.0 / veh.exhaust_velocity_mps[0]
    )


def test_lm_descent_engine_mass_flow_matches_luminary_constant():
    """REFERENCE §3.4: 43,670 N and vₑ = 2955.89 m/s give ṁ ≈ 14.8 kg/s at the fixed-throttle position."""
    veh = apollo_lm()
    assert veh.max_thrust_n[0] / veh.exhaust_velocity_mps[0] == pytest.approx(14.80, rel=0.003)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: MassProperties(-1.0, 10.0, (1, 1, 1), (1, 1, 1)), "dry_mass_kg must be > 0"),
        (lambda: MassProperties(1.0, -10.0, (1, 1, 1), (1, 1, 1)), "propellant_capacity_kg"),
        (lambda: Engine("e", -5.0, 300.0), "max_thrust_n must be > 0"),
        (lambda: Engine("e", 5.0, 300.0, throttle_min=0.8, throttle_max=0.5), "throttle_min"),
        (lambda: Engine("e", 5.0, 300.0, direction_body=(0.0, 0.0, 2.0)), "unit vector"),
        (lambda: vehicle_preset("series-one"), "unknown vehicle preset 'series-one'"),
    ],
)
def test_bad_vehicle_input_is_one_clear_line(build, match):
    with pytest.raises(InputError, match=match) as info:
        build()
    assert "\n" not in str(info.value)
