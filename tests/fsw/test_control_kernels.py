"""Control laws on compiled kernels against the numpy code they replace, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from touchdown.fsw.control import AttitudeControlParams, ThrottleAllocator, attitude_torque
from touchdown.fsw.control.attitude import pointing_error
from touchdown.moon.frames import cross, dot, quat_conjugate, quat_normalize, quat_rotate
from touchdown.vehicle.commands import Commands
from touchdown.vehicle.presets import PRESETS


# ---------------------------------------------------------------- the numpy formulation (before numba)
def _pointing_error_numpy(q, axis, d):
    axis_b = np.broadcast_to(np.asarray(axis, dtype=float), d.shape)
    d_b = quat_rotate(quat_conjugate(q), d)
    e = cross(axis_b, d_b)
    s = np.sqrt(dot(e, e))
    angle = np.arctan2(s, dot(axis_b, d_b))
    fallback = np.zeros_like(e)
    fallback[..., 0] = 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(
            (s > 1e-12)[..., None], e / s[..., None], np.where((angle > 1.0)[..., None], fallback, 0.0)
        )
    return u * angle[..., None]


def _attitude_torque_numpy(q, w, d, axis, inertia, params):
    theta = _pointing_error_numpy(q, axis, d)
    w_cmd = params.k_att * theta
    w_max = np.radians(params.max_rate_deg_s)
    mag = np.sqrt(dot(w_cmd, w_cmd))
    w_cmd = w_cmd * np.minimum(1.0, w_max / np.maximum(mag, 1e-300))[..., None]
    inertia = np.asarray(inertia, dtype=float)
    torque = inertia * params.k_rate * (w_cmd - w) + cross(w, inertia * w)
    return torque, np.sqrt(dot(theta, theta))


def _allocate_numpy(al: ThrottleAllocator, thrust_n, enabled):
    n, e = thrust_n.shape[0], len(al.vehicle.engines)
    on = np.zeros((n, e), dtype=bool)
    throttle = np.zeros((n, e))
    remaining = np.maximum(thrust_n, 0.0)
    share = enabled & ~al.fixed
    no_trim = ~np.any(share, axis=-1)
    for i in al.fixed_order:
        covered = remaining >= al.f_max[i]
        nearest = no_trim & (remaining >= 0.5 * al.f_max[i])
        lit = enabled[:, i] & (covered | nearest)
        on[:, i] = lit
        throttle[:, i] = np.where(lit, 1.0, 0.0)
        remaining = np.maximum(remaining - np.where(lit, al.f_max[i], 0.0), 0.0)
    capacity = np.zeros(n)
    for i in range(e):
        if not al.fixed[i]:
            capacity = capacity + share[:, i] * al.f_max[i]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(capacity > 0.0, remaining / capacity, 0.0)
    for i in range(e):
        if al.fixed[i]:
            continue
        u = np.clip(frac, al.tmin[i], al.tmax[i])
        if al.bands[i] is not None:
            lo, hi = al.bands[i]
            inside = (u > lo) & (u < hi)
            u = np.where(inside, np.where(u >= 0.5 * (lo + hi), hi, lo), u)
        on[:, i] = share[:, i] & (remaining > 0.0)
        throttle[:, i] = np.where(on[:, i], u, 0.0)
    return throttle, on


def _same(a, b) -> bool:
    return np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("n", [1, 5, 300])
def test_pointing_and_torque_match_numpy(n: int) -> None:
    rng = np.random.default_rng(n)
    params = AttitudeControlParams(bandwidth_rad_s=0.7, damping=0.9, max_rate_deg_s=4.0)
    q = quat_normalize(rng.normal(size=(n, 4)))
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1)[:, None]
    axis = np.array([0.0, 0.0, 1.0])
    d[0] = quat_rotate(q[:1], axis[None])[0]  # on target
    if n > 2:
        d[1] = -quat_rotate(q[1:2], axis[None])[0]  # 180° away
        d[2] = quat_rotate(q[2:3], np.array([[1e-14, 0.0, 1.0]]))[0]  # nearly on target
    w = rng.normal(0.0, 0.05, (n, 3))
    for inertia in (np.array([150.0, 160.0, 180.0]), rng.uniform(100.0, 400.0, (n, 3))):
        assert _same(pointing_error(q, axis, d), _pointing_error_numpy(q, axis, d))
        got = attitude_torque(q, w, d, axis, inertia, params)
        ref = _attitude_torque_numpy(q, w, d, axis, inertia, params)
        assert _same(got[0], ref[0]) and _same(got[1], ref[1])


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_allocation_and_thrust_match_numpy(preset: str) -> None:
    vehicle = PRESETS[preset]()
    al = ThrottleAllocator(vehicle)
    rng = np.random.default_rng(len(preset))
    n, e = 400, len(vehicle.engines)
    total = float(np.sum(vehicle.max_thrust_n))
    thrust = rng.uniform(-0.1, 1.2, n) * total
    thrust[:20] = rng.uniform(0.0, 1.0, 20) * vehicle.max_thrust_n.min()  # small demands
    thrust[20] = np.nan
    thrust[21] = 0.0
    for enabled in (np.ones((n, e), bool), rng.uniform(size=(n, e)) < 0.7):
        cmd = al.allocate(thrust, enabled)
        throttle, on = _allocate_numpy(al, thrust, enabled)
        assert _same(cmd.throttle, throttle) and np.array_equal(cmd.engine_on, on)
        ref_thrust = np.sum(np.clip(cmd.throttle, al.tmin, al.tmax) * cmd.engine_on * al.f_max, axis=-1)
        assert _same(al.thrust_of(cmd), ref_thrust)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_flow_and_capacity_match_numpy(preset: str) -> None:
    """The flight software's propellant gauging and the guidance's thrust capability as numpy had them."""
    vehicle = PRESETS[preset]()
    al = ThrottleAllocator(vehicle)
    rng = np.random.default_rng(7 + len(preset))
    n, e = 500, len(vehicle.engines)
    cmd = Commands(rng.uniform(-0.2, 1.3, (n, e)), rng.uniform(size=(n, e)) < 0.8, np.zeros((n, 3)))
    cmd.throttle[0, 0] = np.nan
    cmd.throttle[1, 0] = -0.0
    flow = vehicle.max_thrust_n / vehicle.exhaust_velocity_mps
    u = np.clip(cmd.throttle, *vehicle.throttle_limits) * cmd.engine_on
    assert _same(al.flow_of(cmd), np.sum(u * flow, axis=1))
    enabled = rng.uniform(size=(n, e)) < 0.6
    tmax = vehicle.throttle_limits[1]
    assert _same(al.capacity(enabled), np.sum(enabled * (vehicle.max_thrust_n * tmax), axis=-1))
