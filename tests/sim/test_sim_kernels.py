"""The simulator's compiled screen against the numpy tests it stands for (``Simulator._advance``)."""

from __future__ import annotations

import numpy as np

from touchdown.moon.constants import R_MOON
from touchdown.moon.frames import norm
from touchdown.moon.terrain.kernels import ATAN2
from touchdown.sim._kernels import NO_GRID, NO_TABLE, screen_rows

NO_BLOCKS = (NO_TABLE, 1, NO_GRID)


def test_screen_flags_exactly_the_rows_the_numpy_tests_would_look_at():
    rng = np.random.default_rng(5)
    n, dry, reach, slope, max_terrain = 4000, 300.0, 2.5, 0.7, 4_000.0
    r = rng.normal(size=(n, 3))
    r *= (R_MOON + max_terrain + rng.uniform(-50.0, 200.0, n))[:, None] / np.linalg.norm(r, axis=1)[:, None]
    x1 = np.zeros((n, 21))
    x1[:, 0:3] = r
    x1[:, 3:6] = rng.normal(0.0, 400.0, (n, 3))
    x1[:, 13] = dry + rng.uniform(-1.0, 1.0, n)
    x1[:7, 13] = dry  # exactly dry
    prop_ok = rng.random(n) < 0.8
    h = np.where(rng.random(n) < 0.5, 0.05, rng.uniform(0.0, 0.05, n))

    flagged = np.empty(n, dtype=bool)
    count = screen_rows(
        x1, prop_ok, h, dry, reach * (1.0 + slope), np.array([max_terrain]), R_MOON, flagged, *NO_BLOCKS,
        1.0, 0.0, ATAN2,
    )  # fmt: skip

    exhausted = prop_ok & (x1[:, 13] - dry <= 0.0)
    margin = reach * (1.0 + slope) + 2.0 * norm(x1[:, 3:6]) * h + 1.0
    height = np.sqrt(r[:, 0] * r[:, 0] + r[:, 1] * r[:, 1] + r[:, 2] * r[:, 2]) - R_MOON
    low = height - max_terrain < margin + 1.0
    assert np.array_equal(flagged, exhausted | low)
    assert count == np.count_nonzero(flagged) and 0 < count < n

    # a terrain without a known highest point: every row must go through the full check
    none = np.array([np.inf])
    assert screen_rows(x1, prop_ok, h, dry, 1.0, none, R_MOON, flagged, *NO_BLOCKS, 1.0, 0.0, ATAN2) == n


def test_screen_reads_the_terrain_top_of_each_rows_latitude_band():
    from touchdown.sim._kernels import low_rows

    rng = np.random.default_rng(8)
    n, bands = 5000, 64
    top = rng.uniform(-3_000.0, 9_000.0, bands)
    r = rng.normal(size=(n, 3))
    r *= (R_MOON + rng.uniform(-4_000.0, 12_000.0, n))[:, None] / np.linalg.norm(r, axis=1)[:, None]
    r[:3, 2] = [R_MOON + 5_000.0, -(R_MOON + 5_000.0), np.nan]  # the poles (sin lat = ±1), a NaN
    r[:2, :2] = 0.0
    x1 = np.zeros((n, 21))
    x1[:, 0:3] = r
    margin = rng.uniform(1.0, 500.0, n)
    rho = np.linalg.norm(r, axis=1)
    band = np.clip(((r[:, 2] / rho + 1.0) * (0.5 * bands)).astype(np.int64, casting="unsafe"), 0, bands - 1)
    band[2] = 0
    expected = rho - R_MOON - top[band] < margin + 1.0
    one, zero = np.ones(n), np.zeros(n)
    assert np.array_equal(low_rows(x1, margin, top, R_MOON, *NO_BLOCKS, one, zero, ATAN2), expected)
    assert 0 < np.count_nonzero(expected) < n
    flagged = np.empty(n, dtype=bool)
    # at rest with no reach the screen's margin is 1 m
    count = screen_rows(
        x1, np.zeros(n, bool), np.zeros(n), 0.0, 0.0, top, R_MOON, flagged, *NO_BLOCKS, 1.0, 0.0, ATAN2
    )  # fmt: skip
    assert np.array_equal(flagged, rho - R_MOON - top[band] < 2.0) and count == np.count_nonzero(flagged)


def _imu_inputs_numpy(t0, x0, g0, t1, x1, g1):
    """The numpy formulation ``Flight._imu_inputs`` replaced (the oracle)."""
    from touchdown.moon.frames import quat_conjugate, quat_normalize, quat_rotate

    dt = t1 - t0
    g = 0.5 * (g0 + g1)
    dv = (x1[:, 3:6] - x0[:, 3:6]) - g * dt
    q0, q1 = x0[:, 6:10], x1[:, 6:10]
    q1 = np.where((np.sum(q0 * q1, axis=1) < 0.0)[:, None], -q1, q1)
    q_mid = quat_normalize(q0 + q1)
    return quat_rotate(quat_conjugate(q_mid), dv / dt), 0.5 * (x0[:, 10:13] + x1[:, 10:13])


def test_imu_inputs_are_the_numpy_formulas_bit_for_bit():
    from touchdown.moon.frames import QUAT_CONJUGATE
    from touchdown.sim._kernels import imu_inputs_rows

    rng = np.random.default_rng(11)
    n = 3000
    x0 = rng.normal(size=(n, 16)) * 100.0
    q0 = rng.normal(size=(n, 4))
    x0[:, 6:10] = q0 / np.linalg.norm(q0, axis=1)[:, None]
    x1 = x0 + rng.normal(size=(n, 16)) * 0.01
    x1[: n // 3, 6:10] *= -1.0  # the other hemisphere: the mean must flip it back
    x1[5, 6:10] = -x0[5, 6:10]  # exactly opposite: a zero quaternion sum (NaN attitude)
    x1[7, 3] = np.nan
    x1[9, 11] = np.inf
    x0[11, 6:10] = [0.0, -0.0, 0.0, 0.0]
    g0, g1 = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
    f_ref, w_ref = _imu_inputs_numpy(3.0, x0, g0, 3.1, x1, g1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f, w = imu_inputs_rows(x0, g0, x1, g1, 3.1 - 3.0, QUAT_CONJUGATE)
    assert np.array_equal(f.view(np.uint64), f_ref.view(np.uint64))
    assert np.array_equal(w.view(np.uint64), w_ref.view(np.uint64))
