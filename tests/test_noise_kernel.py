"""The compiled noise draws (``noise._draw``) against the numpy hash chain (``noise._bits``), bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtri

from touchdown.noise import _bits, normal, run_keys, stream_id, uniform


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
