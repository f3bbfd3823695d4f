"""The simulator's compiled screen against the numpy tests it stands for (``Simulator._advance``)."""

from __future__ import annotations

import numpy as np

from touchdown.moon.constants import R_MOON
from touchdown.moon.frames import norm
from touchdown.sim._kernels import screen_rows


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
    count = screen_rows(x1, prop_ok, h, dry, reach * (1.0 + slope), max_terrain, R_MOON, flagged)

    exhausted = prop_ok & (x1[:, 13] - dry <= 0.0)
    margin = reach * (1.0 + slope) + 2.0 * norm(x1[:, 3:6]) * h + 1.0
    height = np.sqrt(r[:, 0] * r[:, 0] + r[:, 1] * r[:, 1] + r[:, 2] * r[:, 2]) - R_MOON
    low = height - max_terrain < margin + 1.0
    assert np.array_equal(flagged, exhausted | low)
    assert count == np.count_nonzero(flagged) and 0 < count < n

    # a terrain without a known highest point: every row must go through the full check
    assert screen_rows(x1, prop_ok, h, dry, 1.0, np.inf, R_MOON, flagged) == n
