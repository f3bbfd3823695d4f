"""The altimeter's kernels give the bits of its numpy code: beam geometry, ranges, incidence, validity, noise.

Oracle: the numpy measurement before the kernels (commit 49e95b7), written out below over (N, B, 3) arrays
(the frames' numpy path) against the same DEM with its kernels off, a flat Moon and a cliff.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest

from touchdown.moon.frames import dot, mci_to_mcmf, mcmf_to_llh, norm, quat_rotate, velocity_mci_to_mcmf
from touchdown.moon.terrain.base import FlatTerrain, surface_normal_mcmf
from touchdown.moon.terrain.dem import Dem, read_dem
from touchdown.moon.terrain.raycast import raycast
from touchdown.noise import normal, run_keys
from touchdown.sensors.altimeter import AltimeterParams, LaserAltimeter
from touchdown.vehicle.dynamics import Q, R, V


def numpy_measure(sensor: LaserAltimeter, state, t_s: float, x: np.ndarray, terrain, noise_scale=None):
    """LaserAltimeter.measure as it was in numpy: (range, valid), updating ``state`` the same way."""
    p = sensor.params
    n, nb = x.shape[0], sensor.n_beams
    q = np.repeat(x[:, None, Q], nb, axis=1)
    o_mci = x[:, None, R] + quat_rotate(q, np.broadcast_to(sensor.beam_origins_body_m, (n, nb, 3)))
    u_mci = quat_rotate(q, np.broadcast_to(sensor.beam_dirs_body, (n, nb, 3)))
    o_mcmf = mci_to_mcmf(o_mci, t_s)
    u_mcmf = mci_to_mcmf(u_mci, t_s)
    r = raycast(terrain, o_mcmf, u_mcmf, p.max_range_m, tol_m=p.raycast_tol_m)
    hit = np.isfinite(r)
    p_hit = o_mcmf + np.where(hit, r, 0.0)[..., None] * u_mcmf
    lat, lon, _ = mcmf_to_llh(p_hit)
    n_hat = surface_normal_mcmf(terrain, lat, lon)
    cos_inc = np.where(hit, -dot(u_mcmf, n_hat) / norm(u_mcmf), np.nan)

    speed = norm(velocity_mci_to_mcmf(x[:, R], x[:, V], t_s))
    ok = np.isfinite(r) & (r <= p.max_range_m)
    ok &= np.nan_to_num(cos_inc, nan=-1.0) >= sensor.cos_max_incidence - 1e-12
    ok &= (speed <= p.max_speed_mps)[:, None]
    state.acquired |= ok & (r <= p.acquisition_range_m)
    valid = ok & state.acquired
    state.true_range_m = r
    nu = normal(state.keys, sensor._s_noise, round(t_s * p.rate_hz), (nb,))
    scale = np.ones(n) if noise_scale is None else np.asarray(noise_scale, float)
    r0 = np.where(np.isfinite(r), r, 0.0)
    sigma = np.sqrt(p.noise_sigma_m**2 + (p.noise_fraction * r0) ** 2) * scale[:, None]
    rho = (1.0 + 1e-6 * p.scale_factor_ppm) * r0 + state.bias_m + sigma * nu
    if p.quantization_m > 0.0:
        rho = p.quantization_m * np.round(rho / p.quantization_m)
    return np.where(valid, rho, np.nan), valid


def states(make_state, n_per_tilt: int, seed: int) -> np.ndarray:
    """Landers 20 m … 14 km over Mare Frigoris, tilted up to 50°, moving 0 … 120 m/s."""
    rng = np.random.default_rng(seed)
    rows = []
    for tilt in (0.0, 0.15, -0.4, 0.9):
        h = rng.uniform(20.0, 14_000.0, n_per_tilt)
        lon = math.radians(-4.6) + rng.uniform(-0.02, 0.02, n_per_tilt)
        v = tuple(rng.uniform(-70.0, 70.0, 3))
        rows.append(make_state(h, lon=lon, tilt_rad=tilt, v_enu=v))
    return np.concatenate(rows, axis=0)


def sensor(quantization_m: float = 0.1) -> LaserAltimeter:
    params = AltimeterParams(
        beam_dirs_body=((0.0, 0.0, -1.0), (-0.5, 0.0, -0.866), (0.3, 0.6, -0.7)),
        beam_origins_body_m=((0.1, 0.0, -0.5), (0.0, 0.2, -0.4), (-0.3, 0.0, 0.0)),
        max_range_m=10_000.0,
        acquisition_range_m=3_000.0,
        noise_sigma_m=1.0,
        noise_fraction=2e-3,
        bias_m=0.5,
        bias_sigma_m=2.0,
        scale_factor_ppm=150.0,
        quantization_m=quantization_m,
        max_incidence_deg=40.0,
        max_speed_mps=90.0,
    )
    return LaserAltimeter("lrf", params)


@pytest.fixture(scope="module")
def ldem4(lola_label: Path) -> Dem:
    return read_dem(lola_label)


@pytest.mark.parametrize("quantization_m", [0.1, 0.0])
@pytest.mark.parametrize("which", ["ldem4", "flat", "cliff"])
def test_measurements_are_the_numpy_bits(
    which: str, quantization_m: float, make_state, cliff, request: pytest.FixtureRequest
) -> None:
    x = states(make_state, 30, seed=1)
    n = x.shape[0]
    if which == "ldem4":
        terrain = request.getfixturevalue("ldem4")
        reference = copy.copy(terrain)
        reference.__dict__["kernel_grid"] = None  # the numpy code
    else:
        terrain = reference = FlatTerrain(-2400.0) if which == "flat" else cliff(math.radians(-4.59), 800.0)
    alt = sensor(quantization_m)
    keys = run_keys(3, np.arange(n))
    state, expected_state = alt.initial_state(keys), alt.initial_state(keys)
    scale = np.random.default_rng(2).uniform(0.5, 3.0, n)
    for k, t_s in enumerate((0.0, 0.1, 0.2, 37.5)):
        noise_scale = scale if k % 2 else None
        m = alt.measure(state, t_s, x, terrain, noise_scale=noise_scale)
        rho, valid = numpy_measure(alt, expected_state, t_s, x, reference, noise_scale=noise_scale)
        assert np.array_equal(m.range_m, rho, equal_nan=True)
        assert np.array_equal(m.valid, valid)
        assert np.array_equal(state.acquired, expected_state.acquired)
        assert np.array_equal(state.true_range_m, expected_state.true_range_m, equal_nan=True)
        x = x.copy()
        x[:, R] -= 400.0 * x[:, R] / np.linalg.norm(x[:, R], axis=1, keepdims=True)  # 400 m lower each time
    # the cases the limits and the latch make
    assert 0 < np.sum(m.valid) < m.valid.size
    assert np.any(np.isfinite(state.true_range_m) & ~state.acquired)
