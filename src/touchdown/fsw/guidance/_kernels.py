"""Compiled per-row kernels of the guidance laws, with the numpy code's operations in the same order (the
same bits, whatever the batch). Transcendental functions stay in numpy between kernel calls.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown._scalar import _clip, _maximum

Array = NDArray[np.float64]


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
