"""Reference frames, quaternions and lat/lon/height conversions — the one place that defines them.

Frames
------
``mci``   Moon-centred inertial. Origin at the Moon's centre, +z along the spin axis, +x along the
          Moon-fixed prime meridian at simulation epoch t = 0. Non-rotating.
``mcmf``  Moon-centred Moon-fixed (mean-Earth/polar-axis, the frame of the LOLA grids). Rotates about +z
          at ``OMEGA_MOON``; coincides with ``mci`` at t = 0.
``enu``   Local east-north-up at a site (lat, lon), origin on the site, axes (east, north, up).
``body``  Vehicle body frame, origin at the vehicle reference point, +z the vehicle's "up" (the
          nominal thrust direction of the main engines).

Latitude and longitude are planetocentric on the datum sphere of radius ``R_MOON`` (the LOLA datum);
height is radial distance above that sphere. Angles are radians unless a name ends in ``_deg``.

Quaternion convention
---------------------
Scalar-first ``[w, x, y, z]``, Hamilton product, unit norm. ``q_a_to_b`` maps the components of a vector
in frame *a* to its components in frame *b*:  ``v_b = q_a_to_b ⊗ [0, v_a] ⊗ conj(q_a_to_b)``.
The matching direction cosine matrix ``C_a_to_b`` satisfies ``v_b = C_a_to_b @ v_a``. With ``ω_body``
the body's angular velocity relative to *a* expressed in body axes,
``d/dt q_body_to_a = ½ q_body_to_a ⊗ [0, ω_body]``.

Every function is batch-first: leading axes are broadcast, the last axis holds the components. Vector
algebra is written component by component so that a trajectory's numbers do not depend on batch size.
Batches of one row per trajectory (2-D float64, (N, 3) or (N, 4)) go through compiled per-row kernels
(``moon._frames_kernels``) with the same operations in the same order: the same bits, without numpy's
per-call overhead; every other shape takes the numpy code below.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.moon import _frames_kernels as _k
from touchdown.moon.constants import OMEGA_MOON, R_MOON

Array = NDArray[np.float64]

#: Factors that turn a quaternion [w, x, y, z] into its conjugate (q × this), for kernels; read-only.
QUAT_CONJUGATE = np.array([1.0, -1.0, -1.0, -1.0])
QUAT_CONJUGATE.flags.writeable = False


def _rows(a: object, width: int) -> bool:
    """True for a 2-D float64 array of ``width`` columns: one row per trajectory, the kernels' case."""
    return type(a) is np.ndarray and a.ndim == 2 and a.shape[1] == width and a.dtype == np.float64


def _row_pair(a: object, b: object, width_a: int, width_b: int) -> bool:
    """``_rows`` for two arrays with the same number of rows."""
    return _rows(a, width_a) and _rows(b, width_b) and a.shape[0] == b.shape[0]


# --------------------------------------------------------------------------------------------------
# 3-vectors


def dot(a: Array, b: Array) -> Array:
    """Dot product over the last axis."""
    if _row_pair(a, b, 3, 3):
        return _k.dot_rows(a, b)
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]


def cross(a: Array, b: Array) -> Array:
    """Cross product over the last axis."""
    if _row_pair(a, b, 3, 3):
        return _k.cross_rows(a, b)
    return np.stack(
        (
            a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
            a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
            a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0],
        ),
        axis=-1,
    )


def norm(a: Array) -> Array:
    """Euclidean norm over the last axis."""
    if _rows(a, 3):
        return _k.norm_rows(a)
    return np.sqrt(dot(a, a))


def unit(a: Array) -> Array:
    """``a / |a|`` over the last axis."""
    if _rows(a, 3):
        return _k.unit_rows(a)
    return a / norm(a)[..., None]


def matvec(m: Array, v: Array) -> Array:
    """``m @ v`` for stacks of 3×3 matrices and 3-vectors, written out (no BLAS)."""
    if _rows(v, 3) and type(m) is np.ndarray and m.shape == (v.shape[0], 3, 3) and m.dtype == np.float64:
        return _k.matvec_rows(m, v)
    return np.stack(
        (
            m[..., 0, 0] * v[..., 0] + m[..., 0, 1] * v[..., 1] + m[..., 0, 2] * v[..., 2],
            m[..., 1, 0] * v[..., 0] + m[..., 1, 1] * v[..., 1] + m[..., 1, 2] * v[..., 2],
            m[..., 2, 0] * v[..., 0] + m[..., 2, 1] * v[..., 1] + m[..., 2, 2] * v[..., 2],
        ),
        axis=-1,
    )


def transpose(m: Array) -> Array:
    """Transpose of a stack of matrices."""
    return np.swapaxes(m, -1, -2)


# --------------------------------------------------------------------------------------------------
# Quaternions (scalar first, Hamilton)


def quat_multiply(p: Array, q: Array) -> Array:
    """Hamilton product ``p ⊗ q``."""
    if _row_pair(p, q, 4, 4):
        return _k.quat_multiply_rows(p, q)
    pw, px, py, pz = p[..., 0], p[..., 1], p[..., 2], p[..., 3]
    qw, qx, qy, qz = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack(
        (
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ),
        axis=-1,
    )


def quat_conjugate(q: Array) -> Array:
    """Conjugate (the inverse rotation for a unit quaternion)."""
    if _rows(q, 4):
        return _k.quat_conjugate_rows(q, QUAT_CONJUGATE)
    return q * QUAT_CONJUGATE


def quat_normalize(q: Array) -> Array:
    """Unit quaternion with a non-negative scalar part."""
    if _rows(q, 4):
        return _k.quat_normalize_rows(q)
    n = np.sqrt(q[..., 0] ** 2 + q[..., 1] ** 2 + q[..., 2] ** 2 + q[..., 3] ** 2)
    sign = np.where(q[..., 0] < 0.0, -1.0, 1.0)
    return q * (sign / n)[..., None]


def quat_rotate(q_a_to_b: Array, v_a: Array) -> Array:
    """Components in frame *b* of the vector whose components in frame *a* are ``v_a``."""
    if _row_pair(q_a_to_b, v_a, 4, 3):
        return _k.quat_rotate_rows(q_a_to_b, v_a)
    w = q_a_to_b[..., 0:1]
    u = q_a_to_b[..., 1:4]
    t = 2.0 * cross(u, v_a)
    return v_a + w * t + cross(u, t)


#: One row of :func:`quat_rotate` as a compiled function of scalars, (w, x, y, z, v0, v1, v2) → (3 floats),
#: for other modules' numba kernels.
quat_rotate_vector = _k.quat_rotate_vector
#: q ⊗ δq(v) normalised, scalar part ≥ 0 (:func:`~touchdown.moon._frames_kernels.quat_turned`), for kernels.
quat_turned = _k.quat_turned


def quat_to_dcm(q_a_to_b: Array) -> Array:
    """Direction cosine matrix ``C_a_to_b`` (…, 3, 3) with ``v_b = C_a_to_b @ v_a``."""
    if _rows(q_a_to_b, 4):
        return _k.quat_to_dcm_rows(q_a_to_b)
    w, x, y, z = q_a_to_b[..., 0], q_a_to_b[..., 1], q_a_to_b[..., 2], q_a_to_b[..., 3]
    return np.stack(
        (
            np.stack((1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)), axis=-1),
            np.stack((2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)), axis=-1),
            np.stack((2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)), axis=-1),
        ),
        axis=-2,
    )


def dcm_to_quat(c_a_to_b: ArrayLike) -> Array:
    """Unit quaternion ``q_a_to_b`` from a direction cosine matrix (Shepperd's method)."""
    c = np.asarray(c_a_to_b, dtype=float)
    tr = c[..., 0, 0] + c[..., 1, 1] + c[..., 2, 2]
    cand = np.stack((tr, c[..., 0, 0], c[..., 1, 1], c[..., 2, 2]), axis=-1)
    k = np.argmax(cand, axis=-1)
    w = np.sqrt(np.maximum(1 + tr, 0.0)) / 2
    x = np.sqrt(np.maximum(1 + c[..., 0, 0] - c[..., 1, 1] - c[..., 2, 2], 0.0)) / 2
    y = np.sqrt(np.maximum(1 - c[..., 0, 0] + c[..., 1, 1] - c[..., 2, 2], 0.0)) / 2
    z = np.sqrt(np.maximum(1 - c[..., 0, 0] - c[..., 1, 1] + c[..., 2, 2], 0.0)) / 2
    d21, d02, d10 = c[..., 2, 1] - c[..., 1, 2], c[..., 0, 2] - c[..., 2, 0], c[..., 1, 0] - c[..., 0, 1]
    s21, s02, s10 = c[..., 2, 1] + c[..., 1, 2], c[..., 0, 2] + c[..., 2, 0], c[..., 1, 0] + c[..., 0, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        q0 = np.stack((w, d21 / (4 * w), d02 / (4 * w), d10 / (4 * w)), axis=-1)
        q1 = np.stack((d21 / (4 * x), x, s10 / (4 * x), s02 / (4 * x)), axis=-1)
        q2 = np.stack((d02 / (4 * y), s10 / (4 * y), y, s21 / (4 * y)), axis=-1)
        q3 = np.stack((d10 / (4 * z), s02 / (4 * z), s21 / (4 * z), z), axis=-1)
    q = np.select([k[..., None] == i for i in range(4)], [q0, q1, q2, q3])
    return quat_normalize(q)


def quat_from_axis_angle(axis: ArrayLike, angle: ArrayLike) -> Array:
    """Quaternion of a right-handed rotation by ``angle`` [rad] about unit ``axis``."""
    axis = unit(np.asarray(axis, dtype=float))
    half = 0.5 * np.asarray(angle, dtype=float)
    return np.concatenate((np.cos(half)[..., None], np.sin(half)[..., None] * axis), axis=-1)


def quat_identity(shape: tuple[int, ...] = ()) -> Array:
    """Identity quaternions of the given batch shape."""
    q = np.zeros((*shape, 4))
    q[..., 0] = 1.0
    return q


# --------------------------------------------------------------------------------------------------
# Moon-centred inertial ↔ Moon-fixed


def rotation_angle(t: ArrayLike) -> Array:
    """Angle [rad] of the Moon-fixed frame about +z relative to the inertial frame at time t [s]."""
    return OMEGA_MOON * np.asarray(t, dtype=float)


def dcm_mci_to_mcmf(t: ArrayLike) -> Array:
    """``C_mci_to_mcmf`` at time t [s] (…, 3, 3)."""
    theta = rotation_angle(t)
    c, s = np.cos(theta), np.sin(theta)
    zero, one = np.zeros_like(c), np.ones_like(c)
    return np.stack(
        (np.stack((c, s, zero), -1), np.stack((-s, c, zero), -1), np.stack((zero, zero, one), -1)),
        axis=-2,
    )


def mci_to_mcmf(r_mci: Array, t: ArrayLike) -> Array:
    """Position components from ``mci`` to ``mcmf`` at time t [s]."""
    theta = rotation_angle(t)
    c, s = np.cos(theta), np.sin(theta)
    if theta.ndim == 0 and _rows(r_mci, 3):
        return _k.rotate_z_rows(r_mci, float(c), float(s))
    x, y, z = r_mci[..., 0], r_mci[..., 1], r_mci[..., 2]
    return np.stack((c * x + s * y, -s * x + c * y, z + 0.0 * c), axis=-1)


def mcmf_to_mci(r_mcmf: Array, t: ArrayLike) -> Array:
    """Position components from ``mcmf`` to ``mci`` at time t [s]."""
    theta = rotation_angle(t)
    c, s = np.cos(theta), np.sin(theta)
    if theta.ndim == 0 and _rows(r_mcmf, 3):  # the inverse turn: c x − s y = c x + (−s) y exactly
        return _k.rotate_z_rows(r_mcmf, float(c), -float(s))
    x, y, z = r_mcmf[..., 0], r_mcmf[..., 1], r_mcmf[..., 2]
    return np.stack((c * x - s * y, s * x + c * y, z + 0.0 * c), axis=-1)


def omega_vector(shape: tuple[int, ...] = ()) -> Array:
    """The Moon's angular velocity [rad/s] (identical in ``mci`` and ``mcmf`` components)."""
    w = np.zeros((*shape, 3))
    w[..., 2] = OMEGA_MOON
    return w


def velocity_mci_to_mcmf(r_mci: Array, v_mci: Array, t: ArrayLike) -> Array:
    """Velocity relative to the rotating Moon, in ``mcmf`` components: ``C (v − ω × r)``."""
    if _row_pair(r_mci, v_mci, 3, 3):
        theta = rotation_angle(t)
        if theta.ndim == 0:
            c, s = float(np.cos(theta)), float(np.sin(theta))
            return _k.velocity_mci_to_mcmf_rows(r_mci, v_mci, OMEGA_MOON, c, s)
    v_rel = v_mci - cross(omega_vector(r_mci.shape[:-1]), r_mci)
    return mci_to_mcmf(v_rel, t)


def velocity_mcmf_to_mci(r_mcmf: Array, v_mcmf: Array, t: ArrayLike) -> Array:
    """Inertial velocity in ``mci`` from a velocity relative to the Moon in ``mcmf`` components."""
    r_mci = mcmf_to_mci(r_mcmf, t)
    return mcmf_to_mci(v_mcmf, t) + cross(omega_vector(r_mci.shape[:-1]), r_mci)


# --------------------------------------------------------------------------------------------------
# Latitude, longitude, height


def llh_to_mcmf(lat: ArrayLike, lon: ArrayLike, h: ArrayLike, radius: float = R_MOON) -> Array:
    """Moon-fixed position [m] of planetocentric (lat, lon) [rad] at height h [m] above ``radius``."""
    lat, lon, h = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (lat, lon, h)))
    rho = radius + h
    clat = np.cos(lat)
    if lat.ndim == 1:
        return _k.spherical_rows(rho, clat, np.sin(lat), np.cos(lon), np.sin(lon))
    return np.stack((rho * clat * np.cos(lon), rho * clat * np.sin(lon), rho * np.sin(lat)), axis=-1)


def mcmf_to_llh(r_mcmf: Array, radius: float = R_MOON) -> tuple[Array, Array, Array]:
    """Planetocentric latitude [rad], east longitude in (−π, π] [rad], height above ``radius`` [m]."""
    if _rows(r_mcmf, 3):  # arctan2 stays numpy's (its SIMD code, not the C library's), on contiguous x, y, z
        x, y, z, rxy, h = _k.llh_parts_rows(r_mcmf, float(radius))
        return np.arctan2(z, rxy), np.arctan2(y, x), h
    x, y, z = r_mcmf[..., 0], r_mcmf[..., 1], r_mcmf[..., 2]
    rxy = np.hypot(x, y)
    return np.arctan2(z, rxy), np.arctan2(y, x), np.sqrt(rxy * rxy + z * z) - radius


def enu_basis(lat: ArrayLike, lon: ArrayLike) -> tuple[Array, Array, Array]:
    """Unit east, north and up vectors (…, 3) in ``mcmf`` components at (lat, lon) [rad]."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    slat, clat, slon, clon = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    if lat.ndim == 1 and lon.shape == lat.shape:
        return _k.enu_basis_rows(slat, clat, slon, clon)
    east = np.stack((-slon, clon, np.zeros_like(slon)), axis=-1)
    north = np.stack((-slat * clon, -slat * slon, clat), axis=-1)
    up = np.stack((clat * clon, clat * slon, slat), axis=-1)
    return east, north, up


def dcm_mcmf_to_enu(lat: ArrayLike, lon: ArrayLike) -> Array:
    """``C_mcmf_to_enu`` (…, 3, 3): its rows are the east, north and up unit vectors."""
    return np.stack(enu_basis(lat, lon), axis=-2)


def surface_distance(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike, radius: float = R_MOON
) -> Array:
    """Great-circle distance [m] on a sphere of ``radius`` between two (lat, lon) [rad] (haversine)."""
    lat1, lon1, lat2, lon2 = (np.asarray(a, dtype=float) for a in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2.0 * radius * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def wrap_longitude(lon: ArrayLike) -> Array:
    """Longitude wrapped to [0, 2π) [rad]."""
    return np.mod(np.asarray(lon, dtype=float), 2.0 * np.pi)
