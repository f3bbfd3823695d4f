"""Named large craters, with complex-crater shapes calibrated against the LOLA grid.

Atlas (REFERENCE §2.2, §3.2): centre ≈ 46.7°N, 44.4°E, D ≈ 87 km, spanning about 45.3–48.1°N.

Calibration of Atlas against LDEM_4 (4 px/deg, 7.6 km pixels), in rings about the centre (median of the
pixels in 5 km rings; "plains" = median beyond 80 km ≈ −1850 m):

==================  =============  =========================================
ring / feature      LOLA height    relative to the plains
==================  =============  =========================================
floor, r < 30 km    ≈ −2900 m      −1.05 km (floor flat to r ≈ 28–30 km)
wall, r 30–40 km    −2540…−1960 m  rising
rim, r 40–50 km     ≈ −690 m       +1.16 km (ring median)
crest per 30° arc   −250…−935 m    +0.9…+1.6 km (median of maxima ≈ −450 m)
ejecta, r 55–75 km  −1130…−1770 m  +0.7 … +0.1 km, plains by r ≈ 80 km
==================  =============  =========================================

Per 30° sector, crest maximum minus floor median is 2.1–2.8 km (mean 2.45 km); the box's extremes
(−249 m and −3211 m, REFERENCE §2.1) differ by 2.96 km, and REFERENCE §2.2/§3.2 quote a ≈ 3 km rim step.
A 7.6 km pixel averages a crest only a few km wide, so the grid under-reads the step. Chosen: rim crest
+1.5 km and floor −1.3 km relative to the surrounding datum (step 2.8 km, between the grid's sector mean
and its extremes), floor radius 28.5 km (0.655 R), ejecta cutoff 2.5 R (the ring medians reach the plains
by ≈ 1.85 R; with the C¹ taper a 2.5 R cutoff gives +0.76 km at 1.2 R, +0.35 km at 1.44 R, +0.16 km at
1.67 R, close to the ring medians). Pike's fresh complex law would give h = 1.4 km, d = 4.0 km: Atlas is
an old, floor-fractured crater whose floor has been raised and filled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from touchdown.moon.terrain.craters import complex_max_slope


@dataclass(frozen=True)
class NamedCrater:
    """A large crater with a complex profile (angles in radians, lengths in metres)."""

    name: str
    lat: float
    lon: float
    diameter_m: float
    #: Radius of the flat floor [m].
    floor_radius_m: float
    #: Depth of the floor below the surrounding datum [m].
    floor_depth_m: float
    #: Height of the rim crest above the surrounding datum [m].
    rim_m: float
    #: Ejecta cutoff in crater radii (height reaches zero there with zero slope).
    ejecta_cutoff: float = 2.5

    @property
    def radius_m(self) -> float:
        """Rim-crest radius [m]."""
        return 0.5 * self.diameter_m

    @property
    def rim_to_floor_m(self) -> float:
        """Rim crest minus floor [m]."""
        return self.rim_m + self.floor_depth_m

    @property
    def reach_m(self) -> float:
        """Distance [m] from the centre beyond which the crater changes nothing."""
        return self.ejecta_cutoff * self.radius_m

    @property
    def max_slope(self) -> float:
        """Steepest slope [m/m] of the profile."""
        return complex_max_slope(
            self.radius_m, self.floor_radius_m, self.floor_depth_m, self.rim_m, self.ejecta_cutoff
        )


#: Atlas crater, calibrated against LDEM_4 as described in the module docstring (REFERENCE §2.2, §3.2).
ATLAS = NamedCrater(
    name="Atlas",
    lat=math.radians(46.7),
    lon=math.radians(44.4),
    diameter_m=87_000.0,
    floor_radius_m=28_500.0,
    floor_depth_m=1_300.0,
    rim_m=1_500.0,
    ejecta_cutoff=2.5,
)

#: Every named crater, by lower-case name.
CATALOGUE: dict[str, NamedCrater] = {c.name.lower(): c for c in (ATLAS,)}


def named_craters() -> tuple[NamedCrater, ...]:
    """All catalogued craters."""
    return tuple(CATALOGUE.values())
