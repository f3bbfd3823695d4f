"""Apollo quadratic guidance against closed forms and published numbers (REFERENCE §3.4, §4)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from touchdown.errors import InputError
from touchdown.fsw.guidance import (
    APOLLO11_APPROACH,
    APOLLO11_BRAKING,
    APOLLO11_VERTICAL_RATE_MPS,
    ApolloGuidanceParams,
    ApolloQuadraticGuidance,
    GuidanceLaw,
    PhaseTargets,
    apollo_to_site,
    gate_targets,
    quadratic_acceleration,
    site_to_apollo,
    solve_time_to_go,
    vertical_gate_targets,
)
from touchdown.fsw.guidance.apollo import time_to_go_cubic
from touchdown.fsw.guidance.targets import APOLLO11_IGNITION_R_APOLLO_M, APOLLO11_IGNITION_SPEED_MPS
from touchdown.moon.constants import R_MOON
from touchdown.moon.frames import cross

# REFERENCE §4 oracle, 2-D (x up, z downrange).
G_2D = np.array([-1.62, 0.0])
R0, V0, T0 = np.array([2000.0, -3000.0]), np.array([-30.0, 60.0]), -120.0
RD, VD, AD = np.array([30.0, 0.0]), np.array([-1.0, 0.0]), np.zeros(2)
T_END = -0.01


def quartic(t0, r0, v0, r_d, v_d, a_d, t):
    """Closed form: the quartic through (r0, v0) at T0 with targets at T = 0, evaluated at T."""
    a = r0 - r_d - v_d * t0 - a_d * t0**2 / 2
    b = v0 - v_d - a_d * t0
    j = 24 * a / t0**3 - 6 * b / t0**2
    s = 6 * b / t0**3 - 3 * j / t0
    r = r_d + v_d * t + a_d * t**2 / 2 + j * t**3 / 6 + s * t**4 / 24
    v = v_d + a_d * t + j * t**2 / 2 + s * t**3 / 6
    return r, v, j


def rk4_graded(rhs, y, t_start, t_end, steps):
    """Fixed RK4 on a geometric grid in T (steps shrink with |T|, since the gains grow as 1/T and 1/T²)."""
    ts = t_start * (t_end / t_start) ** (np.arange(steps + 1) / steps)
    for k in range(steps):
        t, h = ts[k], ts[k + 1] - ts[k]
        k1 = rhs(t, y)
        k2 = rhs(t + h / 2, y + h / 2 * k1)
        k3 = rhs(t + h / 2, y + h / 2 * k2)
        k4 = rhs(t + h, y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def double_integrator(r_d, v_d, a_d):
    """R̈ = A_cmd (the thrust acceleration A_cmd − g plus gravity g); T advances with time."""

    def rhs(t, y):
        k = y.shape[-1] // 2
        r, v = y[..., :k], y[..., k:]
        a = quadratic_acceleration(np.full(y.shape[:-1], t), r, v, r_d, v_d, a_d)
        return np.concatenate((v, a), axis=-1)

    return rhs


def test_reference_oracle_miss_rk4_and_dop853():
    """REFERENCE §4: miss at T = −0.01 s ≤ 0.011 m and ≤ 1e-6 m/s, by two independent integrators."""
    y0 = np.concatenate((R0, V0))[None]
    y_rk4 = rk4_graded(double_integrator(RD, VD, AD), y0, T0, T_END, 3000)[0]
    sol = solve_ivp(
        lambda t, y: double_integrator(RD, VD, AD)(T0 + t, y[None])[0],
        (0.0, T_END - T0),
        y0[0],
        method="DOP853",
        rtol=1e-13,
        atol=1e-12,
    )
    y_dop = sol.y[:, -1]
    for y in (y_rk4, y_dop):
        miss_r, miss_v = y[:2] - RD, y[2:] - VD
        assert np.linalg.norm(miss_r) <= 0.011
        assert np.max(np.abs(miss_v)) <= 1e-6  # per axis; the 2-norm is 1.08e-6 (closed form below)
        # and the miss is the closed form's: R − R_D ≈ V_D T, V − V_D ≈ J T²/2
        r_cf, v_cf, _ = quartic(T0, R0, V0, RD, VD, AD, T_END)
        np.testing.assert_allclose(y[:2], r_cf, rtol=0, atol=1e-9)
        np.testing.assert_allclose(y[2:], v_cf, rtol=0, atol=1e-10)
    assert np.linalg.norm(y_rk4[:2] - RD) == pytest.approx(0.0100000023, abs=1e-9)


def test_flown_law_follows_its_quartic_to_the_targets():
    """Random starts and targets: the continuously flown law stays on the quartic through the start state,
    so R → R_D and V → V_D as T → 0."""
    rng = np.random.default_rng(20240603)
    n = 64
    t0 = rng.uniform(-400.0, -20.0, n)
    r0 = rng.uniform(-5000.0, 5000.0, (n, 3))
    v0 = rng.uniform(-100.0, 100.0, (n, 3))
    r_d = rng.uniform(-100.0, 100.0, (n, 3))
    v_d = rng.uniform(-5.0, 5.0, (n, 3))
    a_d = rng.uniform(-1.0, 1.0, (n, 3))
    frac = 1e-4  # integrate in normalised time so every row ends at T = frac * T0
    y0 = np.concatenate((r0, v0), axis=-1)

    def rhs(s, y):  # s ∈ [1, frac] with T = s T0: dy/ds = T0 dy/dT
        t = s * t0
        a = quadratic_acceleration(t, y[:, :3], y[:, 3:], r_d, v_d, a_d)
        return t0[:, None] * np.concatenate((y[:, 3:], a), axis=-1)

    y = rk4_graded(rhs, y0, 1.0, frac, 2000)
    t_end = (frac * t0)[:, None]
    r_cf, v_cf, _ = quartic(t0[:, None], r0, v0, r_d, v_d, a_d, t_end)
    np.testing.assert_allclose(y[:, :3], r_cf, rtol=0, atol=1e-6)
    np.testing.assert_allclose(y[:, 3:], v_cf, rtol=0, atol=1e-8)
    assert np.all(np.abs(y[:, :3] - r_d) <= np.abs(v_d * t_end) + 1e-3)
    assert np.all(np.abs(y[:, 3:] - v_d) <= np.abs(a_d * t_end) + 1e-3)


def test_class_with_consistent_jerk_reproduces_the_oracle_and_advances_t_go():
    """The full law (T from the cubic, site ENU frame, an oblique approach azimuth): with J_Dz equal to the
    start's downrange jerk, T from the cubic advances one second per second and the §4 miss is met."""
    _, _, j = quartic(T0, R0, V0, RD, VD, AD, T0)
    targets = PhaseTargets("oracle", (30.0, 0.0, 0.0), (-1.0, 0.0, 0.0), (0.0, 0.0, 0.0), float(j[1]), 0.0)
    azimuth_deg = 37.0
    law = ApolloQuadraticGuidance(
        targets, ApolloGuidanceParams(approach_azimuth_deg=azimuth_deg, t_go_floor_s=1e-4)
    )
    az = np.radians(azimuth_deg)
    g_site = np.array([[0.0, 0.0, -1.62]])
    r_site = apollo_to_site(np.array([[2000.0, 0.0, -3000.0]]), az)
    v_site = apollo_to_site(np.array([[-30.0, 0.0, 60.0]]), az)
    t_go_seen = []

    def rhs(t, y):
        cmd = law.command(t, y[:, :3], y[:, 3:], g_site)
        t_go_seen.append((t, cmd.t_go_s[0]))
        return np.concatenate((y[:, 3:], cmd.a_thrust_site + g_site), axis=-1)

    y = rk4_graded(rhs, np.concatenate((r_site, v_site), axis=-1), T0, T_END, 1000)
    # rk4_graded passes T as the time; at each step's first stage (the state itself) t_go must equal −T
    t_arr, tg_arr = np.array(t_go_seen[::4]).T
    assert np.max(np.abs(tg_arr + t_arr)) < 1e-6
    r_ap, v_ap = site_to_apollo(y[:, :3], az)[0], site_to_apollo(y[:, 3:], az)[0]
    assert np.linalg.norm(r_ap - [30.0, 0.0, 0.0]) <= 0.011
    assert np.max(np.abs(v_ap - [-1.0, 0.0, 0.0])) <= 1e-6


def test_time_to_go_is_the_nearest_negative_root_of_the_cubic():
    rng = np.random.default_rng(7)
    n = 3000
    j = rng.uniform(-0.05, 0.05, n)
    j[::10] = 0.0  # the cubic degrades to a quadratic
    a = rng.uniform(-5.0, 5.0, n)
    v = rng.uniform(-200.0, 2000.0, n)
    vd = rng.uniform(-5.0, 5.0, n)
    dr = rng.uniform(-2e3, 5e5, n)
    t, found = solve_time_to_go(j, a, v, vd, dr)
    c3, c2, c1, c0 = j, 6 * a, 6 * v + 18 * vd, 24 * dr
    scale = np.abs(c3 * t**3) + np.abs(c2 * t**2) + np.abs(c1 * t) + np.abs(c0)
    res = time_to_go_cubic(t, j, a, v, vd, dr)
    assert found.mean() > 0.5
    assert np.all(t[found] < 0.0)
    assert np.max(np.abs(res[found]) / scale[found]) < 1e-9
    checked = 0
    for i in range(n):  # reference: numpy's companion-matrix roots, row by row
        coeffs = np.trim_zeros([c3[i], c2[i], c1[i], c0[i]], "f")
        roots = np.roots(coeffs)
        if np.any((np.abs(roots.imag) > 0) & (np.abs(roots.imag) < 1e-6 * (1 + np.abs(roots.real)))):
            continue  # a (near-)double root: ambiguous for the reference itself
        neg = roots.real[(roots.imag == 0) & (roots.real < 0) & (roots.real > -1e6)]
        checked += 1
        if neg.size == 0:
            assert not found[i]
        else:
            assert found[i]
            assert t[i] == pytest.approx(neg.max(), rel=1e-9)
    assert checked > 0.95 * n


def test_apollo11_ignition_time_to_go_is_a_braking_phase():
    """REFERENCE §3.4 ignition design point with the braking targets: T ≈ −590 s, i.e. ~530 s of braking
    to |T| = 62 s, the order of the published P63 phase (about 500–600 s)."""
    r_ap = np.array(APOLLO11_IGNITION_R_APOLLO_M)
    # Velocity horizontal at the vehicle (perilune), rotated into the site frame by the central angle.
    theta = np.arctan2(-r_ap[2], R_MOON + r_ap[0])
    assert np.hypot(R_MOON + r_ap[0], r_ap[2]) - R_MOON == pytest.approx(15.2e3, rel=0.05)  # ≈ 50,000 ft
    v_ap = APOLLO11_IGNITION_SPEED_MPS * np.array([np.sin(theta), 0.0, np.cos(theta)])
    law = ApolloQuadraticGuidance(APOLLO11_BRAKING)
    t_go, found = law.time_to_go(r_ap[None], v_ap[None])
    assert found[0]
    assert -650.0 < t_go[0] < -530.0
    assert 450.0 < -t_go[0] - APOLLO11_BRAKING.t_go_end_s < 600.0
    assert t_go[0] == pytest.approx(-589.69, abs=0.05)
    # The command brakes along the approach, in plane, and asks for more than the LM's 43,670 N at
    # 15,150.7 kg (REFERENCE §3.4): the braking phase opens at the fixed-throttle position, as flown.
    r_centre = np.array([R_MOON + r_ap[0], 0.0, r_ap[2]])  # site → vehicle from the Moon's centre (apollo)
    g_ap = -4902.800066e9 / np.linalg.norm(r_centre) ** 3 * r_centre
    az = np.radians(270.0)
    site = [apollo_to_site(x[None], az) for x in (r_ap, v_ap, g_ap)]
    cmd = law.command(0.0, *site)
    a_ap = site_to_apollo(cmd.a_thrust_site, az)[0]
    assert a_ap[2] < 0.0 and abs(a_ap[1]) < 1e-12
    assert np.linalg.norm(a_ap) > 43670.0 / 15150.7
    assert not cmd.complete[0]


def test_apollo11_targets_in_si_match_hand_conversion():
    """REFERENCE §3.4 ft values × 0.3048, converted by hand."""
    b, a = APOLLO11_BRAKING, APOLLO11_APPROACH
    exp = {
        b.r_d_apollo_m: (52.375308, 0.0, -3254.8360608),
        b.v_d_apollo_mps: (-32.2710048, 0.0, -0.316992),
        b.a_d_apollo_mps2: (0.19022568, 0.0, -2.77502112),
        a.r_d_apollo_m: (33.858708, 0.0, -8.1668112),
        a.v_d_apollo_mps: (-1.5218664, 0.0, 0.0755904),
        a.a_d_apollo_mps2: (-0.07997952, 0.0, -0.1560576),
    }
    for got, want in exp.items():
        assert got == pytest.approx(want, rel=1e-14, abs=0.0)
    assert b.j_dz_mps3 == pytest.approx(-0.005738399496, rel=1e-14)
    assert a.j_dz_mps3 == pytest.approx(0.000550993056, rel=1e-14)
    assert (b.t_go_end_s, a.t_go_end_s) == (62.0, 12.0)
    assert pytest.approx(-0.9144, rel=1e-15) == APOLLO11_VERTICAL_RATE_MPS
    assert pytest.approx(1690.256208, rel=1e-14) == APOLLO11_IGNITION_SPEED_MPS


def test_gate_targets_put_the_gate_on_the_aim_polynomial():
    """A vehicle on the gate cubic: the cubic's T is the polynomial time, A_cmd = A_D + J T (closed form),
    and at T = −t_end the polynomial is at the gate."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        r_g, v_g, a_g = rng.uniform(-500, 500, 3), rng.uniform(-20, 20, 3), rng.uniform(-1, 1, 3)
        j_z, t_e, t0 = rng.uniform(-0.01, 0.01), rng.uniform(5, 60), rng.uniform(-300, -80)
        tg = gate_targets("g", tuple(r_g), tuple(v_g), tuple(a_g), j_z, t_e)
        rd, vd, ad, jv = (
            np.array(x) for x in (tg.r_d_apollo_m, tg.v_d_apollo_mps, tg.a_d_apollo_mps2, (0, 0, j_z))
        )
        # back to the gate
        np.testing.assert_allclose(rd - vd * t_e + ad * t_e**2 / 2 - jv * t_e**3 / 6, r_g, atol=1e-9)
        np.testing.assert_allclose(vd - ad * t_e + jv * t_e**2 / 2, v_g, atol=1e-12)
        r0 = rd + vd * t0 + ad * t0**2 / 2 + jv * t0**3 / 6
        v0 = vd + ad * t0 + jv * t0**2 / 2
        law = ApolloQuadraticGuidance(tg, ApolloGuidanceParams(approach_azimuth_deg=0.0))
        t_go, found = law.time_to_go(r0[None], v0[None])
        if not found[0] or abs(t_go[0] - t0) > 1e-6:  # the polynomial time must be a root…
            assert time_to_go_cubic(t0, j_z, ad[2], v0[2], vd[2], rd[2] - r0[2]) == pytest.approx(
                0.0, abs=1e-6
            )
            continue  # …though a nearer negative root may exist for a random jerk
        a_cmd = quadratic_acceleration(t_go, r0[None], v0[None], rd, vd, ad)[0]
        np.testing.assert_allclose(a_cmd, ad + jv * t0, atol=1e-9)
    s1 = vertical_gate_targets(2000.0, -44.0, t_go_end_s=10.0)
    assert s1.r_d_apollo_m == (1560.0, 0.0, 0.0)
    assert s1.v_d_apollo_mps == (-44.0, 0.0, 0.0)
    assert s1.a_d_apollo_mps2 == (0.0, 0.0, 0.0)


def test_frames_and_interface():
    az = np.radians(90.0)  # downrange = east
    np.testing.assert_allclose(site_to_apollo(np.array([1.0, 0.0, 0.0]), az), [0.0, 0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(site_to_apollo(np.array([0.0, 0.0, 1.0]), az), [1.0, 0.0, 0.0], atol=1e-15)
    for az in np.radians([0.0, 37.0, 270.0, -123.0]):
        basis = apollo_to_site(np.eye(3), az)  # rows: apollo x, y, z in site components
        np.testing.assert_allclose(cross(basis[0], basis[1]), basis[2], atol=1e-15)
        v = np.random.default_rng(1).normal(size=(5, 3))
        np.testing.assert_allclose(apollo_to_site(site_to_apollo(v, az), az), v, atol=1e-14)
    law = ApolloQuadraticGuidance(APOLLO11_APPROACH)
    assert isinstance(law, GuidanceLaw)
    with pytest.raises(InputError, match="r_site"):
        law.command(0.0, np.zeros(3), np.zeros((1, 3)), np.zeros((1, 3)))
    with pytest.raises(InputError, match="t_go_end_s"):
        PhaseTargets("bad", (0, 0, 0), (0, 0, 0), (0, 0, 0), 0.0, -1.0)
    with pytest.raises(InputError, match="r_d_apollo_m"):
        PhaseTargets("bad", (0, 0), (0, 0, 0), (0, 0, 0), 0.0, 1.0)
