"""Compiled per-row kernels of the guidance laws, with the numpy code's operations in the same order (the
same bits, whatever the batch). Transcendental functions are numpy's: its own float64 ``expm1`` loop,
called from the kernels (:data:`EXPM1`, read by ``touchdown._ufunc_loops``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown._scalar import _clip, _maximum
from touchdown._ufunc_loops import numpy_loop, unary_inplace

Array = NDArray[np.float64]

#: numpy's float64 expm1 loop (checked against np.expm1), or None: the kernels then call libm's expm1.
EXPM1 = numpy_loop(np.expm1, "d->d")


@njit(cache=True)
def _expm1_inplace(loop, x: Array) -> None:
    """x[:] = expm1(x) through numpy's loop (``loop``), or libm's where it is None."""
    if loop is None:
        for i in range(x.shape[0]):
            x[i] = math.expm1(x[i])
        return
    unary_inplace(loop, x, x.shape[0])


@njit(cache=True, error_model="numpy")
def braking_expm1_argument(v_h: Array, cos_theta: Array, ve: float, out: Array) -> None:
    """−Δv / vₑ (N,) with Δv = v_h / max(cos θ, 0.05) [m/s]: the argument of expm1 in the burn time."""
    for i in range(v_h.shape[0]):
        out[i] = -(v_h[i] / _maximum(cos_theta[i], 0.05)) / ve


@njit(cache=True, error_model="numpy")
def braking_pass(
    expm1_arg: Array,
    a_max: Array,
    h: Array,
    hdot: Array,
    g_z: Array,
    relief: Array,
    v_h: Array,
    ve: float,
    t_go_end: float,
    gate_altitude: float,
    gate_rate_term: float,
    v_limit: float,
    tau_limit: float,
    limited: bool,
    t_go: Array,
    a_z: Array,
    a_hz: Array,
    cos_theta: Array,
) -> None:
    """One fixed-point pass of the powered-braking law (``PoweredBrakingGuidance.command``), per row.

    ``expm1_arg`` (N,) holds expm1(−Δv/vₑ) on entry (computed by numpy) and the next pass's −Δv/vₑ on exit.
    Writes the burn time T (``t_go``) [s], the vertical and horizontal thrust accelerations a_z, a_hz
    [m/s²] and cos θ = a_hz / a_max. ``gate_rate_term`` = 2 ḣ_g [m/s]; ``v_limit``, ``tau_limit``: the
    descent-rate limit [m/s] and its time constant [s], used when ``limited``.
    """
    for i in range(a_max.shape[0]):
        am = a_max[i]
        t = _maximum((ve / am) * -expm1_arg[i], t_go_end)
        dh = gate_altitude - h[i]
        hddot = 6.0 * dh / (t * t) - (4.0 * hdot[i] + gate_rate_term) / t
        if limited:
            hddot = _maximum(hddot, (-v_limit - hdot[i]) / tau_limit)
        az = _clip(hddot - g_z[i] - relief[i], 0.0, am)
        ahz = math.sqrt(_maximum(am * am - az * az, 0.0))
        t_go[i] = t
        a_z[i] = az
        a_hz[i] = ahz
        cos_theta[i] = ahz / am
        expm1_arg[i] = -(v_h[i] / _maximum(cos_theta[i], 0.05)) / ve


@njit(cache=True, error_model="numpy")
def braking_command(
    a_max: Array,
    r_site: Array,
    v_site: Array,
    g_site: Array,
    ve: float,
    reference_radius: float,
    t_go_end: float,
    gate_altitude: float,
    gate_rate_term: float,
    v_limit: float,
    tau_limit: float,
    limited: bool,
    complete_speed: float,
    passes: int,
    expm1,
) -> tuple[Array, Array, NDArray[np.bool_]]:
    """``PoweredBrakingGuidance.command`` in one call: (thrust acceleration (N, 3) [m/s²], burn time T (N,)
    [s], complete (N,)) from the thrust capability ``a_max`` (N,) [m/s²] and the local state (N, 3) [m,
    m/s, m/s²]; ``passes`` fixed-point passes (:func:`braking_pass`) with numpy's expm1 (``expm1``:
    :data:`EXPM1`) between them."""
    n = a_max.shape[0]
    h, hdot, g_z = np.empty(n), np.empty(n), np.empty(n)
    v_h, relief = np.empty(n), np.empty(n)
    for i in range(n):
        h[i], hdot[i], g_z[i] = r_site[i, 2], v_site[i, 2], g_site[i, 2]
        v_h[i] = np.hypot(v_site[i, 0], v_site[i, 1])
        relief[i] = v_h[i] * v_h[i] / (reference_radius + h[i])
    t_go, a_z, a_hz, cos_theta = np.empty(n), np.empty(n), np.empty(n), np.ones(n)
    arg = np.empty(n)  # −Δv/vₑ, then expm1 of it
    braking_expm1_argument(v_h, cos_theta, ve, arg)
    for _ in range(passes):
        _expm1_inplace(expm1, arg)
        braking_pass(
            arg, a_max, h, hdot, g_z, relief, v_h, ve, t_go_end, gate_altitude, gate_rate_term, v_limit,
            tau_limit, limited, t_go, a_z, a_hz, cos_theta,
        )  # fmt: skip
    complete = np.empty(n, np.bool_)
    for i in range(n):
        complete[i] = v_h[i] <= complete_speed or t_go[i] <= t_go_end
    return braking_thrust(v_h, v_site, a_hz, a_z), t_go, complete


@njit(cache=True, error_model="numpy")
def braking_thrust(v_h: Array, v_site: Array, a_hz: Array, a_z: Array) -> Array:
    """Thrust acceleration (N, 3) [m/s²]: a_hz against the horizontal velocity, a_z up."""
    n = v_h.shape[0]
    out = np.empty((n, 3))
    for i in range(n):
        s = a_hz[i] / (v_h[i] if v_h[i] > 0.0 else 1.0) if v_h[i] > 0.0 else 0.0
        out[i, 0] = s * -v_site[i, 0]
        out[i, 1] = s * -v_site[i, 1]
        out[i, 2] = a_z[i]
    return out
