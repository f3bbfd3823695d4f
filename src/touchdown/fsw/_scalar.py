"""numpy's elementwise min/max/clip semantics for scalars inside numba kernels (NaN propagates; on equal
values, ±0 included, the second operand or the bound wins, as numpy's loops do)."""

from __future__ import annotations

from numba import njit


@njit(cache=True, error_model="numpy")
def _maximum(a: float, b: float) -> float:
    """``np.maximum(a, b)``: NaN if either is, b when they compare equal (±0)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a > b else b


@njit(cache=True, error_model="numpy")
def _minimum(a: float, b: float) -> float:
    """``np.minimum(a, b)``: NaN if either is, b when they compare equal (±0)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a < b else b


@njit(cache=True, error_model="numpy")
def _clip(v: float, lo: float, hi: float) -> float:
    """``np.clip(v, lo, hi)`` (NaN propagates; equal zeros give the bound)."""
    if not (v > lo or v != v):
        v = lo
    if not (v < hi or v != v):
        v = hi
    return v
