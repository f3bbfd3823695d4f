"""The flight software's terrain knowledge: a flat reference height, or an onboard DEM.

The onboard map is the flight software's own object: built from the scenario, never the truth terrain
instance, and free to differ from it (a coarse grid without the small craters the truth has, a flat
reference at the landing site's height, or a map of the wrong approach, as on HAKUTO-R M1, REFERENCE §3.2).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.moon.terrain.base import Terrain

Array = NDArray[np.float64]


class OnboardMap:
    """Terrain height [m] above the 1,737,400 m sphere as the flight software believes it."""

    def __init__(self, terrain: Terrain | None = None, flat_height_m: float = 0.0) -> None:
        self.terrain = terrain
        self.flat_height_m = float(flat_height_m)

    @property
    def description(self) -> str:
        if self.terrain is None:
            return f"flat reference at {self.flat_height_m:.1f} m"
        return f"onboard DEM: {self.terrain.description}"

    @property
    def kernel_grid(self) -> tuple[Array, tuple] | None:
        """(heights, grid fields) of an onboard DEM held in memory (``Dem.kernel_grid``), for the compiled
        altimeter model; None for a flat reference, another terrain model or a memory-mapped grid."""
        from touchdown.moon.terrain.dem import Dem

        return self.terrain.kernel_grid if isinstance(self.terrain, Dem) else None

    def height(self, lat: ArrayLike, lon: ArrayLike) -> Array:
        """Believed terrain height [m] at (lat, lon) [rad]."""
        if self.terrain is None:
            return np.full(np.shape(lat), self.flat_height_m)
        return np.asarray(self.terrain.height(lat, lon), dtype=float)
