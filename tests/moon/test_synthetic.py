"""Synthetic crater field: determinism, population law, slope bound."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from touchdown.moon.terrain import _crater_kernels
from touchdown.moon.terrain.catalogue import ATLAS
from touchdown.moon.terrain.craters import cumulative_density
from touchdown.moon.terrain.synthetic import CraterField, LocalPlane, SyntheticTerrain

SITE = (math.radians(47.5), math.radians(44.4))


@pytest.fixture(scope="module")
def terrain() -> SyntheticTerrain:
    return SyntheticTerrain(CraterField(7, SITE, d_max_m=2000.0), [ATLAS])


def _points(n: int, seed: int = 0, spread: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return SITE[0] + rng.uniform(-spread, spread, n), SITE[1] + rng.uniform(-spread, spread, n)


def test_bit_identical_whatever_batch_size_and_order(terrain: SyntheticTerrain) -> None:
    lat, lon = _points(3000)
    h = terrain.height(lat, lon)
    perm = np.random.default_rng(1).permutation(lat.size)
    assert np.array_equal(terrain.height(lat[perm], lon[perm]), h[perm])
    chunks = np.concatenate(
        [terrain.height(lat[i : i + 37], lon[i : i + 37]) for i in range(0, lat.size, 37)]
    )
    assert np.array_equal(chunks, h)
    single = np.array([terrain.height(lat[i], lon[i]) for i in range(50)])
    assert np.array_equal(single, h[:50])
    assert np.array_equal(terrain.height(lat.reshape(60, 50), lon.reshape(60, 50)).ravel(), h)
    assert np.array_equal(terrain.height(lat[::-1], lon[::-1]), h[::-1])  # strided views
    assert np.array_equal(terrain.height(lat[0], lon[:10]), terrain.height(np.full(10, lat[0]), lon[:10]))


def test_scalar_queries_equal_the_batch(terrain: SyntheticTerrain) -> None:
    """A scalar (0-d) query runs as a one-element array: numpy's scalar arithmetic rounds some of these
    points differently (it did, before the field ran scalars as arrays)."""
    lat, lon = _points(300, seed=12, spread=0.05)
    h, de, dn = terrain.height_gradient(lat, lon)
    for i in range(lat.size):
        assert terrain.height(lat[i], lon[i]) == h[i]
        hi, dei, dni = terrain.height_gradient(lat[i], lon[i])
        assert (hi, dei, dni) == (h[i], de[i], dn[i])
        assert np.shape(hi) == ()


def test_all_rows_drawn_at_once_equal_row_by_row(terrain: SyntheticTerrain) -> None:
    field = terrain.field
    rng = np.random.default_rng(13)
    i = rng.integers(-20_000, 20_000, (field._n_rows, 300))
    j = rng.integers(-20_000, 20_000, (field._n_rows, 300))
    together = field._draw(i, j)
    for row in range(field._n_rows):
        alone = field._draw(i[row : row + 1, :7], j[row : row + 1, :7], row, row + 1)
        for a, b in zip(together, alone, strict=True):
            assert np.array_equal(a[row, :7], b[0])


@pytest.mark.parametrize(
    "params",
    [{}, {"d_min_m": 3.0, "fresh_fraction": 0.5, "shallow_fraction": 0.3}, {"extent_m": 20_000.0}],
)
def test_compiled_draw_gives_the_numpy_draws_bits(params: dict) -> None:
    """The compiled draw (_crater_kernels.draw_cells) against the numpy code it replaced, every output bit
    for bit: cells near the centre (mostly inside the extent) and far out, all rows and one row alone."""
    if _crater_kernels.LOOPS is None:
        pytest.skip("numpy's loops are not readable here: the field runs its numpy draw")
    field = CraterField(5, SITE, **params)
    rng = np.random.default_rng(21)
    for span in (60, 3_000_000):
        i = rng.integers(-span, span, (field._n_rows, 700))
        j = rng.integers(-span, span, (field._n_rows, 700))
        for rows in ((0, None), (3, 4)):
            r0, r1 = rows
            ii, jj = (i, j) if r1 is None else (i[r0:r1], j[r0:r1])
            compiled, reference = field._draw(ii, jj, r0, r1), field._draw_numpy(ii, jj, r0, r1)
            for a, b in zip(compiled, reference, strict=True):
                assert a.dtype == b.dtype and a.shape == b.shape
                assert np.array_equal(a, b)
            if span == 60 and r1 is None:
                assert 0.2 < reference[5].mean() < 0.95  # craters present and absent both drawn


@pytest.mark.parametrize("params", [{}, {"d_min_m": 3.0, "fresh_fraction": 0.5}, {"extent_m": 5_000.0}])
def test_compiled_plane_field_gives_the_numpy_bits(params: dict) -> None:
    """Heights and plane gradients of the compiled field (_crater_kernels.plane_field) against the numpy
    code it replaced, bit for bit: points spread over 20 km (inside and outside a small extent) and points
    on the rims, floors and ejecta of drawn craters."""
    if _crater_kernels.LOOPS is None:
        pytest.skip("numpy's loops are not readable here: the field runs its numpy code")
    field = CraterField(5, SITE, **params)
    rng = np.random.default_rng(8)
    x, y = rng.uniform(-10_000.0, 10_000.0, 3000), rng.uniform(-10_000.0, 10_000.0, 3000)
    craters = field.craters_in_box(-3000.0, 3000.0, -3000.0, 3000.0)
    k = rng.integers(0, craters["x"].size, 2000)
    reach = rng.uniform(0.0, 2.0, k.size) * 0.5 * craters["diameter"][k]  # floor, wall, rim and ejecta
    az = rng.uniform(0.0, 2.0 * np.pi, k.size)
    x = np.concatenate([x, craters["x"][k] + reach * np.cos(az), [0.0, 1e7]])
    y = np.concatenate([y, craters["y"][k] + reach * np.sin(az), [0.0, 1e7]])
    for gradient in (True, False):
        compiled = field._plane_block(x, y, gradient)
        reference = field._plane_block_numpy(x, y, gradient)
        for a, b in zip(compiled, reference, strict=True):
            assert np.array_equal(a, b)
    assert np.count_nonzero(reference[0]) > 1000  # the points meet craters


def test_compiled_interp_is_numpys() -> None:
    """_crater_kernels.interp_rows against np.interp: below, above and on the nodes, NaN, and tables far from
    evenly spaced (where its first guess is far off)."""
    rng = np.random.default_rng(3)
    even = np.linspace(-9.0, -7.0, 257)
    uneven = np.sort(rng.uniform(-9.0, -7.0, 257) ** 3)
    for xp in (even, uneven):
        fp = np.cumsum(rng.uniform(0.1, 1.0, xp.size))
        tab_x, tab_f = np.stack([even, xp]), np.stack([np.zeros(xp.size), fp])
        x = np.concatenate(
            [rng.uniform(xp[0] - 1.0, xp[-1] + 1.0, 3000), xp, [xp[0], xp[-1], np.nan, -np.inf, np.inf]]
        )
        got = x.copy()
        _crater_kernels.interp_rows(got, np.ones(x.size, np.int64), tab_x, tab_f)
        assert np.array_equal(got, np.interp(x, xp, fp), equal_nan=True)


def test_same_seed_same_terrain_other_seed_differs() -> None:
    lat, lon = _points(2000)
    a = CraterField(11, SITE).height(lat, lon)
    b = CraterField(11, SITE).height(lat, lon)
    c = CraterField(12, SITE).height(lat, lon)
    assert np.array_equal(a, b)
    assert np.mean(a != c) > 0.5


def test_crater_counts_follow_the_law() -> None:
    """Counts > D in 200 boxes of 2 × 2 km agree with N(>D) (REFERENCE §2.2) within Poisson error."""
    field = CraterField(3, SITE, d_min_m=10.0, d_max_m=2000.0)
    rng = np.random.default_rng(5)
    n_boxes = 200
    totals = {10.0: 0, 50.0: 0, 100.0: 0}
    for _ in range(n_boxes):
        x0, y0 = rng.uniform(-200_000, 200_000, 2)
        c = field.craters_in_box(x0, x0 + 2000.0, y0, y0 + 2000.0)
        for d in totals:
            totals[d] += int(np.count_nonzero(c["diameter"] >= d))
    for d, count in totals.items():
        expected = (float(cumulative_density(d)) - float(cumulative_density(2000.0))) * 4e6 * n_boxes
        assert abs(count - expected) < 4.0 * math.sqrt(expected), (d, count, expected)


def test_analytic_gradient_matches_finite_difference(terrain: SyntheticTerrain) -> None:
    lat, lon = _points(2000, seed=3)
    h, de, dn = terrain.height_gradient(lat, lon)
    assert np.array_equal(h, terrain.height(lat, lon))
    step = 0.01 / 1_737_400.0
    fe = (
        terrain.height(lat, lon + step / np.cos(lat)) - terrain.height(lat, lon - step / np.cos(lat))
    ) / 0.02
    fn = (terrain.height(lat + step, lon) - terrain.height(lat - step, lon)) / 0.02
    err = np.hypot(fe - de, fn - dn)
    assert np.median(err) < 1e-5
    assert np.mean(err < 1e-3) > 0.99  # the rest sit on rim kinks


def test_max_slope_is_a_bound(terrain: SyntheticTerrain) -> None:
    lat, lon = _points(20000, seed=4)
    _, de, dn = terrain.height_gradient(lat, lon)
    assert np.max(np.hypot(de, dn)) <= terrain.max_slope


def test_projection_jacobian() -> None:
    plane = LocalPlane(*SITE)
    lat, lon = _points(100, seed=9, spread=0.2)
    x, y, _ = plane.forward(lat, lon)
    xe, xn, ye, yn = plane.jacobian(lat, lon)
    step = 0.1 / 1_737_400.0
    x1, y1, _ = plane.forward(lat + step, lon)
    x0, y0, _ = plane.forward(lat - step, lon)
    assert np.allclose((x1 - x0) / 0.2, xn, atol=1e-6) and np.allclose((y1 - y0) / 0.2, yn, atol=1e-6)
    x1, y1, _ = plane.forward(lat, lon + step / np.cos(lat))
    x0, y0, _ = plane.forward(lat, lon - step / np.cos(lat))
    assert np.allclose((x1 - x0) / 0.2, xe, atol=1e-6) and np.allclose((y1 - y0) / 0.2, ye, atol=1e-6)
    x, y, _ = plane.forward(np.array(SITE[0]), np.array(SITE[1]))
    assert abs(float(x)) < 1e-6 and abs(float(y)) < 1e-6


def test_field_is_zero_beyond_extent() -> None:
    field = CraterField(1, SITE, extent_m=20_000.0)
    lat = np.full(100, SITE[0] + 0.05)  # ≈ 87 km north
    lon = SITE[1] + np.linspace(-0.01, 0.01, 100)
    assert np.all(field.height(lat, lon) == 0.0)


def test_height_throughput(terrain: SyntheticTerrain) -> None:
    lat, lon = _points(10_000)
    terrain.height(lat, lon)
    t0 = time.perf_counter()
    terrain.height(lat, lon)
    elapsed = time.perf_counter() - t0
    print(f"SyntheticTerrain.height: 1e4 points in {elapsed * 1e3:.1f} ms")
    assert elapsed < 2.0
