"""Ray cast: analytic sphere, and a brute-force dense-sampling oracle on synthetic terrain and on LOLA."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from touchdown.moon.constants import R_MOON
from touchdown.moon.frames import enu_basis, llh_to_mcmf, mcmf_to_llh
from touchdown.moon.terrain.base import FlatTerrain
from touchdown.moon.terrain.catalogue import ATLAS
from touchdown.moon.terrain.raycast import RaycastStats, raycast
from touchdown.moon.terrain.synthetic import CraterField, SyntheticTerrain

SITE = (math.radians(47.5), math.radians(44.4))


def _rays(n: int, seed: int, max_tilt_deg: float = 45.0, alt: tuple[float, float] = (200.0, 10_000.0)):
    rng = np.random.default_rng(seed)
    lat = SITE[0] + rng.uniform(-0.02, 0.02, n)
    lon = SITE[1] + rng.uniform(-0.02, 0.02, n)
    origin = llh_to_mcmf(lat, lon, rng.uniform(*alt, n))
    east, north, up = enu_basis(lat, lon)
    tilt = np.radians(rng.uniform(0.0, max_tilt_deg, n))
    tilt[: n // 4] = 0.0  # a quarter exactly nadir
    az = rng.uniform(0.0, 2 * np.pi, n)
    horiz = np.cos(az)[:, None] * north + np.sin(az)[:, None] * east
    return origin, -np.cos(tilt)[:, None] * up + np.sin(tilt)[:, None] * horiz


def _oracle(terrain, origin: np.ndarray, u: np.ndarray, max_range: float, dt: float = 0.25) -> float:
    """First sign change of g sampled every ``dt`` metres, then linear interpolation."""
    u = u / np.linalg.norm(u)
    t = np.arange(0.0, max_range + dt, dt)
    p = origin + t[:, None] * u
    lat, lon, alt = mcmf_to_llh(p)
    g = alt - terrain.height(lat, lon)
    below = np.flatnonzero(g <= 0.0)
    if below.size == 0:
        return math.nan
    k = below[0]
    return float(t[k - 1] + g[k - 1] / (g[k - 1] - g[k]) * dt)


def test_flat_sphere_matches_analytic_intersection() -> None:
    h0 = -1234.5
    origin, u = _rays(500, seed=1, max_tilt_deg=60.0)
    r = raycast(FlatTerrain(h0), origin, u, max_range_m=100_000.0)
    b = np.sum(origin * u, axis=1)
    c = np.sum(origin * origin, axis=1) - (R_MOON + h0) ** 2
    exact = -b - np.sqrt(b * b - c)
    assert np.max(np.abs(r - exact)) < 1e-3


def test_misses_and_inside() -> None:
    flat = FlatTerrain(0.0)
    o = llh_to_mcmf(SITE[0], SITE[1], 1000.0)[None]
    up = enu_basis(SITE[0], SITE[1])[2][None]
    assert np.isnan(raycast(flat, o, up, max_range_m=5000.0))[0]  # pointing up
    assert np.isnan(raycast(flat, o, -up, max_range_m=500.0))[0]  # beyond max range
    below = llh_to_mcmf(SITE[0], SITE[1], -10.0)[None]
    assert raycast(flat, below, -up)[0] == 0.0


@pytest.fixture(scope="module")
def synthetic() -> SyntheticTerrain:
    return SyntheticTerrain(CraterField(5, SITE, d_max_m=2000.0), [ATLAS])


def test_synthetic_against_dense_oracle(synthetic: SyntheticTerrain) -> None:
    origin, u = _rays(30, seed=2)
    lat, lon, alt = mcmf_to_llh(origin)
    keep = alt > synthetic.height(lat, lon) + 100.0  # origins above the rim of Atlas
    origin, u = origin[keep], u[keep]
    stats = RaycastStats()
    r = raycast(synthetic, origin, u, max_range_m=20_000.0, stats=stats)
    assert stats.unresolved == 0
    for i in range(len(r)):
        expected = _oracle(synthetic, origin[i], u[i], 20_000.0)
        assert np.isfinite(r[i]) == np.isfinite(expected)
        if np.isfinite(expected):
            assert abs(r[i] - expected) <= 1.0, (i, r[i], expected)


def test_synthetic_bit_identical_in_batches(synthetic: SyntheticTerrain) -> None:
    origin, u = _rays(40, seed=8, max_tilt_deg=10.0)
    r = raycast(synthetic, origin, u)
    parts = np.concatenate([raycast(synthetic, origin[i : i + 7], u[i : i + 7]) for i in range(0, 40, 7)])
    assert np.array_equal(r[::-1], raycast(synthetic, origin[::-1], u[::-1]))
    assert np.array_equal(r, parts)


def test_nadir_rays_converge_fast(synthetic: SyntheticTerrain) -> None:
    origin, u = _rays(1000, seed=3, max_tilt_deg=0.0)
    stats = RaycastStats()
    raycast(synthetic, origin, u, stats=stats)
    assert stats.iterations <= 12


def test_lola_against_dense_oracle(lola_label: Path) -> None:
    from touchdown.moon.terrain.dem import read_dem

    dem = read_dem(lola_label)
    origin, u = _rays(12, seed=4, alt=(-1000.0, 8000.0))  # Atlas plains ≈ −1.9 km, rim ≈ −0.5 km
    lat, lon, alt = mcmf_to_llh(origin)
    keep = alt > dem.height(lat, lon) + 100.0
    origin, u = origin[keep], u[keep]
    r = raycast(dem, origin, u, max_range_m=20_000.0)
    for i in range(len(r)):
        expected = _oracle(dem, origin[i], u[i], 20_000.0)
        assert np.isfinite(r[i]) == np.isfinite(expected)
        if np.isfinite(expected):
            assert abs(r[i] - expected) <= 1.0, (i, r[i], expected)


def test_slanted_rays_march_on_local_bounds(synthetic: SyntheticTerrain) -> None:
    """Beams up to 45° off nadir: the local terms (not the field's global ≈ 25 m/m) set the step. On the
    global bound the slowest of these rays took 368 iterations and the batch 42,322 terrain queries."""
    origin, u = _rays(400, seed=3, max_tilt_deg=45.0)
    stats = RaycastStats()
    r = raycast(synthetic, origin, u, stats=stats)
    assert stats.unresolved == 0 and np.all(np.isfinite(r))
    assert stats.iterations <= 60
    assert stats.evaluations <= 10_000


def test_slanted_rays_bit_identical_in_batches(synthetic: SyntheticTerrain) -> None:
    origin, u = _rays(40, seed=9, max_tilt_deg=50.0)
    r = raycast(synthetic, origin, u)
    parts = np.concatenate([raycast(synthetic, origin[i : i + 7], u[i : i + 7]) for i in range(0, 40, 7)])
    single = np.array([raycast(synthetic, origin[i], u[i])[0] for i in range(0, 40, 5)])
    assert np.array_equal(r, parts)
    assert np.array_equal(r[::5], single)
    assert np.array_equal(r[::-1], raycast(synthetic, origin[::-1], u[::-1]))
