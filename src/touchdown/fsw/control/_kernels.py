"""Compiled per-row kernels of the control laws (``fsw.control``), with the numpy code's operations in the
same order (the same bits, whatever the batch). The pointing error's arctan2 stays in numpy.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown._scalar import _clip, _maximum, _minimum
from touchdown.moon.frames import quat_rotate_vector

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]


# ---------------------------------------------------------------------------------------------- pointing
@njit(cache=True, error_model="numpy")
def pointing_geometry(
    q_body_to_ref: Array, conjugate: Array, axis_body: Array, direction_ref: Array
) -> tuple[Array, Array, Array]:
    """The thrust axis a and the commanded direction d in body axes, per row: (e = a × d (N, 3), |e| (N,),
    a · d (N,)), the sine and cosine parts of the pointing error (its angle is ``arctan2(|e|, a · d)``).

    ``conjugate`` = [1, −1, −1, −1] (multiplied, as numpy's ``quat_conjugate``); ``axis_body`` (N, 3).
    """
    n = direction_ref.shape[0]
    e = np.empty((n, 3))
    s = np.empty(n)
    c = np.empty(n)
    for i in range(n):
        e[i, 0], e[i, 1], e[i, 2], s[i], c[i] = pointing_row(
            q_body_to_ref, i, conjugate, axis_body[i, 0], axis_body[i, 1], axis_body[i, 2], direction_ref
        )
    return e, s, c


@njit(cache=True, error_model="numpy", inline="always")
def pointing_row(
    q_body_to_ref: Array, i: int, conjugate: Array, a0: float, a1: float, a2: float, direction_ref: Array
) -> tuple[float, float, float, float, float]:
    """Row i of :func:`pointing_geometry` with the thrust axis (a0, a1, a2): (e (3 floats), |e|, a · d)."""
    d0, d1, d2 = quat_rotate_vector(
        q_body_to_ref[i, 0] * conjugate[0],
        q_body_to_ref[i, 1] * conjugate[1],
        q_body_to_ref[i, 2] * conjugate[2],
        q_body_to_ref[i, 3] * conjugate[3],
        direction_ref[i, 0],
        direction_ref[i, 1],
        direction_ref[i, 2],
    )
    e0, e1, e2 = a1 * d2 - a2 * d1, a2 * d0 - a0 * d2, a0 * d1 - a1 * d0
    return e0, e1, e2, math.sqrt(e0 * e0 + e1 * e1 + e2 * e2), a0 * d0 + a1 * d1 + a2 * d2


@njit(cache=True, error_model="numpy")
def pointing_vector(e: Array, s: Array, angle: Array) -> Array:
    """Rotation vector θ (N, 3) [rad]: angle × e/|e|, or body x at 180° (|e| ≈ 0, angle > 1 rad), else 0."""
    n = e.shape[0]
    out = np.empty((n, 3))
    for i in range(n):
        out[i, 0], out[i, 1], out[i, 2] = pointing_vector_row(e[i, 0], e[i, 1], e[i, 2], s[i], angle[i])
    return out


@njit(cache=True, error_model="numpy", inline="always")
def pointing_vector_row(
    e0: float, e1: float, e2: float, s: float, angle: float
) -> tuple[float, float, float]:
    """One row of :func:`pointing_vector`."""
    if s > 1e-12:
        return e0 / s * angle, e1 / s * angle, e2 / s * angle
    if angle > 1.0:
        return 1.0 * angle, 0.0 * angle, 0.0 * angle
    return 0.0 * angle, 0.0 * angle, 0.0 * angle


@njit(cache=True, error_model="numpy")
def rate_loop_torque(
    theta: Array, w_body: Array, inertia: Array, k_att: float, k_rate: float, w_max: float
) -> tuple[Array, Array]:
    """RCS torque (N, 3) [N·m] and pointing error angle |θ| (N,) [rad] of the cascaded loops.

    ω_cmd = K_att θ limited to ``w_max`` [rad/s]; τ = I K_rate (ω_cmd − ω) + ω × I ω; ``inertia`` (N, 3)
    principal inertias [kg·m²].
    """
    n = theta.shape[0]
    torque = np.empty((n, 3))
    err = np.empty(n)
    for i in range(n):
        t0, t1, t2 = theta[i, 0], theta[i, 1], theta[i, 2]
        torque[i, 0], torque[i, 1], torque[i, 2] = rate_loop_row(
            t0, t1, t2, w_body, i, inertia[i, 0], inertia[i, 1], inertia[i, 2], k_att, k_rate, w_max
        )
        err[i] = math.sqrt(t0 * t0 + t1 * t1 + t2 * t2)
    return torque, err


@njit(cache=True, error_model="numpy", inline="always")
def rate_loop_row(
    t0: float,
    t1: float,
    t2: float,
    w_body: Array,
    i: int,
    j0: float,
    j1: float,
    j2: float,
    k_att: float,
    k_rate: float,
    w_max: float,
) -> tuple[float, float, float]:
    """The torque of :func:`rate_loop_torque` for pointing error θ = (t0, t1, t2), row i of ``w_body`` and
    principal inertias (j0, j1, j2)."""
    c0, c1, c2 = k_att * t0, k_att * t1, k_att * t2
    mag = math.sqrt(c0 * c0 + c1 * c1 + c2 * c2)
    f = _minimum(1.0, w_max / _maximum(mag, 1e-300))
    c0, c1, c2 = c0 * f, c1 * f, c2 * f
    w0, w1, w2 = w_body[i, 0], w_body[i, 1], w_body[i, 2]
    h0, h1, h2 = j0 * w0, j1 * w1, j2 * w2
    return (
        j0 * k_rate * (c0 - w0) + (w1 * h2 - w2 * h1),
        j1 * k_rate * (c1 - w1) + (w2 * h0 - w0 * h2),
        j2 * k_rate * (c2 - w2) + (w0 * h1 - w1 * h0),
    )


# ---------------------------------------------------------------------------------------------- throttle
@njit(cache=True, error_model="numpy")
def allocate_rows(
    thrust_n: Array,
    enabled: Mask,
    f_max: Array,
    fixed: Mask,
    fixed_order: NDArray[np.int64],
    tmin: Array,
    tmax: Array,
    band_lo: Array,
    band_hi: Array,
    has_band: Mask,
) -> tuple[Array, Mask]:
    """Engine throttles (N, E) and on flags (N, E) for thrust demands (N,) [N] (``ThrottleAllocator``).

    Fixed engines in ``fixed_order`` are lit while the demand covers them (or, with nothing throttleable
    enabled, half of them); the rest is shared by the enabled throttleable engines at one fraction, clipped
    to [tmin, tmax] and moved out of an avoided band (``band_lo``, ``band_hi`` where ``has_band``).
    """
    n, n_eng = enabled.shape
    throttle = np.zeros((n, n_eng))
    on = np.zeros((n, n_eng), np.bool_)
    for r in range(n):
        remaining = _maximum(thrust_n[r], 0.0)
        no_trim = True
        for i in range(n_eng):
            if enabled[r, i] and not fixed[i]:
                no_trim = False
        for t in range(fixed_order.shape[0]):
            i = fixed_order[t]
            lit = enabled[r, i] and (remaining >= f_max[i] or (no_trim and remaining >= 0.5 * f_max[i]))
            on[r, i] = lit
            throttle[r, i] = 1.0 if lit else 0.0
            remaining = _maximum(remaining - (f_max[i] if lit else 0.0), 0.0)
        capacity = 0.0
        for i in range(n_eng):
            if not fixed[i]:
                share = 1.0 if enabled[r, i] else 0.0
                capacity = capacity + share * f_max[i]
        frac = remaining / capacity if capacity > 0.0 else 0.0
        for i in range(n_eng):
            if fixed[i]:
                continue
            u = _clip(frac, tmin[i], tmax[i])
            if has_band[i] and u > band_lo[i] and u < band_hi[i]:
                u = band_hi[i] if u >= 0.5 * (band_lo[i] + band_hi[i]) else band_lo[i]
            lit = enabled[r, i] and remaining > 0.0
            on[r, i] = lit
            throttle[r, i] = u if lit else 0.0
    return throttle, on


@njit(cache=True, error_model="numpy")
def throttled_sum_rows(
    throttle: Array, engine_on: Mask, tmin: Array, tmax: Array, per_engine: Array
) -> Array:
    """Σₑ clip(throttle, tmin, tmax) on ``per_engine`` (N,), summed in engine order (numpy's for < 8 engines):
    the thrust [N] with the engines' full thrusts, the propellant flow [kg/s] with their flows at throttle 1.
    """
    n, n_eng = throttle.shape
    out = np.empty(n)
    for r in range(n):
        total = 0.0
        for i in range(n_eng):
            u = _clip(throttle[r, i], tmin[i], tmax[i]) * (1.0 if engine_on[r, i] else 0.0)
            total = u * per_engine[i] if i == 0 else total + u * per_engine[i]
        out[r] = total
    return out


@njit(cache=True, error_model="numpy")
def enabled_sum_rows(enabled: Mask, per_engine: Array) -> Array:
    """Σₑ enabled · ``per_engine`` (N,), summed in engine order (numpy's for < 8 engines)."""
    n, n_eng = enabled.shape
    out = np.empty(n)
    for r in range(n):
        total = 0.0
        for i in range(n_eng):
            f = (1.0 if enabled[r, i] else 0.0) * per_engine[i]
            total = f if i == 0 else total + f
        out[r] = total
    return out
