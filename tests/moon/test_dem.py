"""LOLA DEM reader: published heights, pixel geometry, interpolation, slopes, and bad files.

Oracles: REFERENCE §2.1 and shared/data/terrain/SOURCE.md (checked heights, pixel centres), a plain
``np.fromfile`` read, closed-form planes written into tmp_path, and finite differences.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from touchdown.errors import InputError
from touchdown.moon.constants import R_MOON
from touchdown.moon.terrain.base import Terrain
from touchdown.moon.terrain.dem import Dem, read_dem

RNG_SEED = 20240425


@pytest.fixture(scope="module")
def ldem4(lola_label: Path) -> Dem:
    return read_dem(lola_label)


@pytest.fixture(scope="module")
def posts_m(lola_label: Path) -> np.ndarray:
    """Independent read of the grid, exactly as SOURCE.md says (REFERENCE §2.1)."""
    return np.fromfile(lola_label.with_suffix(".IMG"), "<i2").reshape(720, 1440) * 0.5


def write_dem(
    folder: Path,
    name: str,
    dn: np.ndarray,
    *,
    res: float,
    north_deg: float,
    west_deg: float,
    center_lon: float = 180.0,
    sample_type: str = "LSB_INTEGER",
    scale: float = 0.5,
    projection: str = "SIMPLE CYLINDRICAL",
    minmax: tuple[float, float] | None = None,
) -> Path:
    """Write ``name``.LBL + ``name``.IMG (a PDS3 grid whose top-left pixel edge is at north/west)."""
    lines, samples = dn.shape
    code = {"LSB_INTEGER": "<i2", "MSB_INTEGER": ">i2", "PC_REAL": "<f4", "IEEE_REAL": ">f4"}[sample_type]
    dn.astype(code).tofile(folder / f"{name}.IMG")
    lo, hi = minmax if minmax is not None else (float(dn.min()), float(dn.max()))
    label = f"""PDS_VERSION_ID = "PDS3"
PRODUCT_ID = "{name}"
/* synthetic test grid */
OBJECT = UNCOMPRESSED_FILE
  FILE_NAME = "{name}.IMG"
  RECORD_TYPE = FIXED_LENGTH
  RECORD_BYTES = {samples * np.dtype(code).itemsize}
  ^IMAGE = "{name}.IMG"
  OBJECT = IMAGE
    LINES = {lines}
    LINE_SAMPLES = {samples}
    MAXIMUM = {hi:g}
    MINIMUM = {lo:g}
    SAMPLE_TYPE = {sample_type}
    SAMPLE_BITS = {8 * np.dtype(code).itemsize}
    UNIT = METER
    SCALING_FACTOR = {scale}
    OFFSET = 1737400.
  END_OBJECT = IMAGE
END_OBJECT = UNCOMPRESSED_FILE
OBJECT = IMAGE_MAP_PROJECTION
  MAP_PROJECTION_TYPE = "{projection}"
  MAP_RESOLUTION = {res} <pix/deg>
  A_AXIS_RADIUS = 1737.4 <km>
  CENTER_LATITUDE = 0 <deg>
  CENTER_LONGITUDE = {center_lon} <deg>
  MAXIMUM_LATITUDE = {north_deg} <deg>
  MINIMUM_LATITUDE = {north_deg - lines / res} <deg>
  WESTERNMOST_LONGITUDE = {west_deg} <deg>
  EASTERNMOST_LONGITUDE = {west_deg + samples / res} <deg>
  LINE_PROJECTION_OFFSET = {north_deg * res - 0.5} <pix>
  SAMPLE_PROJECTION_OFFSET = {(west_deg - center_lon) * -res - 0.5} <pix>
END_OBJECT = IMAGE_MAP_PROJECTION
END
"""
    path = folder / f"{name}.LBL"
    path.write_text(label)
    return path


def copy_ldem4(lola_label: Path, folder: Path) -> Path:
    for suffix in (".LBL", ".IMG"):
        shutil.copy(lola_label.with_suffix(suffix), folder / f"LDEM_4{suffix}")
    return folder / "LDEM_4.LBL"


def assert_one_line_naming(exc: pytest.ExceptionInfo[InputError], name: str) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    assert name in msg
    return msg


# --------------------------------------------------------------------------------------------------
# Geometry and published heights


def test_ldem4_is_a_global_terrain(ldem4: Dem) -> None:
    assert isinstance(ldem4, Terrain)
    assert ldem4.is_global
    assert (ldem4.lines, ldem4.samples) == (720, 1440)
    assert ldem4.pixels_per_degree == 4.0
    # REFERENCE §2.1: 0.25° pixels, 7,580.84 m at the equator.
    assert ldem4.pixel_size_m == pytest.approx(7580.84, abs=0.01)
    assert "LDEM_4" in ldem4.description and "\n" not in ldem4.description


def test_pixel_centres_match_reference(ldem4: Dem) -> None:
    # REFERENCE §2.1: line 0 centred at 89.875°N, sample 0 at 0.125°E.
    lat, lon = ldem4.pixel_center_deg(np.array([0, 719]), np.array([0, 1439]))
    np.testing.assert_allclose(lat, [89.875, -89.875])
    np.testing.assert_allclose(lon, [0.125, 359.875])
    line, sample = ldem4.pixel_coords_deg(89.875, 0.125)
    assert (line, sample) == pytest.approx((0.0, 0.0))


@pytest.mark.parametrize(
    ("lat_deg", "lon_deg", "expected_m", "tol_m"),
    [
        (0.674, 23.473, -1883.0, 0.0),  # Apollo 11 LM (REFERENCE §2.1)
        (60.5, -4.6, -2430.0, 0.5),  # ispace M2 target; the grid holds −2429.5 (published rounded)
        (47.581, 44.094, -2924.0, 0.0),  # HAKUTO-R M1 impact (SOURCE.md)
    ],
)
def test_published_heights_nearest(
    ldem4: Dem, lat_deg: float, lon_deg: float, expected_m: float, tol_m: float
) -> None:
    h = ldem4.height(math.radians(lat_deg), math.radians(lon_deg), method="nearest")
    assert abs(float(h) - expected_m) <= tol_m


def test_atlas_box_relief(ldem4: Dem, posts_m: np.ndarray) -> None:
    # REFERENCE §2.1: pixels whose centres lie in 45.5–49.5°N, 42–47°E span −3211 … −249 m.
    lines, samples = np.meshgrid(np.arange(720), np.arange(1440), indexing="ij")
    lat, lon = ldem4.pixel_center_deg(lines, samples)
    box = (lat >= 45.5) & (lat <= 49.5) & (lon >= 42.0) & (lon <= 47.0)
    h = ldem4.height(np.radians(lat[box]), np.radians(lon[box]), method="nearest")
    assert (h.min(), h.max()) == (-3211.0, -249.0)
    assert (posts_m[box].min(), posts_m[box].max()) == (-3211.0, -249.0)


def test_nearest_matches_plain_numpy_read(ldem4: Dem, posts_m: np.ndarray) -> None:
    rng = np.random.default_rng(RNG_SEED)
    lat_deg = rng.uniform(-89.9, 89.9, 5000)
    lon_deg = rng.uniform(-360.0, 720.0, 5000)
    # SOURCE.md: row = floor((90 − lat)·4), col = floor((lon mod 360)·4).
    row = np.floor((90.0 - lat_deg) * 4).astype(int)
    col = np.floor(np.mod(lon_deg, 360.0) * 4).astype(int)
    h = ldem4.height(np.radians(lat_deg), np.radians(lon_deg), method="nearest")
    np.testing.assert_array_equal(h, posts_m[row, col])
    assert h.shape == (5000,)


def test_heights_are_heights_not_radii(ldem4: Dem) -> None:
    # The GDAL trap (REFERENCE §2.1): DN × 0.5 + OFFSET is radius; heights must stay within ±11 km.
    rng = np.random.default_rng(1)
    h = ldem4.height(np.arcsin(rng.uniform(-1, 1, 20000)), rng.uniform(0, 2 * np.pi, 20000))
    assert np.all(np.abs(h) < 11_000.0)
    assert abs(h.mean()) < 2_000.0 and R_MOON > 1e6


# --------------------------------------------------------------------------------------------------
# Interpolation, wrap, gradients, the slope bound


def test_bilinear_equals_posts_at_centres_and_means_at_corners(ldem4: Dem, posts_m: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    i = rng.integers(0, 719, 3000)
    j = rng.integers(0, 1440, 3000)
    lat, lon = ldem4.pixel_center_deg(i, j)
    np.testing.assert_allclose(ldem4.height(np.radians(lat), np.radians(lon)), posts_m[i, j], atol=1e-6)
    lat_c, lon_c = ldem4.pixel_center_deg(i + 0.5, j + 0.5)
    j1 = (j + 1) % 1440
    corners = (posts_m[i, j] + posts_m[i, j1] + posts_m[i + 1, j] + posts_m[i + 1, j1]) / 4
    np.testing.assert_allclose(ldem4.height(np.radians(lat_c), np.radians(lon_c)), corners, atol=1e-6)


def test_batch_shapes_broadcast(ldem4: Dem) -> None:
    lat = np.radians(np.linspace(-80, 80, 12)).reshape(3, 4)
    h, de, dn = ldem4.height_gradient(lat, 0.3)
    assert h.shape == de.shape == dn.shape == (3, 4)
    assert ldem4.contains(lat, 0.3).all()


def test_longitude_wrap_is_continuous(ldem4: Dem, posts_m: np.ndarray) -> None:
    lat = np.radians(np.linspace(-85, 85, 341))
    eps = 1e-9
    west = ldem4.height(lat, 2 * np.pi - eps)
    east = ldem4.height(lat, eps)
    np.testing.assert_allclose(west, east, atol=1e-3)
    np.testing.assert_array_equal(ldem4.height(lat, -0.1), ldem4.height(lat, 2 * np.pi - 0.1))
    # lon = 0 lies halfway between sample 1439 (359.875°E) and sample 0 (0.125°E).
    rows = np.arange(0, 720, 37)
    lat_rows, _ = ldem4.pixel_center_deg(rows, 0)
    np.testing.assert_allclose(
        ldem4.height(np.radians(lat_rows), 0.0), (posts_m[rows, 1439] + posts_m[rows, 0]) / 2, atol=1e-6
    )


def test_gradient_matches_finite_differences(ldem4: Dem) -> None:
    rng = np.random.default_rng(3)
    # Points inside patches, away from their edges, so the patch is smooth around them.
    line = rng.integers(20, 700, 2000) + rng.uniform(0.2, 0.8, 2000)
    sample = rng.integers(0, 1440, 2000) + rng.uniform(0.2, 0.8, 2000)
    lat_deg, lon_deg = ldem4.pixel_center_deg(line, sample)
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    _, de, dn = ldem4.height_gradient(lat, lon)
    d = np.radians(1e-4 / 4)  # 1e-4 pixel
    fd_n = (ldem4.height(lat + d, lon) - ldem4.height(lat - d, lon)) / (2 * d * R_MOON)
    fd_e = (ldem4.height(lat, lon + d) - ldem4.height(lat, lon - d)) / (2 * d * R_MOON * np.cos(lat))
    np.testing.assert_allclose(dn, fd_n, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(de, fd_e, rtol=1e-5, atol=1e-7)


def test_max_slope_bounds_dense_gradients(ldem4: Dem) -> None:
    rng = np.random.default_rng(4)
    n = 300_000
    lat = np.concatenate([np.arcsin(rng.uniform(-1, 1, n)), np.radians(rng.uniform(88.0, 90.0, n // 3))])
    lat = np.concatenate([lat, -lat[-n // 3 :]])
    lon = rng.uniform(-np.pi, 3 * np.pi, lat.size)
    # Add every pixel centre row × a longitude sweep: the patch corners are where slopes peak.
    rows, cols = np.meshgrid(np.arange(720), np.arange(0, 1440, 3), indexing="ij")
    lat_c, lon_c = ldem4.pixel_center_deg(rows.ravel(), cols.ravel())
    lat = np.concatenate([lat, np.radians(lat_c)])
    lon = np.concatenate([lon, np.radians(lon_c)])
    _, de, dn = ldem4.height_gradient(lat, lon)
    slope = np.hypot(de, dn)
    assert slope.max() <= ldem4.max_slope
    assert slope.max() >= 0.9 * ldem4.max_slope  # a bound, but not a uselessly loose one
    band = np.abs(lat) <= np.radians(60)
    bound_60 = ldem4.max_slope_band(np.radians(-60), np.radians(60))
    assert slope[band].max() <= bound_60 < ldem4.max_slope


def test_max_height_by_sine_bounds_every_point_of_its_band(ldem4: Dem, tmp_path: Path) -> None:
    bands = 4096
    top = ldem4.max_height_by_sine(bands)
    rng = np.random.default_rng(9)
    # dense random points, every pixel centre, and points on the band edges themselves
    rows, cols = np.meshgrid(np.arange(720), np.arange(0, 1440, 2), indexing="ij")
    lat_c, lon_c = ldem4.pixel_center_deg(rows.ravel(), cols.ravel())
    edges = np.arcsin(np.linspace(-1.0, 1.0, bands + 1))
    lat = np.concatenate([np.arcsin(rng.uniform(-1, 1, 400_000)), np.radians(lat_c), edges, edges])
    lon = np.concatenate(
        [rng.uniform(-np.pi, np.pi, 400_000), np.radians(lon_c), rng.uniform(-np.pi, np.pi, 2 * edges.size)]
    )
    band = np.clip(((np.sin(lat) + 1.0) * (0.5 * bands)).astype(np.int64), 0, bands - 1)
    assert np.all(ldem4.height(lat, lon) <= top[band])
    assert top.max() == ldem4.max_height_m
    # a useful bound: in the band of Mare Frigoris (60.5°N) the highest ground is far below the Moon's top
    frigoris = int((math.sin(math.radians(60.5)) + 1.0) * 0.5 * bands)
    assert top[frigoris] < ldem4.max_height_m - 5_000.0
    # a regional tile (rising southward): bands beyond its rows take its outermost rows' heights (clamped)
    dn = np.arange(20 * 30, dtype=np.int16).reshape(20, 30)
    tile = read_dem(write_dem(tmp_path, "RAMP", dn, res=4.0, north_deg=10.0, west_deg=20.0))
    tops = tile.max_height_by_sine(64)
    assert tops[0] == tops.max() == tile.max_height_m and tops[-1] == 0.5 * dn[0].max()


def test_tilted_plane_tile_has_the_exact_slope(tmp_path: Path) -> None:
    # h = a·line + b·sample is reproduced exactly by the bilinear patches: slopes in closed form.
    lines, samples, res = 40, 60, 16.0
    a_dn, b_dn = -3, 5  # DN per line (southward) and per sample (eastward)
    ii, jj = np.meshgrid(np.arange(lines), np.arange(samples), indexing="ij")
    dn = 1000 + a_dn * ii + b_dn * jj
    label = write_dem(tmp_path, "PLANE", dn, res=res, north_deg=1.0, west_deg=20.0, center_lon=21.0)
    dem = read_dem(label)
    assert not dem.is_global
    rng = np.random.default_rng(5)
    lat_deg = rng.uniform(1.0 - (lines - 1) / res, 1.0, 500)  # between the outermost centres
    lat_deg = np.clip(lat_deg, 1.0 - (lines - 1) / res + 0.5 / res, 1.0 - 0.5 / res)
    lon_deg = rng.uniform(20.0 + 0.5 / res, 20.0 + (samples - 0.5) / res, 500)
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    h, de, dn_ = dem.height_gradient(lat, lon)
    step = math.radians(1 / res)
    line = (1.0 * res - 0.5) - lat_deg * res
    sample = (lon_deg - 20.0) * res - 0.5
    np.testing.assert_allclose(h, 0.5 * (1000 + a_dn * line + b_dn * sample), atol=1e-6)
    np.testing.assert_allclose(de, 0.5 * b_dn / (R_MOON * step * np.cos(lat)), rtol=1e-9)
    np.testing.assert_allclose(dn_, -0.5 * a_dn / (R_MOON * step), rtol=1e-9)
    assert np.hypot(de, dn_).max() <= dem.max_slope
    # Outside the tile: NaN and not contained; just inside a pixel edge: clamped, contained.
    outside = np.radians([[1.01, 20.5], [0.5, 19.99], [0.5, 23.76], [-1.6, 21.0]])
    assert not dem.contains(outside[:, 0], outside[:, 1]).any()
    assert np.isnan(dem.height(outside[:, 0], outside[:, 1])).all()
    edge = np.radians([0.999, 20.001])
    assert dem.contains(*edge)
    assert float(dem.height(*edge)) == pytest.approx(0.5 * 1000, abs=1e-6)


def test_regional_msb_tile_matches_the_global_grid(tmp_path: Path, ldem4: Dem, posts_m: np.ndarray) -> None:
    # A window of LDEM_4 written big-endian as its own tile, across the 0°/360° seam (350°E … 10°E).
    rows = slice(100, 140)
    cols = np.r_[1400:1440, 0:40]
    dn = (posts_m[rows][:, cols] * 2).astype(np.int16)
    north = 90.0 - 100 / 4
    label = write_dem(
        tmp_path, "WINDOW", dn, res=4.0, north_deg=north, west_deg=350.0, sample_type="MSB_INTEGER"
    )
    tile = read_dem(label)
    rng = np.random.default_rng(6)
    lat = np.radians(rng.uniform(north - 39.5 / 4, north - 0.5 / 4, 2000))
    lon = np.radians(rng.uniform(-9.875, 9.875, 2000))
    np.testing.assert_allclose(tile.height(lat, lon), ldem4.height(lat, lon), atol=1e-9)
    np.testing.assert_allclose(
        tile.height_gradient(lat, lon)[1], ldem4.height_gradient(lat, lon)[1], atol=1e-12
    )
    assert np.isnan(tile.height(np.radians(north - 5), np.radians(180.0)))


def test_float_grid_and_img_path_with_lowercase_label(tmp_path: Path, posts_m: np.ndarray) -> None:
    dn = posts_m[300:320, 500:540].astype(np.float32)  # PC_REAL metres, SCALING_FACTOR 1
    write_dem(tmp_path, "flt", dn, res=4.0, north_deg=15.0, west_deg=125.0, sample_type="PC_REAL", scale=1.0)
    (tmp_path / "flt.LBL").rename(tmp_path / "flt.lbl")
    dem = read_dem(tmp_path / "flt.IMG")
    assert dem.path.name == "flt.lbl"
    lat, lon = dem.pixel_center_deg(np.arange(20), np.arange(20))
    np.testing.assert_allclose(
        dem.height(np.radians(lat), np.radians(lon)), posts_m[300:320, 500:520].diagonal(), atol=1e-6
    )


# --------------------------------------------------------------------------------------------------
# Bad files: one line, naming the file


def test_truncated_image(tmp_path: Path, lola_label: Path) -> None:
    label = copy_ldem4(lola_label, tmp_path)
    with open(tmp_path / "LDEM_4.IMG", "r+b") as f:
        f.truncate(1_000_000)
    with pytest.raises(InputError) as exc:
        read_dem(label)
    msg = assert_one_line_naming(exc, "LDEM_4.IMG")
    assert "truncated" in msg
    assert "label says 720 × 1440 × int16 = 2,073,600 bytes; LDEM_4.IMG has 1,000,000" in msg


def test_image_larger_than_label_says(tmp_path: Path, lola_label: Path) -> None:
    label = copy_ldem4(lola_label, tmp_path)
    with open(tmp_path / "LDEM_4.IMG", "ab") as f:
        f.write(b"\0" * 2880)
    with pytest.raises(InputError) as exc:
        read_dem(label)
    assert "size mismatch" in assert_one_line_naming(exc, "LDEM_4.IMG")


def test_missing_image_and_missing_label(tmp_path: Path, lola_label: Path) -> None:
    label = copy_ldem4(lola_label, tmp_path)
    (tmp_path / "LDEM_4.IMG").unlink()
    with pytest.raises(InputError) as exc:
        read_dem(label)
    assert "missing" in assert_one_line_naming(exc, "LDEM_4.IMG")
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(lola_label.with_suffix(".IMG"), other / "LDEM_4.IMG")
    with pytest.raises(InputError) as exc:
        read_dem(other / "LDEM_4.IMG")
    assert "label" in assert_one_line_naming(exc, "LDEM_4")
    with pytest.raises(InputError) as exc:
        read_dem(tmp_path / "NOPE.LBL")
    assert_one_line_naming(exc, "NOPE.LBL")


def test_malformed_label_names_file_and_line(tmp_path: Path, lola_label: Path) -> None:
    label = copy_ldem4(lola_label, tmp_path)
    lines = label.read_text().splitlines()
    n = next(k for k, s in enumerate(lines) if s.strip().startswith("LINE_SAMPLES"))
    lines[n] = "    LINE_SAMPLES            1440"
    label.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as exc:
        read_dem(label)
    msg = assert_one_line_naming(exc, "LDEM_4.LBL")
    assert f"line {n + 1}" in msg and "LINE_SAMPLES" in msg


def test_unsupported_projection_and_sample_type(tmp_path: Path) -> None:
    dn = np.zeros((4, 8), np.int16)
    label = write_dem(
        tmp_path, "POLAR", dn, res=4.0, north_deg=90.0, west_deg=0.0, projection="POLAR STEREOGRAPHIC"
    )
    with pytest.raises(InputError) as exc:
        read_dem(label)
    assert "POLAR STEREOGRAPHIC" in assert_one_line_naming(exc, "POLAR.LBL")
    label = write_dem(tmp_path, "VAXF", dn, res=4.0, north_deg=10.0, west_deg=0.0)
    label.write_text(label.read_text().replace("LSB_INTEGER", "VAX_REAL"))
    with pytest.raises(InputError) as exc:
        read_dem(label)
    assert "VAX_REAL" in assert_one_line_naming(exc, "VAXF.LBL")


def test_corrupt_content_is_rejected(tmp_path: Path, lola_label: Path) -> None:
    # The right bytes read with the wrong byte order: ~40 % of DNs fall outside MINIMUM…MAXIMUM.
    label = copy_ldem4(lola_label, tmp_path)
    label.write_text(label.read_text().replace("LSB_INTEGER", "MSB_INTEGER"))
    with pytest.raises(InputError) as exc:
        read_dem(label)
    assert "corrupt" in assert_one_line_naming(exc, "LDEM_4.IMG")
    # Heights beyond ±25 km (no MINIMUM/MAXIMUM to compare with).
    dn = np.full((10, 10), 30_000, np.int16)
    label = write_dem(tmp_path, "HIGH", dn, res=4.0, north_deg=10.0, west_deg=0.0, scale=1.0)
    label.write_text("".join(s for s in label.read_text().splitlines(True) if "IMUM " not in s))
    with pytest.raises(InputError) as exc:
        read_dem(label)
    assert "25 km" in assert_one_line_naming(exc, "HIGH.IMG")


def test_cli_reports_a_bad_dem_in_one_line(tmp_path: Path, lola_label: Path) -> None:
    label = copy_ldem4(lola_label, tmp_path)
    with open(tmp_path / "LDEM_4.IMG", "r+b") as f:
        f.truncate(1_000_000)
    proc = subprocess.run(
        [sys.executable, "-m", "touchdown", "data", "check", str(label)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    err = proc.stderr.splitlines()
    assert len(err) == 1 and err[0].startswith("touchdown: error:") and "LDEM_4.IMG" in err[0]
    assert "Traceback" not in proc.stderr


def test_slope_bound_near_each_point_is_its_latitude_band(ldem4: Dem) -> None:
    """The ray cast's per-ray bound: the band bound of [lat − reach, lat + reach], point by point."""
    lat = np.radians(np.array([60.5, -89.9, 89.99, 0.0, 47.5, -30.1]))
    reach = math.radians(0.4)
    near = ldem4.max_slope_near(lat, reach)
    band = [ldem4.max_slope_band(a - reach, a + reach) for a in lat]
    assert near.tolist() == band
    assert near[0] < 0.1 * ldem4.max_slope  # at 60°N far tighter than the global bound (polar rows)


def _mci_rows(dem: Dem, lat, lon, height_m, t_s):
    """Truth-state rows (N, 21) whose centre of mass is ``height_m`` above the sphere at (lat, lon) of the
    Moon-fixed frame at times t_s, and (cos, sin) of the Moon's rotation angle then."""
    from touchdown.moon.constants import OMEGA_MOON

    theta = OMEGA_MOON * t_s
    c, s = np.cos(theta), np.sin(theta)
    rho = R_MOON + height_m
    xm, ym, zm = rho * np.cos(lat) * np.cos(lon), rho * np.cos(lat) * np.sin(lon), rho * np.sin(lat)
    x = np.zeros((lat.size, 21))
    x[:, 0], x[:, 1], x[:, 2] = c * xm - s * ym, s * xm + c * ym, zm  # MCI = Rz(θ) · MCMF
    return x, c, s


def test_max_height_blocks_bound_the_ground_below_every_point(ldem4: Dem, tmp_path: Path) -> None:
    """The simulator's ground screen with the block table flags every row near the ground below it, and
    only few rows far above it (where the latitude band's top alone flags them all)."""
    from touchdown.moon.terrain.kernels import ATAN2
    from touchdown.sim._kernels import low_rows

    table, block, grid = ldem4.max_height_blocks
    assert block == 4 and table.shape == (180, 360)
    bands = ldem4.max_height_by_sine(4096)
    rng = np.random.default_rng(21)
    rows, cols = np.meshgrid(np.arange(0, 720, 3), np.arange(0, 1440, 3), indexing="ij")
    lat_c, lon_c = ldem4.pixel_center_deg(rows.ravel(), cols.ravel())
    n_rand = 300_000
    lat = np.concatenate(
        [np.arcsin(rng.uniform(-1, 1, n_rand)), np.radians(lat_c), np.radians([90.0, -90.0, 89.99, 0.0, 0.0])]
    )
    lon = np.concatenate(
        [rng.uniform(-np.pi, np.pi, n_rand), np.radians(lon_c), np.radians([0.0, 0.0, 33.0, 180.0, -180.0])]
    )
    n = lat.size
    ground = ldem4.height(lat, lon)
    clearance = rng.uniform(-20.0, 3_000.0, n)
    x, c, s = _mci_rows(ldem4, lat, lon, ground + clearance, rng.uniform(0.0, 3e5, n))
    margin = rng.uniform(1.0, 100.0, n)
    low = low_rows(x, margin, bands, R_MOON, table, block, grid, c, s, ATAN2)
    assert np.all(low[clearance < margin + 1.0])  # never misses a row near the ground
    band_only = low_rows(x, margin, bands, R_MOON, table[:0], block, grid, c, s, ATAN2)
    assert np.all(band_only[low])  # tighter than the band alone
    high = clearance > 2_000.0
    assert np.count_nonzero(low & high) < 0.2 * np.count_nonzero(band_only & high)  # 12 % on LDEM_4

    # Mare Frigoris (60.5°N 4.6°W): 200 m up is clear of its block, though 6 km below its band's top
    lat_f, lon_f = np.radians([60.5]), np.radians([-4.6])
    x, c, s = _mci_rows(ldem4, lat_f, lon_f, ldem4.height(lat_f, lon_f) + 200.0, np.array([0.0]))
    assert not low_rows(x, np.array([10.0]), bands, R_MOON, table, block, grid, c, s, ATAN2)[0]
    assert low_rows(x, np.array([10.0]), bands, R_MOON, table[:0], block, grid, c, s, ATAN2)[0]

    # a regional tile: bounded on it, no bound (+inf: always looked at) off it
    dn = rng.integers(-4000, 4000, (40, 60)).astype(np.int16)
    tile = read_dem(write_dem(tmp_path, "ROUGH", dn, res=8.0, north_deg=12.0, west_deg=20.0))
    t_table, t_block, t_grid = tile.max_height_blocks
    lat = np.radians(rng.uniform(6.0, 13.0, 50_000))  # the tile spans 7–12°N, 20–27.5°E
    lon = np.radians(rng.uniform(19.0, 28.5, 50_000))
    ground = np.nan_to_num(tile.height(lat, lon), nan=0.0)
    clearance = rng.uniform(-5.0, 3_000.0, lat.size)
    x, c, s = _mci_rows(tile, lat, lon, ground + clearance, np.zeros(lat.size))
    margin = np.full(lat.size, 5.0)
    low = low_rows(x, margin, tile.max_height_by_sine(64), R_MOON, t_table, t_block, t_grid, c, s, ATAN2)
    on_tile = np.isfinite(tile.height(lat, lon))
    assert np.all(low[on_tile & (clearance < 6.0)])
    assert np.all(low[~on_tile & (clearance < 1_000.0)])  # below the tile's top: no bound off the grid
