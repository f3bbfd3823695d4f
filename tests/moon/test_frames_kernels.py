"""``moon.frames`` on (N, 3) and (N, 4) batches (compiled kernels) against its numpy code, bit for bit.

The numpy code is reached through the same functions with a leading axis added, (1, N, k), a shape the
kernels leave to it.
"""

from __future__ import annotations

import numpy as np
import pytest

from touchdown.moon import frames as fr


def _values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normals over many magnitudes, with exact ±0, NaN, ±∞ and unit-norm rows sprinkled in."""
    a = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 8, shape)
    a.flat[::17] = 0.0
    a.flat[5::23] = -0.0
    a.flat[7::97] = np.nan
    a.flat[11::89] = np.inf
    a.flat[13::101] = -np.inf
    return a


def _same(got: np.ndarray, ref: np.ndarray) -> bool:
    return (
        got.shape == ref.shape
        and np.array_equal(got, ref, equal_nan=True)
        and np.array_equal(np.signbit(got), np.signbit(ref))
    )


def _generic(f, *args):
    """f on the numpy path: a leading axis on every array argument, removed from the result."""
    out = f(*(a[None] if isinstance(a, np.ndarray) else a for a in args))
    return tuple(o[0] for o in out) if isinstance(out, tuple) else out[0]


@pytest.mark.parametrize("n", [1, 2, 257])
def test_vector_and_quaternion_kernels_match_numpy(n: int) -> None:
    rng = np.random.default_rng(n)
    a, b = _values(rng, (n, 3)), _values(rng, (n, 3))
    p, q = _values(rng, (n, 4)), _values(rng, (n, 4))
    m = _values(rng, (n, 3, 3))
    a[-1], p[-1] = 0.0, 0.0  # divisions by zero give inf and NaN, as numpy's
    unit_q = fr.quat_normalize(rng.standard_normal((n, 4)))
    b_bcast = np.broadcast_to(rng.standard_normal(3), (n, 3))  # read-only, zero row stride
    cases = [
        (fr.dot, (a, b)),
        (fr.cross, (a, b)),
        (fr.cross, (a, b_bcast)),
        (fr.cross, (p[:, 1:4], a)),  # strided views
        (fr.norm, (a,)),
        (fr.unit, (a,)),
        (fr.matvec, (m, a)),
        (fr.quat_multiply, (p, q)),
        (fr.quat_conjugate, (q,)),
        (fr.quat_normalize, (q,)),
        (fr.quat_rotate, (q, a)),
        (fr.quat_rotate, (unit_q, b_bcast)),
        (fr.quat_to_dcm, (q,)),
    ]
    with np.errstate(all="ignore"):
        for f, args in cases:
            assert _same(f(*args), _generic(f, *args)), f.__name__


@pytest.mark.parametrize("n", [1, 300])
def test_frame_conversion_kernels_match_numpy(n: int) -> None:
    rng = np.random.default_rng(100 + n)
    r = _values(rng, (n, 3)) + 1.7e6
    v = _values(rng, (n, 3))
    lat, lon = rng.uniform(-1.6, 1.6, n), rng.uniform(-3.2, 3.2, n)
    h = rng.uniform(-1e4, 1e5, n)
    with np.errstate(all="ignore"):
        for t in (0.0, 123.456, 7.5e3, np.float64(934.05)):
            assert _same(fr.mci_to_mcmf(r, t), _generic(fr.mci_to_mcmf, r, t))
            assert _same(fr.mcmf_to_mci(r, t), _generic(fr.mcmf_to_mci, r, t))
            assert _same(fr.velocity_mci_to_mcmf(r, v, t), _generic(fr.velocity_mci_to_mcmf, r, v, t))
        for got, ref in zip(fr.enu_basis(lat, lon), _generic(fr.enu_basis, lat, lon), strict=True):
            assert _same(got, ref)
        assert _same(fr.llh_to_mcmf(lat, lon, h), _generic(fr.llh_to_mcmf, lat, lon, h))
        for got, ref in zip(fr.mcmf_to_llh(r), _generic(fr.mcmf_to_llh, r), strict=True):
            assert _same(got, ref)
        special = _values(rng, (n, 3))  # ±0, NaN, ±∞ and every magnitude through hypot
        for got, ref in zip(
            fr.mcmf_to_llh(special, 1.0), _generic(fr.mcmf_to_llh, special, 1.0), strict=True
        ):
            assert _same(got, ref)
        assert _same(fr.llh_to_mcmf(0.3, -1.2, h), fr.llh_to_mcmf(np.full(n, 0.3), np.full(n, -1.2), h))


def test_other_shapes_keep_the_numpy_path() -> None:
    a = np.array([1.0, 2.0, 3.0])
    assert _same(fr.cross(a, np.array([0.0, 0.0, 1.0])), np.array([2.0, -1.0, 0.0]))
    assert fr.norm(np.ones((2, 5, 3))).shape == (2, 5)
    assert fr.quat_rotate(np.array([1.0, 0.0, 0.0, 0.0]), np.ones((4, 3))).shape == (4, 3)
    assert fr.dot(np.ones((4, 3), dtype=np.float32), np.ones((4, 3))).dtype == np.float64


def test_small_angle_sincos_is_within_an_ulp_of_numpy() -> None:
    """The strapdown's sines and cosines of its half-angle increments: Taylor series below 0.0625 rad, the C
    library's above; within one ulp of numpy's everywhere (and exact on > 99.9 % of small angles)."""
    from touchdown.moon._frames_kernels import SMALL_ANGLE, small_angle_sincos

    rng = np.random.default_rng(3)
    x = np.concatenate(
        [
            rng.uniform(-SMALL_ANGLE, SMALL_ANGLE, 100_000),
            rng.uniform(-1e-7, 1e-7, 1000),
            rng.uniform(-3, 3, 1000),
        ]
    )
    x = np.concatenate([x, [0.0, -0.0, SMALL_ANGLE, -SMALL_ANGLE]]).reshape(-1, 2)
    s, c = small_angle_sincos(x)
    assert s.shape == c.shape == x.shape
    assert np.all(np.abs(s - np.sin(x)) <= np.spacing(np.abs(np.sin(x))))
    assert np.all(np.abs(c - np.cos(x)) <= np.spacing(np.abs(np.cos(x))))
    small = np.abs(x) <= SMALL_ANGLE
    assert np.mean(s[small] == np.sin(x[small])) > 0.999 and np.mean(c[small] == np.cos(x[small])) > 0.999
    assert np.signbit(s[-1, 1]) and np.isnan(small_angle_sincos(np.array([np.nan]))[0][0])
