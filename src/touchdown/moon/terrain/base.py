"""The terrain interface every height model implements, and small helpers built on it.

A terrain is a height field h(lat, lon) [m] above the datum sphere of radius ``R_MOON`` (the LOLA
datum, REFERENCE §2.1). Latitude and longitude are planetocentric, in radians, east-positive; any
longitude is accepted and wrapped. All methods take arrays of any (broadcastable) shape.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.moon.constants import R_MOON
from touchdown.moon.frames import enu_basis

Array = NDArray[np.float64]


@runtime_checkable
class Terrain(Protocol):
    """A height field above the ``R_MOON`` sphere."""

    #: One line saying what this terrain is (source file, synthetic parameters, fallbacks taken).
    description: str

    #: Upper bound of the slope magnitude |∇h| [m/m] anywhere. Ray casting relies on it never to step
    #: through the surface, so it must be a true bound (err high, not low).
    max_slope: float

    def height(self, lat: ArrayLike, lon: ArrayLike) -> Array:
        """Height [m] above the datum sphere at (lat, lon) [rad]."""
        ...

    def height_gradient(self, lat: ArrayLike, lon: ArrayLike) -> tuple[Array, Array, Array]:
        """Height [m] and its slopes ∂h/∂east, ∂h/∂north [m/m] along the surface at (lat, lon) [rad]."""
        ...


class FlatTerrain:
    """A constant height above the datum: the closed-form reference for tests."""

    max_slope = 0.0

    def __init__(self, height_m: float = 0.0) -> None:
        self.height_m = float(height_m)
        self.description = f"flat sphere at {self.height_m:g} m above R = {R_MOON:g} m"

    def height(self, lat: ArrayLike, lon: ArrayLike) -> Array:
        lat, _ = np.broadcast_arrays(np.asarray(lat, dtype=float), np.asarray(lon, dtype=float))
        return np.full(lat.shape, self.height_m)

    def height_gradient(self, lat: ArrayLike, lon: ArrayLike) -> tuple[Array, Array, Array]:
        h = self.height(lat, lon)
        return h, np.zeros_like(h), np.zeros_like(h)


def slope_deg(terrain: Terrain, lat: ArrayLike, lon: ArrayLike) -> Array:
    """Local slope angle [deg] of the terrain at (lat, lon) [rad]."""
    _, de, dn = terrain.height_gradient(lat, lon)
    return np.degrees(np.arctan(np.hypot(de, dn)))


def surface_normal_mcmf(terrain: Terrain, lat: ArrayLike, lon: ArrayLike) -> Array:
    """Outward unit normal (…, 3) of the terrain surface in Moon-fixed components."""
    _, de, dn = terrain.height_gradient(lat, lon)
    east, north, up = enu_basis(lat, lon)
    n = up - de[..., None] * east - dn[..., None] * north
    return n / np.sqrt(1.0 + de * de + dn * dn)[..., None]
