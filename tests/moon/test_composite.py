"""DEM + sub-pixel detail: measured posts stay exactly as measured."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from touchdown.moon.terrain.composite import DemWithDetail

SITE = (math.radians(47.5), math.radians(44.4))


@pytest.fixture(scope="module")
def composite(lola_label: Path) -> DemWithDetail:
    from touchdown.moon.terrain.dem import read_dem

    return DemWithDetail.with_crater_field(read_dem(lola_label), SITE, seed=2)


def test_heights_at_posts_equal_the_dem_bit_for_bit(composite: DemWithDetail) -> None:
    dem = composite.dem
    line, sample = np.meshgrid(np.arange(150, 175), np.arange(165, 190), indexing="ij")
    lat_deg, lon_deg = dem.pixel_center_deg(line.ravel(), sample.ravel())
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    assert np.array_equal(composite.height(lat, lon), dem.height(lat, lon))
    assert np.array_equal(composite.height_gradient(lat, lon)[0], dem.height(lat, lon))


def test_detail_is_present_between_posts_and_sub_pixel(composite: DemWithDetail) -> None:
    rng = np.random.default_rng(0)
    lat = SITE[0] + rng.uniform(-0.02, 0.02, 5000)
    lon = SITE[1] + rng.uniform(-0.02, 0.02, 5000)
    diff = composite.height(lat, lon) - composite.dem.height(lat, lon)
    assert np.std(diff) > 1.0
    assert composite.detail.d_max_m <= composite.dem.pixel_size_m * 1.0001
    _, de, dn = composite.height_gradient(lat, lon)
    assert np.max(np.hypot(de, dn)) <= composite.max_slope


def test_gradient_matches_finite_difference(composite: DemWithDetail) -> None:
    rng = np.random.default_rng(1)
    lat = SITE[0] + rng.uniform(-0.02, 0.02, 2000)
    lon = SITE[1] + rng.uniform(-0.02, 0.02, 2000)
    _, de, dn = composite.height_gradient(lat, lon)
    step = 0.01 / 1_737_400.0
    fe = (
        composite.height(lat, lon + step / np.cos(lat)) - composite.height(lat, lon - step / np.cos(lat))
    ) / 0.02
    fn = (composite.height(lat + step, lon) - composite.height(lat - step, lon)) / 0.02
    assert np.median(np.hypot(fe - de, fn - dn)) < 1e-4
