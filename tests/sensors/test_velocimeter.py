"""Doppler velocimeter: surface-relative velocity in body axes over the rotating Moon; limits; noise."""

from __future__ import annotations

import math

import numpy as np

from touchdown.moon.frames import (
    dcm_mci_to_mcmf,
    matvec,
    quat_from_axis_angle,
    quat_multiply,
    quat_to_dcm,
    transpose,
    velocity_mci_to_mcmf,
)
from touchdown.moon.terrain.base import FlatTerrain
from touchdown.noise import run_keys
from touchdown.sensors.velocimeter import DopplerVelocimeter, VelocimeterParams
from touchdown.vehicle.dynamics import Q, R, V


def test_reads_surface_relative_velocity_in_body_axes(make_state) -> None:
    t = 3600.0  # an hour in: the Moon-fixed frame has turned
    x = make_state([800.0, 1500.0, 300.0], v_enu=(40.0, -15.0, -20.0), t_s=t)
    rng = np.random.default_rng(1)
    for i in range(3):  # arbitrary attitudes
        x[i, Q] = quat_multiply(x[i, Q], quat_from_axis_angle(rng.normal(size=3), rng.uniform(0, 3)))
    vel = DopplerVelocimeter("dv", VelocimeterParams.ideal())
    m = vel.measure(vel.initial_state(run_keys(0, np.arange(3))), t, x, FlatTerrain(0.0))
    v_mcmf = velocity_mci_to_mcmf(x[:, R], x[:, V], t)
    c_body_to_mcmf = np.einsum("ij,njk->nik", dcm_mci_to_mcmf(t), quat_to_dcm(x[:, Q]))
    expect = matvec(transpose(c_body_to_mcmf), v_mcmf)
    assert np.allclose(m.v_body_mps, expect, atol=1e-9)
    assert np.allclose(np.linalg.norm(m.v_body_mps, axis=1), math.sqrt(40**2 + 15**2 + 20**2), atol=1e-9)
    # surface-relative, not inertial: the Moon's rotation (≈ 2 m/s at 60.5°N) is removed
    assert np.max(np.abs(np.linalg.norm(x[:, V], axis=1) - np.linalg.norm(m.v_body_mps, axis=1))) > 0.1


def test_altitude_and_speed_limits(make_state) -> None:
    vel = DopplerVelocimeter("dv", VelocimeterParams.ideal(max_altitude_m=2000.0, max_speed_mps=100.0))
    x = np.concatenate([make_state([1900.0, 2100.0]), make_state(500.0, v_enu=(0, 120.0, 0))])
    m = vel.measure(vel.initial_state(run_keys(0, np.arange(3))), 0.0, x, FlatTerrain(-300.0))
    assert m.valid.tolist() == [False, False, False]  # 2,200 m, 2,400 m and 800 m but too fast
    m = vel.measure(vel.initial_state(run_keys(0, np.arange(3))), 0.0, x, FlatTerrain(0.0))
    assert m.valid.tolist() == [True, False, False]
    assert np.isnan(m.v_body_mps[1:]).all()


def test_noise_sigma(make_state) -> None:
    n = 8000
    vel = DopplerVelocimeter(
        "dv", VelocimeterParams(noise_sigma_mps=0.05, noise_fraction=0.0, quantization_mps=0.0)
    )
    x = make_state(500.0, n=n)
    m = vel.measure(vel.initial_state(run_keys(5, np.arange(n))), 0.0, x, FlatTerrain(0.0))
    e = (
        m.v_body_mps
        - vel.measure(
            vel.initial_state(run_keys(5, np.arange(n))), 0.0, x, FlatTerrain(0.0), noise_scale=np.zeros(n)
        ).v_body_mps
    )
    assert np.all(np.abs(e.std(axis=0) / 0.05 - 1) < 5 * math.sqrt(0.5 / n))
