"""Numba kernels of the DEM height query and of the ray cast against a DEM (the hot paths of the altimeter).

Each kernel repeats, point by point and ray by ray, the operations of the numpy code it stands in for
(:meth:`~touchdown.moon.terrain.dem.Dem._bilinear`, ``Dem.max_slope_near``, the march of
:func:`~touchdown.moon.terrain.raycast.raycast`) in the same order, so its results are the same bits,
whatever the batch a point or ray comes in.

Latitude and longitude. The ray cast turns Moon-fixed points into (lat, lon) with atan2 at every step.
numpy's float64 ``arctan2`` is a SIMD loop (SVML on AVX-512 CPUs) whose last bit differs from libm's
``atan2`` (what ``math.atan2`` compiles to) on a few percent of points, and it is also ≈ 6× faster per
point. The kernels therefore call numpy's own arctan2 loop, taken from the ufunc's loop table (public C
API, ``PyUFuncObject.functions``), on batches of points: one call per marching step for all the rays
still marching. ``touchdown._ufunc_loops.numpy_loop`` checks the table's layout and the loop's results
against ``np.arctan2`` before handing it over; where either check fails, the kernels call libm's atan2 instead
(latitudes and longitudes may then differ from numpy's in the last bit, and a warning says so).
"""

from __future__ import annotations

import logging
import math
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown._ufunc_loops import binary, numpy_loop
from touchdown.moon.constants import R_MOON

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

_HALF_PI_TOL = math.pi / 2 + 1e-12  # |lat| beyond this is off every grid [rad] (Dem._on_grid)
_PIXEL_TOL = 1e-9  # tolerance of the grid-edge tests [pixel] (Dem._on_grid)
#: Longest conservative step of the ray march, in units of the height above the terrain g: it bounds how far
#: the local vertical can turn over one step (raycast module docstring).
STEP_MAX_G = 8.0
#: The slope bound around a point reads the slope pyramid at the finest level where the patches within reach
#: span at most this many blocks each way (one more where they straddle a block edge).
BLOCKS_SPANNED = 4


class DemGrid(NamedTuple):
    """The geometry of a :class:`~touchdown.moon.terrain.dem.Dem` as the kernels read it.

    The public kernels take its fields as a plain tuple, ``tuple(grid)`` (numba dispatches a plain tuple
    ≈ 1.5 µs faster than a named one, on every call), and name them again inside."""

    line_offset: float  # LINE_PROJECTION_OFFSET [pixel]
    sample_offset: float  # SAMPLE_PROJECTION_OFFSET [pixel]
    west_edge_deg: float  # west edge of the grid [deg]
    center_lon_deg: float  # CENTER_LONGITUDE [deg]
    pixels_per_degree: float  # MAP_RESOLUTION [pixel/deg]
    lines: int
    samples: int
    is_global: bool  # wraps in longitude
    pixel_m: float  # R · Δ, the north-south size of one pixel [m]
    cos_floor: float  # floor of cos(lat) in the east metric (polar caps)


# --------------------------------------------------------------------------------------------------
# numpy's arctan2 loop


def _atan2_loop():
    loop = numpy_loop(np.arctan2)
    if loop is None:
        log.warning(
            "numpy's arctan2 loop is not readable here: the terrain kernels use libm's atan2 (latitudes and "
            "longitudes may differ from numpy's in the last bit)"
        )
    return loop


#: numpy's float64 arctan2 loop, or None (the kernels then call libm's atan2).
ATAN2 = _atan2_loop()


@njit(cache=True)
def _atan2(loop, y: Array, x: Array, out: Array, n: int) -> None:
    """out[:n] = arctan2(y[:n], x[:n]) [rad] through numpy's loop (``loop``), or libm's where it is None."""
    if loop is None:
        for i in range(n):
            out[i] = math.atan2(y[i], x[i])
        return
    binary(loop, y, x, out, n)


# --------------------------------------------------------------------------------------------------
# numpy's scalar semantics


@njit(cache=True, inline="always")
def _maximum(a: float, b: float) -> float:
    """np.maximum of two floats (NaN wins)."""
    return a if a >= b or a != a else b


@njit(cache=True, inline="always")
def _minimum(a: float, b: float) -> float:
    """np.minimum of two floats (NaN wins)."""
    return a if a <= b or a != a else b


@njit(cache=True, inline="always")
def _clip(x: float, lo: float, hi: float) -> float:
    """np.clip of a float between two floats (a NaN x stays NaN)."""
    if x == x:
        x = x if x > lo else lo
    if x == x:
        x = x if x < hi else hi
    return x


@njit(cache=True, inline="always")
def _mod(a: float, b: float) -> float:
    """np.mod(a, b) for b > 0: the exact remainder in [0, b), +0.0 for zeros (Python's float %).

    libm's fmod costs ≈ 25 ns; within one period of [0, b) the same result is a single exact operation
    (a − b is exact for b ≤ a ≤ 2b, Sterbenz) or the same rounded a + b that np.mod adds below 0."""
    if 0.0 < a < b:
        return a
    if b <= a < 2.0 * b:
        return a - b
    if -b <= a < 0.0:
        return a + b
    if a == 0.0:
        return 0.0
    return a % b


# --------------------------------------------------------------------------------------------------
# DEM queries


@njit(cache=True, inline="always")
def _pixel_coords(lat: float, lon: float, grid: DemGrid) -> tuple[float, float]:
    """Continuous zero-based (line, sample) [pixel] of (lat, lon) [rad] (Dem._pixel_coords of np.degrees)."""
    res = grid.pixels_per_degree
    line = grid.line_offset - lat * (180.0 / math.pi) * res
    lon_rel = _mod(lon * (180.0 / math.pi) - grid.west_edge_deg, 360.0)  # [0, 360) east of the west edge
    sample = grid.sample_offset + (grid.west_edge_deg + lon_rel - grid.center_lon_deg) * res
    return line, sample


@njit(cache=True, inline="always")
def _patch(lat: float, lon: float, grid: DemGrid) -> tuple[bool, int, float, float, bool, bool]:
    """The bilinear patch around (lat, lon) [rad] (Dem._patch): on-grid flag, flat index of its north-west
    post in the padded height grid, fractions fx (east) and fy (south) [pixel], and whether the point lies
    inside the patch east-west and north-south (False where clamped to an edge). Off-grid points get the
    patch of (0°, 0°)."""
    line, sample = _pixel_coords(lat, lon, grid)
    nl, ns = grid.lines, grid.samples
    ok = abs(lat) <= _HALF_PI_TOL and line >= -0.5 - _PIXEL_TOL and line <= nl - 0.5 + _PIXEL_TOL
    if grid.is_global:
        ok = ok and math.isfinite(sample)
    else:
        ok = ok and sample >= -0.5 - _PIXEL_TOL and sample <= ns - 0.5 + _PIXEL_TOL
    if not ok:
        line, sample = _pixel_coords(0.0, 0.0, grid)
    y = _minimum(_maximum(line, 0.0), nl - 1.0)
    i0 = min(math.floor(y), nl - 2)
    fy = y - i0
    if grid.is_global:
        x = _mod(sample, float(ns))
        j0 = min(math.floor(x), ns - 1)
        in_x = True
    else:
        x = _minimum(_maximum(sample, 0.0), ns - 1.0)
        in_x = x == sample
        j0 = min(math.floor(x), ns - 2)
    fx = x - j0
    return ok, i0 * (ns + 1) + j0, fx, fy, in_x, y == line


@njit(cache=True, inline="always")
def block_top(lat: float, lon: float, table: Array, block: int, grid: DemGrid) -> float:
    """The DEM's highest point [m] around (lat, lon) [rad]: the entry of ``Dem.max_height_blocks``'s
    ``table`` (blocks of ``block`` × ``block`` patches) for the patch :func:`_patch` finds there; +inf off
    the grid or at a NaN coordinate (no bound)."""
    ok, k, _, _, _, _ = _patch(lat, lon, grid)
    if not ok:
        return math.inf
    i0, j0 = divmod(k, grid.samples + 1)  # the patch's north-west post in the padded grid
    return table[i0 // block, j0 // block]


@njit(cache=True, inline="always")
def _interpolate(h00: float, h01: float, h10: float, h11: float, fx: float, fy: float) -> float:
    """Bilinear height [m] in a patch from its corner heights [m] (north-west, north-east, south-west,
    south-east) and the fractions fx (east), fy (south)."""
    top = h00 + fx * (h01 - h00)
    bottom = h10 + fx * (h11 - h10)
    return top + fy * (bottom - top)


@njit(cache=True)
def dem_height(lat: Array, lon: Array, heights: Array, grid_fields: tuple) -> Array:
    """Bilinear heights [m] at points (lat, lon) (P,) [rad]; NaN off the grid (Dem.height).

    ``heights``: the flat padded grid of ``Dem._heights`` (rows of samples + 1 posts) [m]; ``grid_fields``:
    ``tuple(DemGrid)``."""
    grid = DemGrid(*grid_fields)
    width = grid.samples + 1  # posts per row of the padded grid
    out = np.empty(lat.size)
    for i in range(lat.size):
        ok, k, fx, fy, _, _ = _patch(lat[i], lon[i], grid)
        h = _interpolate(heights[k], heights[k + 1], heights[k + width], heights[k + width + 1], fx, fy)
        out[i] = h if ok else math.nan
    return out


@njit(cache=True)
def dem_height_gradient(
    lat: Array, lon: Array, heights: Array, grid_fields: tuple
) -> tuple[Array, Array, Array]:
    """Heights [m] and slopes ∂h/∂east, ∂h/∂north [m/m] at points (lat, lon) (P,) [rad]
    (Dem.height_gradient); NaN off the grid, slopes 0 along clamped directions."""
    return _height_gradient(lat, lon, heights, DemGrid(*grid_fields))


@njit(cache=True)
def _height_gradient(lat: Array, lon: Array, heights: Array, grid: DemGrid) -> tuple[Array, Array, Array]:
    """:func:`dem_height_gradient` on the named grid."""
    n = lat.size
    width = grid.samples + 1
    h = np.empty(n)
    de = np.empty(n)
    dn = np.empty(n)
    for i in range(n):
        ok, k, fx, fy, in_x, in_y = _patch(lat[i], lon[i], grid)
        south = k + width
        h00, h01, h10, h11 = heights[k], heights[k + 1], heights[south], heights[south + 1]
        top = h00 + fx * (h01 - h00)
        bottom = h10 + fx * (h11 - h10)
        if not ok:
            h[i] = de[i] = dn[i] = math.nan
            continue
        h[i] = top + fy * (bottom - top)
        dh_dx = (1.0 - fy) * (h01 - h00) + fy * (h11 - h10) if in_x else 0.0  # per sample
        dh_dy = bottom - top if in_y else 0.0  # per line (southward)
        cos_eff = _maximum(math.cos(lat[i]), grid.cos_floor)
        de[i] = dh_dx / (grid.pixel_m * cos_eff)
        dn[i] = -dh_dy / grid.pixel_m
    return h, de, dn


@njit(cache=True, inline="always")
def _band_rows(lat: float, span_deg: float, grid: DemGrid) -> tuple[int, int]:
    """First and last row of patches (patch k spans lines [k − 1, k]; 0 and ``lines``: the clamped strips)
    that the latitude band [lat − span, lat + span] (lat [rad], span [deg]) touches."""
    deg = lat * (180.0 / math.pi)
    line_a = grid.line_offset - _minimum(deg + span_deg, 90.0) * grid.pixels_per_degree
    line_b = grid.line_offset - _maximum(deg - span_deg, -90.0) * grid.pixels_per_degree
    return min(max(math.floor(line_a), 0), grid.lines), min(max(math.ceil(line_b) + 1, 0), grid.lines)


@njit(cache=True, inline="always")
def _slope_bound_near(lat: float, span_deg: float, bounds: Array, grid: DemGrid) -> float:
    """Bound of |∇h| [m/m] over the latitude band [lat − span, lat + span] (lat [rad], span [deg]) from the
    DEM's bound per row of patches ``bounds`` (``Dem._patch_slope_bounds``); NaN at a NaN latitude."""
    if lat != lat:
        return math.nan
    k_lo, k_hi = _band_rows(lat, span_deg, grid)
    bound = bounds[k_lo]
    for k in range(k_lo + 1, k_hi + 1):
        bound = _maximum(bound, bounds[k])
    return bound


@njit(cache=True)
def dem_slope_bound_near(lat: Array, span_deg: float, bounds: Array, grid_fields: tuple) -> Array:
    """Bound of |∇h| [m/m] over the latitude band [lat − span, lat + span] of each point (P,) [rad]
    (Dem.max_slope_near), from ``bounds``, the DEM's bound per row of patches (``_patch_slope_bounds``:
    north strip, patches between rows, south strip) and ``span_deg`` [deg]; NaN at a NaN latitude."""
    grid = DemGrid(*grid_fields)
    out = np.empty(lat.size)
    for i in range(lat.size):
        out[i] = _slope_bound_near(lat[i], span_deg, bounds, grid)
    return out


@njit(cache=True, inline="always")
def _block_max(
    pyramid: Array, levels: NDArray[np.int64], lev: int, k_lo: int, k_hi: int, j_lo: int, j_hi: int
) -> float:
    """Largest value of level ``lev`` of the slope pyramid over the level-0 patch rows [k_lo, k_hi] and
    columns [j_lo, j_hi] (inclusive)."""
    cols, offset = levels[lev, 1], levels[lev, 2]
    bound = 0.0
    for kb in range(k_lo >> lev, (k_hi >> lev) + 1):
        for jb in range(j_lo >> lev, (j_hi >> lev) + 1):
            bound = _maximum(bound, pyramid[offset + kb * cols + jb])
    return bound


@njit(cache=True, inline="always")
def _global_columns(x_lo: float, x_hi: float, half: float, ncols: int) -> tuple[int, int, int, int]:
    """Patch columns (j_lo, j_hi) and, where a global grid wraps, a second range (j_lo2, j_hi2; empty:
    j_hi2 < j_lo2) within ``half`` [pixel] of the samples [x_lo, x_hi] (x in [0, samples)), one to spare."""
    j_lo, j_hi, j_lo2, j_hi2 = math.floor(x_lo - half) - 1, math.floor(x_hi + half) + 1, 0, -1
    if j_hi - j_lo + 1 >= ncols:
        return 0, ncols - 1, 0, -1
    if j_lo < 0:
        return j_lo + ncols, ncols - 1, 0, j_hi
    if j_hi >= ncols:
        return j_lo, ncols - 1, 0, j_hi - ncols
    return j_lo, j_hi, j_lo2, j_hi2


@njit(cache=True, inline="always")
def _bound_over(
    k_lo: int,
    k_hi: int,
    j_lo: int,
    j_hi: int,
    j_lo2: int,
    j_hi2: int,
    pyramid: Array,
    levels: NDArray[np.int64],
    bounds: Array,
) -> float:
    """Bound of |∇h| [m/m] over the patch rows [k_lo, k_hi] and columns [j_lo, j_hi] ∪ [j_lo2, j_hi2]: the
    slope pyramid's blocks at the finest level where they span at most BLOCKS_SPANNED blocks each way (+1
    at an edge) or, where tighter (coarse blocks near a pole), the rows' own bound ``bounds``."""
    span = max(k_hi - k_lo + 1, (j_hi - j_lo + 1) + max(j_hi2 - j_lo2 + 1, 0))
    lev = 0
    while lev < levels.shape[0] - 1 and span > (BLOCKS_SPANNED << lev):
        lev += 1
    bound = _block_max(pyramid, levels, lev, k_lo, k_hi, j_lo, j_hi)
    if j_hi2 >= j_lo2:
        bound = _maximum(bound, _block_max(pyramid, levels, lev, k_lo, k_hi, j_lo2, j_hi2))
    if lev > 0:  # the blocks may take in rows beyond the band
        band = bounds[k_lo]
        for k in range(k_lo + 1, k_hi + 1):
            band = _maximum(band, bounds[k])
        bound = _minimum(bound, band)
    return bound


@njit(cache=True, inline="always")
def _slope_bound_around(
    lat: float,
    lon: float,
    span_deg: float,
    pyramid: Array,
    levels: NDArray[np.int64],
    bounds: Array,
    grid: DemGrid,
) -> float:
    """Bound of |∇h| [m/m] over the points within ``span_deg`` [deg] of arc of (lat, lon) [rad]: the DEM's
    slope pyramid's (``Dem._slope_pyramid``: ``pyramid`` values, ``levels`` rows/columns/offset) or, where
    tighter (blocks near a pole), the latitude band's (``bounds``: :func:`_slope_bound_near`); NaN at a NaN
    or infinite coordinate. See ``Dem.max_slope_around``."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return math.nan
    res = grid.pixels_per_degree
    k_lo, k_hi = _band_rows(lat, span_deg, grid)
    # patch columns (patch j spans samples [j, j + 1]): longitudes within asin(sin reach / cos lat)
    ncols = levels[0, 1]
    reach = span_deg * (math.pi / 180.0)
    cos_lat = math.cos(lat)
    every = span_deg >= 90.0 or math.sin(reach) >= cos_lat * (1.0 - 1e-9)
    j_lo, j_hi, j_lo2, j_hi2 = 0, ncols - 1, 0, -1  # a second range where a global grid wraps
    if not every:
        half = math.asin(math.sin(reach) / cos_lat) * (180.0 / math.pi) * res + 1.0  # [pixel], one spare
        _, sample = _pixel_coords(lat, lon, grid)
        if grid.is_global:
            x = _mod(sample, float(grid.samples))
            j_lo, j_hi, j_lo2, j_hi2 = _global_columns(x, x, half, ncols)
        else:  # a tile: its samples count east of its west edge, so a point just west of it lies ≈ 360° east
            j_lo, j_hi = ncols, -1
            for shift in (0.0, 360.0 * res):
                lo, hi = math.floor(sample - shift - half) - 1, math.floor(sample - shift + half) + 1
                if hi >= 0 and lo <= ncols - 1:
                    j_lo, j_hi = min(j_lo, max(lo, 0)), max(j_hi, min(hi, ncols - 1))
            if j_hi < j_lo:  # the reach misses the tile (NaN ground): any bound
                j_lo, j_hi = 0, ncols - 1
    return _bound_over(k_lo, k_hi, j_lo, j_hi, j_lo2, j_hi2, pyramid, levels, bounds)


@njit(cache=True, inline="always")
def _slope_bound_patch(
    kr: int, jc: int, span_deg: float, pyramid: Array, levels: NDArray[np.int64], bounds: Array, grid: DemGrid
) -> float:
    """Bound of |∇h| [m/m] over the points within ``span_deg`` [deg] of arc of any point of a global grid's
    patch row ``kr`` (lines [kr − 1, kr]) and column ``jc`` (samples [jc, jc + 1]): the rows and columns
    :func:`_slope_bound_around` reads for every point of the patch (its rows reach; its columns from the
    patch's poleward edge, where cos lat is smallest), so never below its bound at any of them."""
    res, nl = grid.pixels_per_degree, grid.lines
    d = span_deg * res  # [pixel]
    k_lo = min(max(math.floor(kr - 1 - d), 0), nl)
    k_hi = min(max(math.ceil(kr + d) + 1, 0), nl)
    ncols = levels[0, 1]
    deg = _maximum(abs(grid.line_offset - (kr - 1.0)), abs(grid.line_offset - kr)) / res
    cos_lat = math.cos(_minimum(deg, 90.0) * (math.pi / 180.0))
    reach = span_deg * (math.pi / 180.0)
    if span_deg >= 90.0 or math.sin(reach) >= cos_lat * (1.0 - 1e-9):
        return _bound_over(k_lo, k_hi, 0, ncols - 1, 0, -1, pyramid, levels, bounds)
    half = math.asin(math.sin(reach) / cos_lat) * (180.0 / math.pi) * res + 1.0  # [pixel], one spare
    j_lo, j_hi, j_lo2, j_hi2 = _global_columns(float(jc), jc + 1.0, half, ncols)
    return _bound_over(k_lo, k_hi, j_lo, j_hi, j_lo2, j_hi2, pyramid, levels, bounds)


@njit(cache=True, inline="always")
def _ray_slope_bound(
    lat: float,
    lon: float,
    span_deg: float,
    pyramid: Array,
    levels: NDArray[np.int64],
    bounds: Array,
    grid: DemGrid,
    memo: Array,
    known: NDArray[np.uint8],
) -> float:
    """The ray cast's slope bound [m/m] around a ray's origin (lat, lon) [rad]: on a global grid the bound of
    the origin's whole patch (:func:`_slope_bound_patch`), computed once and kept in ``memo`` (flat, patch
    rows × columns; ``known`` marks the entries computed; empty arrays: none kept); elsewhere
    :func:`_slope_bound_around`'s. A pure function of the point, whatever the memo holds.

    Callers in a loop read a known entry themselves (:func:`_memo_slot`) and call this only for the rest:
    a call that hands arrays to it costs ≈ 55 ns of reference counting, ten times the look-up."""
    ncols = levels[0, 1]
    k = _memo_slot(lat, lon, grid, ncols, memo.shape[0])
    if k < 0:
        return _slope_bound_around(lat, lon, span_deg, pyramid, levels, bounds, grid)
    if known[k] == 0:
        memo[k] = _slope_bound_patch(k // ncols, k % ncols, span_deg, pyramid, levels, bounds, grid)
        known[k] = 1
    return memo[k]


@njit(cache=True, inline="always")
def _memo_slot(lat: float, lon: float, grid: DemGrid, ncols: int, size: int) -> int:
    """Index of the patch under (lat, lon) [rad] in the ray cast's slope memo (patch rows × ``ncols``
    columns, ``size`` entries; :func:`_ray_slope_bound`), or −1 where no memo serves the point (none kept,
    a grid that is not global, a NaN or infinite coordinate)."""
    if not (grid.is_global and size > 0 and math.isfinite(lat) and math.isfinite(lon)):
        return -1
    line, sample = _pixel_coords(lat, lon, grid)
    kr = min(max(math.floor(line) + 1, 0), grid.lines)
    jc = min(math.floor(_mod(sample, float(grid.samples))), ncols - 1)
    return kr * ncols + jc


@njit(cache=True)
def dem_slope_bound_around(
    lat: Array,
    lon: Array,
    span_deg: float,
    pyramid: Array,
    levels: NDArray[np.int64],
    bounds: Array,
    grid_fields: tuple,
    memo: Array,
    known: NDArray[np.uint8],
) -> Array:
    """Bound of |∇h| [m/m] within ``span_deg`` [deg] of arc of each point (lat, lon) (P,) [rad]: the point's
    own (``Dem.max_slope_around``) with empty ``memo`` and ``known``, else the ray cast's per-patch bound
    kept in them (``Dem.ray_slope_bound``; :func:`_ray_slope_bound`)."""
    grid = DemGrid(*grid_fields)
    out = np.empty(lat.size)
    ncols = levels[0, 1]
    for i in range(lat.size):
        k = _memo_slot(lat[i], lon[i], grid, ncols, memo.shape[0])
        if k >= 0 and known[k] != 0:
            out[i] = memo[k]
        else:
            out[i] = _ray_slope_bound(lat[i], lon[i], span_deg, pyramid, levels, bounds, grid, memo, known)
    return out


# --------------------------------------------------------------------------------------------------
# Ray cast


@njit(cache=True)
def _height_above_dem(
    x: Array,
    y: Array,
    z: Array,
    n: int,
    heights: Array,
    grid: DemGrid,
    atan2,
    buf: Array,
    g: Array,
    rho: Array,
) -> None:
    """Height above the terrain g[:n] [m] and radius rho[:n] [m] of the Moon-fixed points (x, y, z)[:n] [m]
    (raycast._g_xyz: frames.mcmf_to_llh, then the DEM's height). ``atan2``: :data:`ATAN2`; ``buf``: scratch
    of (3, ≥ n)."""
    rxy, lat, lon = buf[0], buf[1], buf[2]
    for i in range(n):
        rxy[i] = math.sqrt(x[i] * x[i] + y[i] * y[i])  # not hypot: 0.3 against 3.6 ns, no overflow here
    _atan2(atan2, z, rxy, lat, n)
    _atan2(atan2, y, x, lon, n)
    width = grid.samples + 1
    for i in range(n):
        alt = math.sqrt(rxy[i] * rxy[i] + z[i] * z[i]) - R_MOON
        ok, k, fx, fy, _, _ = _patch(lat[i], lon[i], grid)
        h = _interpolate(heights[k], heights[k + 1], heights[k + width], heights[k + width + 1], fx, fy)
        g[i] = alt - (h if ok else math.nan)
        rho[i] = alt + R_MOON


@njit(cache=True, inline="always")
def _out_of_reach(
    ox: float, oy: float, oz: float, ux: float, uy: float, uz: float, max_range_m: float, top: Array
) -> bool:
    """True when the ray o + t û, 0 ≤ t ≤ ``max_range_m`` [m], keeps more than 1 m above ``top``, the
    terrain's highest point [m] per band of sin(latitude) already spread over the ray's reach (see
    :func:`march_dem`; empty: False). Its closest approach to the centre bounds its radius from below."""
    k = top.shape[0]
    if k == 0:
        return False
    rho0 = math.sqrt(ox * ox + oy * oy + oz * oz)
    s = oz / rho0
    if not (s == s and math.isfinite(max_range_m)):
        return False
    band = top[min(max(int((s + 1.0) * (0.5 * k)), 0), k - 1)]
    t = _minimum(_maximum(-(ox * ux + oy * uy + oz * uz), 0.0), max_range_m)
    cx, cy, cz = ox + t * ux, oy + t * uy, oz + t * uz
    return math.sqrt(cx * cx + cy * cy + cz * cz) - R_MOON - band > 1.0


#: Outcome of one step of a falling ray's search (:func:`_search_update`).
_SEARCHING, _FOUND, _MISSED, _NO_ANSWER = 0, 1, 2, 3
#: A falling ray's search stops at a point within SEARCH_TOL · tol_m of the crossing (|g| ≤ that times the
#: ray's bound on |dg/dt|).
SEARCH_TOL = 1e-6


@njit(cache=True, inline="always")
def _fall_bound(
    ox: float,
    oy: float,
    oz: float,
    ux: float,
    uy: float,
    uz: float,
    rho0: float,
    lip: float,
    max_range_m: float,
) -> tuple[float, float]:
    """(fall rate of the radius at the origin f₀, lower bound D of −dg/dt over the whole ray) [m/m] for the
    ray o + t û, 0 ≤ t ≤ ``max_range_m`` (|o| = ``rho0``), over terrain of slope bound ``lip``.

    With ρ_lo = ρ₀ − f₀·s (s = ``max_range_m``; ρ is convex along a line, so it never falls faster than at
    the origin), dρ/dt ≤ −f₀ + t/ρ_lo and the ground track moves at most (sin α₀ + t/ρ_lo)·R/ρ_lo datum
    metres per metre, so −dg/dt ≥ D = f₀ − s/ρ_lo − (sin α₀ + s/ρ_lo)·L·R/ρ_lo. D > 0: g falls strictly
    all along the ray, which then crosses the surface at most once (raycast module docstring)."""
    if not math.isfinite(max_range_m):
        return 0.0, 0.0
    cos_v = (ox * ux + oy * uy + oz * uz) / rho0
    fall = _maximum(-cos_v, 0.0)
    sin_a = math.sqrt(_maximum(0.0, 1.0 - cos_v * cos_v))
    rho_lo = _maximum(rho0 - fall * max_range_m, 1.0)
    turn = max_range_m / rho_lo
    return fall, fall - turn - (sin_a + turn) * lip * R_MOON / rho_lo


@njit(cache=True, inline="always")
def _search_point(
    t: float,
    g: float,
    t_prev: float,
    g_prev: float,
    t_hit: float,
    g_hit: float,
    fall0: float,
    d_min: float,
    tol_m: float,
    max_range_m: float,
) -> float:
    """The next point [m] of a falling ray's search: with nothing below the surface found yet, the secant
    through its last two points above it (the first step: the origin's fall rate, as over flat ground; the
    slope never below the ray's bound ``d_min``) plus ``tol_m``, at most to ``max_range_m``; once bracketed,
    the regula falsi point of [t, t_hit]."""
    if g_hit != g_hit:
        slope = fall0 if g_prev != g_prev else _maximum((g_prev - g) / (t - t_prev), d_min)
        step = g / slope
        return _minimum(t + (step + tol_m), max_range_m)
    return _clip(t_hit - g_hit * (t_hit - t) / (g_hit - g), t, t_hit)


@njit(cache=True, inline="always")
def _search_update(
    tn: float,
    gn: float,
    t: float,
    g: float,
    t_prev: float,
    g_prev: float,
    t_hit: float,
    g_hit: float,
    side: int,
    g_stop: float,
    tol_m: float,
    max_range_m: float,
) -> tuple[int, float, float, float, float, float, float, int]:
    """A falling ray's search state after the height ``gn`` [m] at its search point ``tn`` [m]: (outcome,
    t, g, t_prev, g_prev, t_hit, g_hit, side). t, g: its point above the surface (t_prev, g_prev: the one
    before); once bracketed, t_hit, g_hit: the one below, and ``side`` the end the last point replaced (+1
    upper, −1 lower; Illinois: an end kept twice in a row has its height halved).

    ``_FOUND`` when |gn| ≤ ``g_stop`` (t_prev = t_hit = tn, g_prev = g_hit = 0: the range is tn) or the
    bracket is at most ``tol_m`` wide (t_prev, g_prev: its upper end; the range is interpolated in it);
    ``_MISSED`` above the surface at ``max_range_m``; ``_NO_ANSWER`` off the terrain (NaN height)."""
    if gn != gn:  # off the terrain: no answer
        return _NO_ANSWER, t, g, t_prev, g_prev, t_hit, math.nan, side
    if abs(gn) <= g_stop:
        return _FOUND, t, g, tn, 0.0, tn, 0.0, side
    if g_hit != g_hit:  # nothing below the surface yet
        if gn > 0.0:
            if tn >= max_range_m:  # still above the surface at the maximum range
                return _MISSED, t, g, t_prev, g_prev, t_hit, g_hit, side
            return _SEARCHING, tn, gn, t, g, t_hit, g_hit, side
        t_hit, g_hit, side = tn, gn, -1
    elif gn > 0.0:
        if side > 0:
            g_hit = 0.5 * g_hit
        t, g, side = tn, gn, 1
    else:
        if side < 0:
            g = 0.5 * g
        t_hit, g_hit, side = tn, gn, -1
    if t_hit - t <= tol_m:  # as narrow as a march's bracket: the range is interpolated in it
        return _FOUND, t, g, t, g, t_hit, g_hit, side
    return _SEARCHING, t, g, t_prev, g_prev, t_hit, g_hit, side


@njit(cache=True, error_model="numpy")
def march_dem(
    origin: Array,
    direction: Array,
    heights: Array,
    grid_fields: tuple,
    pyramid: Array,
    levels: NDArray[np.int64],
    bounds: Array,
    memo: Array,
    known: NDArray[np.uint8],
    span_deg: float,
    max_range_m: float,
    tol_m: float,
    max_iter: int,
    refine: int,
    atan2,
    top: Array,
) -> tuple[Array, int, int, int, int]:
    """Range [m] along each ray from ``origin`` (R, 3) [m, Moon-fixed] along ``direction`` (R, 3, any length)
    to its first crossing of the DEM surface (NaN: none within ``max_range_m`` [m] or unresolved after
    ``max_iter`` steps; 0: the origin lies below the surface). Each ray's slope bound is the DEM's over the
    points within ``span_deg`` of arc of its origin (``pyramid``, ``levels``: ``Dem._slope_pyramid``;
    ``bounds``: ``Dem._patch_slope_bounds``; ``memo``, ``known``: ``Dem._ray_slope_memo``;
    ``Dem.ray_slope_bound``).
    ``atan2`` is :data:`ATAN2` (an argument, not a global, so that the compiled kernel can be cached).

    The conservative march, bracket and Illinois refinement of :func:`~touchdown.moon.terrain.raycast.raycast`
    (see its module docstring), ray by ray in the same operations. The rays still marching advance together
    one step at a time, so that the atan2 of all their points is one call of numpy's loop.

    ``top`` (K,): the DEM's highest point [m] within reach of each of K equal bands of sin(latitude)
    (``Dem.max_height_by_sine`` with the reach's spread), or empty. A ray whose closest approach to the
    Moon's centre over [0, ``max_range_m``] stays more than 1 m above its band's top cannot meet the
    surface: it returns NaN without a terrain query, the answer the march would give.
    Returns (range, iterations of the slowest ray, terrain point queries, unresolved rays, rays that
    searched)."""
    grid = DemGrid(*grid_fields)
    n = origin.shape[0]
    out = np.full(n, np.nan)
    ox, oy, oz = origin[:, 0].copy(), origin[:, 1].copy(), origin[:, 2].copy()
    u = np.empty((n, 3))  # unit directions
    for i in range(n):
        d0, d1, d2 = direction[i, 0], direction[i, 1], direction[i, 2]
        length = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
        u[i, 0], u[i, 1], u[i, 2] = d0 / length, d1 / length, d2 / length
    # rays that stay high above the terrain within the maximum range (NaN, no query), and the rest; a ray
    # from the same origin as the ray cast before it (the beams of one sensor) shares its origin's query
    cast = np.empty(n, np.intp)
    n_cast = 0
    for i in range(n):
        cast[n_cast] = i
        n_cast += not _out_of_reach(ox[i], oy[i], oz[i], u[i, 0], u[i, 1], u[i, 2], max_range_m, top)
    if n_cast == 0:  # every ray out of reach (the vehicle high above the terrain): no query at all
        return out, 0, 0, 0, 0
    buf = np.empty((3, n))
    px, py, pz = np.empty(n), np.empty(n), np.empty(n)  # per live slot j: the point of its step
    t_new, g_new, rho_new = np.empty(n), np.empty(n), np.empty(n)
    origin_of = np.empty(n, np.intp)  # per cast ray: its origin's slot in px, py, pz
    n_origins = 0
    for j in range(n_cast):
        i = cast[j]
        if n_origins == 0 or not (
            ox[i] == px[n_origins - 1] and oy[i] == py[n_origins - 1] and oz[i] == pz[n_origins - 1]
        ):
            px[n_origins], py[n_origins], pz[n_origins] = ox[i], oy[i], oz[i]
            n_origins += 1
        origin_of[j] = n_origins - 1
    g, rho = np.empty(n), np.empty(n)  # per ray: at its current point
    _height_above_dem(px, py, pz, n_origins, heights, grid, atan2, buf, g_new, rho_new)
    evaluations = n_origins
    # slope bound per origin [m/m] around it (latitude, longitude left in buf[1], buf[2]), then per ray
    lip_origin = np.empty(n_origins)
    ncols = levels[0, 1]
    for j in range(n_origins):
        k = _memo_slot(buf[1, j], buf[2, j], grid, ncols, memo.shape[0])
        if k >= 0 and known[k] != 0:  # the patch's bound kept: no call (_ray_slope_bound's docstring)
            lip_origin[j] = memo[k]
        else:
            lip_origin[j] = _ray_slope_bound(
                buf[1, j], buf[2, j], span_deg, pyramid, levels, bounds, grid, memo, known
            )
    lip = np.empty(n)
    for j in range(n_cast):
        i, o = cast[j], origin_of[j]
        g[i], rho[i], lip[i] = g_new[o], rho_new[o], lip_origin[o]
    # per ray, the last step's bracket: t_prev (g_prev > 0) → t_hit (g_hit); NaN g_hit: no crossing found.
    # A ray whose height above the terrain falls all along its reach (fall_bound > 0: it crosses the surface
    # at most once) searches instead of marching: while nothing below the surface is found, t_prev holds
    # its previous point above it (NaN g_prev: none yet) for the secant through both
    t = np.zeros(n)
    t_prev, g_prev = np.zeros(n), np.full(n, np.nan)
    t_hit, g_hit = np.zeros(n), np.full(n, np.nan)
    cx, cy, cz = np.empty(n), np.empty(n), np.empty(n)  # per ray: its current point
    fall0, d_min = np.zeros(n), np.zeros(n)  # searching rays: fall rate at the origin, its lower bound
    searched = np.zeros(n, np.bool_)  # found by the search (no refinement)
    side = np.zeros(n, np.int64)  # searching rays: the end of the bracket their last point replaced
    g_stop = np.zeros(n)  # searching rays: |g| [m] that ends the search (range within SEARCH_TOL·tol_m)
    live = np.empty(n, np.intp)
    n_live = 0
    n_searched = 0
    for j in range(n_cast):
        i = cast[j]
        if g[i] <= 0.0:
            out[i] = 0.0
        elif g[i] > 0.0:
            live[n_live] = i
            n_live += 1
            fall0[i], d_min[i] = _fall_bound(
                ox[i], oy[i], oz[i], u[i, 0], u[i, 1], u[i, 2], rho[i], lip[i], max_range_m
            )
            g_stop[i] = (SEARCH_TOL * tol_m) * d_min[i]
            n_searched += d_min[i] > 0.0
        cx[i] = ox[i] + t[i] * u[i, 0]
        cy[i] = oy[i] + t[i] * u[i, 1]
        cz[i] = oz[i] + t[i] * u[i, 2]

    unresolved = 0
    it = 0
    while n_live > 0 and it < max_iter:
        it += 1
        for j in range(n_live):
            i = live[j]
            ux, uy, uz = u[i, 0], u[i, 1], u[i, 2]
            if d_min[i] > 0.0:
                t_new[j] = _search_point(
                    t[i],
                    g[i],
                    t_prev[i],
                    g_prev[i],
                    t_hit[i],
                    g_hit[i],
                    fall0[i],
                    d_min[i],
                    tol_m,
                    max_range_m,
                )
            else:
                cos_v = (cx[i] * ux + cy[i] * uy + cz[i] * uz) / rho[i]
                sin_a = math.sqrt(_maximum(0.0, 1.0 - cos_v * cos_v))
                rho_lo = _maximum(rho[i] - g[i], 1.0)
                fall = _maximum(-cos_v, 0.0)
                k = _maximum(
                    fall + (sin_a + STEP_MAX_G * g[i] / rho_lo) * lip[i] * R_MOON / rho_lo, 1.0 / STEP_MAX_G
                )
                step = g[i] / k
                t_new[j] = t[i] + _maximum(step, tol_m)
            px[j] = ox[i] + t_new[j] * ux
            py[j] = oy[i] + t_new[j] * uy
            pz[j] = oz[i] + t_new[j] * uz
        _height_above_dem(px, py, pz, n_live, heights, grid, atan2, buf, g_new, rho_new)
        evaluations += n_live
        still = 0
        for j in range(n_live):
            i = live[j]
            tn, gn = t_new[j], g_new[j]
            if d_min[i] > 0.0:
                state, t[i], g[i], t_prev[i], g_prev[i], t_hit[i], g_hit[i], side[i] = _search_update(
                    tn,
                    gn,
                    t[i],
                    g[i],
                    t_prev[i],
                    g_prev[i],
                    t_hit[i],
                    g_hit[i],
                    side[i],
                    g_stop[i],
                    tol_m,
                    max_range_m,
                )
                if state == _SEARCHING:
                    live[still] = i
                    still += 1
                elif state == _FOUND:
                    searched[i] = True
                elif state == _NO_ANSWER:
                    unresolved += 1
                continue
            if gn <= 0.0 or tn > max_range_m:  # crossed, or beyond the maximum range
                t_prev[i], g_prev[i] = t[i], g[i]
                t_hit[i], g_hit[i] = tn, gn
            else:
                live[still] = i
                still += 1
            t[i], g[i], rho[i] = tn, gn, rho_new[j]
            cx[i], cy[i], cz[i] = px[j], py[j], pz[j]
        n_live = still
    unresolved += n_live  # unresolved rays keep g_hit = NaN: no answer
    for j in range(n_live):
        g_hit[live[j]] = math.nan

    hit = np.empty(n, np.intp)
    n_hit = 0
    marched = np.empty(n, np.intp)  # the hits that refine (index into hit)
    n_marched = 0
    for i in range(n):
        if g_hit[i] <= 0.0 and out[i] != out[i]:
            if not searched[i]:
                marched[n_marched] = n_hit
                n_marched += 1
            hit[n_hit] = i
            n_hit += 1
    a, b, ga, gb = np.empty(n_hit), np.empty(n_hit), np.empty(n_hit), np.empty(n_hit)
    for j in range(n_hit):
        i = hit[j]
        a[j], b[j], ga[j], gb[j] = t_prev[i], t_hit[i], g_prev[i], g_hit[i]
    c = np.empty(n_marched)
    for _ in range(refine):  # Illinois regula falsi inside the bracket [a, b], g(a) > 0 ≥ g(b)
        for q in range(n_marched):
            j = marched[q]
            i = hit[j]
            c[q] = _clip(b[j] - gb[j] * (b[j] - a[j]) / (gb[j] - ga[j]), a[j], b[j])
            px[q] = ox[i] + c[q] * u[i, 0]
            py[q] = oy[i] + c[q] * u[i, 1]
            pz[q] = oz[i] + c[q] * u[i, 2]
        _height_above_dem(px, py, pz, n_marched, heights, grid, atan2, buf, g_new, rho_new)
        evaluations += n_marched
        for q in range(n_marched):
            j = marched[q]
            gc = g_new[q]
            if gc > 0.0:
                a[j], ga[j] = c[q], gc
                gb[j] = 0.5 * gb[j]
            else:
                ga[j] = 0.5 * ga[j]
                b[j], gb[j] = c[q], gc
    for j in range(n_hit):
        r = b[j] if gb[j] == ga[j] else b[j] - gb[j] * (b[j] - a[j]) / (gb[j] - ga[j])
        r = _clip(r, a[j], b[j])
        out[hit[j]] = r if r <= max_range_m else math.nan
    return out, it, evaluations, unresolved, n_searched


@njit(cache=True)
def dem_incidence_cos(
    origin: Array, direction: Array, r: Array, heights: Array, grid_fields: tuple, atan2
) -> Array:
    """Cosine of the incidence angle between each ray (R, 3) [m, Moon-fixed; direction of any length] and
    the DEM's outward surface normal at its hit point ``origin + r · direction`` (r (R,) [m]), NaN where
    r is not finite (raycast.incidence_cos's numpy code, in the same operations). ``atan2``: :data:`ATAN2`."""
    grid = DemGrid(*grid_fields)
    n = origin.shape[0]
    out = np.full(n, np.nan)
    hit = np.empty(n, np.intp)
    n_hit = 0
    for i in range(n):
        if math.isfinite(r[i]):
            hit[n_hit] = i
            n_hit += 1
    x, y, z = np.empty(n_hit), np.empty(n_hit), np.empty(n_hit)
    rxy, lat, lon = np.empty(n_hit), np.empty(n_hit), np.empty(n_hit)
    for j in range(n_hit):
        i = hit[j]
        x[j] = origin[i, 0] + r[i] * direction[i, 0]
        y[j] = origin[i, 1] + r[i] * direction[i, 1]
        z[j] = origin[i, 2] + r[i] * direction[i, 2]
        rxy[j] = math.sqrt(x[j] * x[j] + y[j] * y[j])
    _atan2(atan2, z, rxy, lat, n_hit)
    _atan2(atan2, y, x, lon, n_hit)
    _, de, dn = _height_gradient(lat, lon, heights, grid)
    for j in range(n_hit):
        i = hit[j]
        # sines and cosines of the hit point's latitude and longitude from its coordinates, not libm's
        # sin and cos of the angles (4 calls a beam)
        rho = math.sqrt(rxy[j] * rxy[j] + z[j] * z[j])
        slat, clat = z[j] / rho, rxy[j] / rho
        slon, clon = (y[j] / rxy[j], x[j] / rxy[j]) if rxy[j] > 0.0 else (0.0, 1.0)
        # up − de · east − dn · north, east = (−sin lon, cos lon, 0), north = (−sin lat cos lon, …, cos lat)
        n0 = clat * clon - de[j] * -slon - dn[j] * (-slat * clon)
        n1 = clat * slon - de[j] * clon - dn[j] * (-slat * slon)
        n2 = slat - de[j] * 0.0 - dn[j] * clat
        scale = math.sqrt(1.0 + de[j] * de[j] + dn[j] * dn[j])
        n0, n1, n2 = n0 / scale, n1 / scale, n2 / scale
        d0, d1, d2 = direction[i, 0], direction[i, 1], direction[i, 2]
        out[i] = -(d0 * n0 + d1 * n1 + d2 * n2) / math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
    return out
