"""Vertical-descent and gravity-turn guidance against closed forms; batch determinism of every law."""

from __future__ import annotations

import numpy as np
import pytest

from touchdown.errors import InputError
from touchdown.fsw.guidance import (
    APOLLO11_APPROACH,
    APOLLO11_BRAKING,
    APOLLO11_VERTICAL_RATE_MPS,
    ApolloGuidanceParams,
    ApolloQuadraticGuidance,
    GravityTurnGuidance,
    GravityTurnParams,
    GuidanceLaw,
    PoweredBrakingGuidance,
    VerticalDescentGuidance,
    VerticalDescentParams,
)
from touchdown.fsw.guidance.targets import SERIES1_RATE_SCHEDULE

G = 1.62  # REFERENCE §4 oracle gravity [m/s²]


def fly(law, r0, v0, g_site, t_end, dt):
    """RK4 on the point mass r̈ = a_thrust + g, the law evaluated continuously (at every stage)."""
    y = np.concatenate((r0, v0), axis=-1)

    def rhs(t, y):
        cmd = law.command(t, y[:, :3], y[:, 3:], g_site)
        return np.concatenate((y[:, 3:], cmd.a_thrust_site + g_site), axis=-1)

    t = 0.0
    for _ in range(round(t_end / dt)):
        k1 = rhs(t, y)
        k2 = rhs(t + dt / 2, y + dt / 2 * k1)
        k3 = rhs(t + dt / 2, y + dt / 2 * k2)
        k4 = rhs(t + dt, y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        t += dt
    return y


def test_vertical_descent_converges_with_its_time_constants():
    """Closed form on a double integrator: v_z − ḣ_cmd and v_h decay as e^(−t/τ)."""
    tau_v, tau_h = 1.5, 4.0
    law = VerticalDescentGuidance(
        VerticalDescentParams(
            vertical_rate_mps=APOLLO11_VERTICAL_RATE_MPS, tau_vertical_s=tau_v, tau_horizontal_s=tau_h
        )
    )
    g_site = np.array([[0.0, 0.0, -G]])
    r0, v0 = (
        np.array([[5.0, -3.0, 150.0 * 0.3048]]),
        np.array([[2.0, -1.0, -10.0]]),
    )  # 150 ft (REFERENCE §3.4)
    cmd0 = law.command(0.0, r0, v0, g_site)
    np.testing.assert_allclose(
        cmd0.a_thrust_site[0], [-2.0 / tau_h, 1.0 / tau_h, (-0.9144 + 10.0) / tau_v + G], rtol=1e-15
    )
    assert not cmd0.complete[0] and np.isnan(cmd0.t_go_s[0])
    for t in (tau_v, 3 * tau_v, 10.0):
        y = fly(law, r0, v0, g_site, t, 0.01)
        v_z_cf = -0.9144 + (-10.0 + 0.9144) * np.exp(-t / tau_v)
        assert y[0, 5] == pytest.approx(v_z_cf, abs=1e-8)
        np.testing.assert_allclose(y[0, 3:5], np.array([2.0, -1.0]) * np.exp(-t / tau_h), atol=1e-9)
    assert abs(y[0, 5] - (-0.9144)) < 0.02 and np.hypot(*y[0, 3:5]) < 0.2  # t = 10 s: settled


def test_vertical_rate_schedule():
    alt, rate = SERIES1_RATE_SCHEDULE
    law = VerticalDescentGuidance(
        VerticalDescentParams(schedule_altitude_m=alt, schedule_vertical_rate_mps=rate)
    )
    h = np.array([-5.0, 0.0, 15.0, 30.0, 165.0, 300.0, 1150.0, 2000.0, 5000.0])
    want = [-1.0, -1.0, -1.0, -1.0, -5.5, -10.0, -27.0, -44.0, -44.0]
    np.testing.assert_allclose(law.vertical_rate_command(h), want, rtol=1e-15)
    with pytest.raises(InputError, match="schedule_altitude_m"):
        VerticalDescentParams(schedule_altitude_m=(0.0, 0.0), schedule_vertical_rate_mps=(-1.0, -2.0))
    with pytest.raises(InputError, match="tau_vertical_s"):
        VerticalDescentParams(tau_vertical_s=0.0)


def test_descent_time_is_the_schedules_integral():
    """``descent_time_s``: ∫₀ʰ dh / |ḣ_cmd(h)| in closed form, against a fine midpoint sum on the Series 1
    schedule and by hand on one linear piece; a constant rate gives h / |ḣ|; a rate that stops the descent
    gives none."""
    alt, rate = SERIES1_RATE_SCHEDULE
    law = VerticalDescentGuidance(
        VerticalDescentParams(schedule_altitude_m=alt, schedule_vertical_rate_mps=rate)
    )
    h = np.array([-5.0, 0.0, 15.0, 30.0, 165.0, 300.0, 1150.0, 2000.0, 5000.0])
    got = law.descent_time_s(h)
    for hk, tk in zip(h, got, strict=True):
        edges = np.linspace(0.0, max(hk, 0.0), 400_001)
        mid = 0.5 * (edges[1:] + edges[:-1])
        assert tk == pytest.approx(np.sum(np.diff(edges) / np.abs(law.vertical_rate_command(mid))), rel=1e-9)
    assert got[0] == got[1] == 0.0 and got[3] == 30.0
    # one piece: |ḣ| = 1 + 0.02 h from 0 to 100 m, so ∫ dh / (1 + 0.02 h) = 50 ln 3 s
    one = VerticalDescentGuidance(
        VerticalDescentParams(schedule_altitude_m=(0.0, 100.0), schedule_vertical_rate_mps=(-1.0, -3.0))
    )
    assert one.descent_time_s(np.array([100.0]))[0] == pytest.approx(50.0 * np.log(3.0), rel=1e-14)
    p66 = VerticalDescentGuidance(VerticalDescentParams(vertical_rate_mps=APOLLO11_VERTICAL_RATE_MPS))
    assert p66.descent_time_s(np.array([45.72]))[0] == pytest.approx(45.72 / 0.9144, rel=1e-15)
    hover = VerticalDescentGuidance(
        VerticalDescentParams(schedule_altitude_m=(0.0, 50.0), schedule_vertical_rate_mps=(0.0, -2.0))
    )
    assert np.isnan(hover.descent_time_s(np.array([10.0, 100.0]))).all()


def test_gravity_turn_nulls_speed_at_target_altitude():
    """2-D point mass (x east, z up), constant g: the vertical deceleration stays v_z0²/(2Δh0) and speed
    reaches ~0 at the target altitude at t_f = 2Δh0/|v_z0|."""
    h_t = 30.0
    law = GravityTurnGuidance(GravityTurnParams(target_altitude_m=h_t, min_height_to_go_m=1e-3))
    g_site = np.array([[0.0, 0.0, -G]])
    r0, v0 = np.array([[0.0, 0.0, 3000.0]]), np.array([[80.0, 0.0, -60.0]])
    decel = 60.0**2 / (2 * (3000.0 - h_t))
    t_f = 2 * (3000.0 - h_t) / 60.0  # 99 s
    cmd0 = law.command(0.0, r0, v0, g_site)
    assert cmd0.t_go_s[0] == pytest.approx(t_f, rel=1e-15)
    a_t = (decel + G) / 0.6  # sin γ = 60/100
    np.testing.assert_allclose(cmd0.a_thrust_site[0], -a_t * np.array([0.8, 0.0, -0.6]), rtol=1e-14)
    y = fly(law, r0, v0, g_site, 50.0, 0.02)
    assert y[0, 5] == pytest.approx(-60.0 + decel * 50.0, abs=1e-7)
    assert y[0, 2] == pytest.approx(3000.0 - 60.0 * 50.0 + decel * 50.0**2 / 2, abs=1e-6)
    y = fly(law, r0, v0, g_site, t_f - 0.2, 0.02)
    speed = np.linalg.norm(y[0, 3:])
    assert speed < 0.15 and abs(y[0, 5]) == pytest.approx(decel * 0.2, abs=1e-4)
    assert y[0, 2] - h_t == pytest.approx(decel * 0.2**2 / 2, abs=1e-3)
    assert y[0, 3] < 0.5 * (80.0 / 60.0) * abs(y[0, 5])  # horizontal decays faster than vertical
    assert law.command(0.0, y[:, :3], y[:, 3:], g_site).complete[0]


def test_gravity_turn_hovers_when_not_descending():
    law = GravityTurnGuidance()
    g_site = np.array([[0.0, 0.0, -G], [0.0, 0.0, -G]])
    cmd = law.command(
        0.0, np.array([[0.0, 0.0, 500.0]] * 2), np.array([[10.0, 0.0, 5.0], [0.0, 0.0, 0.0]]), g_site
    )
    np.testing.assert_array_equal(cmd.a_thrust_site, -g_site)
    assert np.isnan(cmd.t_go_s).all()
    assert list(cmd.complete) == [False, True]


def laws() -> list[GuidanceLaw]:
    return [
        ApolloQuadraticGuidance(APOLLO11_BRAKING),
        ApolloQuadraticGuidance(APOLLO11_APPROACH, ApolloGuidanceParams(approach_azimuth_deg=-91.0)),
        VerticalDescentGuidance(
            VerticalDescentParams(
                schedule_altitude_m=SERIES1_RATE_SCHEDULE[0],
                schedule_vertical_rate_mps=SERIES1_RATE_SCHEDULE[1],
            )
        ),
        GravityTurnGuidance(),
        PoweredBrakingGuidance(),
    ]


@pytest.mark.parametrize("law", laws(), ids=lambda law: type(law).__name__)
def test_batch_is_bit_identical_to_single_runs(law):
    assert isinstance(law, GuidanceLaw)
    rng = np.random.default_rng(11)
    n = 40
    r = np.column_stack((rng.uniform(-20e3, 20e3, (n, 2)), rng.uniform(-10.0, 15e3, n)))
    v = rng.uniform(-300.0, 300.0, (n, 3))
    v[::5] = 0.0
    g = np.column_stack((rng.normal(0.0, 0.01, (n, 2)), np.full(n, -G)))
    law.reset(n)
    batch = law.command(3.0, r, v, g)
    for i in range(n):
        law.reset(1)
        one = law.command(3.0, r[i : i + 1], v[i : i + 1], g[i : i + 1])
        np.testing.assert_array_equal(one.a_thrust_site[0], batch.a_thrust_site[i])
        np.testing.assert_array_equal(one.t_go_s[0], batch.t_go_s[i])
        assert one.complete[0] == batch.complete[i]
    tiled = law.command(3.0, np.repeat(r[:1], 64, 0), np.repeat(v[:1], 64, 0), np.repeat(g[:1], 64, 0))
    assert (tiled.a_thrust_site == batch.a_thrust_site[0]).all()
    assert batch.a_thrust_site.shape == (n, 3) and batch.t_go_s.shape == (n,) and batch.complete.dtype == bool
    with pytest.raises(InputError):
        law.command(0.0, r, v[:-1], g)
