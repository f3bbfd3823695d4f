"""Maps for reports: the terrain around a site, hill-shaded so craters stand out, in km from the target.

Positions are drawn in the azimuthal equidistant projection about the target: a point at great-circle
distance d [m] and azimuth az (clockwise from north) from the target sits at (d sin az, d cos az). Distances
from the target are true on the map, so a miss distance reads off it directly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.moon.constants import R_MOON

Array = NDArray[np.float64]


def to_map(lat_deg: ArrayLike, lon_deg: ArrayLike, lat0_deg: float, lon0_deg: float) -> tuple[Array, Array]:
    """East, north [m] of points (lat, lon) [deg] on the azimuthal equidistant map about (lat0, lon0)."""
    la, lo = np.radians(np.asarray(lat_deg, float)), np.radians(np.asarray(lon_deg, float))
    la0, lo0 = math.radians(lat0_deg), math.radians(lon0_deg)
    dlon = lo - lo0
    cos_c = np.clip(math.sin(la0) * np.sin(la) + math.cos(la0) * np.cos(la) * np.cos(dlon), -1.0, 1.0)
    c = np.arccos(cos_c)  # angular distance [rad]
    y = math.cos(la0) * np.sin(la) - math.sin(la0) * np.cos(la) * np.cos(dlon)
    az = np.arctan2(np.sin(dlon) * np.cos(la), y)
    d = R_MOON * c
    return d * np.sin(az), d * np.cos(az)


def from_map(e_m: ArrayLike, n_m: ArrayLike, lat0_deg: float, lon0_deg: float) -> tuple[Array, Array]:
    """(lat, lon) [rad] of map points east, north [m] of (lat0, lon0) (inverse of :func:`to_map`)."""
    e, n = np.asarray(e_m, float), np.asarray(n_m, float)
    la0, lo0 = math.radians(lat0_deg), math.radians(lon0_deg)
    c = np.hypot(e, n) / R_MOON
    az = np.arctan2(e, n)
    lat = np.arcsin(np.clip(math.sin(la0) * np.cos(c) + math.cos(la0) * np.sin(c) * np.cos(az), -1.0, 1.0))
    lon = lo0 + np.arctan2(np.sin(az) * np.sin(c) * math.cos(la0), np.cos(c) - math.sin(la0) * np.sin(lat))
    return lat, lon


def map_extent(
    e_m: ArrayLike, n_m: ArrayLike, margin: float = 0.12, min_half_m: float = 500.0
) -> tuple[float, float, float, float]:
    """(east_lo, east_hi, north_lo, north_hi) [m] enclosing the finite points with a margin, square-ish."""
    e, n = np.asarray(e_m, float).ravel(), np.asarray(n_m, float).ravel()
    ok = np.isfinite(e) & np.isfinite(n)
    e, n = np.r_[e[ok], 0.0], np.r_[n[ok], 0.0]  # the target is always on the map
    ce, cn = 0.5 * (e.min() + e.max()), 0.5 * (n.min() + n.max())
    half = max(0.5 * (e.max() - e.min()), 0.5 * (n.max() - n.min()), min_half_m) * (1.0 + margin)
    return ce - half, ce + half, cn - half, cn + half


def draw_terrain(
    ax: Any,
    terrain: Any,
    lat0_deg: float,
    lon0_deg: float,
    extent_m: tuple[float, float, float, float],
    samples: int = 240,
) -> Any:
    """Hill-shaded terrain height on ``ax`` over ``extent_m`` (map metres), axes in km; returns the image
    (for a colour bar of height [km]), or None when the terrain is flat there."""
    from matplotlib.colors import LightSource, Normalize

    e0, e1, n0, n1 = extent_m
    e = np.linspace(e0, e1, samples)
    n = np.linspace(n0, n1, samples)
    ee, nn = np.meshgrid(e, n)
    lat, lon = from_map(ee, nn, lat0_deg, lon0_deg)
    h = np.asarray(terrain.height(lat.ravel(), lon.ravel()), float).reshape(ee.shape)
    km = 1e-3
    extent_km = (e0 * km, e1 * km, n0 * km, n1 * km)
    lo, hi = float(np.nanmin(h)), float(np.nanmax(h))
    if not hi - lo > 1e-6:
        ax.set_facecolor("#e9e7e2")
        return None
    import matplotlib

    cmap = matplotlib.colormaps["gist_earth"]
    norm = Normalize(lo * km, hi * km)
    ls = LightSource(azdeg=315, altdeg=35)
    dx = (e1 - e0) / (samples - 1)
    # relief is small against the map's width: exaggerate it (1–20×) so that crater walls cast shade
    exag = float(np.clip(0.08 * (e1 - e0) / (hi - lo), 1.0, 20.0))
    rgb = ls.shade(h, cmap=cmap, norm=Normalize(lo, hi), blend_mode="soft", vert_exag=exag, dx=dx, dy=dx)
    ax.imshow(rgb, origin="lower", extent=extent_km, interpolation="bilinear", zorder=0)
    return matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)


def error_ellipse(
    e_m: ArrayLike, n_m: ArrayLike, prob: float = 0.99, points: int = 181
) -> tuple[Array, Array]:
    """The ``prob`` ellipse of a 2-D Gaussian fitted to the points (sample mean and covariance) [m]:
    Mahalanobis radius √(χ²₂(prob)) = √(−2 ln(1 − prob))."""
    x = np.vstack([np.asarray(e_m, float), np.asarray(n_m, float)])
    x = x[:, np.all(np.isfinite(x), axis=0)]
    mean = x.mean(axis=1)
    cov = np.cov(x)
    vals, vecs = np.linalg.eigh(cov)
    k = math.sqrt(-2.0 * math.log(1.0 - prob))
    a = np.linspace(0.0, 2.0 * math.pi, points)
    circle = np.vstack([np.cos(a), np.sin(a)]) * (k * np.sqrt(np.maximum(vals, 0.0)))[:, None]
    pts = vecs @ circle + mean[:, None]
    return pts[0], pts[1]
