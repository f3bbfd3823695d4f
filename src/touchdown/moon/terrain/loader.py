"""One call that gives the simulator its terrain: a DEM (with sub-pixel detail) or, failing that, synthetic.

``load_terrain("ldem_4", site=(lat, lon))``: the DEM product or file is looked up in the data directory
(:func:`touchdown.datastore.find_dem`); when found it is read (:func:`~touchdown.moon.terrain.dem.read_dem`)
and, with ``detail=True``, wrapped in :class:`DemWithDetail` (random craters finer than its pixels, centred
on the site). When it is absent the terrain falls back to :class:`SyntheticTerrain` around the site — named
craters plus a random population — and both its ``description`` and a logging warning say so, with the
command that fetches the grid. A DEM that is present but corrupt is an error (InputError), never a fallback.
``dem=None`` asks for synthetic terrain directly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from touchdown import datastore
from touchdown.moon.terrain.base import Terrain
from touchdown.moon.terrain.catalogue import named_craters
from touchdown.moon.terrain.composite import DemWithDetail
from touchdown.moon.terrain.craters import MARE_AGE_GYR
from touchdown.moon.terrain.dem import read_dem
from touchdown.moon.terrain.synthetic import CraterField, SyntheticTerrain

log = logging.getLogger(__name__)

__all__ = ["SyntheticSpec", "load_terrain", "synthetic_terrain"]


@dataclass(frozen=True)
class SyntheticSpec:
    """Parameters of synthetic terrain (lengths in metres, age in Gyr)."""

    seed: int = 0
    #: Surface age for the crater population (3.6 Gyr: mare, REFERENCE §2.2).
    age_gyr: float = MARE_AGE_GYR
    d_min_m: float = 10.0
    d_max_m: float = 2_000.0
    #: Include the catalogue's named craters (Atlas, …).
    named: bool = True
    #: Height of the undisturbed plains above R_MOON [m].
    datum_m: float = 0.0
    #: Radius about the site holding random craters [m].
    extent_m: float = 1_000_000.0
    #: Include the random crater population at all.
    random_craters: bool = True


def synthetic_terrain(
    site: tuple[float, float], spec: SyntheticSpec = SyntheticSpec(), *, why: str | None = None
) -> SyntheticTerrain:
    """:class:`SyntheticTerrain` about ``site`` (lat, lon) [rad] from ``spec``; ``why`` says why, if given."""
    field = (
        CraterField(
            spec.seed,
            site,
            age_gyr=spec.age_gyr,
            d_min_m=spec.d_min_m,
            d_max_m=spec.d_max_m,
            extent_m=spec.extent_m,
        )
        if spec.random_craters
        else None
    )
    terrain = SyntheticTerrain(field, named_craters() if spec.named else (), datum_m=spec.datum_m)
    if why:
        rest = terrain.description.removeprefix("synthetic terrain ")
        terrain.description = f"synthetic terrain ({why}) {rest}"
    return terrain


def load_terrain(
    dem: str | Path | None,
    *,
    data_dir: str | Path | None = None,
    site: tuple[float, float] = (0.0, 0.0),
    synthetic: SyntheticSpec = SyntheticSpec(),
    detail: bool = True,
) -> Terrain:
    """The terrain for a flight near ``site`` (lat, lon) [rad] (see the module docstring)."""
    if dem is None:
        return synthetic_terrain(site, synthetic, why="no DEM requested")
    label = datastore.find_dem(dem, data_dir)
    if label is None:
        root = datastore.data_dir(data_dir)
        name = str(dem)
        fetch = name.lower() if name.lower() in datastore.PRODUCTS else "<product>"
        why = f"{name} not found in {root}; run `touchdown data fetch {fetch}`"
        log.warning("falling back to synthetic terrain: %s", why)
        return synthetic_terrain(site, synthetic, why=why)
    grid = read_dem(label)
    if not detail:
        return grid
    return DemWithDetail.with_crater_field(
        grid, site, seed=synthetic.seed, age_gyr=synthetic.age_gyr, d_min_m=synthetic.d_min_m
    )
