"""Synthetic cratered terrain: a random crater population plus named craters on a datum.

Heights are a pure function of (seed, lat, lon): no sequential random state anywhere, so one point gives
the same bits whatever the batch size, order or chunking (ARCHITECTURE rule 3). Every operation on the batch
is elementwise; contributions are accumulated class by class in a fixed order.

The random population (:class:`CraterField`)
-------------------------------------------
* Plane. Craters live in the azimuthal-equidistant plane about ``centre`` (x east, y north, metres):
  ``(x, y) = R θ / sin θ · (p̂·ê, p̂·n̂)`` with θ the angle from the centre. Radial distances are exact; the
  tangential scale is θ/sin θ ≥ 1 (1.5 % at 500 km, 5.8 % at 1000 km). Crater profiles are evaluated at plane
  distance, so surface slopes are at most θ/sin θ times plane slopes; ``max_slope`` includes that factor.
* Size classes. Octaves ``[D_k, 2 D_k)`` from ``d_min_m`` up to ``d_max_m`` (the last one may be partial).
  The expected density of class k is ``N(>D_k) − N(>D_{k+1})`` with ``N = min(Neukum, Trask)``
  (:func:`~touchdown.moon.terrain.craters.cumulative_density`, REFERENCE §2.2); within the class, D follows
  the same law (inverse CDF, tabulated in log D).
* Cells, one crater at most. Class k is laid on square cells of side ``s_k = cell_factor · D_k``; each cell
  holds at most one crater, with probability p_k, centred uniformly where its whole ejecta blanket (radius
  ``ejecta_cutoff · D/2``) stays inside the cell. A crater therefore changes nothing outside its own cell:
  a query reads one cell per class and layer, and the field is continuous (C¹ at cutoffs) across cell edges.
  When the expected count per cell ``λ = s_k² ΔN_k`` exceeds ``p_max``, the class is split into
  ``ceil(λ / p_max)`` independent layers (each with its own random lattice offset) of p = λ / layers.
  Counts therefore have the law's mean; they are slightly less variable than Poisson (each cell is
  Bernoulli).
* Hash. Presence, size, position and shape of the crater in cell (i, j) of layer ℓ of class k come from
  splitmix64 applied to (seed, k, ℓ, i, j) in numpy uint64 arithmetic: a counter-based generator.
* Shape. With probability ``fresh_fraction`` a fresh Pike crater (REFERENCE §2.2); otherwise degraded:
  d/D uniform in [0.05, 0.12] with probability ``shallow_fraction``, else uniform in [0.12, 0.20] (REFERENCE
  §2.2: "between ~0.05 and 0.2, mostly 0.05–0.12"), rim ``h = rim_to_depth · d`` (Pike's fresh ratio
  0.036/0.196 by default). Profile: :func:`~touchdown.moon.terrain.craters.simple_profile`.
* Extent. Only craters whose centres lie within ``extent_m`` (plane radius) of the centre exist; beyond, the
  field is exactly zero. Whole craters are switched off, so this leaves the field continuous.
* ``max_slope``: for each class and layer, the steepest slope any one crater of the class can have
  (``2(h + d)/R`` with the class's largest d/D and h/D); a point sees at most one crater per class and
  layer, so the sum over classes and layers, times the plane-to-surface scale θ/sin θ at the extent,
  is a true bound of |∇h|. It is conservative: rims of every class rarely coincide.
* Local bounds (``local_slope_terms``, what the ray cast marches on): the global ``max_slope`` supposes the
  steepest crater of every class and layer under one point, ≈ 25 m/m for the default field, where real
  ground near a point meets only a few craters. Over a disc of surface radius ``reach`` about a point, whose
  image in the plane lies within ``reach · scale_max`` of the point's, a row (class and layer) whose cells
  are at least twice that wide is met by the craters of at most 2 × 2 cells; those are drawn, and the row's
  bounds are the steepest slope of their profiles over the distances the disc spans
  (:func:`~touchdown.moon.terrain.craters.simple_max_slope_between`) and their rim + depth (how far the row
  can vary), both 0 when none reaches the disc. Rows with smaller cells keep the class bounds. Every crater
  a point of the disc sees is one of these, so the terms are true bounds; they depend on the point and its
  reach alone.
* ``max_height``: the sum of the rows' largest rim heights (a simple profile never rises above its rim).
* Evaluation: the rows (every class and layer) are drawn in one set of array operations, shape (rows,
  points), in blocks of points that stay in cache; the rows are then summed in the fixed order. Every
  operation is elementwise on contiguous arrays, so the bits are those of a row-by-row evaluation, whatever
  the batch; a scalar query runs as a one-element array (numpy's scalar arithmetic may round differently).
  The draws and the plane field run in compiled kernels with the same bits (:mod:`._crater_kernels`,
  tested against the numpy methods ``_draw_numpy`` and ``_plane_block_numpy``, which remain the fallback):
  a draw of two points costs ≈ 13 µs instead of ≈ 125 µs in numpy and ≈ 4 ms row by row.
* Gradient: analytic (profile derivative, chain rule through the projection's Jacobian).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.moon.constants import R_MOON
from touchdown.moon.terrain import _crater_kernels
from touchdown.moon.terrain.catalogue import NamedCrater
from touchdown.moon.terrain.craters import (
    EJECTA_CUTOFF,
    MARE_AGE_GYR,
    PIKE_SIMPLE_DEPTH,
    PIKE_SIMPLE_RIM,
    _taper_consts,
    complex_profile,
    cumulative_density,
    simple_max_slope,
    simple_max_slope_between,
    simple_profile,
)
from touchdown.noise import splitmix64

Array = NDArray[np.float64]

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_C_J = 0xC2B2AE3D27D4EB4F
_U53 = 2.0**-53
#: Elements (rows × points) per block of a crater-field query: temporaries of this size stay in cache.
_BLOCK_ELEMENTS = 4_096


def _mix_int(z: int) -> int:
    """splitmix64 finaliser on a Python int (for scalar keys)."""
    z &= _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _uniform(key: NDArray[np.uint64], stream: int) -> Array:
    """A uniform in [0, 1) per key, independent across ``stream`` numbers."""
    with np.errstate(over="ignore"):
        z = splitmix64(key + np.uint64((stream * _GOLDEN) & _M64))
    return (z >> np.uint64(11)).astype(np.float64) * _U53


def _contiguous(lat: ArrayLike, lon: ArrayLike) -> tuple[Array, Array, tuple[int, ...]]:
    """Broadcast, flattened, C-contiguous float64 copies, and the broadcast shape: numpy's SIMD and strided
    loops for transcendental functions may differ in the last bit, so every query runs on contiguous memory
    whatever the caller passed; and a scalar query runs as a one-element array, because numpy's scalar
    arithmetic (libm's ``pow``, for one) may differ in the last bit from its array loops."""
    lat, lon = np.broadcast_arrays(np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64))
    shape = lat.shape
    return np.array(lat, dtype=np.float64, order="C").ravel(), np.array(lon, order="C").ravel(), shape


def _unit_vectors(lat: Array, lon: Array) -> tuple[Array, Array, Array]:
    c = np.cos(lat)
    return c * np.cos(lon), c * np.sin(lon), np.sin(lat)


class LocalPlane:
    """Azimuthal-equidistant plane about a centre (lat0, lon0) [rad]; x east, y north [m]."""

    def __init__(self, lat0: float, lon0: float, radius_m: float = R_MOON) -> None:
        self.lat0, self.lon0, self.radius_m = float(lat0), float(lon0), float(radius_m)
        sl, cl, so, co = math.sin(lat0), math.cos(lat0), math.sin(lon0), math.cos(lon0)
        self.c = (cl * co, cl * so, sl)
        self.e = (-so, co, 0.0)
        self.n = (-sl * co, -sl * so, cl)

    def _geometry(self, lat: Array, lon: Array) -> tuple[tuple[Array, Array, Array], Array, Array, Array]:
        """Unit vector of (lat, lon), and cos θ, sin θ, θ of its angle from the centre."""
        px, py, pz = _unit_vectors(lat, lon)
        c = self.c
        cos_t = c[0] * px + c[1] * py + c[2] * pz
        cx, cy, cz = c[1] * pz - c[2] * py, c[2] * px - c[0] * pz, c[0] * py - c[1] * px
        sin_t = np.sqrt(cx * cx + cy * cy + cz * cz)
        return (px, py, pz), cos_t, sin_t, np.arctan2(sin_t, cos_t)

    def angle(self, lat: Array, lon: Array) -> Array:
        """Angle θ [rad] from the centre."""
        return self._geometry(lat, lon)[3]

    def forward(self, lat: Array, lon: Array) -> tuple[Array, Array, Array]:
        """Plane (x, y) [m] and θ [rad] of (lat, lon) [rad]."""
        (px, py, pz), _, sin_t, theta = self._geometry(lat, lon)
        e, n = self.e, self.n
        k = self.radius_m * _theta_over_sin(theta, sin_t)
        return k * (e[0] * px + e[1] * py + e[2] * pz), k * (n[0] * px + n[1] * py + n[2] * pz), theta

    def jacobian(self, lat: Array, lon: Array) -> tuple[Array, Array, Array, Array]:
        """(∂x/∂east, ∂x/∂north, ∂y/∂east, ∂y/∂north) [m/m] per metre of surface arc at (lat, lon)."""
        (px, py, pz), cos_t, sin_t, theta = self._geometry(lat, lon)
        c, e, n = self.c, self.e, self.n
        a = _theta_over_sin(theta, sin_t)
        small = theta < 1e-2
        s3 = np.where(small, 1.0, sin_t**3)
        b = np.where(small, 1.0 / 3.0 + 2.0 * theta * theta / 15.0, (sin_t - theta * cos_t) / s3)
        slat, clat, slon, clon = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
        east = (-slon, clon, 0.0 * slon)
        north = (-slat * clon, -slat * slon, clat)
        pe = e[0] * px + e[1] * py + e[2] * pz
        pn = n[0] * px + n[1] * py + n[2] * pz

        def d(t: tuple[Array, Array, Array], axis: tuple[float, float, float], p_axis: Array) -> Array:
            t_axis = axis[0] * t[0] + axis[1] * t[1] + axis[2] * t[2]
            c_t = c[0] * t[0] + c[1] * t[1] + c[2] * t[2]
            return a * t_axis - b * c_t * p_axis

        return d(east, e, pe), d(north, e, pe), d(east, n, pn), d(north, n, pn)


def _theta_over_sin(theta: Array, sin_t: Array) -> Array:
    small = theta < 1e-4
    return np.where(small, 1.0 + theta * theta / 6.0, theta / np.where(small, 1.0, sin_t))


@dataclass(frozen=True)
class _Class:
    index: int
    d_lo: float
    d_hi: float
    cell: float
    layers: int
    p: float
    offsets: tuple[tuple[float, float], ...]
    keys: tuple[int, ...]
    log_n: Array  # increasing, for np.interp (cumulative density table)
    log_d: Array
    n_lo: float
    delta_n: float
    slope: float  # steepest slope of one crater of this class
    amplitude: float  # largest |z| of one crater
    rim_max: float  # largest rim height h of one crater [m]
    depth_max: float  # largest floor depth d of one crater [m]


class CraterField:
    """A random crater population around ``centre`` (module docstring); a :class:`Terrain` on a zero datum.

    Parameters (lengths in metres, angles in radians): ``seed`` (any int), ``centre`` (lat, lon),
    ``age_gyr`` (surface age for the Neukum chronology, default 3.6 Gyr mare, REFERENCE §2.2),
    ``d_min_m`` / ``d_max_m`` (diameter range), ``extent_m`` (plane radius holding craters),
    ``cell_factor`` (cell side over class diameter; must exceed ``2 · ejecta_cutoff``), ``p_max`` (largest
    per-cell probability before a class is split into layers), ``ejecta_cutoff`` (radii),
    ``fresh_fraction``, ``shallow_fraction``, ``shallow_dd`` and ``deep_dd`` (d/D ranges), ``rim_to_depth``.
    """

    def __init__(
        self,
        seed: int = 0,
        centre: tuple[float, float] = (0.0, 0.0),
        *,
        age_gyr: float = MARE_AGE_GYR,
        d_min_m: float = 10.0,
        d_max_m: float = 2_000.0,
        extent_m: float = 1_000_000.0,
        cell_factor: float = 7.0,
        p_max: float = 0.9,
        ejecta_cutoff: float = EJECTA_CUTOFF,
        fresh_fraction: float = 0.1,
        shallow_fraction: float = 0.8,
        shallow_dd: tuple[float, float] = (0.05, 0.12),
        deep_dd: tuple[float, float] = (0.12, 0.20),
        rim_to_depth: float = PIKE_SIMPLE_RIM[0] / PIKE_SIMPLE_DEPTH[0],
    ) -> None:
        if not 0.0 < d_min_m < d_max_m:
            raise ValueError(f"need 0 < d_min_m < d_max_m, got {d_min_m}, {d_max_m}")
        if cell_factor <= 2.0 * ejecta_cutoff:
            raise ValueError("cell_factor must exceed 2 · ejecta_cutoff (a crater must fit in its cell)")
        if not 0.0 < extent_m <= 2_500_000.0:
            raise ValueError("extent_m must lie in (0, 2500 km]")
        if not 0.0 < p_max <= 1.0:
            raise ValueError("p_max must lie in (0, 1]")
        self.seed = int(seed)
        self.centre = (float(centre[0]), float(centre[1]))
        self.age_gyr = float(age_gyr)
        self.d_min_m, self.d_max_m = float(d_min_m), float(d_max_m)
        self.extent_m = float(extent_m)
        self.cell_factor, self.p_max, self.ejecta_cutoff = (
            float(cell_factor),
            float(p_max),
            float(ejecta_cutoff),
        )
        self.fresh_fraction, self.shallow_fraction = float(fresh_fraction), float(shallow_fraction)
        self.shallow_dd, self.deep_dd = tuple(map(float, shallow_dd)), tuple(map(float, deep_dd))
        self.rim_to_depth = float(rim_to_depth)
        self.plane = LocalPlane(*self.centre)
        self.classes = self._build_classes()
        s_max = max(c.cell for c in self.classes)
        theta_max = (self.extent_m + s_max) / R_MOON
        #: Largest plane-to-surface slope factor θ/sin θ where craters exist.
        self.scale_max = float(theta_max / math.sin(theta_max))
        self._theta_cut = theta_max
        #: True bound of |∇h| [m/m] (see the module docstring).
        self.max_slope = float(sum(c.slope * c.layers for c in self.classes) * self.scale_max * (1 + 1e-9))
        #: Bound of |h| [m] (each class and layer adds at most one crater).
        self.max_abs_height = float(sum(c.amplitude * c.layers for c in self.classes))
        #: Upper bound of h [m]: a crater rises at most its rim height h above the datum.
        self.max_height = float(sum(c.rim_max * c.layers for c in self.classes))
        self._build_rows()
        self.description = (
            f"crater field seed {self.seed}, {self.age_gyr:g} Gyr, D {self.d_min_m:g}–{self.d_max_m:g} m, "
            f"{len(self.classes)} classes, within {self.extent_m / 1000:g} km of "
            f"({math.degrees(self.centre[0]):.4f}°, {math.degrees(self.centre[1]):.4f}°)"
        )

    # --- construction -------------------------------------------------------------------------------
    def _fresh_dd(self, d_m: ArrayLike) -> tuple[Array, Array]:
        d_km = np.asarray(d_m, dtype=np.float64) / 1000.0
        return PIKE_SIMPLE_DEPTH[0] * d_km ** (PIKE_SIMPLE_DEPTH[1] - 1.0), PIKE_SIMPLE_RIM[0] * d_km ** (
            PIKE_SIMPLE_RIM[1] - 1.0
        )

    def _build_classes(self) -> tuple[_Class, ...]:
        out = []
        k = 0
        d_lo = self.d_min_m
        base = _mix_int(self.seed ^ 0x5EED5EED5EED5EED)
        while d_lo < self.d_max_m * (1 - 1e-12):
            d_hi = min(2.0 * d_lo, self.d_max_m)
            n_lo = float(cumulative_density(d_lo, self.age_gyr))
            n_hi = float(cumulative_density(d_hi, self.age_gyr))
            delta = n_lo - n_hi
            cell = self.cell_factor * d_lo
            lam = cell * cell * delta
            layers = max(1, math.ceil(lam / self.p_max))
            grid_d = np.geomspace(d_lo, d_hi, 257)
            n_tab = cumulative_density(grid_d, self.age_gyr)
            keys, offsets = [], []
            for layer in range(layers):
                key = _mix_int(base + _mix_int((k + 1) * _GOLDEN) + _mix_int((layer + 1) * _C_J))
                keys.append(key)
                u = _mix_int(key + 1), _mix_int(key + 2)
                offsets.append(((u[0] >> 11) * _U53 * cell, (u[1] >> 11) * _U53 * cell))
            # steepest single crater: deepest degraded or freshest Pike, at the class's largest D
            dd_old = max(self.deep_dd[1], self.shallow_dd[1])
            fd, fh = self._fresh_dd(d_hi)
            dd = max(dd_old, float(fd) if self.fresh_fraction > 0 else 0.0)
            hd = max(dd_old * self.rim_to_depth, float(fh) if self.fresh_fraction > 0 else 0.0)
            slope = float(simple_max_slope(0.5, dd, hd, self.ejecta_cutoff))  # scale-free (D = 1)
            out.append(
                _Class(
                    index=k,
                    d_lo=d_lo,
                    d_hi=d_hi,
                    cell=cell,
                    layers=layers,
                    p=lam / layers,
                    offsets=tuple(offsets),
                    keys=tuple(keys),
                    log_n=np.log(n_tab[::-1]),
                    log_d=np.log(grid_d[::-1]),
                    n_lo=n_lo,
                    delta_n=delta,
                    slope=slope,
                    amplitude=max(dd, hd) * d_hi,
                    rim_max=hd * d_hi,
                    depth_max=dd * d_hi,
                )
            )
            k += 1
            d_lo = d_hi
        return tuple(out)

    # --- per-cell crater draws ----------------------------------------------------------------------
    def _build_rows(self) -> None:
        """One row per (class, layer), in the order the field sums them: the per-row constants as (R, 1)
        columns, so that one array operation draws the craters of every class and layer at once."""
        rows = [(cls, layer) for cls in self.classes for layer in range(cls.layers)]

        def col(values: list[float]) -> Array:
            return np.array(values, dtype=np.float64)[:, None]

        self._n_rows = len(rows)
        self._r_key = np.array([c.keys[layer] for c, layer in rows], dtype=np.uint64)[:, None]
        self._r_ox = col([c.offsets[layer][0] for c, layer in rows])
        self._r_oy = col([c.offsets[layer][1] for c, layer in rows])
        self._r_cell = col([c.cell for c, _ in rows])
        self._r_p = col([c.p for c, _ in rows])
        self._r_n_lo = col([c.n_lo for c, _ in rows])
        self._r_delta_n = col([c.delta_n for c, _ in rows])
        self._r_d_lo = col([c.d_lo for c, _ in rows])
        self._r_d_hi = col([c.d_hi for c, _ in rows])
        # bounds of one crater of the row's class, on the surface: slope [m/m] and span h + d [m]
        self._r_slope = col([c.slope * self.scale_max * (1 + 1e-9) for c, _ in rows])
        self._r_span = col([c.rim_max + c.depth_max for c, _ in rows])
        spans, r0 = [], 0
        for c in self.classes:
            spans.append((r0, r0 + c.layers, c))
            r0 += c.layers
        self._class_rows = tuple(spans)
        # the same constants as the compiled draw and field take them
        self._k_rows = _crater_kernels.CraterRows(
            *(np.ascontiguousarray(v.ravel()) for v in (self._r_key, self._r_ox, self._r_oy, self._r_cell,
                                                        self._r_p, self._r_n_lo, self._r_delta_n,
                                                        self._r_d_lo, self._r_d_hi)),
            row_class=np.array([c.index for c, _ in rows], dtype=np.int64),
            log_n=np.ascontiguousarray(np.stack([c.log_n for c in self.classes])),
            log_d=np.ascontiguousarray(np.stack([c.log_d for c in self.classes])),
            shape=np.array(
                [self.ejecta_cutoff, self.fresh_fraction, self.shallow_fraction, *self.shallow_dd,
                 *self.deep_dd, self.rim_to_depth, PIKE_SIMPLE_DEPTH[0], PIKE_SIMPLE_DEPTH[1] - 1.0,
                 PIKE_SIMPLE_RIM[0], PIKE_SIMPLE_RIM[1] - 1.0, self.extent_m]
            ),
            taper=np.array(_taper_consts(self.ejecta_cutoff)),
        )  # fmt: skip

    def _draw(
        self, i: NDArray[np.int64], j: NDArray[np.int64], r0: int = 0, r1: int | None = None
    ) -> tuple[Array, Array, Array, Array, Array, NDArray[np.bool_]]:
        """Centre (x, y) [m, plane], diameter, depth, rim and presence of the crater in cells (i, j) of rows
        ``r0:r1`` (i, j of shape (rows, M)). Every operation is elementwise on contiguous arrays, so a cell's
        crater has the same bits whichever rows and cells are drawn with it. Compiled
        (:func:`~touchdown.moon.terrain._crater_kernels.draw_cells`, the same bits) where numpy's loops are
        readable, else :meth:`_draw_numpy`."""
        if _crater_kernels.LOOPS is None:
            return self._draw_numpy(i, j, r0, r1)
        r1 = self._n_rows if r1 is None else r1
        ii = np.ascontiguousarray(np.broadcast_to(i, (r1 - r0, i.shape[-1])), dtype=np.int64)
        jj = np.ascontiguousarray(np.broadcast_to(j, (r1 - r0, j.shape[-1])), dtype=np.int64)
        return _crater_kernels.draw_cells(ii, jj, r0, self._k_rows, *_crater_kernels.LOOPS)

    def _draw_numpy(
        self, i: NDArray[np.int64], j: NDArray[np.int64], r0: int = 0, r1: int | None = None
    ) -> tuple[Array, Array, Array, Array, Array, NDArray[np.bool_]]:
        """:meth:`_draw` in numpy (the reference of the compiled draw, and its fallback)."""
        r1 = self._n_rows if r1 is None else r1
        rows = slice(r0, r1)
        with np.errstate(over="ignore"):
            key = splitmix64(self._r_key[rows] + i.astype(np.uint64) * np.uint64(_GOLDEN))
            key = splitmix64(key + j.astype(np.uint64) * np.uint64(_C_J))
        present = _uniform(key, 1) < self._r_p[rows]
        target = self._r_n_lo[rows] - _uniform(key, 2) * self._r_delta_n[rows]
        log_t = np.log(target)
        log_d = np.empty_like(log_t)
        for c0, c1, cls in self._class_rows:  # each class its own table (one call per class, not per row)
            a, b = max(c0, r0), min(c1, r1)
            if a < b:
                log_d[a - r0 : b - r0] = np.interp(log_t[a - r0 : b - r0], cls.log_n, cls.log_d)
        diam = np.exp(log_d)
        diam = np.clip(diam, self._r_d_lo[rows], self._r_d_hi[rows])
        margin = 0.5 * self.ejecta_cutoff * diam
        cell = self._r_cell[rows]
        room = cell - 2.0 * margin
        cx = self._r_ox[rows] + i * cell + margin + _uniform(key, 3) * room
        cy = self._r_oy[rows] + j * cell + margin + _uniform(key, 4) * room
        fresh = _uniform(key, 5) < self.fresh_fraction
        shallow = _uniform(key, 6) < self.shallow_fraction
        u = _uniform(key, 7)
        dd_old = np.where(
            shallow,
            self.shallow_dd[0] + u * (self.shallow_dd[1] - self.shallow_dd[0]),
            self.deep_dd[0] + u * (self.deep_dd[1] - self.deep_dd[0]),
        )
        fd, fh = self._fresh_dd(diam)
        depth = np.where(fresh, fd, dd_old) * diam
        rim = np.where(fresh, fh * diam, self.rim_to_depth * dd_old * diam)
        present &= np.hypot(cx, cy) <= self.extent_m
        return cx, cy, diam, depth, rim, present

    def _plane_field(self, x: Array, y: Array, gradient: bool) -> tuple[Array, Array, Array]:
        """Height and plane gradient at 1-D plane points (x, y) [m], in blocks of points small enough that
        the (rows, block) temporaries stay in cache (elementwise: the block size changes no bit)."""
        n = x.size
        block = max(1, _BLOCK_ELEMENTS // self._n_rows)
        if n <= block:
            return self._plane_block(x, y, gradient)
        h, gx, gy = np.empty(n), np.empty(n), np.empty(n)
        for a in range(0, n, block):  # a loop over blocks of points, not over points
            b = min(n, a + block)
            h[a:b], gx[a:b], gy[a:b] = self._plane_block(x[a:b], y[a:b], gradient)
        return h, gx, gy

    def _plane_block(self, x: Array, y: Array, gradient: bool) -> tuple[Array, Array, Array]:
        """Height and plane gradient at plane points (x, y) [m]: compiled
        (:func:`~touchdown.moon.terrain._crater_kernels.plane_field`, the same bits) where numpy's loops are
        readable, else :meth:`_plane_block_numpy`."""
        if _crater_kernels.LOOPS is None:
            return self._plane_block_numpy(x, y, gradient)
        x, y = np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64)
        return _crater_kernels.plane_field(x, y, gradient, self._k_rows, *_crater_kernels.LOOPS)

    def _plane_block_numpy(self, x: Array, y: Array, gradient: bool) -> tuple[Array, Array, Array]:
        """:meth:`_plane_block` in numpy (the reference of the compiled one, and its fallback)."""
        xr, yr = x.reshape(1, -1), y.reshape(1, -1)
        i = np.floor((xr - self._r_ox) / self._r_cell).astype(np.int64)
        j = np.floor((yr - self._r_oy) / self._r_cell).astype(np.int64)
        cx, cy, diam, depth, rim, present = self._draw(i, j)
        dx, dy = xr - cx, yr - cy
        r = np.hypot(dx, dy)
        z, dz = simple_profile(r, 0.5 * diam, depth, rim, self.ejecta_cutoff)
        z = np.where(present, z, 0.0)
        h = np.zeros(xr.shape[1])
        gx = np.zeros(xr.shape[1])
        gy = np.zeros(xr.shape[1])
        for k in range(self._n_rows):  # the sum in a fixed order, row by row (class by class, layer by layer)
            h = h + z[k]
        if gradient:
            g = np.where(present & (r > 0.0), dz / np.where(r > 0.0, r, 1.0), 0.0)
            gdx, gdy = g * dx, g * dy
            for k in range(self._n_rows):
                gx = gx + gdx[k]
                gy = gy + gdy[k]
        return h, gx, gy

    # --- Terrain protocol ---------------------------------------------------------------------------
    def _eval(self, lat: ArrayLike, lon: ArrayLike, gradient: bool) -> tuple[Array, Array, Array]:
        lat, lon, shape = _contiguous(lat, lon)
        h, de, dn = self._eval_flat(lat, lon, gradient)
        return h.reshape(shape), de.reshape(shape), dn.reshape(shape)

    def _eval_flat(self, lat: Array, lon: Array, gradient: bool) -> tuple[Array, Array, Array]:
        """:meth:`_eval` on 1-D contiguous (lat, lon)."""
        x, y, theta = self.plane.forward(lat, lon)
        near = theta <= self._theta_cut
        x = np.where(near, x, 0.0)
        y = np.where(near, y, 0.0)
        h, gx, gy = self._plane_field(x, y, gradient)
        h = np.where(near, h, 0.0)
        if not gradient:
            return h, h, h
        xe, xn, ye, yn = self.plane.jacobian(lat, lon)
        de = np.where(near, gx * xe + gy * ye, 0.0)
        dn = np.where(near, gx * xn + gy * yn, 0.0)
        return h, de, dn

    def height(self, lat: ArrayLike, lon: ArrayLike) -> Array:
        """Height [m] of the crater field at (lat, lon) [rad]."""
        return self._eval(lat, lon, gradient=False)[0]

    def height_gradient(self, lat: ArrayLike, lon: ArrayLike) -> tuple[Array, Array, Array]:
        """Height [m] and analytic ∂h/∂east, ∂h/∂north [m/m] at (lat, lon) [rad]."""
        return self._eval(lat, lon, gradient=True)

    # --- local bounds (ray casting) -------------------------------------------------------------------
    def local_slope_terms(self, lat: ArrayLike, lon: ArrayLike, reach_m: ArrayLike) -> tuple[Array, Array]:
        """Bounds of the field near each point: ``slope`` and ``span``, each (rows, N) for N query points.

        Row k is one class and layer. Over the disc of surface radius ``reach_m`` [m] about a point, row k's
        contribution z_k has |∇z_k| ≤ slope_k [m/m] and varies by at most span_k [m], so along any path
        of length s ≤ reach_m from the point, h changes by at most Σ_k min(slope_k · s, span_k) (module
        docstring). Where the disc meets at most 2 × 2 cells of the row, the bounds are those of the craters
        actually there (0 where none reaches the disc); else they are the class's (``max_slope``'s terms).
        Each point's bounds depend on that point and its reach alone.
        """
        lat, lon, shape = _contiguous(lat, lon)
        reach = np.array(np.broadcast_to(np.asarray(reach_m, dtype=np.float64), shape), order="C").ravel()
        slope, span = self._local_terms(lat, lon, reach)
        return slope.reshape((self._n_rows, *shape)), span.reshape((self._n_rows, *shape))

    def _local_terms(self, lat: Array, lon: Array, reach: Array) -> tuple[Array, Array]:
        n = lat.size
        x, y, theta = self.plane.forward(lat, lon)
        ang = reach / R_MOON
        inside = theta + ang <= self._theta_cut  # the whole disc where θ/sin θ ≤ scale_max
        outside = theta - ang > self._theta_cut  # the whole disc where the field is zero
        # plane radius holding the disc's image (the projection stretches lengths by at most scale_max),
        # with room for rounding
        rp = np.where(inside, reach * self.scale_max * (1 + 1e-9) + 1e-6, 0.0)
        x, y = np.where(inside, x, 0.0), np.where(inside, y, 0.0)
        local = inside & (2.0 * rp <= self._r_cell)  # (rows, N): at most two columns and two rows of cells
        i0 = np.floor((x - rp - self._r_ox) / self._r_cell).astype(np.int64)
        j0 = np.floor((y - rp - self._r_oy) / self._r_cell).astype(np.int64)
        ii = np.stack([i0, i0 + 1, i0, i0 + 1], axis=1).reshape(self._n_rows, 4 * n)
        jj = np.stack([j0, j0, j0 + 1, j0 + 1], axis=1).reshape(self._n_rows, 4 * n)
        cx, cy, diam, depth, rim, present = (v.reshape(self._n_rows, 4, n) for v in self._draw(ii, jj))
        dist = np.hypot(x - cx, y - cy)
        r_lo = np.maximum(dist - rp, 0.0)
        radius = 0.5 * diam
        touch = present & (r_lo < self.ejecta_cutoff * radius)  # the crater reaches the disc
        s = simple_max_slope_between(r_lo, dist + rp, radius, depth, rim, self.ejecta_cutoff)
        s_local = np.max(np.where(touch, s, 0.0), axis=1) * (self.scale_max * (1 + 1e-9))
        span_local = np.max(np.where(touch, rim, 0.0), axis=1) + np.max(np.where(touch, depth, 0.0), axis=1)
        slope = np.where(outside, 0.0, np.where(local, s_local, self._r_slope))
        span = np.where(outside, 0.0, np.where(local, span_local, self._r_span))
        return slope, span

    # --- inspection ---------------------------------------------------------------------------------
    def craters_in_box(self, x0: float, x1: float, y0: float, y1: float) -> dict[str, Array]:
        """Craters centred in the plane box [x0, x1) × [y0, y1) [m]: x, y, diameter, depth, rim [m]."""
        parts: dict[str, list[Array]] = {"x": [], "y": [], "diameter": [], "depth": [], "rim": []}
        for cls in self.classes:
            for layer in range(cls.layers):
                ox, oy = cls.offsets[layer]
                i0, i1 = math.floor((x0 - ox) / cls.cell), math.floor((x1 - ox) / cls.cell)
                j0, j1 = math.floor((y0 - oy) / cls.cell), math.floor((y1 - oy) / cls.cell)
                ii, jj = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1 + 1), indexing="ij")
                row = self._class_rows[cls.index][0] + layer
                cx, cy, diam, depth, rim, present = self._draw(
                    ii.reshape(1, -1), jj.reshape(1, -1), row, row + 1
                )
                cx, cy, diam, depth, rim, present = (v[0] for v in (cx, cy, diam, depth, rim, present))
                keep = present & (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)
                for name, v in zip(parts, (cx, cy, diam, depth, rim), strict=True):
                    parts[name].append(v[keep])
        return {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}


class SyntheticTerrain:
    """A :class:`Terrain`: datum + named craters (complex profiles) + an optional random :class:`CraterField`.

    ``datum_m`` is the height [m] of the undisturbed plains above ``R_MOON``. Named craters are evaluated at
    great-circle distance from their centres (exact on the sphere).
    """

    def __init__(
        self,
        field: CraterField | None,
        named: Sequence[NamedCrater] = (),
        *,
        datum_m: float = 0.0,
        description: str | None = None,
    ) -> None:
        self.field = field
        self.named = tuple(named)
        self.datum_m = float(datum_m)
        slope = sum(c.max_slope for c in self.named) + (field.max_slope if field is not None else 0.0)
        #: True bound of |∇h| [m/m]: the sum of the components' bounds.
        self.max_slope = float(slope)
        parts_top = [max(c.rim_m, 0.0) for c in self.named] + (
            [field.max_height] if field is not None else []
        )
        #: Upper bound of h [m] (a crater rises at most its rim height above the datum), with room for
        #: rounding: the simulator asks for no ground check above it.
        self.max_height_m = float(self.datum_m + sum(parts_top) + 1e-9 * (abs(self.datum_m) + sum(parts_top)))
        parts = [f"synthetic terrain on a {self.datum_m:g} m datum"]
        if self.named:
            parts.append("named craters " + ", ".join(c.name for c in self.named))
        if field is not None:
            parts.append(field.description)
        self.description = description or "; ".join(parts)

    def _eval(self, lat: ArrayLike, lon: ArrayLike, gradient: bool) -> tuple[Array, Array, Array]:
        lat, lon, shape = _contiguous(lat, lon)
        h = np.full(lat.shape, self.datum_m)
        de = np.zeros(lat.shape)
        dn = np.zeros(lat.shape)
        if self.named:
            px, py, pz = _unit_vectors(lat, lon)
            slat, clat, slon, clon = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
            for crater in self.named:
                cl = math.cos(crater.lat)
                c = (cl * math.cos(crater.lon), cl * math.sin(crater.lon), math.sin(crater.lat))
                cos_t = c[0] * px + c[1] * py + c[2] * pz
                xx, yy, zz = c[1] * pz - c[2] * py, c[2] * px - c[0] * pz, c[0] * py - c[1] * px
                sin_t = np.sqrt(xx * xx + yy * yy + zz * zz)
                r = R_MOON * np.arctan2(sin_t, cos_t)
                z, dz = complex_profile(
                    r,
                    crater.radius_m,
                    crater.floor_radius_m,
                    crater.floor_depth_m,
                    crater.rim_m,
                    crater.ejecta_cutoff,
                )
                h = h + z
                if gradient:
                    # unit tangent at p pointing away from the crater centre: ((c·p) p − c) / sin θ
                    wx, wy, wz = cos_t * px - c[0], cos_t * py - c[1], cos_t * pz - c[2]
                    g = np.where(sin_t > 0.0, dz / np.where(sin_t > 0.0, sin_t, 1.0), 0.0)
                    de = de + g * (-slon * wx + clon * wy)
                    dn = dn + g * (-slat * clon * wx - slat * slon * wy + clat * wz)
        if self.field is not None:
            fh, fe, fn = self.field._eval_flat(lat, lon, gradient)
            h = h + fh
            if gradient:
                de, dn = de + fe, dn + fn
        return h.reshape(shape), de.reshape(shape), dn.reshape(shape)

    def height(self, lat: ArrayLike, lon: ArrayLike) -> Array:
        """Height [m] above the ``R_MOON`` sphere at (lat, lon) [rad]."""
        return self._eval(lat, lon, gradient=False)[0]

    def local_slope_terms(self, lat: ArrayLike, lon: ArrayLike, reach_m: ArrayLike) -> tuple[Array, Array]:
        """Bounds of the terrain near each point, as additive terms: ``slope`` [m/m] and ``span`` [m], each
        (K, N) for N query points. Along any surface path of length s ≤ ``reach_m`` [m] from a point, h
        changes by at most Σ_k min(slope_k · s, span_k). Terms: one per named crater (0 where the disc lies
        beyond its ejecta or on its flat floor, else its ``max_slope`` and rim-to-floor step), then the
        random field's rows (:meth:`CraterField.local_slope_terms`). Used by
        :func:`~touchdown.moon.terrain.raycast.raycast`; each point's terms depend on it alone."""
        lat, lon, shape = _contiguous(lat, lon)
        reach = np.array(np.broadcast_to(np.asarray(reach_m, dtype=np.float64), shape), order="C").ravel()
        slopes, spans = [], []
        if self.named:
            px, py, pz = _unit_vectors(lat, lon)
            for crater in self.named:
                cl = math.cos(crater.lat)
                c = (cl * math.cos(crater.lon), cl * math.sin(crater.lon), math.sin(crater.lat))
                cos_t = c[0] * px + c[1] * py + c[2] * pz
                xx, yy, zz = c[1] * pz - c[2] * py, c[2] * px - c[0] * pz, c[0] * py - c[1] * px
                r = R_MOON * np.arctan2(np.sqrt(xx * xx + yy * yy + zz * zz), cos_t)
                room = 1e-6 + 1e-12 * r  # rounding of the distance
                flat = (r - reach - room >= crater.reach_m) | (r + reach + room <= crater.floor_radius_m)
                slopes.append(np.where(flat, 0.0, crater.max_slope * (1 + 1e-9)))
                spans.append(np.where(flat, 0.0, max(crater.rim_m, 0.0) + max(crater.floor_depth_m, 0.0)))
        out_s = np.stack(slopes) if slopes else np.zeros((0, lat.size))
        out_a = np.stack(spans) if spans else np.zeros((0, lat.size))
        if self.field is not None:
            fs, fa = self.field._local_terms(lat, lon, reach)
            out_s, out_a = np.concatenate([out_s, fs]), np.concatenate([out_a, fa])
        k = out_s.shape[0]
        return out_s.reshape((k, *shape)), out_a.reshape((k, *shape))

    def height_gradient(self, lat: ArrayLike, lon: ArrayLike) -> tuple[Array, Array, Array]:
        """Height [m] and analytic ∂h/∂east, ∂h/∂north [m/m] at (lat, lon) [rad]."""
        return self._eval(lat, lon, gradient=True)
