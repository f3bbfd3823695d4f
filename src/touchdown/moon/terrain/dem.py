"""Gridded DEMs in PDS3 form (the LRO LOLA ``LDEM_*`` products): reading, checking and querying.

``read_dem(path)`` opens a SIMPLE CYLINDRICAL grid described by a PDS3 label and returns a :class:`Dem`,
which implements the :class:`~touchdown.moon.terrain.base.Terrain` protocol.

Heights. ``h = DN × SCALING_FACTOR`` [m] above the 1,737,400 m datum sphere (REFERENCE §2.1). The label's
``OFFSET`` (1,737,400 m) turns the same DN into *radius*; adding it to a height is the GDAL trap of
REFERENCE §2.1, so it is only checked (0 or ``R_MOON``), never added.

Pixel geometry (PDS convention, zero-based continuous pixel coordinates, integers at pixel centres)::

    line   = LINE_PROJECTION_OFFSET   − lat_deg · MAP_RESOLUTION
    sample = SAMPLE_PROJECTION_OFFSET + (lon_deg − CENTER_LONGITUDE) · MAP_RESOLUTION

On LDEM_4 this puts line 0 at 89.875°N and sample 0 at 0.125°E (REFERENCE §2.1).

Between pixel centres the surface is the bilinear patch of the four surrounding posts, in (line, sample).
Global grids wrap in longitude; latitudes beyond the outermost row of centres clamp to that row. A
regional tile covers its pixels out to their edges (half a pixel beyond the outermost centres, clamped
there too); beyond that, heights are NaN.

Poles. On a latitude-longitude grid an east step of one pixel shrinks to zero length at the pole, so the
bilinear surface's east slope is unbounded there. The metric therefore uses
``cos_eff(lat) = max(cos(lat), cos(90° − pole_cap_deg))`` (default cap 0.125°, about 3.8 km from the pole,
exactly the clamped polar cap of LDEM_4). Outside the caps, ``max_slope`` is a true bound of |∇h| of the
bilinear surface; inside them it bounds the reported ``height_gradient`` (which uses the same metric).

Speed. Grids held in memory (``IN_MEMORY_MAX_POSTS``) answer ``height``, ``height_gradient`` and
``max_slope_near`` in numba kernels (:mod:`~touchdown.moon.terrain.kernels`) with the numpy code's
operations, so the same bits; bigger grids, read through the memory map, keep the numpy code.
"""

from __future__ import annotations

import functools
import math
import os
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.errors import InputError
from touchdown.moon.constants import R_MOON
from touchdown.moon.terrain.kernels import (
    DemGrid,
    dem_height,
    dem_height_gradient,
    dem_slope_bound_around,
    dem_slope_bound_near,
)
from touchdown.moon.terrain.pds3 import Quantity, find_key, find_object, parse_label, unit_value

__all__ = ["Dem", "find_label", "read_dem"]

Array = NDArray[np.float64]

#: No point on the Moon lies farther than this from the datum sphere (LOLA range −9.1 … +10.8 km);
#: sampled heights beyond it mark a corrupt or misread grid [m].
MAX_ABS_HEIGHT_M = 25_000.0
#: A grid is corrupt when more than this fraction of sampled DNs lie outside the label's MINIMUM/MAXIMUM
#: (±1 DN) or beyond ``MAX_ABS_HEIGHT_M``.
CORRUPT_FRACTION = 0.01
#: The corruption check reads at most about this many posts (a strided sample of big grids).
CHECK_SAMPLES = 1_000_000
#: Grids of at most this many posts keep their heights in memory as float64 (8 bytes per post: 8 MB for
#: LDEM_4, 33 MB for LDEM_8); bigger grids are read through the memory map at each query.
IN_MEMORY_MAX_POSTS = 4_200_000
#: No kept per-patch slope bounds (the kernels then bound each point alone: Dem.max_slope_around).
_NO_MEMO = (np.empty(0), np.empty(0, np.uint8))

_INT_TYPES = {
    "LSB_INTEGER": "<i",
    "PC_INTEGER": "<i",
    "VAX_INTEGER": "<i",
    "MSB_INTEGER": ">i",
    "SUN_INTEGER": ">i",
    "MAC_INTEGER": ">i",
    "INTEGER": ">i",
    "LSB_UNSIGNED_INTEGER": "<u",
    "PC_UNSIGNED_INTEGER": "<u",
    "VAX_UNSIGNED_INTEGER": "<u",
    "MSB_UNSIGNED_INTEGER": ">u",
    "SUN_UNSIGNED_INTEGER": ">u",
    "MAC_UNSIGNED_INTEGER": ">u",
    "UNSIGNED_INTEGER": ">u",
}
_REAL_TYPES = {
    "PC_REAL": "<f",
    "IEEE_REAL": ">f",
    "FLOAT": ">f",
    "REAL": ">f",
    "SUN_REAL": ">f",
    "MAC_REAL": ">f",
}
_PROJECTIONS = ("SIMPLE CYLINDRICAL", "SIMPLE_CYLINDRICAL", "EQUIRECTANGULAR")


def find_label(path: str | Path) -> Path:
    """The PDS3 label of a DEM given its ``.LBL`` or its ``.IMG`` (sibling label found case-insensitively).

    An image without a detached label is returned itself when it starts with an attached PDS3 label.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("DEM file not found", where=str(path))
    if path.is_dir():
        raise InputError("is a directory, not a DEM label or image", where=str(path))
    if path.suffix.lower() == ".lbl":
        return path
    sibling = _sibling(path.parent, path.stem + ".lbl")
    if sibling is not None:
        return sibling
    with path.open("rb") as f:
        head = f.read(32)
    if head.lstrip().upper().startswith((b"PDS_VERSION_ID", b"CCSD")):
        return path
    raise InputError(f"no PDS3 label ({path.stem}.LBL) beside this image", where=str(path))


def _sibling(directory: Path, name: str) -> Path | None:
    """``directory/name`` matched case-insensitively (exact case preferred), or None."""
    exact = directory / name
    if exact.is_file():
        return exact
    try:
        entries = os.listdir(directory)
    except OSError:
        return None
    lower = name.lower()
    for entry in sorted(entries):
        if entry.lower() == lower and (directory / entry).is_file():
            return directory / entry
    return None


def read_dem(path: str | Path, *, pole_cap_deg: float = 0.125, check: bool = True) -> Dem:
    """Open a SIMPLE CYLINDRICAL PDS3 DEM from its label or image path; bad input → InputError.

    ``pole_cap_deg`` [deg] is the polar cap where the east metric is floored (see the module docstring);
    ``check=False`` skips the (cheap, strided) corruption check.
    """
    label_path = find_label(path)
    label = parse_label(label_path)
    return Dem(label_path, label, pole_cap_deg=pole_cap_deg, check=check)


def _num(
    block: dict[str, Any], key: str, where: str, *, unit: str | None = None, default: Any = None
) -> float:
    raw = block.get(key, default)
    if raw is None:
        raise InputError(f"label has no {key}", where=where)
    value = unit_value(raw)
    if not isinstance(value, int | float):
        raise InputError(f"{key} = {value!r} is not a number", where=where)
    if unit == "km" and isinstance(raw, Quantity) and raw.unit.lower() in ("km", "kilometer", "kilometers"):
        value = value * 1000.0
    return float(value)


class Dem:
    """A SIMPLE CYLINDRICAL height grid above the ``R_MOON`` sphere (the :class:`Terrain` protocol).

    Angles in radians, heights in metres. Query methods take arrays of any broadcastable shape.
    """

    def __init__(
        self, label_path: Path, label: dict[str, Any], *, pole_cap_deg: float = 0.125, check: bool = True
    ) -> None:
        self.path = Path(label_path)
        where = str(self.path)
        image = find_object(label, "IMAGE")
        if image is None or "LINES" not in image:
            raise InputError("label has no IMAGE object with LINES/LINE_SAMPLES", where=where)
        proj = find_object(label, "IMAGE_MAP_PROJECTION")
        if proj is None:
            raise InputError(
                "label has no IMAGE_MAP_PROJECTION object (not a map-projected grid)", where=where
            )

        # --- sample layout -------------------------------------------------------------------------------
        self.lines = int(_num(image, "LINES", where))
        self.samples = int(_num(image, "LINE_SAMPLES", where))
        if self.lines < 2 or self.samples < 2:
            raise InputError(
                f"grid of {self.lines} × {self.samples} is too small (need ≥ 2 × 2)", where=where
            )
        sample_type = str(image.get("SAMPLE_TYPE", "")).upper().replace(" ", "_")
        bits = int(_num(image, "SAMPLE_BITS", where))
        if sample_type in _INT_TYPES and bits in (8, 16, 32):
            code = _INT_TYPES[sample_type]
        elif sample_type in _REAL_TYPES and bits in (32, 64):
            code = _REAL_TYPES[sample_type]
        else:
            raise InputError(
                f"unsupported SAMPLE_TYPE {sample_type or '(none)'} with SAMPLE_BITS {bits} (supported: "
                "LSB/MSB_INTEGER and unsigned 8/16/32 bits, PC/IEEE_REAL 32/64 bits)",
                where=where,
            )
        self.dtype = np.dtype(f"{code}{bits // 8}")
        for key in ("LINE_PREFIX_BYTES", "LINE_SUFFIX_BYTES"):
            if int(unit_value(image.get(key, 0)) or 0) != 0:
                raise InputError(f"unsupported {key} (only plain grids are read)", where=where)
        if int(unit_value(image.get("BANDS", 1)) or 1) != 1:
            raise InputError("unsupported multi-band image (BANDS > 1)", where=where)

        # --- scaling: height = DN × SCALING_FACTOR (REFERENCE §2.1; OFFSET gives radius, never added) -----
        unit = str(image.get("UNIT", "METER")).upper()
        to_m = 1000.0 if unit in ("KILOMETER", "KILOMETERS", "KM") else 1.0
        self.scale_m = _num(image, "SCALING_FACTOR", where, default=1.0) * to_m
        offset_m = _num(image, "OFFSET", where, default=0.0) * to_m
        if offset_m != 0.0 and abs(offset_m - R_MOON) > 1.0:
            raise InputError(
                f"unsupported OFFSET {offset_m:,.1f} m: heights must be relative to the "
                f"{R_MOON:,.0f} m sphere",
                where=where,
            )
        missing = image.get("MISSING_CONSTANT")
        self.missing_dn: float | None = None if missing is None else float(unit_value(missing))
        self.dn_min = unit_value(image.get("MINIMUM"))
        self.dn_max = unit_value(image.get("MAXIMUM"))

        # --- projection ---------------------------------------------------------------------------------
        ptype = str(proj.get("MAP_PROJECTION_TYPE", "")).upper()
        if ptype not in _PROJECTIONS or _num(proj, "CENTER_LATITUDE", where, default=0.0) != 0.0:
            raise InputError(
                f"unsupported map projection {ptype or '(none)'!r} (only SIMPLE CYLINDRICAL grids are read)",
                where=where,
            )
        direction = str(proj.get("POSITIVE_LONGITUDE_DIRECTION", "EAST")).upper()
        if direction != "EAST":
            raise InputError(f"unsupported POSITIVE_LONGITUDE_DIRECTION {direction}", where=where)
        #: Resolution [pixels per degree].
        self.pixels_per_degree = _num(proj, "MAP_RESOLUTION", where)
        if not self.pixels_per_degree > 0:
            raise InputError(f"MAP_RESOLUTION {self.pixels_per_degree} must be positive", where=where)
        self.line_offset = _num(proj, "LINE_PROJECTION_OFFSET", where)
        self.sample_offset = _num(proj, "SAMPLE_PROJECTION_OFFSET", where)
        self.center_lon_deg = _num(proj, "CENTER_LONGITUDE", where)
        #: Radius of the map's sphere [m]: the metric of pixel sizes and slopes.
        self.radius_m = _num(proj, "A_AXIS_RADIUS", where, unit="km", default=R_MOON / 1000.0)
        if isinstance(proj.get("A_AXIS_RADIUS"), int | float) and self.radius_m < 1e5:
            self.radius_m *= 1000.0  # PDS default unit of A_AXIS_RADIUS is km
        if abs(self.radius_m - R_MOON) > 50_000.0:
            raise InputError(f"A_AXIS_RADIUS {self.radius_m:,.0f} m is not the Moon's", where=where)
        res = self.pixels_per_degree
        # Pixel-edge extents implied by the offsets; checked against the label's stated bounds.
        self.north_edge_deg = (self.line_offset + 0.5) / res
        self.south_edge_deg = (self.line_offset + 0.5 - self.lines) / res
        self.west_edge_deg = self.center_lon_deg - (self.sample_offset + 0.5) / res
        self.east_edge_deg = self.west_edge_deg + self.samples / res
        stated = {
            "MAXIMUM_LATITUDE": self.north_edge_deg,
            "MINIMUM_LATITUDE": self.south_edge_deg,
            "WESTERNMOST_LONGITUDE": self.west_edge_deg,
            "EASTERNMOST_LONGITUDE": self.east_edge_deg,
        }
        for key, implied in stated.items():
            if key in proj:
                value = _num(proj, key, where)
                diff = value - implied
                if "LONGITUDE" in key:
                    diff = (diff + 180.0) % 360.0 - 180.0
                if abs(diff) > 1.0 / res:
                    raise InputError(
                        f"label is inconsistent: {key} = {value:g}° but the projection offsets imply "
                        f"{implied:g}°",
                        where=where,
                    )
        if self.north_edge_deg > 90.0 + 1.0 / res or self.south_edge_deg < -90.0 - 1.0 / res:
            raise InputError("label is inconsistent: latitudes beyond ±90°", where=where)
        span = self.samples / res
        if span > 360.0 + 0.5 / res:
            raise InputError(f"label is inconsistent: {span:g}° of longitude", where=where)
        #: True when the grid covers all longitudes (it then wraps at 0°/360°).
        self.is_global = abs(span - 360.0) <= 0.5 / res
        self.pole_cap_deg = float(pole_cap_deg)
        self._cos_floor = math.sin(math.radians(self.pole_cap_deg))  # cos(90° − cap)

        # --- the image ----------------------------------------------------------------------------------
        self.image_path, self.byte_offset = self._locate_image(label, image)
        self.dn = self._open_image()
        self._flat = self.dn.reshape(-1)
        if check:
            self._check_content()

        product = label.get("PRODUCT_ID") or self.image_path.stem.upper()
        west = self.west_edge_deg % 360.0
        extent = (
            "global"
            if self.is_global
            else f"{self.south_edge_deg:g}…{self.north_edge_deg:g}°N, {west:g}…{west + span:g}°E"
        )
        self.description = (
            f"{product}: {self.lines} × {self.samples} {self.dtype.name}, {res:g} px/deg "
            f"({self.pixel_size_m:,.0f} m/px), {extent} — {self.path}"
        )

    # --- construction helpers ----------------------------------------------------------------------------
    def _locate_image(self, label: dict[str, Any], image: dict[str, Any]) -> tuple[Path, int]:
        """Image file and byte offset from the ``^IMAGE`` pointer (file, (file, record) or record)."""
        where = str(self.path)
        pointer = find_key(label, "^IMAGE")
        if pointer is None:
            raise InputError("label has no ^IMAGE pointer", where=where)
        record_bytes = find_key(label, "RECORD_BYTES")
        file_name: str | None = None
        location: Any = None
        if isinstance(pointer, str):
            file_name = pointer
        elif isinstance(pointer, tuple) and len(pointer) == 2 and isinstance(pointer[0], str):
            file_name, location = pointer
        else:
            location = pointer  # attached label: a record number or a <BYTES> offset
        if location is None:
            offset = 0
        elif isinstance(location, Quantity) and location.unit.upper() == "BYTES":
            offset = int(location.value) - 1
        elif isinstance(location, int):
            if record_bytes is None:
                raise InputError("^IMAGE names a record but the label has no RECORD_BYTES", where=where)
            offset = (location - 1) * int(unit_value(record_bytes))
        else:
            raise InputError(f"cannot read ^IMAGE pointer {pointer!r}", where=where)
        if offset < 0:
            raise InputError(f"^IMAGE pointer {pointer!r} is before the start of the file", where=where)
        if file_name is None:
            return self.path, offset
        found = _sibling(self.path.parent, Path(file_name).name)
        if found is None:
            raise InputError(
                f"image file {file_name} named by the label is missing",
                where=str(self.path.parent / file_name),
            )
        return found, offset

    def _open_image(self) -> np.memmap:
        size = self.image_path.stat().st_size
        need = self.lines * self.samples * self.dtype.itemsize
        expected = self.byte_offset + need
        if size != expected:
            head = f" after a {self.byte_offset:,}-byte offset" if self.byte_offset else ""
            what = "truncated" if size < expected else "size mismatch"
            raise InputError(
                f"{what}: label says {self.lines} × {self.samples} × {self.dtype.name} = {need:,} bytes"
                f"{head}; {self.image_path.name} has {size:,}",
                where=str(self.image_path),
            )
        return np.memmap(
            self.image_path,
            dtype=self.dtype,
            mode="r",
            offset=self.byte_offset,
            shape=(self.lines, self.samples),
        )

    def _check_content(self) -> None:
        """Reject grids that cannot be lunar heights (wrong type, byte order, garbage); strided sample."""
        stride = max(1, math.ceil(math.sqrt(self.lines * self.samples / CHECK_SAMPLES)))
        dn = np.asarray(self.dn[::stride, ::stride], dtype=np.float64).ravel()
        if self.missing_dn is not None:
            dn = dn[dn != self.missing_dn]
        dn = dn[np.isfinite(dn)]
        if dn.size == 0:
            return
        where = str(self.image_path)
        if isinstance(self.dn_min, int | float) and isinstance(self.dn_max, int | float):
            outside = np.count_nonzero((dn < self.dn_min - 1) | (dn > self.dn_max + 1)) / dn.size
            if outside > CORRUPT_FRACTION:
                raise InputError(
                    f"corrupt content: {outside:.0%} of sampled DNs lie outside the label's MINIMUM…MAXIMUM "
                    f"({self.dn_min:g}…{self.dn_max:g})",
                    where=where,
                )
        wild = np.count_nonzero(np.abs(dn * self.scale_m) > MAX_ABS_HEIGHT_M) / dn.size
        if wild > CORRUPT_FRACTION / 10:
            raise InputError(
                f"corrupt content: {wild:.1%} of sampled heights lie beyond ±{MAX_ABS_HEIGHT_M / 1000:g} km "
                "(the Moon has none)",
                where=where,
            )

    # --- geometry ----------------------------------------------------------------------------------------
    @property
    def pixel_size_m(self) -> float:
        """North-south pixel size [m] (also the east-west size at the equator)."""
        return self.radius_m * math.radians(1.0 / self.pixels_per_degree)

    def pixel_coords_deg(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> tuple[Array, Array]:
        """Continuous zero-based (line, sample) of (lat, lon) [deg]; longitude taken into the grid span."""
        return self._pixel_coords(
            np.asarray(lat_deg, dtype=np.float64), np.asarray(lon_deg, dtype=np.float64)
        )

    def _pixel_coords(self, lat_deg: Array, lon_deg: Array) -> tuple[Array, Array]:
        res = self.pixels_per_degree
        line = self.line_offset - lat_deg * res
        lon_rel = np.mod(lon_deg - self.west_edge_deg, 360.0)  # [0, 360) east of the west edge
        sample = self.sample_offset + (self.west_edge_deg + lon_rel - self.center_lon_deg) * res
        return line, sample

    def pixel_center_deg(self, line: ArrayLike, sample: ArrayLike) -> tuple[Array, Array]:
        """(lat, lon) [deg] of zero-based pixel coordinates; longitude in [0, 360)."""
        res = self.pixels_per_degree
        lat = (self.line_offset - np.asarray(line, dtype=np.float64)) / res
        lon = self.center_lon_deg + (np.asarray(sample, dtype=np.float64) - self.sample_offset) / res
        return lat, np.mod(lon, 360.0)

    def contains(self, lat: ArrayLike, lon: ArrayLike) -> NDArray[np.bool_]:
        """True where (lat, lon) [rad] lies on the grid (always, for a valid point on a global grid)."""
        lat, lon = np.broadcast_arrays(np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64))
        line, sample = self._pixel_coords(np.degrees(lat), np.degrees(lon))
        return self._on_grid(lat, line, sample)

    def _on_grid(self, lat: Array, line: Array, sample: Array) -> NDArray[np.bool_]:
        """:meth:`contains` from the point's latitude [rad] and its pixel coordinates."""
        tol = 1e-9
        # NaN fails every comparison, so the range tests also reject a non-finite line (or sample)
        ok = (np.abs(lat) <= math.pi / 2 + 1e-12) & (line >= -0.5 - tol) & (line <= self.lines - 0.5 + tol)
        if self.is_global:
            return ok & np.isfinite(sample)
        return ok & (sample >= -0.5 - tol) & (sample <= self.samples - 0.5 + tol)

    # --- queries -----------------------------------------------------------------------------------------
    def _patch(self, lat: ArrayLike, lon: ArrayLike) -> dict[str, Any]:
        """Indices and weights of the bilinear patch around each point; NaN-safe.

        Off-grid points (``ok`` False) get the patch of (0°, 0°) and are masked by the callers.
        """
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        if lat.shape != lon.shape:
            lat, lon = np.broadcast_arrays(lat, lon)
        line, sample = self._pixel_coords(np.degrees(lat), np.degrees(lon))
        ok = self._on_grid(lat, line, sample)
        all_ok = bool(ok.all())
        if not all_ok:
            line, sample = self._pixel_coords(
                np.degrees(np.where(ok, lat, 0.0)), np.degrees(np.where(ok, lon, 0.0))
            )
        nl, ns = self.lines, self.samples
        # = np.clip(line, 0, nl − 1): line is finite here and never −0.0 (a difference with a non-zero offset)
        y = np.minimum(np.maximum(line, 0.0), nl - 1.0)
        i0 = np.minimum(np.floor(y).astype(np.intp), nl - 2)
        fy = y - i0
        if self.is_global:
            x = np.mod(sample, ns)
            j0 = np.minimum(np.floor(x).astype(np.intp), ns - 1)
            in_x: NDArray[np.bool_] | bool = True
        else:
            x = np.minimum(np.maximum(sample, 0.0), ns - 1.0)
            in_x = x == sample
            j0 = np.minimum(np.floor(x).astype(np.intp), ns - 2)
        fx = x - j0
        return {
            "lat": lat,
            "ok": ok,
            "all_ok": all_ok,
            "i0": i0,
            "j0": j0,
            "fy": fy,
            "fx": fx,
            "in_x": in_x,
            "in_y": y == line,  # False where latitude was clamped (the patch is flat north-south there)
        }

    def _corners(self, i0: NDArray[np.intp], j0: NDArray[np.intp]) -> tuple[Array, Array, Array, Array]:
        """Heights [m] of the patch corners (i0, j0), (i0, j0 + 1), (i0 + 1, j0), (i0 + 1, j0 + 1)."""
        grid = self._heights
        if grid is not None:  # rows of samples + 1 posts: the extra column repeats column 0 (the wrap)
            width = self.samples + 1
            k = i0 * width + j0
            south = k + width
            return grid.take(k), grid.take(k + 1), grid.take(south), grid.take(south + 1)
        ns = self.samples
        k = i0 * ns + j0
        k1 = k + 1 if not self.is_global else np.where(j0 + 1 == ns, k + 1 - ns, k + 1)
        return self._posts(k), self._posts(k1), self._posts(k + ns), self._posts(k1 + ns)

    @cached_property
    def _heights(self) -> Array | None:
        """Flat float64 heights [m] of ``lines × (samples + 1)`` posts, the extra column a copy of column 0
        (the wrap of a global grid), or None for grids over ``IN_MEMORY_MAX_POSTS``. Shared by every ``Dem``
        of the same image; the same ``DN × scale`` (NaN at MISSING_CONSTANT) as :meth:`_posts`."""
        if self.lines * self.samples > IN_MEMORY_MAX_POSTS:
            return None
        return _height_grid(
            str(self.image_path),
            self.byte_offset,
            self.dtype.str,
            self.lines,
            self.samples,
            self.scale_m,
            self.missing_dn,
        )

    @cached_property
    def kernel_grid(self) -> tuple[Array, tuple] | None:
        """The in-memory heights (:attr:`_heights`) and the fields of the geometry (``tuple(DemGrid)``) that
        the numba kernels (:mod:`~touchdown.moon.terrain.kernels`) query, or None for grids read through the
        memory map."""
        heights = self._heights
        if heights is None:
            return None
        return heights, self._grid_fields

    @cached_property
    def _grid_fields(self) -> tuple:
        """``tuple(DemGrid)`` of this grid's geometry."""
        grid = DemGrid(
            line_offset=float(self.line_offset),
            sample_offset=float(self.sample_offset),
            west_edge_deg=float(self.west_edge_deg),
            center_lon_deg=float(self.center_lon_deg),
            pixels_per_degree=float(self.pixels_per_degree),
            lines=int(self.lines),
            samples=int(self.samples),
            is_global=bool(self.is_global),
            pixel_m=float(self.radius_m * math.radians(1.0 / self.pixels_per_degree)),
            cos_floor=float(self._cos_floor),
        )
        return tuple(grid)

    def _posts(self, idx: NDArray[np.intp]) -> Array:
        """Heights [m] at flat post indices (NaN at MISSING_CONSTANT)."""
        dn = self._flat[idx].astype(np.float64)
        if self.missing_dn is not None:
            dn[dn == self.missing_dn] = np.nan
        return dn * self.scale_m

    def height(
        self, lat: ArrayLike, lon: ArrayLike, method: Literal["bilinear", "nearest"] = "bilinear"
    ) -> Array:
        """Height [m] above the ``R_MOON`` sphere at (lat, lon) [rad]; NaN off a regional tile."""
        if method == "nearest":
            lat, lon = np.broadcast_arrays(
                np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
            )
            ok = self.contains(lat, lon)
            line, sample = self.pixel_coords_deg(
                np.degrees(np.where(ok, lat, 0.0)), np.degrees(np.where(ok, lon, 0.0))
            )
            i = np.clip(np.floor(line + 0.5), 0, self.lines - 1).astype(np.intp)
            j = np.floor(sample + 0.5)
            j = np.mod(j, self.samples) if self.is_global else np.clip(j, 0, self.samples - 1)
            h = self._posts(i * self.samples + j.astype(np.intp))
            return np.where(ok, h, np.nan)
        if method != "bilinear":
            raise InputError(f"unknown interpolation method {method!r} (use 'bilinear' or 'nearest')")
        if self.kernel_grid is None:
            return self._bilinear(lat, lon, gradient=False)[0]
        if _is_vector(lat) and _is_vector(lon) and lat.shape == lon.shape:  # the simulator's case
            return dem_height(lat, lon, *self.kernel_grid)
        lat_1d, lon_1d, shape = _flat_points(lat, lon)
        return dem_height(lat_1d, lon_1d, *self.kernel_grid).reshape(shape)[()]

    def height_gradient(self, lat: ArrayLike, lon: ArrayLike) -> tuple[Array, Array, Array]:
        """Height [m] and the bilinear patch's analytic slopes ∂h/∂east, ∂h/∂north [m/m] at (lat, lon) [rad].

        East metric R·cos_eff(lat)·Δlon, north metric R·Δlat; both slopes are 0 along clamped directions.
        """
        if self.kernel_grid is None:
            return self._bilinear(lat, lon, gradient=True)
        lat_1d, lon_1d, shape = _flat_points(lat, lon)
        h, de, dn = dem_height_gradient(lat_1d, lon_1d, *self.kernel_grid)
        return h.reshape(shape)[()], de.reshape(shape), dn.reshape(shape)

    def _bilinear(self, lat: ArrayLike, lon: ArrayLike, *, gradient: bool) -> tuple[Array, Array, Array]:
        """Height (and slopes) in numpy: the path of grids too big for memory, and the reference of the
        kernels (:func:`~touchdown.moon.terrain.kernels.dem_height`, the same bits)."""
        p = self._patch(lat, lon)
        h00, h01, h10, h11 = self._corners(p["i0"], p["j0"])
        fx, fy, ok = p["fx"], p["fy"], p["ok"]
        top = h00 + fx * (h01 - h00)
        bottom = h10 + fx * (h11 - h10)
        h = top + fy * (bottom - top)
        if not p["all_ok"]:
            h = np.where(ok, h, np.nan)
        if not gradient:
            return h, h, h
        dh_dx = np.where(p["in_x"], (1.0 - fy) * (h01 - h00) + fy * (h11 - h10), 0.0)  # per sample
        dh_dy = np.where(p["in_y"], bottom - top, 0.0)  # per line (southward)
        step = math.radians(1.0 / self.pixels_per_degree)
        cos_eff = np.maximum(np.cos(p["lat"]), self._cos_floor)
        de = np.where(ok, dh_dx / (self.radius_m * step * cos_eff), np.nan)
        dn = np.where(ok, -dh_dy / (self.radius_m * step), np.nan)
        return h, de, dn

    @cached_property
    def _patch_slope_bounds(self) -> Array:
        """Bound of |∇h| [m/m] per row patch: [north strip, rows (0,1), …, (L−2, L−1), south strip].

        For the patch between rows i and i+1: |∂h/∂east| ≤ max(A_i/cos_i, A_i+1/cos_i+1)/(R·Δlon) with A the
        row's max |east post difference| (cos is concave, the bilinear numerator linear in latitude), and
        |∂h/∂north| ≤ max |north post difference|/(R·Δlat), so |∇h| ≤ √(E² + N²). The clamped strips
        beyond the outermost rows (to the pole of a global grid, to the tile edge otherwise) are flat
        north-south. Computed once, in row blocks so that memory stays bounded on 500 MB grids.
        """
        nl = self.lines
        ex = np.zeros(nl)  # max |Δh| along each row (with the 360° wrap on global grids) [m]
        ny = np.zeros(nl - 1)  # max |Δh| between rows i and i+1 [m]
        exact_int = self.dtype.kind in "iu" and self.missing_dn is None
        block = max(2, 4_000_000 // self.samples)

        def wrap(h: np.ndarray) -> dict[str, np.ndarray]:
            return {"append": h[:, :1]} if self.is_global else {}

        for start in range(0, nl, block):  # a loop over row blocks of the grid, not over query points
            stop = min(nl, start + block + 1)
            if exact_int:  # DN differences in int32 are exact and cheaper than float64
                h = np.asarray(self.dn[start:stop], dtype=np.int32)
                dx = np.abs(np.diff(h, axis=1, **wrap(h)))
                ex[start:stop] = dx.max(axis=1) * abs(self.scale_m)
                if stop - start > 1:
                    ny[start : stop - 1] = np.abs(np.diff(h, axis=0)).max(axis=1) * abs(self.scale_m)
                continue
            h = np.asarray(self.dn[start:stop], dtype=np.float64)
            if self.missing_dn is not None:
                h[h == self.missing_dn] = np.nan
            h *= self.scale_m
            dx = np.abs(np.diff(h, axis=1, **wrap(h)))
            ex[start:stop] = np.max(dx, axis=1, initial=0.0, where=~np.isnan(dx))
            if stop - start > 1:
                dy = np.abs(np.diff(h, axis=0))
                ny[start : stop - 1] = np.max(dy, axis=1, initial=0.0, where=~np.isnan(dy))
        return self._slope_bounds_from(ex, ny)

    def _slope_bounds_from(self, ex: Array, ny: Array) -> Array:
        """Bounds of |∇h| [m/m] (lines + 1, …): [north strip, the patches between rows, south strip], from
        the largest |east post difference| [m] on each row, ``ex`` (lines, …), and the largest |north post
        difference| [m] of each patch, ``ny`` (lines − 1, …); trailing axes: per row (none) or per patch.

        cos is concave on [−90°, 90°], so cos(lat) ≥ the linear blend of the row values and the east slope
        ((1−f)·Δ_i + f·Δ_i+1) / (R·Δlon·cos lat) peaks at a row: max(A/c_i, B/c_i+1). Where the floor bites,
        fall back to the smaller floored cosine of the two rows. The clamped strips beyond the outermost rows
        are flat north-south."""
        nl = self.lines
        step = math.radians(1.0 / self.pixels_per_degree)
        lat_rows = np.radians(self.pixel_center_deg(np.arange(nl), 0)[0])
        cos_rows = np.cos(lat_rows).reshape((nl,) + (1,) * (ex.ndim - 1))
        c0, c1 = cos_rows[:-1], cos_rows[1:]
        floor = self._cos_floor
        tight = np.maximum(ex[:-1] / np.maximum(c0, floor), ex[1:] / np.maximum(c1, floor))
        loose = np.maximum(ex[:-1], ex[1:]) / np.maximum(np.minimum(c0, c1), floor)
        unfloored = (c0 >= floor * (1 - 1e-9)) & (c1 >= floor * (1 - 1e-9))
        east = np.where(unfloored, tight, loose) / (self.radius_m * step)
        north = ny / (self.radius_m * step)
        strips = []
        for row, edge_deg in ((0, self.north_edge_deg), (nl - 1, self.south_edge_deg)):
            cos_edge = max(math.cos(math.radians(min(abs(edge_deg), 90.0))), self._cos_floor)
            strips.append(ex[row : row + 1] / (self.radius_m * step * cos_edge))
        return np.concatenate([strips[0], np.hypot(east, north), strips[1]]) * (1.0 + 1e-9)

    @cached_property
    def _slope_pyramid(self) -> tuple[Array, NDArray[np.int64]] | None:
        """Bounds of |∇h| [m/m] per bilinear patch and per block of 2^ℓ × 2^ℓ patches, ℓ = 0, 1, … up to one
        block: (flat values, levels (L, 3) int64: rows, columns and offset of each level), or None for grids
        over ``IN_MEMORY_MAX_POSTS``.

        Level 0 has the rows of :attr:`_patch_slope_bounds` (north strip, the patches between rows, south
        strip) and, per row, the patches between samples j and j + 1 (global grids: with the wrap; a tile's
        clamped east and west strips, whose surface has no east slope, share the bound of the patch beside
        them). Each patch's bound is that of its row, from its own four posts: |∂h/∂east| ≤ max(Δ_N/cos_N,
        Δ_S/cos_S)/(R·Δlon) with Δ the patch's east post differences on its north and south rows, and
        |∂h/∂north| ≤ the larger of its two north post differences/(R·Δlat). Missing posts count as flat:
        the surface is NaN there. A block's value is the largest of its patches'."""
        if self._heights is None:
            return None
        nl, ns = self.lines, self.samples
        h = self._heights.reshape(nl, ns + 1)  # column ns: a copy of column 0 (the wrap)
        if self.is_global:
            ex = np.abs(np.diff(h, axis=1))  # (nl, ns): samples j → j + 1, the last one across the wrap
            ny = np.abs(np.diff(h, axis=0))  # (nl − 1, ns + 1)
        else:
            body = h[:, :ns]
            ex = np.abs(np.diff(body, axis=1)) if ns > 1 else np.zeros((nl, 1))
            ny = np.abs(np.diff(body if ns > 1 else np.concatenate([body, body], axis=1), axis=0))
        ex = np.nan_to_num(ex, nan=0.0)
        ny = np.nan_to_num(ny, nan=0.0)
        north_dn = np.maximum(ny[:, :-1], ny[:, 1:])  # (nl − 1, columns): the patch's two columns
        level = self._slope_bounds_from(ex, north_dn)
        levels, values, offset = [], [], 0
        while True:
            rows, cols = level.shape
            levels.append((rows, cols, offset))
            values.append(level.reshape(-1))
            offset += level.size
            if rows == 1 and cols == 1:
                break
            r2, c2 = (rows + 1) // 2, (cols + 1) // 2
            pad = np.zeros((2 * r2, 2 * c2))
            pad[:rows, :cols] = level
            level = pad.reshape(r2, 2, c2, 2).max(axis=(1, 3))
        flat = np.concatenate(values)
        flat.flags.writeable = False
        table = np.array(levels, dtype=np.int64)
        table.flags.writeable = False
        return flat, table

    def max_slope_around(self, lat: Array, lon: Array, reach_rad: float) -> Array:
        """Upper bound of |∇h| [m/m] within the angle ``reach_rad`` [rad] of each point (lat, lon) (N,) [rad]:
        the largest block bound of :attr:`_slope_pyramid` over the patches within reach, at the finest level
        where they span at most ``kernels.BLOCKS_SPANNED`` (4) blocks each way (longitudes within
        asin(sin reach / cos lat) of the point, a pixel to spare; all of them where the reach takes in a
        pole), or the latitude band's (:meth:`max_slope_near`) where that is tighter (coarse blocks near a
        pole). At 60.5°N over a 10 km beam's reach LDEM_4 gives ≈ 0.16 against the latitude band's 0.6.
        Grids over ``IN_MEMORY_MAX_POSTS``: the latitude band's bound. NaN at a point with a NaN or infinite
        coordinate. Each point's bound depends on that point alone."""
        pyramid = self._slope_pyramid
        if pyramid is None:
            return self.max_slope_near(lat, reach_rad)
        flat_lat, flat_lon, shape = _flat_points(lat, lon)
        out = dem_slope_bound_around(
            flat_lat,
            flat_lon,
            math.degrees(reach_rad),
            *pyramid,
            self._patch_slope_bounds,
            self._grid_fields,
            *_NO_MEMO,
        )
        return out.reshape(shape)

    def ray_slope_bound(self, lat: Array, lon: Array, reach_rad: float) -> Array:
        """The slope bound [m/m] the ray cast takes around each origin (lat, lon) (N,) [rad] within
        ``reach_rad`` [rad]: on a global grid in memory, :meth:`max_slope_around`'s over every point of the
        origin's bilinear patch (its rows, and its columns from the patch's poleward edge), kept per patch
        so that the rays of a descent compute it once per patch instead of once per origin and tick
        (≈ 60 ns each); elsewhere :meth:`max_slope_around`. Never below :meth:`max_slope_around` at the
        point; each point's bound depends on that point alone."""
        pyramid = self._slope_pyramid
        if pyramid is None:
            return self.max_slope_near(lat, reach_rad)
        flat_lat, flat_lon, shape = _flat_points(lat, lon)
        span_deg = math.degrees(reach_rad)
        out = dem_slope_bound_around(
            flat_lat,
            flat_lon,
            span_deg,
            *pyramid,
            self._patch_slope_bounds,
            self._grid_fields,
            *self._ray_slope_memo(span_deg),
        )
        return out.reshape(shape)

    def _ray_slope_memo(self, span_deg: float) -> tuple[Array, NDArray[np.uint8]]:
        """The per-patch slope bounds of :meth:`ray_slope_bound` for one reach ``span_deg`` [deg], filled as
        patches are asked (kernels._ray_slope_bound): (values, known) flat over patch rows × columns; their
        pages stay untouched, and so cost no memory, until a patch near them is asked. Empty arrays (no
        memo) where the grid is not global or not in memory."""
        memos = self.__dict__.setdefault("_ray_slope_memos", {})
        memo = memos.get(span_deg)
        if memo is None:
            pyramid = self._slope_pyramid
            if pyramid is None or not self.is_global:
                memo = _NO_MEMO
            else:
                size = int(pyramid[1][0, 0] * pyramid[1][0, 1])
                memo = (np.empty(size), np.zeros(size, np.uint8))
            memos[span_deg] = memo
        return memo

    @cached_property
    def max_height_m(self) -> float:
        """Highest post [m] (the bilinear surface never rises above it); NaN posts ignored."""
        return float(self._row_max_height_m.max())

    @cached_property
    def max_height_blocks(self) -> tuple[Array, int, tuple]:
        """(table, B, grid fields): upper bound of the height [m] of the bilinear surface over blocks of
        B × B patches. table[kb, jb] covers the patches whose north-west post lies in rows [kb·B, (kb + 1)·B)
        and columns [jb·B, (jb + 1)·B) and, against rounding, the patches next to them (longitudes wrap on a
        global grid); −inf where those patches hold no valid post (the surface is NaN there). B = 4 where
        the table stays under 2²⁰ entries, larger on finer grids. The simulator's ground screen reads it
        below the centre of mass (``kernels.block_top``, given ``tuple(DemGrid)`` of this grid)."""
        nl, ns = self.lines, self.samples
        block = max(4, math.ceil(math.sqrt((nl - 1) * ns / 2**20)))
        n_cols = ns if self.is_global else ns - 1  # patches per row (a global grid's last wraps)
        kb_n, jb_n = math.ceil((nl - 1) / block), math.ceil(n_cols / block)
        # per post row, the highest post of the columns each block of patches touches, one patch to spare
        cols = np.arange(jb_n)[:, None] * block + np.arange(-1, block + 2)[None, :]  # (jb_n, B + 3)
        cols = np.mod(cols, ns) if self.is_global else np.clip(cols, 0, ns - 1)
        by_row = np.full((nl, jb_n), -np.inf)
        step = max(1, 4_000_000 // ns)
        for start in range(0, nl, step):  # row blocks: memory stays bounded on big grids
            h = np.asarray(self.dn[start : start + step], dtype=np.float64)
            if self.missing_dn is not None:
                h[h == self.missing_dn] = np.nan
            h *= self.scale_m
            picked = h[:, cols]  # (rows, jb_n, B + 3)
            top = np.max(picked, axis=2, initial=-np.inf, where=~np.isnan(picked))
            by_row[start : start + h.shape[0]] = top
        rows = np.clip(np.arange(kb_n)[:, None] * block + np.arange(-1, block + 2)[None, :], 0, nl - 1)
        table = np.max(by_row[rows], axis=1)  # (kb_n, jb_n)
        table.flags.writeable = False
        return table, block, self._grid_fields

    @cached_property
    def _row_max_height_m(self) -> Array:
        """Highest post of each row [m] (−inf for a row with no valid post)."""
        out = np.full(self.lines, -np.inf)
        block = max(1, 4_000_000 // self.samples)
        for start in range(0, self.lines, block):  # row blocks: memory stays bounded on big grids
            h = np.asarray(self.dn[start : start + block], dtype=np.float64)
            if self.missing_dn is not None:
                h[h == self.missing_dn] = np.nan
            h *= self.scale_m
            out[start : start + h.shape[0]] = np.max(h, axis=1, initial=-np.inf, where=~np.isnan(h))
        return out

    def max_height_by_sine(self, bins: int, spread: int = 0) -> Array:
        """Upper bound of the height [m] (bins,) over the points whose sine of latitude lies in each of
        ``bins`` equal intervals of [−1, 1], or within ``spread`` intervals of it: the highest post of the
        rows bracketing those latitudes (the bilinear surface never rises above the posts around it; beyond
        the outermost rows it is clamped to them). −inf where those rows hold no valid post. Read by
        sin(lat) = z/|r|, which needs no transcendental function (the simulator's ground screen, the ray
        cast's out-of-reach test). Cached per (bins, spread)."""
        cache = self.__dict__.setdefault("_max_height_by_sine", {})
        if (bins, spread) not in cache:
            edges = np.linspace(-1.0, 1.0, bins + 1)
            lat_deg = np.degrees(np.arcsin(edges))
            res = self.pixels_per_degree
            margin = 1e-6  # [pixel] against rounding at the edges
            north = self.line_offset - lat_deg[np.minimum(np.arange(bins) + 1 + spread, bins)] * res - margin
            south = self.line_offset - lat_deg[np.maximum(np.arange(bins) - spread, 0)] * res + margin
            first = np.clip(np.floor(north), 0, self.lines - 1).astype(np.int64)
            last = np.clip(np.ceil(south), 0, self.lines - 1).astype(np.int64)
            rows = self._row_max_height_m
            top = np.array([rows[a : b + 1].max() for a, b in zip(first, last, strict=True)])
            top.flags.writeable = False
            cache[(bins, spread)] = top
        return cache[(bins, spread)]

    @property
    def max_slope(self) -> float:
        """Upper bound of |∇h| [m/m] of the bilinear surface anywhere (polar caps: module docstring).

        On LDEM_4 it is set by the polar rows, where the 0.25° longitude step is only ~16 m long; use
        :meth:`max_slope_band` for a tighter bound over a latitude band.
        """
        return float(self._patch_slope_bounds.max())

    def max_slope_band(self, lat_lo: float, lat_hi: float) -> float:
        """Upper bound of |∇h| [m/m] over the latitude band [lat_lo, lat_hi] [rad] (all longitudes)."""
        bounds = self._patch_slope_bounds
        line_a, _ = self.pixel_coords_deg(math.degrees(max(lat_lo, lat_hi)), 0.0)
        line_b, _ = self.pixel_coords_deg(math.degrees(min(lat_lo, lat_hi)), 0.0)
        k_lo = int(np.clip(np.floor(line_a), 0, self.lines))  # patch k spans lines [k − 1, k]
        k_hi = int(np.clip(np.ceil(line_b) + 1, 0, self.lines))
        return float(bounds[k_lo : k_hi + 1].max())

    def max_slope_near(self, lat: Array, reach_rad: float) -> Array:
        """Upper bound of |∇h| [m/m] within ``reach_rad`` of latitude (not longitude) of each point (N,)
        [rad]: :meth:`max_slope_band` of [lat − reach, lat + reach] per point, vectorised. Each point's
        bound depends on its own latitude only (the same in any batch)."""
        bounds = self._patch_slope_bounds
        if self.kernel_grid is not None:  # the same bits as below (a NaN latitude: NaN, not an IndexError)
            lat = np.asarray(lat, dtype=np.float64)
            flat = np.ascontiguousarray(lat).reshape(-1)
            return dem_slope_bound_near(flat, math.degrees(reach_rad), bounds, self.kernel_grid[1]).reshape(
                lat.shape
            )
        deg = np.degrees(np.asarray(lat, dtype=np.float64))
        span = math.degrees(reach_rad)
        line_a, _ = self.pixel_coords_deg(np.minimum(deg + span, 90.0), np.zeros_like(deg))
        line_b, _ = self.pixel_coords_deg(np.maximum(deg - span, -90.0), np.zeros_like(deg))
        k_lo = np.clip(np.floor(line_a), 0, self.lines).astype(np.intp)  # patch k spans lines [k − 1, k]
        k_hi = np.clip(np.ceil(line_b) + 1, 0, self.lines).astype(np.intp)
        out = bounds[k_lo]
        for j in range(1, int(np.max(k_hi - k_lo, initial=0)) + 1):  # a few rows of patches, not points
            out = np.maximum(out, bounds[np.minimum(k_lo + j, k_hi)])
        return out

    def __repr__(self) -> str:
        return f"Dem({self.description})"


def _is_vector(a: object) -> bool:
    """True for a contiguous float64 vector, which the kernels take as it is."""
    return type(a) is np.ndarray and a.ndim == 1 and a.dtype == np.float64 and a.flags.c_contiguous


def _flat_points(lat: ArrayLike, lon: ArrayLike) -> tuple[Array, Array, tuple[int, ...]]:
    """(lat, lon) broadcast together as contiguous float64 vectors, and their common shape."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    if lat.shape != lon.shape:
        lat, lon = np.broadcast_arrays(lat, lon)
    return np.ascontiguousarray(lat).reshape(-1), np.ascontiguousarray(lon).reshape(-1), lat.shape


@functools.lru_cache(maxsize=2)
def _height_grid(
    image_path: str,
    byte_offset: int,
    dtype: str,
    lines: int,
    samples: int,
    scale_m: float,
    missing_dn: float | None,
) -> Array:
    """See :meth:`Dem._heights`."""
    dn = np.memmap(image_path, dtype=np.dtype(dtype), mode="r", offset=byte_offset, shape=(lines, samples))
    h = np.empty((lines, samples + 1))
    h[:, :samples] = dn
    h[:, samples] = h[:, 0]
    if missing_dn is not None:
        h[h == missing_dn] = np.nan
    h *= scale_m
    h = h.reshape(-1)
    h.flags.writeable = False
    return h
