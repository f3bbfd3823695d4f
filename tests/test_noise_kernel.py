"""The compiled noise draws (``noise._draw``) against the numpy hash chain (``noise._bits``) and
``scipy.special.ndtri``, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit
from scipy.special import ndtri

from touchdown.noise import LOG, _bits, _ndtri, _ndtri_inplace, normal, run_keys, stream_id, uniform


def _uniform_numpy(keys, stream, tick, shape):
    z = _bits(keys, stream, tick, shape)
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


@pytest.mark.parametrize("shape", [(), (1,), (3,), (12,), (2, 3)])
@pytest.mark.parametrize("n", [1, 7, 500])
def test_draws_match_the_numpy_chain(n: int, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(n)
    keys = run_keys(int(rng.integers(1 << 31)), np.arange(n) * 3 + 1)
    for name, tick in [
        ("imu.noise", 0),
        ("lrf.noise", 123_456),
        ("x", -5),
        ("y", rng.integers(-10, 1 << 40, n)),
    ]:
        s = stream_id(name)
        u_ref = _uniform_numpy(keys, s, tick, shape)
        u = uniform(keys, s, tick, shape)
        assert u.shape == u_ref.shape == (n, *shape)
        assert np.array_equal(u.view(np.uint64), u_ref.view(np.uint64))
        assert np.array_equal(normal(keys, s, tick, shape).view(np.uint64), ndtri(u_ref).view(np.uint64))


def test_keys_of_any_layout() -> None:
    keys = run_keys(3, np.arange(40))
    s = stream_id("a")
    assert np.array_equal(normal(keys[::2], s, 4, (3,)), normal(keys, s, 4, (3,))[::2])
    assert np.array_equal(normal(keys.reshape(5, 8), s, 4), normal(keys, s, 4))
    assert np.array_equal(
        normal(keys, s, np.arange(40)[::-1] * 2, (2,)), normal(keys, s, np.arange(78, -1, -2), (2,))
    )


@njit
def _ndtri_each(u: np.ndarray) -> np.ndarray:
    out = np.empty_like(u)
    for i in range(u.size):
        out[i] = _ndtri(u[i])
    return out


def _on_the_grid(top53: np.ndarray) -> np.ndarray:
    """Uniforms as the generator makes them from 53 random bits."""
    return (top53.astype(np.float64) + 0.5) * 2.0**-53


def _ulps_around(p: float, k: int) -> np.ndarray:
    """The 2k + 1 doubles nearest a positive double p, p included."""
    return (np.float64(p).view(np.int64) + np.arange(-k, k + 1)).view(np.float64)


def _x_is_8() -> float:
    """The smallest y with sqrt(-2 log y) < 8 (where ndtri's tail switches rational function)."""
    y = math.exp(-32.0)
    while math.sqrt(-2.0 * math.log(y)) >= 8.0:
        y = float(np.nextafter(y, 1.0))
    while math.sqrt(-2.0 * math.log(float(np.nextafter(y, 0.0)))) < 8.0:
        y = float(np.nextafter(y, 0.0))
    return y


def test_ndtri_is_scipys_bit_for_bit() -> None:
    """The inlined ndtri, scalar and array kernels, against scipy.special.ndtri: bit for bit with libm's log
    (the scalar kernel, and the array kernel without numpy's loop); with numpy's SIMD log loop (what the
    draws use) within 4 ulp, and bit for bit on all but ≈ 1 in 18,000 of the tail draws, where numpy's
    log differs from libm's in the last bit."""
    rng = np.random.default_rng(2024)
    grid = _on_the_grid(rng.integers(0, 1 << 53, 1_200_000, dtype=np.uint64))
    k = np.arange(100_000, dtype=np.float64)
    tails = np.concatenate([(k + 0.5) * 2.0**-53, 1.0 - (k + 0.5) * 2.0**-53])
    exp_m2, y8 = 0.13533528323661269189, _x_is_8()
    branch_points = np.concatenate(
        [_ulps_around(p, 64) for p in (exp_m2, 1.0 - exp_m2, y8, 1.0 - y8, 0.5, np.nextafter(1.0, 0.0))]
    )
    arbitrary = np.exp(rng.uniform(math.log(5e-324), math.log(0.5), 100_000))
    arbitrary = np.concatenate([arbitrary, 1.0 - arbitrary])
    edges = [0.0, -0.0, 1.0, 0.5, 5e-324, np.inf, -np.inf, -1e-300, -1.0, 2.0, np.nextafter(1.0, 2.0)]
    nans = np.array([0x7FF8 << 48, 0xFFF8 << 48, (0x7FF8 << 48) + 0x123, (0xFFF0 << 48) + 1], np.uint64)
    special = np.concatenate([edges, nans.view(np.float64)])  # NaNs: quiet +-, with a payload, signalling
    for name, u in [
        ("53-bit grid", grid),
        ("grid tails", tails),
        ("branch points", branch_points),
        ("arbitrary doubles", arbitrary),
        ("0, 1, NaN, out of range", special),
    ]:
        ref = ndtri(u).view(np.uint64)
        v = u.copy()
        _ndtri_inplace(v, None)
        assert np.array_equal(v.view(np.uint64), ref), name
        assert np.array_equal(_ndtri_each(u).view(np.uint64), ref), name
        fast = u.copy()
        _ndtri_inplace(fast, LOG)
        same = fast.view(np.uint64) == ref
        assert np.mean(same) > 0.9999, name
        r = ndtri(u)
        assert np.all(np.abs(fast[~same] - r[~same]) <= 4 * np.spacing(np.abs(r[~same]))), name


def test_ndtri_inplace_bits_do_not_depend_on_the_array() -> None:
    u = _on_the_grid(np.random.default_rng(5).integers(0, 1 << 53, 1001, dtype=np.uint64))
    whole = u.copy()
    _ndtri_inplace(whole, LOG)
    for lo, hi in [(0, 1), (3, 4), (1, 8), (5, 38), (100, 1001)]:
        part = u[lo:hi].copy()
        _ndtri_inplace(part, LOG)
        assert np.array_equal(part.view(np.uint64), whole[lo:hi].view(np.uint64))
    _ndtri_inplace(np.empty(0), LOG)
