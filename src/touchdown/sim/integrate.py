"""Fixed-step classical Runge–Kutta (RK4) on batched states."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def rk4_step(
    f: Callable[[float | Array, Array], Array], t: float | Array, x: Array, h: float | Array
) -> Array:
    """One RK4 step of ``ẋ = f(t, x)`` from (t, x) over h [s].

    ``x`` is (N, n); ``t`` and ``h`` are scalars or per-trajectory arrays (N,), so trajectories can
    take different step lengths in one call (used to land exactly on events within a step).
    """
    h_arr = np.asarray(h, dtype=float)
    hc = h_arr[:, None] if h_arr.ndim else h_arr
    half = 0.5 * h_arr
    halfc = 0.5 * hc
    k1 = f(t, x)
    k2 = f(t + half, x + halfc * k1)
    k3 = f(t + half, x + halfc * k2)
    k4 = f(t + h_arr, x + hc * k3)
    return x + (hc / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
