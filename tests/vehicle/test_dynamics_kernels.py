"""The compiled equations of motion against the numpy formulation they replaced, bit for bit.

The oracle below is the numpy code of ``RigidBodyDynamics.derivative``, ``sim.integrate.rk4_step`` and the
simulator's quaternion renormalisation as they were before the kernels (commit 49e95b7), kept here
verbatim in substance: same operations, same order; since then the RK4 step takes the engine levels at its
stages in closed form (``_exact_lag``). Random states and commands, every vehicle preset
(lagged and unlagged engines), thrust faults, dry tanks, out-of-range commands and signed zeros.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from touchdown.moon.constants import G0, GM_MOON, J2_MOON, R_GRAVITY_REF, R_MOON
from touchdown.moon.frames import cross, mci_to_mcmf, mcmf_to_mci, quat_rotate
from touchdown.moon.gravity import (
    PointMass,
    SphericalHarmonics,
    UniformGravity,
    ZonalJ2,
    coefficients_from_j2,
)
from touchdown.sim.integrate import rk4_step
from touchdown.vehicle._kernels import LANES
from touchdown.vehicle.commands import Commands
from touchdown.vehicle.dynamics import ETA0, M, Q, R, RigidBodyDynamics, V, W
from touchdown.vehicle.presets import PRESETS

# --------------------------------------------------------------------------------------------------
# The numpy oracle (the code before the kernels)


def _old_point_mass(gm, r):
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    rn = np.sqrt(x * x + y * y + z * z)
    f = -gm / (rn * rn * rn)
    return np.stack((f * x, f * y, f * z), axis=-1)


def _old_j2(gm, j2, r_ref, r):
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    r2 = x * x + y * y + z * z
    rn = np.sqrt(r2)
    u2 = z * z / r2
    k = 1.5 * j2 * r_ref * r_ref / r2
    f = -gm / (r2 * rn)
    fxy = f * (1.0 + k * (1.0 - 5.0 * u2))
    fz = f * (1.0 + k * (3.0 - 5.0 * u2))
    return np.stack((fxy * x, fxy * y, fz * z), axis=-1)


def _old_gravity(gravity, t, r):
    if isinstance(gravity, PointMass):
        return _old_point_mass(gravity.gm, r)
    if isinstance(gravity, ZonalJ2):
        return _old_j2(gravity.gm, gravity.j2, gravity.r_ref, r)
    if gravity.body_fixed:
        return mcmf_to_mci(gravity.acceleration(mci_to_mcmf(r, t)), t)
    return gravity.acceleration(r)


def _engine_sum(thrust, coef):
    terms = [(e, float(c)) for e, c in enumerate(coef) if c != 0.0]
    out = np.zeros(thrust.shape[0])
    if not terms:
        return out
    e, c = terms[0]
    out[...] = thrust[:, e] if c == 1.0 else thrust[:, e] * c
    for e, c in terms[1:]:
        out += thrust[:, e] if c == 1.0 else thrust[:, e] * c
    return out


def _old_derivative(veh, gravity, t, x, cmd, ok):
    dry = veh.mass.dry_mass_kg
    f_max, ve = veh.max_thrust_n, veh.exhaust_velocity_mps
    dirs, pos = veh.engine_directions_body, veh.engine_positions_body_m
    tmin, tmax = veh.throttle_limits
    lag = veh.lag_s
    has_lag = lag > 0.0
    inv_lag = np.where(has_lag, 1.0 / np.where(has_lag, lag, 1.0), 0.0)
    torque_max = np.asarray(veh.rcs.max_torque_nm, dtype=float)
    rcs_flow = 1.0 / (veh.rcs.moment_arm_m * veh.rcs.isp_s * G0)
    arm = cross(pos, dirs)
    i_dry = np.asarray(veh.mass.inertia_dry_kgm2, dtype=float)
    i_span = np.asarray(veh.mass.inertia_full_kgm2, dtype=float) - i_dry
    capacity = max(veh.mass.propellant_capacity_kg, 1e-300)

    u = np.clip(cmd.throttle, tmin, tmax)
    eta_cmd = np.where(cmd.engine_on & ok[:, None], u, 0.0)
    tau_rcs = np.clip(cmd.torque_body_nm, -torque_max, torque_max) * ok[:, None]
    mdot_rcs = (np.abs(tau_rcs[:, 0]) + np.abs(tau_rcs[:, 1]) + np.abs(tau_rcs[:, 2])) * rcs_flow
    pf = ok[:, None].astype(float)

    q, w, m = x[:, Q], x[:, W], x[:, M]
    eta_state = x[:, ETA0:]
    eta = np.where(has_lag, eta_state, eta_cmd) * pf
    thrust = eta * f_max
    if cmd.thrust_scale is not None:
        thrust = thrust * cmd.thrust_scale
    xdot = np.empty_like(x)
    f_body = np.stack([_engine_sum(thrust, dirs[:, k]) for k in range(3)], axis=-1)
    tau = np.stack([_engine_sum(thrust, arm[:, k]) for k in range(3)], axis=-1)
    tau = tau_rcs + tau
    xdot[:, R] = x[:, V]
    a = quat_rotate(q, f_body)
    a /= m[:, None]
    xdot[:, V] = a + _old_gravity(gravity, t, x[:, R])
    pw, px, py, pz = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    qx, qy, qz = w[:, 0], w[:, 1], w[:, 2]
    qw = 0.0
    xdot[:, 6] = (pw * qw - px * qx - py * qy - pz * qz) * 0.5
    xdot[:, 7] = (pw * qx + px * qw + py * qz - pz * qy) * 0.5
    xdot[:, 8] = (pw * qy - px * qz + py * qw + pz * qx) * 0.5
    xdot[:, 9] = (pw * qz + px * qy - py * qx + pz * qw) * 0.5
    frac = np.maximum(m - dry, 0.0)[:, None] / capacity
    inertia = i_dry + frac * i_span
    xdot[:, W] = (tau - cross(w, inertia * w)) / inertia
    mdot_eng = thrust / ve
    total = mdot_eng[:, 0].copy()
    for e in range(1, mdot_eng.shape[1]):
        total += mdot_eng[:, e]
    total += mdot_rcs
    xdot[:, M] = -total
    xdot[:, ETA0:] = (eta_cmd - eta_state) * inv_lag
    return xdot


def _exact_lag(veh, x, cmd, ok, h):
    """The engine levels at the stages' instants in closed form, η = u + (η₀ − u) e^(−τ/T_lag) (libm's exp),
    as the RK4 step takes them since the exact-lag change (before it, RK4 integrated the lag)."""
    lag = veh.lag_s
    lagged = np.flatnonzero(lag > 0.0)
    if lagged.size == 0:
        return None
    tmin, tmax = veh.throttle_limits
    eta_cmd = np.where(cmd.engine_on & ok[:, None], np.clip(cmd.throttle, tmin, tmax), 0.0)
    u, eta0 = eta_cmd[:, lagged], x[:, ETA0 + lagged]
    hh = np.broadcast_to(np.asarray(h, dtype=float), (x.shape[0],))
    il = 1.0 / lag[lagged]
    half = np.array([[math.exp(-(0.5 * hi) * li) for li in il] for hi in hh])
    full = np.array([[math.exp(-hi * li) for li in il] for hi in hh])
    at_half, at_end = u + (eta0 - u) * half, u + (eta0 - u) * full

    def exact(state, whole):
        state[:, ETA0 + lagged] = at_end if whole else at_half

    return exact


def _old_step(veh, gravity, t, x, cmd, ok, h):
    x1 = rk4_step(
        lambda tt, xx: _old_derivative(veh, gravity, tt, xx, cmd, ok), t, x, h, _exact_lag(veh, x, cmd, ok, h)
    )
    q = x1[:, Q]
    x1[:, Q] = q / np.sqrt(q[:, 0] ** 2 + q[:, 1] ** 2 + q[:, 2] ** 2 + q[:, 3] ** 2)[:, None]
    return x1


# --------------------------------------------------------------------------------------------------
# Random inputs


def _random_case(veh, n, rng, *, scaled):
    e = len(veh.engines)
    dry, cap = veh.mass.dry_mass_kg, veh.mass.propellant_capacity_kg
    r = rng.normal(size=(n, 3))
    r *= (R_MOON + rng.uniform(-3e3, 2e5, n))[:, None] / np.linalg.norm(r, axis=1)[:, None]
    v = rng.normal(0.0, 800.0, (n, 3))
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1)[:, None]
    w = rng.normal(0.0, 0.3, (n, 3))
    m = dry + cap * rng.uniform(-0.05, 1.0, n)
    m[:3] = dry  # exactly dry
    m[4] = 0.0  # no mass at all: numpy's ±inf/NaN, not an exception
    eta = rng.uniform(-0.1, 1.1, (n, e))
    x = np.column_stack([r, v, q, w, m, eta])
    throttle = rng.uniform(-0.3, 1.3, (n, e))
    throttle[0] = -0.0
    throttle[1] = 0.0
    throttle[2] = 1.0
    on = rng.random((n, e)) < 0.7
    torque = rng.normal(0.0, 60.0, (n, 3))
    torque[3] = [-0.0, 0.0, -0.0]
    scale = rng.uniform(0.0, 1.0, (n, e)) if scaled else None
    ok = rng.random(n) < 0.85
    t = rng.uniform(0.0, 1000.0)
    return t, x, Commands(throttle, on, torque, scale), ok


GRAVITIES = {
    "point_mass": PointMass(),
    "j2": ZonalJ2(),
    "uniform": UniformGravity([0.1, -0.2, -1.62]),
    "harmonics": SphericalHarmonics(coefficients_from_j2()),
}


@pytest.mark.parametrize("gravity_name", sorted(GRAVITIES))
@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("scaled", [False, True])
def test_derivative_and_step_match_the_numpy_code_bit_for_bit(preset, gravity_name, scaled):
    veh = PRESETS[preset]()
    gravity = GRAVITIES[gravity_name]
    dyn = RigidBodyDynamics(veh, gravity)
    rng = np.random.default_rng([sum(preset.encode()), sum(gravity_name.encode()), scaled])
    t, x, cmd, ok = _random_case(veh, 200, rng, scaled=scaled)

    xdot = dyn.derivative(t, x, cmd, ok)
    with np.errstate(all="ignore"):
        expected = _old_derivative(veh, gravity, t, x, cmd, ok)
    assert np.array_equal(xdot, expected, equal_nan=True)
    assert np.array_equal(np.signbit(xdot), np.signbit(expected))

    for h in (0.05, rng.uniform(0.0, 0.05, x.shape[0])):
        t_arg = t if np.ndim(h) == 0 else np.full(x.shape[0], t)
        with np.errstate(all="ignore"):
            x1 = dyn.step(t_arg, x, cmd, ok, h)
            expected = _old_step(veh, gravity, t_arg, x, cmd, ok, h)
        assert np.array_equal(x1, expected, equal_nan=True)


def test_a_row_does_not_depend_on_its_batch():
    """Rows go through the kernel in blocks of LANES: a row's bits must not depend on the block it lands
    in, its lane, the batch size or its neighbours."""
    veh = PRESETS["series1"]()
    dyn = RigidBodyDynamics(veh, PointMass())
    n = 2 * LANES + 37
    t, x, cmd, ok = _random_case(veh, n, np.random.default_rng(7), scaled=True)
    h = np.random.default_rng(8).uniform(0.0, 0.05, n)
    full = dyn.step(t, x, cmd, ok, h)
    full_dot = dyn.derivative(t, x, cmd, ok)
    perm = np.random.default_rng(9).permutation(n)
    for rows in (perm, perm[: LANES + 1], np.array([n - 1, 0, LANES]), np.array([5])):
        part = dyn.step(t, x[rows], cmd.take(rows), ok[rows], h[rows])
        assert np.array_equal(part, full[rows], equal_nan=True)
        part_dot = dyn.derivative(t, x[rows], cmd.take(rows), ok[rows])
        assert np.array_equal(part_dot, full_dot[rows], equal_nan=True)
    empty = np.array([], dtype=np.intp)
    assert dyn.step(t, x[empty], cmd.take(empty), ok[empty], 0.05).shape == (0, x.shape[1])


def test_drive_quantities_match_the_numpy_code():
    veh = PRESETS["apollo-lm"]()
    dyn = RigidBodyDynamics(veh, PointMass())
    _, _, cmd, ok = _random_case(veh, 50, np.random.default_rng(3), scaled=False)
    tmin, tmax = veh.throttle_limits
    torque_max = np.asarray(veh.rcs.max_torque_nm, dtype=float)
    expected_u = np.where(cmd.engine_on & ok[:, None], np.clip(cmd.throttle, tmin, tmax), 0.0)
    assert np.array_equal(dyn.effective_throttle_command(cmd, ok), expected_u)
    expected_tau = np.clip(cmd.torque_body_nm, -torque_max, torque_max) * ok[:, None]
    tau = dyn.rcs_torque(cmd, ok)
    assert np.array_equal(tau, expected_tau) and np.array_equal(np.signbit(tau), np.signbit(expected_tau))


@pytest.mark.parametrize("shape", [(3,), (17, 3), (4, 5, 3), (0, 3)])
def test_closed_form_gravity_matches_the_numpy_formulas(shape):
    rng = np.random.default_rng(len(shape))
    r = rng.normal(0.0, R_MOON, shape)
    assert np.array_equal(PointMass().acceleration(r), _old_point_mass(GM_MOON, r))
    assert np.array_equal(ZonalJ2().acceleration(r), _old_j2(GM_MOON, J2_MOON, R_GRAVITY_REF, r))
    assert PointMass().acceleration(r).shape == shape
    strided = np.asfortranarray(rng.normal(0.0, R_MOON, (9, 3)))  # any memory layout
    assert np.array_equal(PointMass().acceleration(strided), _old_point_mass(GM_MOON, strided))
