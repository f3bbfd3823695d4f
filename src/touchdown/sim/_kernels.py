"""Compiled per-row screens of the batch loop (``sim.simulator``).

Rows are computed independently, with the operations of the numpy code they stand for in the same order.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown.moon._frames_kernels import quat_rotate_vector

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


@njit(cache=True, error_model="numpy")
def screen_rows(x1, prop_ok, h, dry_mass, reach_term, top, r_moon, flagged) -> int:
    """Which rows after a step may need an event located: ``flagged[i]`` True where the propellant ran
    out (``prop_ok`` and mass − ``dry_mass`` ≤ 0 [kg]) or where the centre of mass is low enough that a
    contact point could reach the terrain within the step. Returns how many rows are flagged.

    The height test is ``Simulator._near_ground``'s pre-check, bit for bit: with speed = |v| [m/s] and
    step h [s], margin = ``reach_term`` + 2·speed·h + 1 [m] (``reach_term`` = reach × (1 + slope allowance))
    and the row is low when |r| − ``r_moon`` − top < margin + 1 [m], top the terrain's highest point in the
    row's latitude band (:func:`_top_of_terrain` of ``top``).
    """
    count = 0
    for i in range(x1.shape[0]):
        exhausted = prop_ok[i] and x1[i, 13] - dry_mass <= 0.0
        vx, vy, vz = x1[i, 3], x1[i, 4], x1[i, 5]
        speed = math.sqrt(vx * vx + vy * vy + vz * vz)
        margin = reach_term + 2.0 * speed * h[i] + 1.0
        rx, ry, rz = x1[i, 0], x1[i, 1], x1[i, 2]
        rho = math.sqrt(rx * rx + ry * ry + rz * rz)
        height = rho - r_moon
        low = height - _top_of_terrain(rx, ry, rz, rho, top) < margin + 1.0
        flagged[i] = exhausted or low
        count += flagged[i]
    return count


@njit(cache=True, error_model="numpy")
def low_rows(x, margin, top, r_moon):
    """Rows (N,) whose centre of mass may be within ``margin`` (N,) [m] of the terrain: |r| − ``r_moon`` −
    top < margin + 1 [m], top the highest point of the terrain in the row's latitude band
    (:func:`_top_of_terrain`); the others are certainly higher."""
    out = np.empty(x.shape[0], dtype=np.bool_)
    for i in range(x.shape[0]):
        rx, ry, rz = x[i, 0], x[i, 1], x[i, 2]
        rho = math.sqrt(rx * rx + ry * ry + rz * rz)
        out[i] = rho - r_moon - _top_of_terrain(rx, ry, rz, rho, top) < margin[i] + 1.0
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
