"""A measured DEM with synthetic detail below its resolution — detail never edits measured posts.

``h(p) = dem(p) + detail(p) − B(p)``, where B is the bilinear interpolation, with the DEM's own patch
weights, of ``detail`` sampled at the DEM's four posts around p (REFERENCE §2.2: "Detail never edits
measured posts"). At a post B equals the detail there, so the height is the DEM's; between posts the
detail adds only what the DEM's bilinear surface cannot represent. The detail population is capped near
the pixel size (craters of the DEM's own scale are already in the DEM), and named craters are never added
on top of a DEM (it already holds them).

Posts are recognised to ``POST_TOL`` pixel: there the correction is exactly zero, so heights at posts equal
the DEM's bit for bit.

``max_slope`` = DEM bound + detail bound + bound of |∇B|. B's east slope is a weighted mean of detail
differences between east neighbours on the patch's two rows, each at most ``S·R·Δλ·cos(row latitude)``,
over the DEM's east pixel size at the query latitude (floored like the DEM's, ``cos_eff``); its north slope
is at most S. With ρ the largest ``cos(equatorward row) / cos_eff(poleward row)`` over the rows the detail
can reach, ``|∇B| ≤ S √(1 + ρ²)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.moon.terrain.craters import MARE_AGE_GYR
from touchdown.moon.terrain.synthetic import CraterField

Array = NDArray[np.float64]

#: Distance [pixels] within which a query counts as sitting on a post.
POST_TOL = 1e-9
#: Default largest detail crater, as a fraction of the DEM pixel size.
DETAIL_DMAX_FRACTION = 1.0


class DemWithDetail:
    """A :class:`Terrain`: ``dem`` plus ``detail`` at scales finer than the DEM's pixels (module docstring).

    ``dem`` is a :class:`~touchdown.moon.terrain.dem.Dem`; ``detail`` any terrain-like height field of zero
    datum (normally a :class:`CraterField` capped near the pixel size), optionally with ``_theta_cut`` and
    ``centre`` to bound where it is non-zero.
    """

    def __init__(self, dem: Any, detail: Any) -> None:
        self.dem = dem
        self.detail = detail
        self._step = math.radians(1.0 / dem.pixels_per_degree)
        self._cos_floor = math.sin(math.radians(getattr(dem, "pole_cap_deg", 0.125)))
        s = float(detail.max_slope)
        rho = self._metric_ratio()
        self.max_slope = float(dem.max_slope + s + s * math.sqrt(1.0 + rho * rho)) * (1.0 + 1e-9)
        self.description = f"{dem.description} + sub-pixel detail ({detail.description})"

    @classmethod
    def with_crater_field(
        cls,
        dem: Any,
        site: tuple[float, float],
        *,
        seed: int = 0,
        age_gyr: float = MARE_AGE_GYR,
        d_min_m: float = 10.0,
        d_max_fraction: float = DETAIL_DMAX_FRACTION,
        extent_m: float = 1_000_000.0,
    ) -> DemWithDetail:
        """``dem`` + a :class:`CraterField` about ``site`` [rad] capped at ``d_max_fraction`` × pixel size."""
        d_max = max(d_max_fraction * dem.pixel_size_m, 2.0 * d_min_m)
        field = CraterField(seed, site, age_gyr=age_gyr, d_min_m=d_min_m, d_max_m=d_max, extent_m=extent_m)
        return cls(dem, field)

    def _metric_ratio(self) -> float:
        """Largest cos(equatorward row)/cos_eff(poleward row) over adjacent DEM rows the detail can reach."""
        lat_rows = np.radians(self.dem.pixel_center_deg(np.arange(self.dem.lines), 0)[0])
        lat_max = math.pi / 2
        centre = getattr(self.detail, "centre", None)
        cut = getattr(self.detail, "_theta_cut", None)
        if centre is not None and cut is not None:
            lat_max = min(math.pi / 2, abs(centre[0]) + cut + self._step)
        a, b = np.abs(lat_rows[:-1]), np.abs(lat_rows[1:])
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        keep = lo <= lat_max
        if not np.any(keep):
            return 1.0
        ratio = float(np.max(np.cos(lo[keep]) / np.maximum(np.cos(hi[keep]), self._cos_floor)))
        # clamped strips beyond the outermost rows: one row, queried out to the grid's edge
        for row, edge in ((lat_rows[0], self.dem.north_edge_deg), (lat_rows[-1], self.dem.south_edge_deg)):
            edge_rad = math.radians(min(abs(edge), 90.0))
            if abs(row) <= lat_max:
                ratio = max(ratio, math.cos(abs(row)) / max(math.cos(edge_rad), self._cos_floor))
        return ratio

    def _posts(self, lat: Array, lon: Array) -> dict[str, Array]:
        dem = self.dem
        line, sample = dem.pixel_coords_deg(np.degrees(lat), np.degrees(lon))
        nl, ns = dem.lines, dem.samples
        y = np.clip(line, 0.0, nl - 1.0)
        i0 = np.minimum(np.floor(y), nl - 2.0)
        fy = y - i0
        if dem.is_global:
            x = np.mod(sample, ns)
            j0 = np.minimum(np.floor(x), ns - 1.0)
        else:
            x = np.clip(sample, 0.0, ns - 1.0)
            j0 = np.minimum(np.floor(x), ns - 2.0)
        fx = x - j0
        lat0, lon0 = dem.pixel_center_deg(i0, j0)
        lat1, lon1 = dem.pixel_center_deg(i0 + 1.0, j0 + 1.0)
        on_post = (np.minimum(fx, 1.0 - fx) < POST_TOL) & (np.minimum(fy, 1.0 - fy) < POST_TOL)
        return {
            "fx": fx,
            "fy": fy,
            "in_x": dem.is_global | (x == sample),
            "in_y": y == line,
            "lat0": np.radians(lat0),
            "lat1": np.radians(lat1),
            "lon0": np.radians(lon0),
            "lon1": np.radians(lon1),
            "on_post": on_post,
        }

    def _correction(self, lat: Array, lon: Array, gradient: bool) -> tuple[Array, Array, Array]:
        q = self._posts(lat, lon)
        d00 = self.detail.height(q["lat0"], q["lon0"])
        d01 = self.detail.height(q["lat0"], q["lon1"])
        d10 = self.detail.height(q["lat1"], q["lon0"])
        d11 = self.detail.height(q["lat1"], q["lon1"])
        fx, fy = q["fx"], q["fy"]
        top = d00 + fx * (d01 - d00)
        bottom = d10 + fx * (d11 - d10)
        interp = top + fy * (bottom - top)
        if gradient:
            dp, de, dn = self.detail.height_gradient(lat, lon)
        else:
            dp = self.detail.height(lat, lon)
            de = dn = dp
        corr = np.where(q["on_post"], 0.0, dp - interp)
        if not gradient:
            return corr, corr, corr
        radius = self.dem.radius_m
        cos_eff = np.maximum(np.cos(lat), self._cos_floor)
        bx = np.where(q["in_x"], (1.0 - fy) * (d01 - d00) + fy * (d11 - d10), 0.0) / (
            radius * self._step * cos_eff
        )
        by = -np.where(q["in_y"], bottom - top, 0.0) / (radius * self._step)
        return corr, de - bx, dn - by

    def height(self, lat: ArrayLike, lon: ArrayLike) -> Array:
        """Height [m] above the ``R_MOON`` sphere at (lat, lon) [rad]; the DEM's own value at its posts."""
        lat, lon = np.broadcast_arrays(np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64))
        return self.dem.height(lat, lon) + self._correction(lat, lon, gradient=False)[0]

    def height_gradient(self, lat: ArrayLike, lon: ArrayLike) -> tuple[Array, Array, Array]:
        """Height [m] and ∂h/∂east, ∂h/∂north [m/m] at (lat, lon) [rad]."""
        lat, lon = np.broadcast_arrays(np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64))
        h, de, dn = self.dem.height_gradient(lat, lon)
        c, ce, cn = self._correction(lat, lon, gradient=True)
        return h + c, de + ce, dn + cn
