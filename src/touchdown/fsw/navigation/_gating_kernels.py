"""Compiled per-row kernels of measurement gating (``fsw.navigation.gating``), with the numpy code's
operations in the same order (the same bits, whatever the batch).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown._scalar import _maximum

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]

POLICY_NONE, POLICY_LATCH, POLICY_ROBUST = 0, 1, 2
_BIG = np.finfo(np.float64).max


@njit(cache=True, error_model="numpy")
def _nan_to_num(x: float, nan: float) -> float:
    """``np.nan_to_num(x, nan=nan)``: NaN → ``nan``, ±∞ → ± the largest float."""
    if x != x:
        return nan
    if x == np.inf:
        return _BIG
    if x == -np.inf:
        return -_BIG
    return x


@njit(cache=True, error_model="numpy")
def in_gate_rows(normalised: Array, present: Mask, abandoned: Mask, gate_sigma: float, policy: int) -> Mask:
    """Readings (N, B) admitted on the gate alone: present, sensor not abandoned, |ν|/√S ≤ ``gate_sigma``
    (NaN counts as beyond it); every present reading under the policy ``none``."""
    n, nb = normalised.shape
    out = np.empty((n, nb), np.bool_)
    for i in range(n):
        for j in range(nb):
            if policy == POLICY_NONE:
                out[i, j] = present[i, j]
            else:
                ok = _nan_to_num(normalised[i, j], np.inf) <= gate_sigma
                out[i, j] = present[i, j] and not abandoned[i] and ok
    return out


@njit(cache=True, error_model="numpy")
def record_rows(
    t_s: float,
    present: Mask,
    accepted: Mask,
    summary: Array,
    policy: int,
    latch_count: int,
    window_s: float,
    consistency: float,
    t_eps: float,
    seen: Mask,
    abandoned: Mask,
    count: NDArray[np.int64],
    streak_t0: Array,
    s1: Array,
    s2: Array,
    n_streak: Array,
) -> tuple[Mask, Mask, Mask, Mask, Mask]:
    """One tick of the gate's memory, in place (``Gate.record``); returns (readmit, first valid, streak
    starts, abandoned now, readmit) masks (N,)."""
    n = present.shape[0]
    first = np.zeros(n, np.bool_)
    starts = np.zeros(n, np.bool_)
    abandoned_now = np.zeros(n, np.bool_)
    readmit = np.zeros(n, np.bool_)
    for i in range(n):
        first[i] = present[i] and not seen[i]
        seen[i] = seen[i] or present[i]
        if policy == POLICY_NONE:
            continue
        rejected = present[i] and not accepted[i] and not abandoned[i]
        start = rejected and count[i] == 0
        starts[i] = start
        if rejected:
            count[i] = count[i] + 1
        elif accepted[i]:
            count[i] = 0
        if policy == POLICY_LATCH:
            now = count[i] >= latch_count and not abandoned[i]
            abandoned_now[i] = now
            abandoned[i] = abandoned[i] or now
            continue
        s = _nan_to_num(summary[i], 0.0)
        if start:
            streak_t0[i] = t_s
            s1[i] = s
            s2[i] = s * s
            n_streak[i] = 1.0
        elif rejected:
            s1[i] = s1[i] + s
            s2[i] = s2[i] + s * s
            n_streak[i] = n_streak[i] + 1.0
        k = _maximum(n_streak[i], 1.0)
        m = s1[i] / k
        spread = math.sqrt(_maximum(s2[i] / k - m * m, 0.0))
        if rejected and spread > consistency:  # the streak disagrees with itself: restart its window
            streak_t0[i] = t_s
            s1[i] = s
            s2[i] = s * s
            n_streak[i] = 1.0
            spread = 0.0
        long_enough = t_s - _nan_to_num(streak_t0[i], np.inf) >= window_s - t_eps
        if rejected and long_enough and spread <= consistency:
            readmit[i] = True
            count[i] = 0
    return readmit, first, starts, abandoned_now, readmit
