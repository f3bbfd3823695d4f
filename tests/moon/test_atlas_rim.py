"""The issue's "done when": the laser altimeter sees Atlas's rim as HAKUTO-R M1 did (REFERENCE §3.2).

Track: the great circle from (49.2°N, 43.0°E), on the plains north-west of Atlas, to the M1 target
(47.5°N, 44.4°E) on the crater floor, 600 samples, flown at constant height above the datum sphere; nadir
laser rays are cast at every sample.

Jump: the increase of range from its minimum along the track (over the rim crest) to its maximum within the
next 15 km along track (over the floor) — what the altimeter reports as the lander crosses the rim.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from touchdown.moon.frames import enu_basis, llh_to_mcmf
from touchdown.moon.terrain.catalogue import ATLAS
from touchdown.moon.terrain.profile import great_circle_track, range_jump
from touchdown.moon.terrain.raycast import raycast
from touchdown.moon.terrain.synthetic import CraterField, SyntheticTerrain

START = (49.2, 43.0)
TARGET = (47.5, 44.4)  # REFERENCE §3.2


def _jump(terrain, altitude_m: float) -> dict[str, float]:
    lat, lon, dist = great_circle_track(START, TARGET, 600)
    origin = llh_to_mcmf(lat, lon, altitude_m)
    r = raycast(terrain, origin, -enu_basis(lat, lon)[2], max_range_m=30_000.0)
    assert np.all(np.isfinite(r))
    return range_jump(dist, r)


def test_lola_rim_jump_at_least_2km(lola_label: Path) -> None:
    from touchdown.moon.terrain.dem import read_dem

    dem = read_dem(lola_label)
    plains = float(np.median(dem.height(*(a[:50] for a in great_circle_track(START, TARGET, 600)[:2]))))
    assert -2300.0 < plains < -1500.0
    altitude = plains + 8000.0  # 8 km above the local plains (M1 crossed below ~10 km)
    jump = _jump(dem, altitude)
    assert jump["jump_m"] >= 2000.0, jump


@pytest.mark.parametrize("seed", [0, 1])
def test_synthetic_atlas_rim_jump_about_3km(seed: int) -> None:
    site = (math.radians(TARGET[0]), math.radians(TARGET[1]))
    terrain = SyntheticTerrain(CraterField(seed, site, d_max_m=2000.0), [ATLAS])
    jump = _jump(terrain, 8000.0)  # the synthetic plains are the 0 m datum
    assert jump["jump_m"] == pytest.approx(3000.0, abs=500.0), jump
