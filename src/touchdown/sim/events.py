"""Locating events within a step: batched, per-trajectory root finding.

An event is a sign change of a scalar function g of the state from positive to ≤ 0 during a step.
The instant is found on the step fraction θ ∈ (0, 1] by the Illinois variant of regula falsi. Each
trajectory converges on its own: once it meets the tolerance its bracket freezes, so its answer does
not depend on which other trajectories share the batch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def locate_crossing(
    g_at: Callable[[Array, NDArray[np.intp]], Array],
    g0: Array,
    g1: Array,
    *,
    g_tol: float,
    theta_tol: float = 1e-13,
    max_iter: int = 60,
) -> Array:
    """Step fractions θ (M,) where g crosses zero, given g(0) = g0 > 0 and g(1) = g1 ≤ 0.

    ``g_at(theta, idx)`` evaluates g at fractions ``theta`` for the members ``idx`` (indices into the
    M trajectories). Returns, per member, a θ with g(θ) ≤ 0 and |g(θ)| ≤ g_tol, or the bracket's
    upper end once it is narrower than ``theta_tol``: the event is never placed before it happened.
    """
    a = np.zeros_like(g0)
    b = np.ones_like(g0)
    ga = g0.astype(float).copy()
    gb = g1.astype(float).copy()
    side = np.zeros(g0.shape, dtype=np.int8)  # Illinois: which end was kept last time
    done = (gb > -g_tol) | (b - a <= theta_tol)
    for _ in range(max_iter):
        idx = np.flatnonzero(~done)
        if idx.size == 0:
            break
        a_i, b_i, ga_i, gb_i = a[idx], b[idx], ga[idx], gb[idx]
        theta = b_i - gb_i * (b_i - a_i) / (gb_i - ga_i)
        # keep strictly inside the bracket
        theta = np.clip(theta, a_i + 0.01 * (b_i - a_i), b_i - 0.01 * (b_i - a_i))
        g = g_at(theta, idx)
        below = g <= 0.0
        # root in [a, θ]: move b
        nb = np.where(below, theta, b_i)
        ngb = np.where(below, g, gb_i)
        na = np.where(below, a_i, theta)
        nga = np.where(below, ga_i, g)
        s = side[idx]
        # Illinois: halve the stale end's value when the same end is kept twice running
        nga = np.where(below & (s == 1), nga * 0.5, nga)
        ngb = np.where(~below & (s == -1), ngb * 0.5, ngb)
        side[idx] = np.where(below, 1, -1).astype(np.int8)
        a[idx], b[idx], ga[idx] = na, nb, nga
        # gb keeps the true value when it came from an evaluation (below), else the Illinois-scaled one
        gb[idx] = ngb
        conv = (below & (g > -g_tol)) | (nb - na <= theta_tol)
        done[idx] = conv
    return b
