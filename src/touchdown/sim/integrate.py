"""Fixed-step classical Runge–Kutta (RK4) on batched states."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def rk4_step(
    f: Callable[[float | Array, Array], Array],
    t: float | Array,
    x: Array,
    h: float | Array,
    exact: Callable[[Array, bool], None] | None = None,
) -> Array:
    """One RK4 step of ``ẋ = f(t, x)`` from (t, x) over h [s].

    ``x`` is (N, n); ``t`` and ``h`` are scalars or per-trajectory arrays (N,), so trajectories can
    take different step lengths in one call (used to land exactly on events within a step).
    ``exact(state, whole)``, if given, overwrites in place the components it knows in closed form at the
    instant of a stage state (half-way: ``whole`` False; the step's end: True) and in the result.
    """
    h_arr = np.asarray(h, dtype=float)
    hc = h_arr[:, None] if h_arr.ndim else h_arr
    half = 0.5 * h_arr
    halfc = 0.5 * hc
    fix = exact if exact is not None else _keep
    k1 = f(t, x)
    x2 = x + halfc * k1
    fix(x2, False)
    k2 = f(t + half, x2)
    x3 = x + halfc * k2
    fix(x3, False)
    k3 = f(t + half, x3)
    x4 = x + hc * k3
    fix(x4, True)
    k4 = f(t + h_arr, x4)
    x1 = x + (hc / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    fix(x1, True)
    return x1


def _keep(state: Array, whole: bool) -> None:
    """No component known in closed form."""
