"""Compiled per-row kernels behind ``moon.frames`` for batches of 3-vectors (N, 3) and quaternions (N, 4).

``moon.frames`` calls these for 2-D float64 inputs (one row per trajectory) and keeps its numpy code for
every other shape. Each kernel computes row by row with the numpy code's operations in the same order (no
fused multiply-add), so the results are the same bits, whatever the batch. Transcendental functions (sin,
cos, atan2) stay in numpy, whose SIMD versions need not match the C library's; kernels take their results.
``hypot`` is the C library's in both.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[np.float64]


@njit(cache=True, error_model="numpy")
def dot_rows(a: Array, b: Array) -> Array:
    """a · b per row (N,)."""
    out = np.empty(a.shape[0])
    for i in range(a.shape[0]):
        out[i] = a[i, 0] * b[i, 0] + a[i, 1] * b[i, 1] + a[i, 2] * b[i, 2]
    return out


@njit(cache=True, error_model="numpy")
def norm_rows(a: Array) -> Array:
    """|a| per row (N,)."""
    out = np.empty(a.shape[0])
    for i in range(a.shape[0]):
        out[i] = math.sqrt(a[i, 0] * a[i, 0] + a[i, 1] * a[i, 1] + a[i, 2] * a[i, 2])
    return out


@njit(cache=True, error_model="numpy")
def unit_rows(a: Array) -> Array:
    """a / |a| per row (N, 3)."""
    out = np.empty((a.shape[0], 3))
    for i in range(a.shape[0]):
        n = math.sqrt(a[i, 0] * a[i, 0] + a[i, 1] * a[i, 1] + a[i, 2] * a[i, 2])
        for k in range(3):
            out[i, k] = a[i, k] / n
    return out


@njit(cache=True, error_model="numpy")
def cross_rows(a: Array, b: Array) -> Array:
    """a × b per row (N, 3)."""
    out = np.empty((a.shape[0], 3))
    for i in range(a.shape[0]):
        a0, a1, a2 = a[i, 0], a[i, 1], a[i, 2]
        b0, b1, b2 = b[i, 0], b[i, 1], b[i, 2]
        out[i, 0] = a1 * b2 - a2 * b1
        out[i, 1] = a2 * b0 - a0 * b2
        out[i, 2] = a0 * b1 - a1 * b0
    return out


@njit(cache=True, error_model="numpy")
def matvec_rows(m: Array, v: Array) -> Array:
    """m v per row for 3×3 matrices m (N, 3, 3) and vectors v (N, 3)."""
    out = np.empty((v.shape[0], 3))
    for i in range(v.shape[0]):
        for r in range(3):
            out[i, r] = m[i, r, 0] * v[i, 0] + m[i, r, 1] * v[i, 1] + m[i, r, 2] * v[i, 2]
    return out


@njit(cache=True, error_model="numpy")
def quat_multiply_rows(p: Array, q: Array) -> Array:
    """Hamilton product p ⊗ q per row (N, 4), scalar first."""
    out = np.empty((p.shape[0], 4))
    for i in range(p.shape[0]):
        pw, px, py, pz = p[i, 0], p[i, 1], p[i, 2], p[i, 3]
        qw, qx, qy, qz = q[i, 0], q[i, 1], q[i, 2], q[i, 3]
        out[i, 0] = pw * qw - px * qx - py * qy - pz * qz
        out[i, 1] = pw * qx + px * qw + py * qz - pz * qy
        out[i, 2] = pw * qy - px * qz + py * qw + pz * qx
        out[i, 3] = pw * qz + px * qy - py * qx + pz * qw
    return out


@njit(cache=True, error_model="numpy")
def quat_conjugate_rows(q: Array, signs: Array) -> Array:
    """Conjugate per row (N, 4): q × ``signs`` = [1, −1, −1, −1] (a multiplication, as numpy's: a constant
    −1 would let the compiler flip the sign of a NaN instead)."""
    out = np.empty((q.shape[0], 4))
    for i in range(q.shape[0]):
        for k in range(4):
            out[i, k] = q[i, k] * signs[k]
    return out


@njit(cache=True, error_model="numpy")
def quat_normalize_rows(q: Array) -> Array:
    """Unit quaternion with a non-negative scalar part, per row (N, 4)."""
    out = np.empty((q.shape[0], 4))
    for i in range(q.shape[0]):
        n = math.sqrt(q[i, 0] * q[i, 0] + q[i, 1] * q[i, 1] + q[i, 2] * q[i, 2] + q[i, 3] * q[i, 3])
        sign = -1.0 if q[i, 0] < 0.0 else 1.0
        f = sign / n
        for k in range(4):
            out[i, k] = q[i, k] * f
    return out


@njit(cache=True, error_model="numpy")
def quat_turned(
    pw: float,
    px: float,
    py: float,
    pz: float,
    v0: float,
    v1: float,
    v2: float,
    ang: float,
    sin_h: float,
    cos_h: float,
) -> tuple[float, float, float, float]:
    """q ⊗ δq normalised with its scalar part ≥ 0 (one row, for kernels): q = [pw, p], δq = [cos h, k v] the
    rotation by the vector v [rad] of length ``ang`` (sin h, cos h of its half angle h), k = sin h / |v|
    (0.5 at |v| = 0)."""
    k = sin_h / ang if ang > 0.0 else 0.5
    rw, rx, ry, rz = cos_h, k * v0, k * v1, k * v2
    a = pw * rw - px * rx - py * ry - pz * rz
    b = pw * rx + px * rw + py * rz - pz * ry
    c = pw * ry - px * rz + py * rw + pz * rx
    d = pw * rz + px * ry - py * rx + pz * rw
    f = (-1.0 if a < 0.0 else 1.0) / math.sqrt(a * a + b * b + c * c + d * d)
    return a * f, b * f, c * f, d * f


@njit(cache=True, error_model="numpy")
def quat_rotate_vector(
    w: float, u0: float, u1: float, u2: float, v0: float, v1: float, v2: float
) -> tuple[float, float, float]:
    """v rotated by the unit quaternion [w, u]: v + w t + u × t with t = 2 u × v (one row, for kernels)."""
    t0 = 2.0 * (u1 * v2 - u2 * v1)
    t1 = 2.0 * (u2 * v0 - u0 * v2)
    t2 = 2.0 * (u0 * v1 - u1 * v0)
    return (
        v0 + w * t0 + (u1 * t2 - u2 * t1),
        v1 + w * t1 + (u2 * t0 - u0 * t2),
        v2 + w * t2 + (u0 * t1 - u1 * t0),
    )


@njit(cache=True, error_model="numpy")
def quat_rotate_rows(q: Array, v: Array) -> Array:
    """v rotated by the unit quaternion q per row (N, 3) (see :func:`quat_rotate_vector`)."""
    out = np.empty((v.shape[0], 3))
    for i in range(v.shape[0]):
        out[i, 0], out[i, 1], out[i, 2] = quat_rotate_vector(
            q[i, 0], q[i, 1], q[i, 2], q[i, 3], v[i, 0], v[i, 1], v[i, 2]
        )
    return out


@njit(cache=True, error_model="numpy")
def quat_to_dcm_rows(q: Array) -> Array:
    """Direction cosine matrices (N, 3, 3) of the quaternions q (N, 4)."""
    out = np.empty((q.shape[0], 3, 3))
    for i in range(q.shape[0]):
        w, x, y, z = q[i, 0], q[i, 1], q[i, 2], q[i, 3]
        out[i, 0, 0] = 1.0 - 2.0 * (y * y + z * z)
        out[i, 0, 1] = 2.0 * (x * y - w * z)
        out[i, 0, 2] = 2.0 * (x * z + w * y)
        out[i, 1, 0] = 2.0 * (x * y + w * z)
        out[i, 1, 1] = 1.0 - 2.0 * (x * x + z * z)
        out[i, 1, 2] = 2.0 * (y * z - w * x)
        out[i, 2, 0] = 2.0 * (x * z - w * y)
        out[i, 2, 1] = 2.0 * (y * z + w * x)
        out[i, 2, 2] = 1.0 - 2.0 * (x * x + y * y)
    return out


@njit(cache=True, error_model="numpy")
def rotate_z_rows(r: Array, c: float, s: float) -> Array:
    """Components (N, 3) of r in a frame turned by θ about +z, c = cos θ, s = sin θ:
    (c x + s y, −s x + c y, z). z + 0 c as numpy's broadcast code (NaN when c is)."""
    out = np.empty((r.shape[0], 3))
    for i in range(r.shape[0]):
        x, y, z = r[i, 0], r[i, 1], r[i, 2]
        out[i, 0] = c * x + s * y
        out[i, 1] = -s * x + c * y
        out[i, 2] = z + 0.0 * c
    return out


@njit(cache=True, error_model="numpy")
def velocity_mci_to_mcmf_rows(r: Array, v: Array, omega: float, c: float, s: float) -> Array:
    """C (v − ω × r) per row (N, 3), ω = (0, 0, ``omega``) [rad/s], C the turn about +z with c = cos θ,
    s = sin θ (see :func:`rotate_z_rows`)."""
    out = np.empty((r.shape[0], 3))
    for i in range(r.shape[0]):
        r0, r1, r2 = r[i, 0], r[i, 1], r[i, 2]
        x = v[i, 0] - (0.0 * r2 - omega * r1)
        y = v[i, 1] - (omega * r0 - 0.0 * r2)
        z = v[i, 2] - (0.0 * r1 - 0.0 * r0)
        out[i, 0] = c * x + s * y
        out[i, 1] = -s * x + c * y
        out[i, 2] = z + 0.0 * c
    return out


@njit(cache=True, error_model="numpy")
def enu_basis_rows(slat: Array, clat: Array, slon: Array, clon: Array) -> tuple[Array, Array, Array]:
    """East, north and up unit vectors (N, 3) from the sines and cosines of latitude and longitude (N,)."""
    n = slat.shape[0]
    east = np.empty((n, 3))
    north = np.empty((n, 3))
    up = np.empty((n, 3))
    for i in range(n):
        east[i, 0] = -slon[i]
        east[i, 1] = clon[i]
        east[i, 2] = 0.0
        north[i, 0] = -slat[i] * clon[i]
        north[i, 1] = -slat[i] * slon[i]
        north[i, 2] = clat[i]
        up[i, 0] = clat[i] * clon[i]
        up[i, 1] = clat[i] * slon[i]
        up[i, 2] = slat[i]
    return east, north, up


@njit(cache=True, error_model="numpy")
def spherical_rows(rho: Array, clat: Array, slat: Array, clon: Array, slon: Array) -> Array:
    """(ρ cos φ cos λ, ρ cos φ sin λ, ρ sin φ) per row (N, 3) from ρ and the sines and cosines (N,)."""
    out = np.empty((rho.shape[0], 3))
    for i in range(rho.shape[0]):
        out[i, 0] = rho[i] * clat[i] * clon[i]
        out[i, 1] = rho[i] * clat[i] * slon[i]
        out[i, 2] = rho[i] * slat[i]
    return out


@njit(cache=True, error_model="numpy")
def llh_parts_rows(r: Array, radius: float) -> tuple[Array, Array, Array, Array, Array]:
    """For ``mcmf_to_llh`` of (N, 3) positions [m]: x, y, z (contiguous, for numpy's arctan2), the distance
    from the spin axis hypot(x, y) and the height √(ρ² + z²) − ``radius`` (N,) [m]."""
    n = r.shape[0]
    x = np.empty(n)
    y = np.empty(n)
    z = np.empty(n)
    rxy = np.empty(n)
    h = np.empty(n)
    for i in range(n):
        a, b, c = r[i, 0], r[i, 1], r[i, 2]
        rho = math.hypot(a, b)
        x[i], y[i], z[i], rxy[i] = a, b, c, rho
        h[i] = math.sqrt(rho * rho + c * c) - radius
    return x, y, z, rxy, h


#: Below this angle [rad] :func:`small_angle_sincos` sums Taylor series (truncation < 10⁻²⁰ relative).
SMALL_ANGLE = 0.0625


@njit(cache=True, error_model="numpy")
def small_angle_sincos(x: Array) -> tuple[Array, Array]:
    """sin and cos of the angles ``x`` (any shape) [rad]: Taylor series to x⁹ and x¹⁰ (Horner) where
    |x| ≤ :data:`SMALL_ANGLE` — the attitude increments of one tick, where numpy's sin and cos cost ≈ 8 ns an
    element — else the C library's. Within an ulp or so of numpy's (test); NaN stays NaN."""
    flat = x.reshape(-1)
    n = flat.shape[0]
    s, c = np.empty(n), np.empty(n)
    large = 0
    for i in range(n):  # the series everywhere (no branch: the loop vectorises) …
        a = flat[i]
        a2 = a * a
        s[i] = a + a * a2 * (-1.0 / 6.0 + a2 * (1.0 / 120.0 + a2 * (-1.0 / 5040.0 + a2 * (1.0 / 362880.0))))
        c[i] = 1.0 + a2 * (
            -0.5 + a2 * (1.0 / 24.0 + a2 * (-1.0 / 720.0 + a2 * (1.0 / 40320.0 + a2 * (-1.0 / 3628800.0))))
        )
        large += not abs(a) <= SMALL_ANGLE
    if large:  # … then libm's where the angle is not small (or NaN)
        for i in range(n):
            a = flat[i]
            if not abs(a) <= SMALL_ANGLE:
                s[i], c[i] = math.sin(a), math.cos(a)
    return s.reshape(x.shape), c.reshape(x.shape)
