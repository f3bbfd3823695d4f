"""Compiled per-row kernels of the flight software's tick (``fsw.flight_software``): the estimated state in
the local east-north-up frame, guidance commands back to Moon-fixed axes, and the control tick (thrust
direction and magnitude, believed inertia, pointing loops). The numpy code's operations in the same order
(the same bits, whatever the batch); sines and cosines come from numpy, arctan2 from numpy's loop.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown._scalar import _maximum
from touchdown.fsw.control._kernels import pointing_row, pointing_vector_row, rate_loop_row
from touchdown.moon.frames import quat_rotate_vector
from touchdown.moon.terrain.kernels import _atan2

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]


@njit(cache=True, error_model="numpy")
def enu_trig_rows(r_mci: Array, cos_t: float, sin_t: float) -> tuple[Array, Array, Array, Array]:
    """sin, cos of the geocentric latitude and of the longitude (N,) of the positions ``r_mci`` (N, 3) [m]
    turned Moon-fixed by the rotation angle (``cos_t``, ``sin_t``): z/ρ, ρ_xy/ρ, y/ρ_xy, x/ρ_xy with no
    transcendental (numpy's sin and cos of the angles cost ≈ 8 ns an element); longitude 0 over a pole."""
    n = r_mci.shape[0]
    slat, clat, slon, clon = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        r0, r1 = r_mci[i, 0], r_mci[i, 1]
        x, y, z = cos_t * r0 + sin_t * r1, -sin_t * r0 + cos_t * r1, r_mci[i, 2]
        rxy = math.hypot(x, y)
        rho = math.hypot(rxy, z)
        slat[i], clat[i] = z / rho, rxy / rho
        if rxy > 0.0:
            slon[i], clon[i] = y / rxy, x / rxy
        else:
            slon[i], clon[i] = 0.0, 1.0
    return slat, clat, slon, clon


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


@njit(cache=True, error_model="numpy", inline="always")
def _thrust_command(
    a_mcmf: Array,
    i: int,
    cos_t: float,
    sin_t: float,
    r_mci: Array,
    q_body_to_mci: Array,
    b0: float,
    b1: float,
    b2: float,
    mass_kg: float,
    coast: bool,
    cos_max: float,
    s_max: float,
) -> tuple[float, float, float, float]:
    """Row i's commanded thrust direction (3 floats, unit, MCI) and thrust magnitude [N].

    ``a_mcmf`` (N, 3): the guidance thrust acceleration [m/s²] in MCMF, turned to MCI with ``cos_t`` = cos θ,
    ``sin_t`` = −sin θ (θ the Moon's rotation angle; as ``frames.mcmf_to_mci``). Direction: along it, or up
    (r̂) where it is zero, clamped to the cone of half-angle acos(``cos_max``) about up (``s_max`` = sin of
    it; no clamp for ``cos_max`` ≤ −1).
    Magnitude: mass × the acceleration's component on the current body axis (b0, b1, b2) (≥ 0), 0 in coast.
    """
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
    w, qx, qy, qz = q_body_to_mci[i, 0], q_body_to_mci[i, 1], q_body_to_mci[i, 2], q_body_to_mci[i, 3]
    x0, x1, x2 = quat_rotate_vector(w, qx, qy, qz, b0, b1, b2)
    f = mass_kg * _maximum(a0 * x0 + a1 * x1 + a2 * x2, 0.0)
    return d0, d1, d2, 0.0 if coast else f


@njit(cache=True, error_model="numpy")
def control_rows(
    a_mcmf: Array,
    cos_t: float,
    sin_t: float,
    r_mci: Array,
    q_body_to_mci: Array,
    w_body: Array,
    axis_body: Array,
    mass_kg: Array,
    coast: Mask,
    cos_max: float,
    s_max: float,
    dry_mass_kg: float,
    propellant_capacity_kg: float,
    inertia_dry: Array,
    inertia_span: Array,
    conjugate: Array,
    atan2,
    k_att: float,
    k_rate: float,
    w_max: float,
) -> tuple[Array, Array]:
    """Thrust demand (N,) [N] and RCS torque (N, 3) [N·m] of one control tick, per row.

    The thrust direction and magnitude of :func:`_thrust_command` (``a_mcmf`` … ``s_max`` as there; the
    body thrust axis ``axis_body`` (3,)); the inertias the flight software believes, dry + (propellant /
    ``propellant_capacity_kg``) ``inertia_span`` (``MassProperties.inertia``; the propellant is the mass above
    ``dry_mass_kg``, ≥ 0; the capacity floored at 1e-300); the pointing loops of ``attitude_torque``
    (``conjugate`` = [1, −1, −1, −1], ``k_att``, ``k_rate``, rate limit ``w_max`` [rad/s]) on the estimated
    attitude ``q_body_to_mci`` and rate ``w_body``, the pointing angle's arctan2 by ``atan2``
    (:data:`~touchdown.moon.terrain.kernels.ATAN2`).
    """
    n = a_mcmf.shape[0]
    b0, b1, b2 = axis_body[0], axis_body[1], axis_body[2]
    thrust = np.empty(n)
    torque = np.empty((n, 3))
    e = np.empty((n, 3))
    s = np.empty(n)
    c = np.empty(n)
    angle = np.empty(n)
    direction = np.empty((n, 3))
    for i in range(n):
        d0, d1, d2, thrust[i] = _thrust_command(
            a_mcmf, i, cos_t, sin_t, r_mci, q_body_to_mci, b0, b1, b2, mass_kg[i], coast[i], cos_max, s_max
        )
        direction[i, 0], direction[i, 1], direction[i, 2] = d0, d1, d2
        e[i, 0], e[i, 1], e[i, 2], s[i], c[i] = pointing_row(
            q_body_to_mci, i, conjugate, b0, b1, b2, direction
        )
    _atan2(atan2, s, c, angle, n)
    for i in range(n):
        t0, t1, t2 = pointing_vector_row(e[i, 0], e[i, 1], e[i, 2], s[i], angle[i])
        frac = _maximum(mass_kg[i] - dry_mass_kg, 0.0) / propellant_capacity_kg
        j0 = inertia_dry[0] + frac * inertia_span[0]
        j1 = inertia_dry[1] + frac * inertia_span[1]
        j2 = inertia_dry[2] + frac * inertia_span[2]
        torque[i, 0], torque[i, 1], torque[i, 2] = rate_loop_row(
            t0, t1, t2, w_body, i, j0, j1, j2, k_att, k_rate, w_max
        )
    return thrust, torque


@njit(cache=True, error_model="numpy")
def sequence_rows(
    phase: NDArray[np.int64],
    ignite: bool,
    complete: Mask,
    altitude_m: Array,
    terminal_altitude_m: float,
    after_braking: int,
) -> tuple[NDArray[np.int64], Mask]:
    """The phases (N,) after one sequencer tick, and which phases (4,) some row entered.

    Phase codes 0 coast, 1 braking, 2 approach, 3 terminal (``flight_software.PHASES``). Coast → braking on
    every row when ``ignite``; braking → ``after_braking`` when its law is ``complete``, or → terminal at an
    estimated altitude ≤ ``terminal_altitude_m`` [m]; approach → terminal on either. Each row moves at most
    one phase per tick (the conditions look at the phase the tick started in).
    """
    n = phase.shape[0]
    out = np.empty(n, np.int64)
    entered = np.zeros(4, np.bool_)
    for i in range(n):
        old = phase[i]
        low = altitude_m[i] <= terminal_altitude_m
        new = old
        if old == 0 and ignite:
            new = 1
        elif old == 1 and (complete[i] or low):
            new = 3 if low else after_braking
        elif old == 2 and (complete[i] or low):
            new = 3
        out[i] = new
        if new != old:
            entered[new] = True
    return out, entered


@njit(cache=True, error_model="numpy")
def latch_below(
    latched: Mask, phase: NDArray[np.int64], altitude_m: Array, threshold_m: float
) -> tuple[Mask, bool]:
    """Latch (in place) the rows of ``latched`` (N,) that are out of coast (phase ≠ 0) at an estimated
    altitude ≤ ``threshold_m`` [m]; returns the rows latched now (N,) and whether there are any."""
    n = latched.shape[0]
    now = np.zeros(n, np.bool_)
    some = False
    for i in range(n):
        if not latched[i] and phase[i] != 0 and altitude_m[i] <= threshold_m:
            now[i] = True
            latched[i] = True
            some = True
    return now, some
