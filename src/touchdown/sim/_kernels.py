"""Compiled per-row screens of the batch loop (``sim.simulator``).

Rows are computed independently, with the operations of the numpy code they stand for in the same order.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown.moon._frames_kernels import quat_rotate_vector
from touchdown.moon.terrain.kernels import DemGrid, _atan2, block_top

#: ``grid_fields`` of the screens where the terrain has no block table (never read: the table is empty)
NO_GRID = tuple(DemGrid(0.0, 0.0, 0.0, 0.0, 1.0, 2, 2, True, 1.0, 1.0))
NO_TABLE = np.full((0, 0), np.inf)

Array = NDArray[np.float64]


@njit(cache=True, inline="always")
def _top_of_terrain(rx: float, ry: float, rz: float, rho: float, top: Array) -> float:
    """The terrain's highest point [m] in the latitude band of the point (rx, ry, rz) [m] at distance
    ``rho`` from the centre: ``top`` (K,) holds it per equal interval of sin(latitude) = z/ρ over [−1, 1]
    (K = 1: one bound for the whole Moon). A NaN position reads the first entry."""
    k = top.shape[0]
    if k == 1:
        return top[0]
    s = rz / rho
    i = int((s + 1.0) * (0.5 * k)) if s == s else 0
    return top[min(max(i, 0), k - 1)]


@njit(cache=True, inline="always")
def _band_low(rx: float, ry: float, rz: float, limit: float, top: Array, r_moon: float) -> bool:
    """True where the centre of mass at (rx, ry, rz) [m] is less than ``limit`` [m] above the terrain's
    highest point in its band of latitude (:func:`_top_of_terrain`)."""
    rho = math.sqrt(rx * rx + ry * ry + rz * rz)
    return rho - r_moon - _top_of_terrain(rx, ry, rz, rho, top) < limit


@njit(cache=True)
def _block_low(
    x: Array, rows: NDArray[np.intp], n_rows: int, limit: Array, table: Array, block: int, grid: DemGrid,
    cos_t: Array, sin_t: Array, r_moon: float, atan2, out: NDArray[np.bool_],
) -> None:  # fmt: skip
    """For the rows ``rows[:n_rows]`` of ``x`` (positions [m], inertial), out[row] = whether the centre of
    mass is less than ``limit[j]`` [m] above the highest point of the terrain's block below it
    (``Dem.max_height_blocks``: ``table``, ``block``, ``grid``; longitude from the Moon's rotation angle's
    cos_t[j], sin_t[j] at that row's instant). Latitudes and longitudes by numpy's arctan2 loop ``atan2``
    (one call for all the rows; the table spares a patch on every side against rounding)."""
    z, rxy, ye, xe = np.empty(n_rows), np.empty(n_rows), np.empty(n_rows), np.empty(n_rows)
    for j in range(n_rows):
        rx, ry = x[rows[j], 0], x[rows[j], 1]
        z[j], rxy[j] = x[rows[j], 2], math.hypot(rx, ry)
        ye[j], xe[j] = -sin_t[j] * rx + cos_t[j] * ry, cos_t[j] * rx + sin_t[j] * ry
    lat, lon = np.empty(n_rows), np.empty(n_rows)
    _atan2(atan2, z, rxy, lat, n_rows)
    _atan2(atan2, ye, xe, lon, n_rows)
    for j in range(n_rows):
        height = math.sqrt(rxy[j] * rxy[j] + z[j] * z[j]) - r_moon
        out[rows[j]] = height - block_top(lat[j], lon[j], table, block, grid) < limit[j]


@njit(cache=True, error_model="numpy")
def screen_rows(
    x1, prop_ok, h, dry_mass, reach_term, top, r_moon, flagged, table, block, grid_fields, cos_t, sin_t, atan2
) -> int:
    """Which rows after a step may need an event located: ``flagged[i]`` True where the propellant ran
    out (``prop_ok`` and mass − ``dry_mass`` ≤ 0 [kg]) or where the centre of mass is low enough that a
    contact point could reach the terrain within the step. Returns how many rows are flagged.

    The height test is ``Simulator._near_ground``'s pre-check, bit for bit: with speed = |v| [m/s] and
    step h [s], margin = ``reach_term`` + 2·speed·h + 1 [m] (``reach_term`` = reach × (1 + slope allowance))
    and the row is low when it is within margin + 1 [m] of the terrain's highest point in its latitude band
    (:func:`_band_low`) and, where a block table is given, of its block's (:func:`_block_low`, with
    ``cos_t``, ``sin_t`` of the Moon's rotation angle at the end of the step).
    """
    n = x1.shape[0]
    limit = np.empty(n)
    rows = np.empty(n, np.intp)
    n_rows = 0
    for i in range(n):
        vx, vy, vz = x1[i, 3], x1[i, 4], x1[i, 5]
        speed = math.sqrt(vx * vx + vy * vy + vz * vz)
        margin = reach_term + 2.0 * speed * h[i] + 1.0
        flagged[i] = _band_low(x1[i, 0], x1[i, 1], x1[i, 2], margin + 1.0, top, r_moon)
        if flagged[i] and table.shape[0] > 0:
            rows[n_rows], limit[n_rows] = i, margin + 1.0
            n_rows += 1
    if n_rows > 0:
        _block_low(
            x1, rows, n_rows, limit, table, block, DemGrid(*grid_fields), np.full(n_rows, cos_t),
            np.full(n_rows, sin_t), r_moon, atan2, flagged,
        )  # fmt: skip
    count = 0
    for i in range(n):
        flagged[i] = flagged[i] or (prop_ok[i] and x1[i, 13] - dry_mass <= 0.0)
        count += flagged[i]
    return count


@njit(cache=True, error_model="numpy")
def low_rows(x, margin, top, r_moon, table, block, grid_fields, cos_t, sin_t, atan2):
    """Rows (N,) whose centre of mass may be within ``margin`` (N,) [m] of the terrain: within margin + 1 [m]
    of the highest point below it (:func:`_band_low`, then :func:`_block_low` with ``cos_t``, ``sin_t``
    (N,) of the Moon's rotation angle at each row's instant); the others are certainly higher."""
    n = x.shape[0]
    out = np.empty(n, dtype=np.bool_)
    rows = np.empty(n, np.intp)
    n_rows = 0
    for i in range(n):
        out[i] = _band_low(x[i, 0], x[i, 1], x[i, 2], margin[i] + 1.0, top, r_moon)
        if out[i] and table.shape[0] > 0:
            rows[n_rows] = i
            n_rows += 1
    if n_rows > 0:
        limit, c, s = np.empty(n_rows), np.empty(n_rows), np.empty(n_rows)
        for j in range(n_rows):
            limit[j], c[j], s[j] = margin[rows[j]] + 1.0, cos_t[rows[j]], sin_t[rows[j]]
        _block_low(x, rows, n_rows, limit, table, block, DemGrid(*grid_fields), c, s, r_moon, atan2, out)
    return out


@njit(cache=True, error_model="numpy")
def imu_inputs_rows(x0, g0, x1, g1, dt, conjugate):
    """Mean specific force (N, 3) [m/s², body axes] and body rate (N, 3) [rad/s] over one IMU interval of
    ``dt`` [s] from the truth states ``x0``, ``x1`` (N, 14 + E) at its ends and the gravitational
    accelerations ``g0``, ``g1`` (N, 3) [m/s²] there: Δv less the trapezoidal gravity, rotated into the body
    by the conjugate (``conjugate`` = [1, −1, −1, −1]) of the normalised mid-interval attitude, and the mean
    of the end rates. ``Flight._imu_inputs``'s numpy operations, row by row, in the same order."""
    n = x0.shape[0]
    f_body = np.empty((n, 3))
    w_body = np.empty((n, 3))
    dv = np.empty(3)
    q = np.empty(4)
    for i in range(n):
        for k in range(3):
            g = 0.5 * (g0[i, k] + g1[i, k])
            dv[k] = (x1[i, 3 + k] - x0[i, 3 + k]) - g * dt
        same = -0.0
        for k in range(4):
            same += x0[i, 6 + k] * x1[i, 6 + k]
        for k in range(4):
            q[k] = x0[i, 6 + k] + (-x1[i, 6 + k] if same < 0.0 else x1[i, 6 + k])
        norm = math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
        scale = (-1.0 if q[0] < 0.0 else 1.0) / norm
        w = q[0] * scale * conjugate[0]
        u0 = q[1] * scale * conjugate[1]
        u1 = q[2] * scale * conjugate[2]
        u2 = q[3] * scale * conjugate[3]
        f_body[i, 0], f_body[i, 1], f_body[i, 2] = quat_rotate_vector(
            w, u0, u1, u2, dv[0] / dt, dv[1] / dt, dv[2] / dt
        )
        for k in range(3):
            w_body[i, k] = 0.5 * (x0[i, 10 + k] + x1[i, 10 + k])
    return f_body, w_body
