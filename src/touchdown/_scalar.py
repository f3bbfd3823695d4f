"""numpy's elementwise min/max/clip semantics for scalars inside numba kernels (NaN propagates; on equal
values, ±0 included, the second operand or the bound wins, as numpy's loops do): shared by the truth
model's and the flight software's kernels. (The terrain kernels keep their own variants, whose tie rules
differ, as the code they replaced did.)"""

from __future__ import annotations

from numba import njit


@njit(cache=True, inline="always")
def _maximum(a: float, b: float) -> float:
    """``np.maximum(a, b)``: NaN if either is, b when they compare equal (±0)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a > b else b


@njit(cache=True, inline="always")
def _minimum(a: float, b: float) -> float:
    """``np.minimum(a, b)``: NaN if either is, b when they compare equal (±0)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a < b else b


@njit(cache=True, inline="always")
def _clip(v: float, lo: float, hi: float) -> float:
    """``np.clip(v, lo, hi)`` (NaN propagates; equal zeros give the bound)."""
    if not (v > lo or v != v):
        v = lo
    if not (v < hi or v != v):
        v = hi
    return v
