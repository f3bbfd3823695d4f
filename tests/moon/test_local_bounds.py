"""Local bounds of the synthetic terrain (what the ray cast marches on): true bounds, per point, and tight.

``local_slope_terms(lat, lon, reach)`` promises, for any point q within surface distance s ≤ reach of p:
|∇h(q)| ≤ Σ_k slope_k(p) and |h(q) − h(p)| ≤ Σ_k min(slope_k(p) · s, span_k(p)); for the random field the
promise holds row by row (one class and layer). Points are drawn where it is hardest: on and around crater
rims, on Atlas's wall, rim crest and ejecta, and on its floor.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from touchdown.moon.constants import R_MOON
from touchdown.moon.terrain.catalogue import ATLAS
from touchdown.moon.terrain.craters import simple_profile
from touchdown.moon.terrain.raycast import safe_step
from touchdown.moon.terrain.synthetic import CraterField, SyntheticTerrain

SITE = (math.radians(47.5), math.radians(44.4))


@pytest.fixture(scope="module")
def field() -> CraterField:
    return CraterField(5, SITE, d_min_m=10.0, d_max_m=2000.0)


@pytest.fixture(scope="module")
def terrain(field: CraterField) -> SyntheticTerrain:
    return SyntheticTerrain(field, [ATLAS])


def _plane_to_latlon(field: CraterField, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of the field's azimuthal-equidistant plane."""
    pl = field.plane
    rho = np.hypot(x, y)
    theta = rho / pl.radius_m
    ux, uy = x / np.where(rho > 0, rho, 1.0), y / np.where(rho > 0, rho, 1.0)
    p = [
        np.cos(theta) * c + np.sin(theta) * (ux * e + uy * n)
        for c, e, n in zip(pl.c, pl.e, pl.n, strict=True)
    ]
    return np.arctan2(p[2], np.hypot(p[0], p[1])), np.arctan2(p[1], p[0])


def _around(lat: np.ndarray, lon: np.ndarray, dist_m: np.ndarray, az: np.ndarray):
    """Points at surface distance ``dist_m`` and azimuth ``az`` from (lat, lon) (great circles)."""
    d = dist_m / R_MOON
    lat2 = np.arcsin(np.sin(lat) * np.cos(d) + np.cos(lat) * np.sin(d) * np.cos(az))
    lon2 = lon + np.arctan2(np.sin(az) * np.sin(d) * np.cos(lat), np.cos(d) - np.sin(lat) * np.sin(lat2))
    return lat2, lon2


def _near_rims(field: CraterField, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n points near crater rims (0–2 radii from centres within 3 km of the site), and their radii."""
    c = field.craters_in_box(-3000.0, 3000.0, -3000.0, 3000.0)
    rng = np.random.default_rng(seed)
    k = rng.integers(0, c["x"].size, n)
    radius = 0.5 * c["diameter"][k]
    rr = radius * rng.choice([rng.uniform(0.0, 2.0), 1.0], n) * rng.uniform(0.9, 1.1, n)
    az = rng.uniform(0, 2 * np.pi, n)
    lat, lon = _plane_to_latlon(field, c["x"][k] + rr * np.cos(az), c["y"][k] + rr * np.sin(az))
    return lat, lon, radius


def _row_fields(field: CraterField, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Height and plane-slope magnitude of each row (class and layer) of the field, (rows, N)."""
    x, y, _ = field.plane.forward(lat, lon)
    xr, yr = x[None], y[None]
    i = np.floor((xr - field._r_ox) / field._r_cell).astype(np.int64)
    j = np.floor((yr - field._r_oy) / field._r_cell).astype(np.int64)
    cx, cy, diam, depth, rim, present = field._draw(i, j)
    z, dz = simple_profile(np.hypot(xr - cx, yr - cy), 0.5 * diam, depth, rim, field.ejecta_cutoff)
    return np.where(present, z, 0.0), np.where(present, np.abs(dz), 0.0)


@pytest.mark.parametrize("reach_scale", [0.003, 0.1, 0.6, 3.0])
def test_field_rows_are_bounded_over_the_disc(field: CraterField, reach_scale: float) -> None:
    lat, lon, radius = _near_rims(field, 400, seed=int(reach_scale * 1000))
    reach = reach_scale * radius
    slope, span = field.local_slope_terms(lat, lon, reach)
    assert slope.shape == span.shape == (field._n_rows, lat.size)
    assert np.all(slope <= field._r_slope * (1 + 1e-12)) and np.all(span <= field._r_span * (1 + 1e-12))
    z_p, _ = _row_fields(field, lat, lon)
    rng = np.random.default_rng(3)
    for _ in range(30):
        s = reach * rng.uniform(0.0, 1.0, lat.size) ** 0.5
        lat_q, lon_q = _around(lat, lon, s * (1 - 1e-9), rng.uniform(0, 2 * np.pi, lat.size))
        z_q, dz_q = _row_fields(field, lat_q, lon_q)
        assert np.all(dz_q * field.scale_max <= slope * (1 + 1e-9))
        assert np.all(np.abs(z_q - z_p) <= np.minimum(slope * s, span) * (1 + 1e-9) + 1e-9)


def test_field_terms_are_local_and_tight(field: CraterField) -> None:
    """Small discs see few craters: far below the global bound, and exactly zero away from every crater."""
    lat, lon, _ = _near_rims(field, 400, seed=9)
    slope, _ = field.local_slope_terms(lat, lon, 1.0)
    total = slope.sum(axis=0)
    assert np.median(total) < 0.1 * field.max_slope
    assert np.all(total < 0.5 * field.max_slope)
    far = _plane_to_latlon(field, np.array([2.0e6]), np.array([0.0]))  # beyond the field's extent
    s, a = field.local_slope_terms(*far, 10.0)
    assert np.all(s == 0.0) and np.all(a == 0.0)
    big = field.local_slope_terms(lat[:5], lon[:5], 1e5)[0]  # discs wider than every cell: the class bounds
    assert np.allclose(big.sum(axis=0), field.max_slope, rtol=1e-9)


def _atlas_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points from Atlas's floor out to beyond its ejecta."""
    rng = np.random.default_rng(seed)
    r = rng.uniform(0.0, 1.2 * ATLAS.reach_m, n)
    r[: n // 4] = ATLAS.floor_radius_m + rng.uniform(-3000.0, 3000.0, n // 4)  # the foot of the wall
    r[n // 4 : n // 2] = ATLAS.radius_m + rng.uniform(-2000.0, 2000.0, n // 4)  # the rim crest
    return _around(np.full(n, ATLAS.lat), np.full(n, ATLAS.lon), r, rng.uniform(0, 2 * np.pi, n))


@pytest.mark.parametrize("reach_m", [0.5, 40.0, 2_000.0])
def test_terrain_change_along_any_path_is_bounded(terrain: SyntheticTerrain, reach_m: float) -> None:
    lat, lon = _atlas_points(300, seed=int(reach_m))
    lat_r, lon_r, _ = _near_rims(terrain.field, 300, seed=int(reach_m) + 1)
    lat, lon = np.concatenate([lat, lat_r]), np.concatenate([lon, lon_r])
    slope, span = terrain.local_slope_terms(lat, lon, reach_m)
    assert slope.shape == (1 + terrain.field._n_rows, lat.size)
    h_p = terrain.height(lat, lon)
    rng = np.random.default_rng(4)
    for _ in range(20):
        s = reach_m * rng.uniform(0.0, 1.0, lat.size)
        lat_q, lon_q = _around(lat, lon, s * (1 - 1e-9), rng.uniform(0, 2 * np.pi, lat.size))
        h_q, de, dn = terrain.height_gradient(lat_q, lon_q)
        assert np.all(np.hypot(de, dn) <= slope.sum(axis=0) * (1 + 1e-6))
        change = np.minimum(slope * s, span).sum(axis=0)
        assert np.all(np.abs(h_q - h_p) <= change * (1 + 1e-6) + 1e-6)


def test_atlas_floor_and_far_plains_are_flat_terms(terrain: SyntheticTerrain) -> None:
    lat, lon = _around(np.full(2, ATLAS.lat), np.full(2, ATLAS.lon), np.array([1000.0, 200_000.0]), 0.3)
    slope, span = terrain.local_slope_terms(lat, lon, 500.0)
    assert slope[0, 0] == 0.0 and span[0, 0] == 0.0  # on the flat floor
    assert slope[0, 1] == 0.0 and span[0, 1] == 0.0  # beyond the ejecta
    on_rim = terrain.local_slope_terms(*_around(ATLAS.lat, ATLAS.lon, ATLAS.radius_m, 0.3), 500.0)[0]
    assert on_rim[0] == pytest.approx(ATLAS.max_slope, rel=1e-6)


def test_terms_depend_on_the_point_alone(terrain: SyntheticTerrain) -> None:
    lat, lon = _atlas_points(200, seed=5)
    reach = np.geomspace(0.1, 5000.0, 200)
    slope, span = terrain.local_slope_terms(lat, lon, reach)
    s1, a1 = terrain.local_slope_terms(lat[17], lon[17], reach[17])
    assert np.array_equal(s1, slope[:, 17]) and np.array_equal(a1, span[:, 17])
    perm = np.random.default_rng(2).permutation(200)
    sp, ap = terrain.local_slope_terms(lat[perm], lon[perm], reach[perm])
    assert np.array_equal(sp, slope[:, perm]) and np.array_equal(ap, span[:, perm])


def test_max_height_is_a_bound(terrain: SyntheticTerrain) -> None:
    lat, lon = _atlas_points(20_000, seed=6)
    lat_r, lon_r, _ = _near_rims(terrain.field, 20_000, seed=7)
    top = max(terrain.height(lat, lon).max(), terrain.height(lat_r, lon_r).max())
    assert top <= terrain.max_height_m
    assert terrain.max_height_m < ATLAS.rim_m + 400.0  # the crest plus at most one crater rim per row


def _phi(t: np.ndarray, rate: np.ndarray, span: np.ndarray) -> np.ndarray:
    return t + np.minimum(rate * t, span).sum(axis=0)


def test_safe_step_is_the_root_of_the_fall_bound() -> None:
    rng = np.random.default_rng(8)
    k, n = 12, 2000
    rate = rng.exponential(1.0, (k, n)) * rng.choice([0.0, 1.0], (k, n), p=[0.3, 0.7])
    span = rng.exponential(50.0, (k, n)) * rng.choice([0.0, 1.0], (k, n), p=[0.2, 0.8])
    g = rng.exponential(200.0, n)
    t = safe_step(g, rate, span)
    assert np.all(t > 0.0) and np.all(t <= g)
    assert np.all(_phi(t, rate, span) <= g * (1 + 1e-12))  # safe
    assert np.all(_phi(t, rate, span) >= g * (1 - 1e-9))  # and the longest such step
    lin = g / (1.0 + rate.sum(axis=0))  # the plain Lipschitz step never does better
    assert np.all(t >= lin * (1 - 1e-12))
    assert np.array_equal(safe_step(g, np.zeros((0, n)), np.zeros((0, n))), g)
    assert np.array_equal(safe_step(g[5:6], rate[:, 5:6], span[:, 5:6]), t[5:6])
