"""The numba terrain kernels give the numpy code's bits: DEM heights, slopes, slope bounds and the ray cast.

Oracle: the same :class:`Dem` with its kernels switched off (``kernel_grid`` None), which takes the numpy
path (``Dem._bilinear``, the numpy ``max_slope_near`` and the numpy march of ``raycast``), on random points
and rays over LDEM_4 and over a regional tile with missing posts.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest

from touchdown.moon.constants import R_MOON
from touchdown.moon.frames import enu_basis, llh_to_mcmf
from touchdown.moon.terrain import kernels
from touchdown.moon.terrain import raycast as raycast_module
from touchdown.moon.terrain.dem import Dem, read_dem
from touchdown.moon.terrain.raycast import RaycastStats, incidence_cos, raycast


def numpy_twin(dem: Dem) -> Dem:
    """A copy of ``dem`` that answers through the numpy code (no kernel grid)."""
    twin = copy.copy(dem)
    twin.__dict__["kernel_grid"] = None
    return twin


def write_tile(folder: Path, dn: np.ndarray, *, res: float, north_deg: float, west_deg: float) -> Path:
    """A regional PC_REAL PDS3 tile (missing posts: −32768) whose north-west pixel edge is at north/west."""
    lines, samples = dn.shape
    dn.astype("<f4").tofile(folder / "TILE.IMG")
    (folder / "TILE.LBL").write_text(
        f"""PDS_VERSION_ID = "PDS3"
RECORD_BYTES = {samples * 4}
^IMAGE = "TILE.IMG"
OBJECT = IMAGE
  LINES = {lines}
  LINE_SAMPLES = {samples}
  SAMPLE_TYPE = PC_REAL
  SAMPLE_BITS = 32
  UNIT = METER
  SCALING_FACTOR = 1.0
  MISSING_CONSTANT = -32768
END_OBJECT = IMAGE
OBJECT = IMAGE_MAP_PROJECTION
  MAP_PROJECTION_TYPE = "SIMPLE CYLINDRICAL"
  MAP_RESOLUTION = {res} <pix/deg>
  A_AXIS_RADIUS = 1737.4 <km>
  CENTER_LATITUDE = 0 <deg>
  CENTER_LONGITUDE = 0 <deg>
  LINE_PROJECTION_OFFSET = {north_deg * res - 0.5} <pix>
  SAMPLE_PROJECTION_OFFSET = {-west_deg * res - 0.5} <pix>
END_OBJECT = IMAGE_MAP_PROJECTION
END
"""
    )
    return folder / "TILE.LBL"


@pytest.fixture(scope="module")
def ldem4(lola_label: Path) -> Dem:
    return read_dem(lola_label)


@pytest.fixture(scope="module")
def tile(tmp_path_factory: pytest.TempPathFactory) -> Dem:
    rng = np.random.default_rng(5)
    dn = rng.normal(-1500.0, 400.0, (40, 60))
    dn[10:13, 20:24] = -32768.0  # missing posts: NaN heights
    return read_dem(write_tile(tmp_path_factory.mktemp("tile"), dn, res=64.0, north_deg=45.5, west_deg=10.25))


def random_points(dem: Dem, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points over and around ``dem`` [rad], with poles, exact pixel centres and edges, NaN and inf."""
    rng = np.random.default_rng(seed)
    lat_deg = rng.uniform(dem.south_edge_deg - 0.2, dem.north_edge_deg + 0.2, n)
    west = dem.west_edge_deg
    lon_deg = rng.uniform(west - 0.2, west + dem.samples / dem.pixels_per_degree + 0.2, n)
    lon_deg[: n // 8] += 360.0 * rng.integers(-3, 4, n // 8)  # other turns
    k = n // 4
    centre_lat, centre_lon = dem.pixel_center_deg(
        rng.integers(0, dem.lines, k), rng.integers(0, dem.samples, k)
    )
    lat_deg[k : 2 * k], lon_deg[k : 2 * k] = centre_lat, centre_lon
    edge_lat, edge_lon = dem.pixel_center_deg(
        rng.integers(0, dem.lines, k) + 0.5, rng.integers(0, dem.samples, k) - 0.5
    )
    lat_deg[2 * k : 3 * k : 2], lon_deg[2 * k + 1 : 3 * k : 2] = edge_lat[::2], edge_lon[1::2]
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    special = [0.0, -0.0, math.pi / 2, -math.pi / 2, math.pi / 2 + 1e-13, 2.0, np.nan, np.inf, -np.inf]
    lat[-len(special) :] = special
    lon[-2 * len(special) : -len(special)] = special
    return lat, lon


@pytest.mark.parametrize("which", ["ldem4", "tile"])
def test_heights_and_slopes_are_the_numpy_bits(which: str, request: pytest.FixtureRequest) -> None:
    dem = request.getfixturevalue(which)
    assert dem.kernel_grid is not None
    twin = numpy_twin(dem)
    lat, lon = random_points(dem, 20_000, seed=1)
    assert np.array_equal(dem.height(lat, lon), twin.height(lat, lon), equal_nan=True)
    for got, expected in zip(dem.height_gradient(lat, lon), twin.height_gradient(lat, lon), strict=True):
        assert np.array_equal(got, expected, equal_nan=True)
    # shapes: broadcasting and scalars as before
    grid = lat[:12].reshape(3, 4)
    assert np.array_equal(dem.height(grid, 0.3), twin.height(grid, 0.3), equal_nan=True)
    inside = np.radians(dem.pixel_center_deg(3.3, 4.6))
    assert dem.height(*inside) == twin.height(*inside)
    assert isinstance(dem.height(*inside), float)


@pytest.mark.parametrize("which", ["ldem4", "tile"])
def test_slope_bounds_near_are_the_numpy_bits(which: str, request: pytest.FixtureRequest) -> None:
    dem = request.getfixturevalue(which)
    lat, _ = random_points(dem, 5_000, seed=2)
    lat = lat[np.isfinite(lat)]  # the numpy code has no answer for NaN
    for reach in (0.0, 1e-4, 0.01, 0.3):
        assert np.array_equal(dem.max_slope_near(lat, reach), numpy_twin(dem).max_slope_near(lat, reach))


def points_within(lat0: np.ndarray, lon0: np.ndarray, reach: float, k: int, rng) -> tuple[np.ndarray, ...]:
    """k points [rad] within the angle ``reach`` of each point (lat0, lon0) (N,), a quarter on the rim:
    (origin index, lat, lon)."""
    idx = np.repeat(np.arange(lat0.size), k)
    delta = reach * np.sqrt(rng.uniform(0.0, 1.0, idx.size))
    delta[::4] = reach * (1 - 1e-9)
    bearing = rng.uniform(0.0, 2 * np.pi, idx.size)
    a = lat0[idx]
    lat = np.arcsin(np.sin(a) * np.cos(delta) + np.cos(a) * np.sin(delta) * np.cos(bearing))
    lon = lon0[idx] + np.arctan2(
        np.sin(bearing) * np.sin(delta) * np.cos(a), np.cos(delta) - np.sin(a) * np.sin(lat)
    )
    return idx, lat, lon


@pytest.mark.parametrize("reach_km", [5.0, 15.7, 120.0])
def test_max_slope_around_bounds_every_slope_within_reach(ldem4: Dem, reach_km: float) -> None:
    """The ray cast's slope bound around a point (per-patch bounds, blocks of a pyramid) holds at every point
    within reach, pixel corners included (where a bilinear patch's slope peaks): origins anywhere, at the
    poles, across the 0°/360° seam and over Mare Frigoris."""
    rng = np.random.default_rng(11)
    reach = reach_km * 1000.0 / R_MOON
    n = 400
    lat0 = np.concatenate(
        [np.arcsin(rng.uniform(-1, 1, n)), np.radians([89.99, -89.9, 89.5, 60.5, 60.5, 0.0, 45.0])]
    )
    lon0 = np.concatenate(
        [rng.uniform(-np.pi, 3 * np.pi, n), np.radians([0.0, 10.0, 180.0, -4.6, 355.4, 0.01, -0.01])]
    )
    bound = ldem4.max_slope_around(lat0, lon0, reach)
    assert bound.shape == lat0.shape
    odd = ldem4.max_slope_around(
        np.array([np.nan, 0.3, np.inf, 0.3]), np.array([0.1, np.nan, 0.2, -np.inf]), reach
    )
    assert np.isnan(odd).all()
    assert np.all(bound <= ldem4.max_slope_near(lat0, reach) * (1 + 1e-12))
    idx, lat, lon = points_within(lat0, lon0, reach, 300, rng)
    # and every pixel corner (post) within reach of the origins
    line, sample = ldem4.pixel_coords_deg(np.degrees(lat0), np.degrees(lon0))
    span = reach_km / 7.58 + 2
    for di in np.arange(-np.ceil(span), np.ceil(span) + 1):
        for dj in np.arange(-np.ceil(4 * span), np.ceil(4 * span) + 1):
            c_lat, c_lon = ldem4.pixel_center_deg(np.clip(np.round(line) + di, 0, 719), np.round(sample) + dj)
            c_lat, c_lon = np.radians(c_lat), np.radians(c_lon)
            cos_d = np.sin(lat0) * np.sin(c_lat) + np.cos(lat0) * np.cos(c_lat) * np.cos(c_lon - lon0)
            near = np.flatnonzero(np.arccos(np.clip(cos_d, -1, 1)) <= reach)
            idx = np.concatenate([idx, near])
            lat, lon = np.concatenate([lat, c_lat[near]]), np.concatenate([lon, c_lon[near]])
    _, de, dn = ldem4.height_gradient(lat, lon)
    slope = np.hypot(de, dn)
    assert np.all(slope <= bound[idx])
    # tight where the ground is gentle: Mare Frigoris within 15.7 km (a 10 km beam's reach)
    if reach_km == 15.7:
        assert bound[n + 3] < 0.2 < 0.5 < ldem4.max_slope_near(lat0[n + 3 : n + 4], reach)[0]
        assert bound[n + 3] == bound[n + 4]  # the same point, 360° apart


def test_ray_slope_bound_is_the_patchs_and_never_below_the_points(ldem4: Dem) -> None:
    """The ray cast's bound around an origin is its whole patch's (kept per patch): never below the point's
    own bound (which holds at every point within reach, above), the same for every point of a patch, in
    any order of asking, and still tight over Mare Frigoris."""
    rng = np.random.default_rng(21)
    reach = 15.7e3 / R_MOON
    n = 3000
    lat = np.concatenate([np.arcsin(rng.uniform(-1, 1, n)), np.radians([89.99, -89.9, 60.5, 0.0])])
    lon = np.concatenate([rng.uniform(-np.pi, 3 * np.pi, n), np.radians([0.0, 10.0, -4.6, 359.999])])
    fresh = copy.copy(ldem4)
    fresh.__dict__.pop("_ray_slope_memos", None)
    ray = fresh.ray_slope_bound(lat, lon, reach)
    point = ldem4.max_slope_around(lat, lon, reach)
    assert np.all(ray >= point)
    assert np.array_equal(ray[::-1], fresh.ray_slope_bound(lat[::-1], lon[::-1], reach))
    assert np.array_equal(ray, ldem4.ray_slope_bound(lat, lon, reach))  # another memo, the same bits
    # points of one patch (pixel centres are patch corners: a quarter pixel inside) share the bound
    line, sample = ldem4.pixel_coords_deg(np.degrees(lat), np.degrees(lon))
    for dl, ds in ((0.2, 0.2), (0.7, 0.9)):
        c_lat, c_lon = ldem4.pixel_center_deg(np.floor(line) + dl, np.floor(sample) + ds)
        inside = (np.abs(c_lat) < 89.0) & (np.floor(line) >= 0) & (np.floor(line) < ldem4.lines - 1)
        again = ldem4.ray_slope_bound(np.radians(c_lat), np.radians(c_lon), reach)
        corner_lat, corner_lon = ldem4.pixel_center_deg(np.floor(line) + 0.5, np.floor(sample) + 0.5)
        mid = ldem4.ray_slope_bound(np.radians(corner_lat), np.radians(corner_lon), reach)
        assert np.array_equal(again[inside], mid[inside])
    assert ray[n + 2] < 0.2 < 0.5 < ldem4.max_slope_near(lat[n + 2 : n + 3], reach)[0]


def test_slope_bound_around_holds_on_a_tile(tile: Dem) -> None:
    """Over a regional tile (clamped edge strips, missing posts, origins off the tile) the bound around a
    point holds at every point within reach where the surface has a slope, posts included."""
    rng = np.random.default_rng(13)
    lat0, lon0 = random_points(tile, 600, seed=14)
    keep = np.isfinite(lat0) & np.isfinite(lon0) & (np.abs(lat0) < 1.5)
    lat0, lon0 = lat0[keep], lon0[keep]
    for reach in (1e-5, 3e-4, 0.01):
        bound = tile.max_slope_around(lat0, lon0, reach)
        assert np.all(bound <= tile.max_slope_near(lat0, reach) * (1 + 1e-12) + (bound == 0.0))
        idx, lat, lon = points_within(lat0, lon0, reach, 200, rng)
        posts = np.radians(
            tile.pixel_center_deg(rng.integers(0, tile.lines, idx.size), rng.integers(0, 60, idx.size))
        )
        _, de, dn = tile.height_gradient(np.concatenate([lat, posts[0]]), np.concatenate([lon, posts[1]]))
        cos_d = np.sin(lat0[idx]) * np.sin(posts[0]) + np.cos(lat0[idx]) * np.cos(posts[0]) * np.cos(
            posts[1] - lon0[idx]
        )
        within = np.concatenate([np.ones(idx.size, bool), np.arccos(np.clip(cos_d, -1, 1)) <= reach])
        slope = np.hypot(de, dn)
        ok = within & np.isfinite(slope)
        assert ok.sum() > 1000
        assert np.all(slope[ok] <= np.concatenate([bound[idx], bound[idx]])[ok])


def rays(dem: Dem, n: int, seed: int, *, alt: tuple[float, float], max_tilt_deg: float):
    """Origins above random points of ``dem`` and directions up to ``max_tilt_deg`` from nadir (a few up)."""
    rng = np.random.default_rng(seed)
    lat_deg = rng.uniform(dem.south_edge_deg, dem.north_edge_deg, n)
    lon_deg = dem.west_edge_deg + rng.uniform(0.0, dem.samples / dem.pixels_per_degree, n)
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    origin = llh_to_mcmf(lat, lon, rng.uniform(*alt, n))
    east, north, up = enu_basis(lat, lon)
    tilt = np.radians(rng.uniform(0.0, max_tilt_deg, n))
    tilt[: n // 5] = 0.0
    tilt[n // 5 : n // 5 + n // 20] = np.radians(120.0)  # pointing up: no hit
    az = rng.uniform(0.0, 2 * np.pi, n)
    horiz = np.cos(az)[:, None] * north + np.sin(az)[:, None] * east
    return origin, -np.cos(tilt)[:, None] * up + np.sin(tilt)[:, None] * horiz * rng.uniform(0.5, 2.0, (n, 1))


@pytest.mark.parametrize(
    ("which", "alt", "max_range", "max_tilt"),
    [
        ("ldem4", (-3000.0, 12_000.0), 10_000.0, 60.0),  # origins below the surface, misses, beyond range
        ("ldem4", (50.0, 30_000.0), 100_000.0, 85.0),
        ("tile", (-2000.0, 3_000.0), 5_000.0, 70.0),  # off the tile's edge and over missing posts: NaN
    ],
)
def test_ray_cast_is_the_numpy_march(
    which: str, alt: tuple[float, float], max_range: float, max_tilt: float, request: pytest.FixtureRequest
) -> None:
    dem = request.getfixturevalue(which)
    origin, u = rays(dem, 600, seed=3, alt=alt, max_tilt_deg=max_tilt)
    got_stats, expected_stats = RaycastStats(), RaycastStats()
    got = raycast(dem, origin, u, max_range, max_iter=300, stats=got_stats)
    expected = raycast(numpy_twin(dem), origin, u, max_range, max_iter=300, stats=expected_stats)
    assert np.array_equal(got, expected, equal_nan=True)
    # the kernel answers rays that stay high above the ground within range without marching them
    assert got_stats.unresolved <= expected_stats.unresolved  # NaN ground (off a tile) out of reach too
    assert got_stats.evaluations <= expected_stats.evaluations
    assert np.any(got == 0.0) and np.any(np.isnan(got)) and np.sum(got > 0.0) > 100
    # falling rays search in both (the kernel leaves rays out of reach uncast)
    assert 100 < got_stats.searched <= expected_stats.searched
    cos_inc = incidence_cos(dem, origin, u, got)
    assert np.array_equal(cos_inc, incidence_cos(numpy_twin(dem), origin, u, got), equal_nan=True)
    assert np.array_equal(np.isnan(cos_inc), np.isnan(got)) or which == "tile"  # a hit over no posts: NaN
    # each ray's range is its own: the same alone, in another order or in another batch
    assert np.array_equal(
        got[::-1], raycast(dem, origin[::-1], u[::-1], max_range, max_iter=300), equal_nan=True
    )
    single = [raycast(dem, origin[i], u[i], max_range, max_iter=300)[0] for i in range(0, 600, 37)]
    assert np.array_equal(got[::37], single, equal_nan=True)


def falling_rays(dem: Dem, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Altimeter-like rays: origins 0.1–12 km up over Mare Frigoris, the Atlas rim and random latitudes up to
    80°, directions up to 75° from nadir."""
    rng = np.random.default_rng(seed)
    site = rng.integers(0, 3, n)
    lat_deg = np.where(site == 0, 60.5, np.where(site == 1, 47.5, rng.uniform(-80.0, 80.0, n)))
    lon_deg = np.where(site == 0, -4.6, np.where(site == 1, 44.4, rng.uniform(-180.0, 180.0, n)))
    lat = np.radians(lat_deg + rng.uniform(-0.5, 0.5, n))
    lon = np.radians(lon_deg + rng.uniform(-0.5, 0.5, n))
    origin = llh_to_mcmf(lat, lon, dem.height(lat, lon) + rng.uniform(100.0, 12_000.0, n))
    east, north, up = enu_basis(lat, lon)
    tilt = np.radians(rng.uniform(0.0, 75.0, n))
    az = rng.uniform(0.0, 2 * np.pi, n)
    horiz = np.cos(az)[:, None] * north + np.sin(az)[:, None] * east
    return origin, -np.cos(tilt)[:, None] * up + np.sin(tilt)[:, None] * horiz


def test_falling_rays_fall_all_along_their_reach(ldem4: Dem) -> None:
    """The premise of the search (raycast module docstring): where the bound D of a ray is positive, its
    height above the terrain falls by at least D per metre all along its reach, so it crosses the surface
    at most once. Sampled every 2.5 m along 10 km rays over LDEM_4."""
    max_range, dt = 10_000.0, 2.5
    origin, u = falling_rays(ldem4, 600, seed=21)
    g0, rho0 = raycast_module._g(ldem4, origin)
    lip = raycast_module._slope_bounds(ldem4, origin, max_range)
    _, d_min = raycast_module._fall_bounds(*origin.T, *u.T, rho0, lip, max_range)
    falling = np.flatnonzero((d_min > 0.0) & (g0 > 0.0))
    assert falling.size > 200 and falling.size < origin.shape[0]  # not every ray: grazing ones march
    t = np.arange(0.0, max_range + dt, dt)
    for i in falling:
        g, _ = raycast_module._g(ldem4, origin[i] + t[:, None] * u[i])
        assert np.all(np.diff(g) <= -d_min[i] * dt + 1e-8), i


def test_falling_rays_find_the_marched_crossing_in_fewer_queries(
    ldem4: Dem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A falling ray's search lands within 10 nm of the conservative march's range (the march alone: every
    ray's bound D forced to 0), in fewer terrain queries (7,733 against 14,514 for these 2,000 rays, each
    with its own origin query)."""
    max_range = 10_000.0
    origin, u = falling_rays(ldem4, 2000, seed=22)
    searched_stats, marched_stats = RaycastStats(), RaycastStats()
    searched = raycast(ldem4, origin, u, max_range, stats=searched_stats)
    with monkeypatch.context() as m:
        m.setattr(raycast_module, "_fall_bounds", lambda ox, *a: (np.zeros(ox.size), np.zeros(ox.size)))
        marched = raycast(numpy_twin(ldem4), origin, u, max_range, stats=marched_stats)
    assert marched_stats.searched == 0 and searched_stats.searched > 1000
    assert np.array_equal(np.isnan(searched), np.isnan(marched))
    hit = np.isfinite(marched) & (marched > 0.0)
    assert hit.sum() > 1000
    # the search stops within SEARCH_TOL·tol_m = 10 nm of the crossing; the march's interpolation adds < 1 nm
    assert np.max(np.abs(searched[hit] - marched[hit])) < 1.1e-8
    assert searched_stats.unresolved == marched_stats.unresolved == 0
    assert searched_stats.evaluations < 0.6 * marched_stats.evaluations


def test_numpy_arctan2_loop_gives_numpy_bits() -> None:
    if kernels.ATAN2 is None:
        pytest.skip("numpy's arctan2 loop is not readable here (the kernels use libm's atan2)")
    rng = np.random.default_rng(4)
    for n in (1, 5, 8, 13, 1000):
        y, x = rng.normal(size=n) * 1e6, rng.normal(size=n)
        out = np.empty(n)
        kernels._atan2(kernels.ATAN2, y, x, out, n)
        assert np.array_equal(out, np.arctan2(y, x))


def test_libm_atan2_fallback_is_within_an_ulp(ldem4: Dem) -> None:
    """Without numpy's loop the kernels take libm's atan2: the same rays land within a few nanometres."""
    origin, u = rays(ldem4, 400, seed=7, alt=(100.0, 9_000.0), max_tilt_deg=45.0)
    heights, grid = ldem4.kernel_grid
    args = (
        heights,
        grid,
        *ldem4._slope_pyramid,
        ldem4._patch_slope_bounds,
        *ldem4._ray_slope_memo(0.6),
        0.6,
        10_000.0,
        0.01,
        5000,
        4,
    )
    numpy_atan2, *_ = kernels.march_dem(origin, u, *args, kernels.ATAN2, np.empty(0))
    libm_atan2, *_ = kernels.march_dem(origin, u, *args, None, np.empty(0))
    assert np.array_equal(np.isnan(numpy_atan2), np.isnan(libm_atan2))
    assert np.nanmax(np.abs(numpy_atan2 - libm_atan2)) < 1e-6


def test_rays_out_of_reach_are_answered_without_a_query(ldem4: Dem) -> None:
    """A ray that stays more than 1 m above its latitude band's highest point within the maximum range gets
    NaN at once; every ray gets the bits of the full march (no table), down to the skip's threshold."""
    max_range = 10_000.0
    reach = raycast_module._reach_rad(max_range)
    spread = math.ceil(reach * raycast_module.TOP_BANDS / 2) + 1
    top = ldem4.max_height_by_sine(raycast_module.TOP_BANDS, spread)
    heights, grid = ldem4.kernel_grid
    args = (
        heights,
        grid,
        *ldem4._slope_pyramid,
        ldem4._patch_slope_bounds,
        *ldem4._ray_slope_memo(math.degrees(reach)),
        math.degrees(reach),
        max_range,
        0.01,
        5000,
        4,
    )
    # rays over Mare Frigoris whose closest approach straddles the band's top (± 30 m)
    rng = np.random.default_rng(12)
    n = 4000
    lat = np.radians(60.5 + rng.uniform(-0.5, 0.5, n))
    lon = np.radians(-4.6 + rng.uniform(-0.5, 0.5, n))
    band = np.clip(((np.sin(lat) + 1.0) * (0.5 * top.size)).astype(np.int64), 0, top.size - 1)
    up = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
    tilt = np.radians(rng.uniform(0.0, 80.0, n))
    side = rng.normal(size=(n, 3))
    side -= np.sum(side * up, axis=1)[:, None] * up
    side /= np.linalg.norm(side, axis=1)[:, None]
    u = -np.cos(tilt)[:, None] * up + np.sin(tilt)[:, None] * side
    # the origin's radius at which the ray's end point, its closest approach, lies 1 m + δ above the top
    rho_min = R_MOON + top[band] + 1.0 + rng.uniform(-30.0, 30.0, n)
    rho0 = max_range * np.cos(tilt) + np.sqrt(rho_min**2 - (max_range * np.sin(tilt)) ** 2)
    origin = up * rho0[:, None]
    got, _, evaluations, *_ = kernels.march_dem(origin, u, *args, kernels.ATAN2, top)
    full, _, full_evaluations, *_ = kernels.march_dem(origin, u, *args, kernels.ATAN2, np.empty(0))
    assert np.array_equal(got, full, equal_nan=True)
    assert evaluations < full_evaluations
    # straight down from 20 km over a 4 km band top: no query at all
    high = up[:5] * (R_MOON + 20_000.0)
    down = -up[:5]
    r, _, evaluations, *_ = kernels.march_dem(high, down, *args, kernels.ATAN2, top)
    assert np.isnan(r).all() and evaluations == 0


@pytest.mark.parametrize("b", [360.0, 1440.0, 7.0])
def test_mod_is_numpy_mod(b: float) -> None:
    rng = np.random.default_rng(6)
    a = np.concatenate(
        [
            rng.uniform(-4 * b, 4 * b, 10_000),
            np.array([0.0, -0.0, b, -b, 2 * b, -2 * b, 3 * b, b - 1e-13, -1e-300, 1e-300, 1e300, -1e300]),
            np.nextafter(np.array([b, -b, 2 * b, 0.0]), np.inf),
            np.nextafter(np.array([b, -b, 2 * b, 0.0]), -np.inf),
            np.array([np.nan, np.inf, -np.inf]),
        ]
    )
    got = np.array([kernels._mod(v, b) for v in a])
    expected = np.mod(a, b)
    assert np.array_equal(got, expected, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(expected))
