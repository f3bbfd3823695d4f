"""Control: pointing loop dynamics against the second-order design, throttle allocation against limits."""

from __future__ import annotations

import numpy as np
import pytest

from touchdown.fsw.control import AttitudeControlParams, ThrottleAllocator, attitude_torque
from touchdown.fsw.control.attitude import pointing_error
from touchdown.moon.frames import quat_from_axis_angle, quat_multiply, quat_normalize, quat_rotate
from touchdown.vehicle.presets import apollo_lm, beresheet, series1

Z = np.array([0.0, 0.0, 1.0])


def slew(angle_deg: float, params: AttitudeControlParams, t_end: float = 20.0, dt: float = 0.002):
    """Rigid body (I = diag(300, 300, 350)) pointed by the loop at a direction `angle_deg` away."""
    inertia = np.array([300.0, 300.0, 350.0])
    target = quat_rotate(quat_from_axis_angle([1.0, 0.0, 0.0], np.radians(angle_deg)), Z)[None]
    q = np.array([[1.0, 0.0, 0.0, 0.0]])
    w = np.zeros((1, 3))
    err, rate, signed = [], [], []
    for _ in range(int(t_end / dt)):
        tau, e = attitude_torque(q, w, target, Z, inertia, params)
        signed.append(pointing_error(q, Z, target)[0, 0])
        w = w + dt * (tau - np.cross(w, inertia * w)) / inertia
        q = quat_normalize(quat_multiply(q, np.concatenate(([[1.0]], 0.5 * dt * w), axis=1)))
        err.append(e[0])
        rate.append(np.linalg.norm(w))
    return np.degrees(np.array(err)), np.degrees(np.array(rate)), dt, np.degrees(np.array(signed))


def test_small_step_follows_the_second_order_design():
    """ζ = 0.8: overshoot e^{−πζ/√(1−ζ²)} = 1.5 %; settles (2 %) near 4/(ζω_n) = 5 s."""
    p = AttitudeControlParams(bandwidth_rad_s=1.0, damping=0.8, max_rate_deg_s=90.0)
    err, _, dt, signed = slew(2.0, p)
    # the signed error about body x starts at +2°; overshoot is how far it goes negative
    overshoot = -signed.min() / signed[0]
    assert overshoot == pytest.approx(np.exp(-np.pi * 0.8 / np.sqrt(1 - 0.8**2)), abs=0.004)
    t_settle = dt * np.max(np.flatnonzero(err > 0.02 * 2.0))
    assert 3.5 < t_settle < 6.5
    assert err[-1] < 1e-3


def test_large_slew_respects_the_rate_limit():
    p = AttitudeControlParams(bandwidth_rad_s=1.0, damping=0.8, max_rate_deg_s=5.0)
    err, rate, _, _ = slew(90.0, p, t_end=40.0)
    assert rate.max() <= 5.0 * 1.05
    assert err[-1] < 0.1


def test_pointing_error_geometry():
    q = quat_from_axis_angle([0.0, 1.0, 0.0], np.radians(30.0))[None]
    theta = pointing_error(q, Z, Z[None])
    # body z is tilted 30° about y; turning it back is −30° about body y
    np.testing.assert_allclose(theta[0], [0.0, -np.radians(30.0), 0.0], atol=1e-12)
    flip = pointing_error(np.array([[1.0, 0, 0, 0]]), Z, -Z[None])
    assert np.linalg.norm(flip[0]) == pytest.approx(np.pi)


def test_series1_allocation_meets_demand_within_capacity():
    veh = series1()
    alloc = ThrottleAllocator(veh)
    demand = np.linspace(0.0, 1600.0, 321)
    cmd = alloc.allocate(demand)
    np.testing.assert_allclose(alloc.thrust_of(cmd), demand, atol=1e-9)
    # the 400 N engine is on exactly when the demand covers it
    np.testing.assert_array_equal(cmd.engine_on[:, 0], demand >= 400.0)
    over = alloc.allocate(np.array([2000.0]))
    assert alloc.thrust_of(over)[0] == pytest.approx(1600.0)


def test_series1_main_engine_disabled_before_touchdown():
    veh = series1()
    alloc = ThrottleAllocator(veh)
    enabled = np.ones((2, 7), bool)
    enabled[:, 0] = False  # REFERENCE §3.1: the 400 N engine is shut off before touchdown
    cmd = alloc.allocate(np.array([600.0, 1500.0]), enabled)
    assert not cmd.engine_on[:, 0].any()
    np.testing.assert_allclose(alloc.thrust_of(cmd), [600.0, 1200.0])


def test_lm_avoids_the_60_to_92_percent_band():
    veh = apollo_lm()
    alloc = ThrottleAllocator(veh)
    ftp = veh.engines[0].max_thrust_n
    rated = ftp / 0.925
    demand = np.array([0.05, 0.30, 0.55, 0.70, 0.85, 0.95]) * rated
    u = alloc.allocate(demand).throttle[:, 0] * ftp / rated  # fraction of rated thrust
    np.testing.assert_allclose(u, [0.10, 0.30, 0.55, 0.60, 0.925, 0.925], atol=1e-12)


def test_on_off_only_vehicle_gets_the_nearest_thrust():
    """Beresheet has one on/off engine and nothing to trim with: the engine lights from half its thrust."""
    veh = beresheet()
    alloc = ThrottleAllocator(veh)
    f = veh.engines[0].max_thrust_n
    demand = np.array([0.0, 0.49 * f, 0.51 * f, 0.999 * f, 3.0 * f])
    cmd = alloc.allocate(demand)
    np.testing.assert_array_equal(cmd.engine_on[:, 0], [False, False, True, True, True])
    np.testing.assert_allclose(alloc.thrust_of(cmd), [0.0, 0.0, f, f, f])
