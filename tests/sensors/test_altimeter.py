"""Laser range finder: closed-form geometry on a flat Moon, limits, acquisition, quantisation, a cliff."""

from __future__ import annotations

import math

import numpy as np
import pytest

from touchdown.moon.constants import R_MOON
from touchdown.moon.terrain.base import FlatTerrain
from touchdown.noise import run_keys
from touchdown.sensors.altimeter import AltimeterParams, LaserAltimeter


def lrf(**kw) -> LaserAltimeter:
    return LaserAltimeter("lrf", AltimeterParams.ideal(**kw))


def read(sensor, x, terrain, t=0.0, state=None, **kw):
    st = state or sensor.initial_state(run_keys(0, np.arange(x.shape[0])))
    return sensor.measure(st, t, x, terrain, **kw), st


def test_nadir_beam_reads_height(make_state) -> None:
    h = np.array([50.0, 1234.5, 7900.0])
    m, _ = read(lrf(), make_state(h), FlatTerrain(-2000.0))
    assert m.range_m.shape == (3, 1) and m.valid.all()
    assert np.max(np.abs(m.range_m[:, 0] - (h + 2000.0))) < 2e-3


def test_tilted_beam_reads_h_over_cos(make_state) -> None:
    h = 1000.0
    th = np.radians([0.0, 10.0, 30.0, 45.0])
    sensor = lrf(beam_dirs_body=tuple((math.sin(a), 0.0, -math.cos(a)) for a in th), max_incidence_deg=89.0)
    m, _ = read(sensor, make_state(h), FlatTerrain(0.0))
    r = m.range_m[0]
    # exact slant range to the sphere R (the closed form on a curved Moon) ...
    rho = R_MOON + h
    exact = rho * np.cos(th) - np.sqrt(R_MOON**2 - (rho * np.sin(th)) ** 2)
    assert np.max(np.abs(r - exact)) < 2e-3
    # ... which is h / cos θ up to the curvature of the Moon, (h tan θ)² / (2R) / cos θ at most
    assert np.max(np.abs(r - h / np.cos(th)) - (h * np.tan(th)) ** 2 / R_MOON / np.cos(th)) < 2e-3
    assert abs(r[2] - h / math.cos(th[2])) < 0.2


def test_multibeam_with_attitude(make_state) -> None:
    # body tilted +20° about x; a beam tilted −20° about body x points at nadir, the −z beam does not
    a = math.radians(20.0)
    sensor = lrf(beam_dirs_body=((0.0, 0.0, -1.0), (0.0, -math.sin(a), -math.cos(a))))
    m, _ = read(sensor, make_state(800.0, tilt_rad=a), FlatTerrain(0.0))
    r = m.range_m[0]
    assert m.range_m.shape == (1, 2) and m.valid.all()
    assert abs(r[0] - 800.0 / math.cos(a)) < 0.1  # curvature: < (h tan a)^2 / R
    assert abs(r[1] - 800.0) < 2e-3


def test_max_range_incidence_and_speed_limits(make_state) -> None:
    sensor = lrf(max_range_m=10_000.0)
    m, _ = read(sensor, make_state([9_900.0, 10_100.0]), FlatTerrain(0.0))
    assert m.valid[:, 0].tolist() == [True, False]
    assert np.isnan(m.range_m[1, 0])
    steep = lrf(beam_dirs_body=((math.sin(1.2), 0.0, -math.cos(1.2)),), max_incidence_deg=60.0)  # 68.8°
    m, _ = read(steep, make_state(500.0), FlatTerrain(0.0))
    assert not m.valid.any()
    fast = lrf(max_speed_mps=50.0)
    m, _ = read(
        fast,
        np.concatenate([make_state(500.0, v_enu=(0, 0, -40.0)), make_state(500.0, v_enu=(0, 60, 0))]),
        FlatTerrain(0.0),
    )
    assert m.valid[:, 0].tolist() == [True, False]


def test_late_acquisition_resilience(make_state) -> None:
    """RESILIENCE (REFERENCE §3.3): no valid range until below ≈ 900 m, though 3 km was planned."""
    sensor = lrf(acquisition_range_m=900.0)
    heights = [3000.0, 2000.0, 1000.0, 901.0, 899.0, 850.0, 950.0, 2000.0]
    st = sensor.initial_state(run_keys(0, [0]))
    valid = [
        bool(sensor.measure(st, 0.1 * k, make_state(h, t_s=0.1 * k), FlatTerrain(0.0)).valid[0, 0])
        for k, h in enumerate(heights)
    ]
    # invalid above 900 m; once acquired it stays acquired (latched) within max range
    assert valid == [False, False, False, False, True, True, True, True]


def test_quantisation_step(make_state) -> None:
    sensor = lrf(quantization_m=0.5)
    m, _ = read(sensor, make_state([1000.3, 1000.1, 999.74]), FlatTerrain(0.0))
    assert m.range_m[:, 0] == pytest.approx([1000.5, 1000.0, 999.5], abs=1e-9)
    noisy = LaserAltimeter("lrf", AltimeterParams(noise_sigma_m=2.0, quantization_m=0.25))
    m, _ = read(noisy, make_state(1000.0, n=200), FlatTerrain(0.0))
    k = m.range_m[:, 0] / 0.25
    assert np.array_equal(k, np.round(k)) and np.unique(k).size > 10


def test_noise_statistics_and_batch_independence(make_state) -> None:
    sensor = LaserAltimeter(
        "lrf", AltimeterParams(noise_sigma_m=1.5, noise_fraction=1e-3, quantization_m=0.0)
    )
    n = 4000
    x = make_state(2000.0, n=n)
    keys = run_keys(9, np.arange(n))
    m = sensor.measure(sensor.initial_state(keys), 0.0, x, FlatTerrain(0.0))
    err = m.range_m[:, 0] - 2000.0
    sigma = math.hypot(1.5, 2.0)
    assert abs(err.mean()) < 5 * sigma / math.sqrt(n)
    assert abs(err.std() / sigma - 1.0) < 5 * math.sqrt(0.5 / n)
    sub = np.array([3, 1000, 3999])
    m_sub = sensor.measure(sensor.initial_state(keys[sub]), 0.0, x[sub], FlatTerrain(0.0))
    assert np.array_equal(m_sub.range_m, m.range_m[sub])
    # noise_scale (the fault) multiplies σ
    m3 = sensor.measure(sensor.initial_state(keys), 0.0, x, FlatTerrain(0.0), noise_scale=np.full(n, 3.0))
    assert np.allclose(m3.range_m[:, 0] - 2000.0, 3.0 * err)


def test_bias_and_scale_factor(make_state) -> None:
    sensor = lrf(bias_m=4.0, scale_factor_ppm=1000.0)
    m, _ = read(sensor, make_state(2000.0), FlatTerrain(0.0))
    assert m.range_m[0, 0] == pytest.approx(2000.0 * 1.001 + 4.0, abs=2e-3)


def test_range_jumps_by_the_cliff_height(make_state, cliff) -> None:
    """HAKUTO-R M1 over the Atlas rim (REFERENCE §3.2): the reading jumps, correctly, by the step."""
    lon0 = -0.08
    terrain = cliff(lon0, step_m=3000.0, ramp_m=50.0)
    dlon = 2000.0 / (R_MOON * math.cos(0.0))
    lons = np.array([lon0 - 3 * dlon, lon0 - dlon, lon0 + dlon, lon0 + 3 * dlon])
    sensor = lrf(max_range_m=20_000.0)
    x = make_state(np.full(4, 6000.0), lat=0.0, lon=lons)
    m, _ = read(sensor, x, terrain)
    r = m.range_m[:, 0]
    assert m.valid.all()
    assert r[:2] == pytest.approx([6000.0, 6000.0], abs=2e-3)
    assert r[2:] == pytest.approx([9000.0, 9000.0], abs=2e-3)
    assert r[2] - r[1] == pytest.approx(3000.0, abs=4e-3)
