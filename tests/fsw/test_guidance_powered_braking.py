"""Powered braking to a gate and the terminal law's engine limits, against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from touchdown.errors import InputError
from touchdown.fsw.guidance import (
    PoweredBrakingGuidance,
    PoweredBrakingParams,
    VerticalDescentGuidance,
    VerticalDescentParams,
)
from touchdown.moon.constants import GM_MOON, R_MOON

G = 1.62  # REFERENCE §4 oracle gravity [m/s²]


def test_circular_orbit_speed_at_the_gate_is_all_retro_thrust():
    """At circular speed the centrifugal relief cancels gravity: on the gate altitude, level, the law puts
    all of the thrust against the velocity and T follows the rocket equation."""
    h = 2000.0
    r = R_MOON + h
    g = GM_MOON / r**2
    v_circ = math.sqrt(GM_MOON / r)
    ve, a_max = 2900.0, 1.9
    law = PoweredBrakingGuidance(PoweredBrakingParams(gate_altitude_m=h, exhaust_velocity_mps=ve))
    cmd = law.command(
        0.0, np.array([[0.0, 0.0, h]]), np.array([[0.0, -v_circ, 0.0]]), np.array([[0.0, 0.0, -g]]), a_max
    )
    np.testing.assert_allclose(cmd.a_thrust_site[0], [0.0, a_max, 0.0], atol=1e-12)
    assert cmd.t_go_s[0] == pytest.approx(ve / a_max * (1.0 - math.exp(-v_circ / ve)), rel=1e-12)
    assert not cmd.complete[0]


def test_vertical_channel_is_the_e_guidance_solution():
    """Below orbital speed, high above the gate: a_z = 6 Δh/T² − (4ḣ + 2ḣ_g)/T − g_z − v_h²/(R + h), the
    rest of full thrust on the horizontal against v_h, and T consistent with the horizontal share."""
    p = PoweredBrakingParams(gate_altitude_m=2000.0, gate_vertical_rate_mps=-5.0, exhaust_velocity_mps=2900.0)
    law = PoweredBrakingGuidance(p)
    h, hdot, v_e, v_n, a_max = 9000.0, -40.0, 300.0, -400.0, 2.6
    cmd = law.command(
        0.0, np.array([[0.0, 0.0, h]]), np.array([[v_e, v_n, hdot]]), np.array([[0.0, 0.0, -G]]), a_max
    )
    a = cmd.a_thrust_site[0]
    t_go = cmd.t_go_s[0]
    v_h = math.hypot(v_e, v_n)
    a_z = 6 * (2000.0 - h) / t_go**2 - (4 * hdot + 2 * -5.0) / t_go + G - v_h**2 / (R_MOON + h)
    assert 0.0 < a[2] < a_max and a[2] == pytest.approx(a_z, rel=1e-4)  # fixed point converged
    assert np.linalg.norm(a) == pytest.approx(a_max, rel=1e-12)  # full thrust
    np.testing.assert_allclose(a[:2] / np.linalg.norm(a[:2]), [-v_e / v_h, -v_n / v_h], rtol=1e-12)
    cos_theta = np.linalg.norm(a[:2]) / a_max
    t_rocket = 2900.0 / a_max * (1.0 - math.exp(-v_h / (2900.0 * cos_theta)))
    assert t_go == pytest.approx(t_rocket, rel=1e-4)


def fly_braking(law, h0, v0, m0, thrust_n, ve, g, dt=0.05, t_max=2000.0, hdot0=0.0, hdot_min=None):
    """Flat ground, constant g, a point mass of falling mass at full thrust; RK4 until the law completes.
    ``hdot0``: initial vertical rate [m/s]; ``hdot_min``: a list that receives the lowest one flown [m/s]."""
    y = np.array([0.0, 0.0, h0, v0, 0.0, hdot0, m0])
    lowest = 0.0

    def rhs(y):
        a_max = thrust_n / y[6]
        cmd = law.command(0.0, y[None, 0:3], y[None, 3:6], np.array([[0.0, 0.0, -g]]), a_max)
        acc = cmd.a_thrust_site[0] + [0.0, 0.0, -g]
        mdot = -np.linalg.norm(cmd.a_thrust_site[0]) * y[6] / ve
        return np.concatenate((y[3:6], acc, [mdot])), cmd

    t = 0.0
    while t < t_max:
        k1, cmd = rhs(y)
        lowest = min(lowest, y[5])
        if cmd.complete[0]:
            if hdot_min is not None:
                hdot_min.append(lowest)
            return t, y
        k2, _ = rhs(y + dt / 2 * k1)
        k3, _ = rhs(y + dt / 2 * k2)
        k4, _ = rhs(y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        t += dt
    raise AssertionError("the braking phase never completed")


def test_closed_loop_reaches_the_gate_with_the_horizontal_speed_nulled():
    """Series 1 class numbers (1,600 N, 850 kg, vₑ 2,900 m/s; REFERENCE §3.1) braking 1,000 m/s at 15 km: the
    phase ends at the gate with nearly no horizontal speed, at the gate's vertical rate, having burned the
    rocket equation's propellant for Δv ≥ v_h0 (the vertical share only adds to it)."""
    ve, thrust, m0 = 2900.0, 1600.0, 850.0
    law = PoweredBrakingGuidance(
        PoweredBrakingParams(gate_altitude_m=2000.0, exhaust_velocity_mps=ve, reference_radius_m=1e15)
    )
    t, y = fly_braking(law, 15000.0, 1000.0, m0, thrust, ve, G)
    assert abs(y[3]) < 15.0 and abs(y[4]) < 1e-9  # ends 5 s out: ≈ 12 m/s left to the terminal phase
    assert y[2] == pytest.approx(2000.0, abs=10.0) and abs(y[5]) < 3.0
    m_rocket = m0 * math.exp(-1000.0 / ve)
    assert y[6] < m_rocket + 5 * thrust / ve  # at least the horizontal Δv was paid (less ≤ 5 s)
    assert t == pytest.approx(ve * (m0 - y[6]) / thrust, rel=1e-6)  # at full thrust all the way


def test_never_thrusts_down_and_climbs_when_below_the_gate():
    law = PoweredBrakingGuidance(PoweredBrakingParams(gate_altitude_m=2000.0))
    g = np.array([[0.0, 0.0, -G]] * 2)
    r = np.array([[0.0, 0.0, 30000.0], [0.0, 0.0, 500.0]])
    v = np.array([[1700.0, 0.0, 0.0], [200.0, 0.0, -30.0]])
    cmd = law.command(0.0, r, v, g, 2.0)
    assert cmd.a_thrust_site[0, 2] == 0.0 and cmd.a_thrust_site[0, 0] == pytest.approx(-2.0)
    assert cmd.a_thrust_site[1, 2] > G  # below the gate and sinking: it arrests the sink rate first


def test_descent_rate_limit_is_a_first_order_floor_on_the_vertical_command():
    """High above the gate the E-guidance solution lets the lander fall; past the limit v_lim the vertical
    command becomes ḧ = (−v_lim − ḣ)/τ with τ = 2 s: a_z = ḧ − g_z − v_h²/(R + h)."""
    v_lim, hdot, h, v_h, a_max = 66.0, -76.0, 9000.0, 100.0, 9.0
    args = (0.0, np.array([[0.0, 0.0, h]]), np.array([[v_h, 0.0, hdot]]), np.array([[0.0, 0.0, -G]]), a_max)
    free = PoweredBrakingGuidance(PoweredBrakingParams(gate_altitude_m=2000.0, gate_vertical_rate_mps=-66.0))
    assert free.command(*args).a_thrust_site[0, 2] == 0.0  # far too high: lets gravity act
    limited = PoweredBrakingGuidance(
        PoweredBrakingParams(gate_altitude_m=2000.0, gate_vertical_rate_mps=-66.0, max_descent_rate_mps=v_lim)
    )
    a_z = (-v_lim - hdot) / 2.0 + G - v_h**2 / (R_MOON + h)
    assert limited.command(*args).a_thrust_site[0, 2] == pytest.approx(a_z, rel=1e-12)


def test_descent_rate_limit_holds_in_closed_loop():
    """Series 1 class numbers, 8 km above the gate and sinking at 60 m/s with only 150 m/s left to brake (what
    an altimeter correcting a low estimate late in the braking leaves): without the limit the law lets the
    lander fall to more than 100 m/s and reach the end of the phase 1.2 km below the gate; with v_lim = 66
    m/s it never exceeds the limit by more than the first-order lag allows (0.5 m/s), and ends at the gate
    with the horizontal speed nulled."""
    ve, thrust, m0 = 2900.0, 1600.0, 850.0
    lowest: dict[str, list[float]] = {"free": [], "limited": []}
    for key, v_lim in (("free", math.inf), ("limited", 66.0)):
        p = PoweredBrakingParams(
            gate_altitude_m=2000.0,
            gate_vertical_rate_mps=-66.0,
            exhaust_velocity_mps=ve,
            reference_radius_m=1e15,
            max_descent_rate_mps=v_lim,
        )
        _, y = fly_braking(
            PoweredBrakingGuidance(p), 10000.0, 150.0, m0, thrust, ve, G, hdot0=-60.0, hdot_min=lowest[key]
        )
        if key == "free":
            assert lowest["free"][0] < -100.0 and y[2] < 1000.0
    assert -66.5 < lowest["limited"][0] < -60.0
    assert abs(y[3]) <= 2.0 and y[2] == pytest.approx(2000.0, abs=100.0)
    with pytest.raises(InputError, match="max_descent_rate_mps"):
        PoweredBrakingParams(max_descent_rate_mps=0.0)


def test_powered_braking_params_are_checked():
    with pytest.raises(InputError, match="exhaust_velocity_mps"):
        PoweredBrakingParams(exhaust_velocity_mps=0.0)
    with pytest.raises(InputError, match="gate_altitude_m"):
        PoweredBrakingParams(gate_altitude_m=float("nan"))


def test_terminal_law_never_pulls_down_and_keeps_its_tilt():
    """Asked for more than free fall, the vertical law asks for no thrust (attitude stays upright); nulling
    drift, the thrust stays within max_tilt_deg of vertical."""
    law = VerticalDescentGuidance(VerticalDescentParams(vertical_rate_mps=-44.0, tau_vertical_s=3.0))
    g = np.array([[0.0, 0.0, -G]] * 2)
    r = np.array([[0.0, 0.0, 2000.0]] * 2)
    v = np.array([[15.0, 0.0, -2.0], [15.0, 0.0, -44.0]])
    cmd = law.command(0.0, r, v, g)
    np.testing.assert_array_equal(cmd.a_thrust_site[0], [0.0, 0.0, 0.0])
    a = cmd.a_thrust_site[1]
    assert a[2] == pytest.approx(G) and a[0] == pytest.approx(-G * math.tan(math.radians(30.0)))
    with pytest.raises(InputError, match="max_tilt_deg"):
        VerticalDescentParams(max_tilt_deg=90.0)
