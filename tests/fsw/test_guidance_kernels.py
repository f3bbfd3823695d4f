"""Guidance laws on compiled kernels against the numpy code they replace, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from touchdown.fsw.guidance.powered_braking import PoweredBrakingGuidance, PoweredBrakingParams


def _powered_braking_numpy(p: PoweredBrakingParams, r_site, v_site, g_site, a_max_mps2):
    """PoweredBrakingGuidance.command as numpy code (before the kernels): (a_thrust, t_go, complete)."""
    a_max = np.maximum(np.broadcast_to(np.asarray(a_max_mps2, dtype=float), r_site.shape[:1]), 1e-9)
    h, hdot = r_site[:, 2], v_site[:, 2]
    v_h_vec = v_site[:, :2]
    v_h = np.hypot(v_h_vec[:, 0], v_h_vec[:, 1])
    relief = v_h * v_h / (p.reference_radius_m + h)
    ve = p.exhaust_velocity_mps
    cos_theta = np.ones_like(h)
    for _ in range(8):
        dv = v_h / np.maximum(cos_theta, 0.05)
        t_go = np.maximum((ve / a_max) * -np.expm1(-dv / ve), p.t_go_end_s)
        dh = p.gate_altitude_m - h
        hddot = 6.0 * dh / t_go**2 - (4.0 * hdot + 2.0 * p.gate_vertical_rate_mps) / t_go
        if math.isfinite(p.max_descent_rate_mps):
            hddot = np.maximum(hddot, (-p.max_descent_rate_mps - hdot) / 2.0)
        a_z = np.clip(hddot - g_site[:, 2] - relief, 0.0, a_max)
        a_hz = np.sqrt(np.maximum(a_max * a_max - a_z * a_z, 0.0))
        cos_theta = a_hz / a_max
    safe = np.where(v_h > 0.0, v_h, 1.0)
    a_h = np.where(v_h > 0.0, a_hz / safe, 0.0)[:, None] * -v_h_vec
    return np.column_stack((a_h, a_z)), t_go, (v_h <= p.complete_speed_mps) | (t_go <= p.t_go_end_s)


def _same(a, b) -> bool:
    return np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("n", [1, 7, 33, 500])
@pytest.mark.parametrize("v_limit", [math.inf, 40.0])
def test_powered_braking_matches_numpy(n: int, v_limit: float) -> None:
    rng = np.random.default_rng(n)
    p = PoweredBrakingParams(gate_vertical_rate_mps=-2.0, max_descent_rate_mps=v_limit)
    law = PoweredBrakingGuidance(p)
    for _ in range(4):
        r = np.zeros((n, 3))
        r[:, 2] = rng.uniform(-100.0, 20_000.0, n)
        v = np.column_stack((rng.normal(0, 1000.0, (n, 2)), rng.normal(-20.0, 30.0, n)))
        v[: n // 5, :2] = 0.0  # no horizontal speed
        g = np.column_stack((np.zeros((n, 2)), -rng.uniform(1.55, 1.65, n)))
        a_max = rng.uniform(0.0, 3.0, n)
        got = law.command(0.0, r, v, g, a_max_mps2=a_max)
        ref = _powered_braking_numpy(p, r, v, g, a_max)
        assert _same(got.a_thrust_site, ref[0])
        assert _same(got.t_go_s, ref[1])
        assert np.array_equal(got.complete, ref[2])


def test_numpy_expm1_loop_gives_numpy_bits() -> None:
    """The braking law's kernel calls numpy's own expm1 loop (or libm's where it cannot be read)."""
    from touchdown.fsw.guidance import _kernels

    if _kernels.EXPM1 is None:
        pytest.skip("numpy's expm1 loop is not readable here (the kernel uses libm's expm1)")
    rng = np.random.default_rng(5)
    for n in (1, 3, 8, 17, 1000):
        x = np.concatenate([-rng.exponential(2.0, n - 1), [-0.0]])
        got = x.copy()
        _kernels._expm1_inplace(_kernels.EXPM1, got)
        assert _same(got, np.expm1(x))
