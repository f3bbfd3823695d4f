"""Compiled per-row kernels of the flight software's tick (``fsw.flight_software``): the estimated state in
the local east-north-up frame, guidance commands back to Moon-fixed axes, and the thrust direction and
magnitude for control. The numpy code's operations in the same order (the same bits, whatever the batch);
sines and cosines come from numpy.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown._scalar import _maximum
from touchdown.moon.frames import quat_rotate_vector

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]


@njit(cache=True, error_model="numpy")
def local_state_rows(
    r_mci: Array,
    v_mci: Array,
    g_mci: Array,
    omega: float,
    cos_t: float,
    sin_t: float,
    slat: Array,
    clat: Array,
    slon: Array,
    clon: Array,
) -> tuple[Array, Array, Array, Array, Array]:
    """Velocity relative to the ground and gravity in local east-north-up axes (N, 3), and the east, north
    and up unit vectors (N, 3) in MCMF.

    ``r_mci``, ``v_mci``, ``g_mci`` (N, 3): estimated position [m], velocity [m/s], gravity [m/s²];
    ``omega`` the Moon's rate [rad/s]; ``cos_t``, ``sin_t`` its rotation angle; ``slat`` … ``clon`` (N,)
    the sines and cosines of the estimated latitude and longitude.
    """
    n = r_mci.shape[0]
    v_loc = np.empty((n, 3))
    g_loc = np.empty((n, 3))
    east = np.empty((n, 3))
    north = np.empty((n, 3))
    up = np.empty((n, 3))
    for i in range(n):
        e0, e1, e2 = -slon[i], clon[i], 0.0
        n0, n1, n2 = -slat[i] * clon[i], -slat[i] * slon[i], clat[i]
        u0, u1, u2 = clat[i] * clon[i], clat[i] * slon[i], slat[i]
        east[i, 0], east[i, 1], east[i, 2] = e0, e1, e2
        north[i, 0], north[i, 1], north[i, 2] = n0, n1, n2
        up[i, 0], up[i, 1], up[i, 2] = u0, u1, u2
        r0, r1, r2 = r_mci[i, 0], r_mci[i, 1], r_mci[i, 2]
        x = v_mci[i, 0] - (0.0 * r2 - omega * r1)  # v − ω × r, then into MCMF
        y = v_mci[i, 1] - (omega * r0 - 0.0 * r2)
        z = v_mci[i, 2] - (0.0 * r1 - 0.0 * r0)
        a0, a1, a2 = cos_t * x + sin_t * y, -sin_t * x + cos_t * y, z + 0.0 * cos_t
        v_loc[i, 0] = a0 * e0 + a1 * e1 + a2 * e2
        v_loc[i, 1] = a0 * n0 + a1 * n1 + a2 * n2
        v_loc[i, 2] = a0 * u0 + a1 * u1 + a2 * u2
        x, y, z = g_mci[i, 0], g_mci[i, 1], g_mci[i, 2]
        a0, a1, a2 = cos_t * x + sin_t * y, -sin_t * x + cos_t * y, z + 0.0 * cos_t
        g_loc[i, 0] = a0 * e0 + a1 * e1 + a2 * e2
        g_loc[i, 1] = a0 * n0 + a1 * n1 + a2 * n2
        g_loc[i, 2] = a0 * u0 + a1 * u1 + a2 * u2
    return v_loc, g_loc, east, north, up


@njit(cache=True, error_model="numpy")
def local_to_mcmf(
    a_local: Array, rows: NDArray[np.intp], east: Array, north: Array, up: Array, out: Array
) -> None:
    """``out[rows] = a_e east + a_n north + a_u up`` (MCMF) for local vectors ``a_local`` (k, 3), summed in
    ascending axis order from 0 as ``np.einsum("ki,kij->kj")``."""
    for m in range(rows.shape[0]):
        i = rows[m]
        a0, a1, a2 = a_local[m, 0], a_local[m, 1], a_local[m, 2]
        for j in range(3):
            out[i, j] = 0.0 + a0 * east[i, j] + a1 * north[i, j] + a2 * up[i, j]


@njit(cache=True, error_model="numpy")
def thrust_command_rows(
    a_mcmf: Array,
    cos_t: float,
    sin_t: float,
    r_mci: Array,
    q_body_to_mci: Array,
    axis_body: Array,
    mass_kg: Array,
    coast: Mask,
    cos_max: float,
    s_max: float,
) -> tuple[Array, Array]:
    """Commanded thrust direction (N, 3) (unit, MCI) and thrust magnitude (N,) [N].

    ``a_mcmf`` (N, 3): the guidance thrust acceleration [m/s²] in MCMF, turned to MCI with ``cos_t`` = cos θ,
    ``sin_t`` = −sin θ (θ the Moon's rotation angle; as ``frames.mcmf_to_mci``). Direction: along it, or up
    (r̂) where it is zero, clamped to the cone of half-angle acos(``cos_max``) about up (``s_max`` = sin of
    it; no clamp for ``cos_max`` ≤ −1).
    Magnitude: mass × the acceleration's component on the current body axis ``axis_body`` (3,) (≥ 0),
    0 on ``coast`` rows.
    """
    n = a_mcmf.shape[0]
    d = np.empty((n, 3))
    thrust = np.empty(n)
    b0, b1, b2 = axis_body[0], axis_body[1], axis_body[2]
    for i in range(n):
        x, y, z = a_mcmf[i, 0], a_mcmf[i, 1], a_mcmf[i, 2]
        a0, a1, a2 = cos_t * x + sin_t * y, -sin_t * x + cos_t * y, z + 0.0 * cos_t
        a_mag = math.sqrt(a0 * a0 + a1 * a1 + a2 * a2)
        r0, r1, r2 = r_mci[i, 0], r_mci[i, 1], r_mci[i, 2]
        rn = math.sqrt(r0 * r0 + r1 * r1 + r2 * r2)
        p0, p1, p2 = r0 / rn, r1 / rn, r2 / rn  # up
        if a_mag > 0.0:
            m = _maximum(a_mag, 1e-300)
            d0, d1, d2 = a0 / m, a1 / m, a2 / m
        else:
            d0, d1, d2 = p0, p1, p2
        if cos_max > -1.0:
            c = d0 * p0 + d1 * p1 + d2 * p2
            if c < cos_max:
                e0, e1, e2 = d0 - c * p0, d1 - c * p1, d2 - c * p2
                en = math.sqrt(e0 * e0 + e1 * e1 + e2 * e2)
                if en > 1e-12:
                    m = _maximum(en, 1e-300)
                    e0, e1, e2 = e0 / m, e1 / m, e2 / m
                else:
                    e0, e1, e2 = 0.0, 0.0, 0.0
                d0, d1, d2 = cos_max * p0 + s_max * e0, cos_max * p1 + s_max * e1, cos_max * p2 + s_max * e2
        d[i, 0], d[i, 1], d[i, 2] = d0, d1, d2
        w, qx, qy, qz = q_body_to_mci[i, 0], q_body_to_mci[i, 1], q_body_to_mci[i, 2], q_body_to_mci[i, 3]
        x0, x1, x2 = quat_rotate_vector(w, qx, qy, qz, b0, b1, b2)
        f = mass_kg[i] * _maximum(a0 * x0 + a1 * x1 + a2 * x2, 0.0)
        thrust[i] = 0.0 if coast[i] else f
    return d, thrust
