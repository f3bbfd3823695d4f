"""IMU: exact increments with errors off, each error term as specified, bias random-walk variance growth."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from touchdown.moon.frames import quat_conjugate, quat_rotate
from touchdown.moon.gravity import PointMass
from touchdown.noise import run_keys
from touchdown.sensors.imu import Imu, ImuParams, specific_force_body
from touchdown.vehicle.dynamics import ETA0, Commands, Q, R, RigidBodyDynamics, V
from touchdown.vehicle.presets import series1

F = np.array([[0.3, -1.2, 3.5], [0.0, 0.0, 1.62], [-2.0, 0.5, 0.1]])  # [m/s²]
W = np.array([[0.01, -0.02, 0.005], [0.0, 0.0, 0.0], [0.1, 0.2, -0.3]])  # [rad/s]


def imu_with(accel=None, gyro=None, rate_hz: float = 50.0) -> Imu:
    p = ImuParams.ideal(rate_hz)
    return Imu("imu", ImuParams(rate_hz, replace(p.accel, **(accel or {})), replace(p.gyro, **(gyro or {}))))


def test_ideal_increments_are_input_times_dt() -> None:
    imu = imu_with()
    st = imu.initial_state(run_keys(0, np.arange(3)))
    m = imu.measure(st, 0.02, F, W)
    assert m.dt_s == pytest.approx(0.02)
    assert np.allclose(m.delta_v_body_mps, F * 0.02, rtol=0, atol=1e-15)
    assert np.allclose(m.delta_theta_body_rad, W * 0.02, rtol=0, atol=1e-15)
    assert m.accel_valid.all() and m.gyro_valid.all()


def test_bias_scale_factor_and_misalignment_as_specified() -> None:
    b = (0.01, -0.02, 0.03)
    imu = imu_with(
        accel={
            "bias_mps2": b,
            "scale_factor_ppm": (1000.0, 0.0, -500.0),
            "misalignment_rad": (1e-3, 0, 0, 0, 0, 2e-3),
        },
        gyro={"bias_radps": (1e-4, 0.0, 0.0)},
    )
    st = imu.initial_state(run_keys(0, np.arange(3)))
    dt = 0.02
    m = imu.measure(st, dt, F, W)
    u = F + np.array(b)
    expect = (
        np.stack((1.001 * u[:, 0] + 1e-3 * u[:, 1], u[:, 1], 0.9995 * u[:, 2] + 2e-3 * u[:, 1]), axis=-1) * dt
    )
    assert np.allclose(m.delta_v_body_mps, expect, rtol=0, atol=1e-15)
    assert np.allclose(m.delta_theta_body_rad, (W + np.array([1e-4, 0.0, 0.0])) * dt, rtol=0, atol=1e-16)


def test_white_noise_density() -> None:
    n, dt = 20_000, 0.01
    imu = imu_with(
        accel={"noise_density_mps_rtsec": 2e-3}, gyro={"noise_density_rad_rtsec": 5e-5}, rate_hz=100.0
    )
    st = imu.initial_state(run_keys(3, np.arange(n)))
    m = imu.measure(st, 1.0, np.zeros((n, 3)), np.zeros((n, 3)))
    tol = 5 * math.sqrt(0.5 / (3 * n))
    assert abs(m.delta_v_body_mps.std() / (2e-3 * math.sqrt(dt)) - 1) < tol
    assert abs(m.delta_theta_body_rad.std() / (5e-5 * math.sqrt(dt)) - 1) < tol


def test_bias_random_walk_variance_grows_linearly() -> None:
    n, rate, s = 4000, 50.0, 1e-3
    imu = imu_with(accel={"bias_rw_mps2_rtsec": s})
    st = imu.initial_state(run_keys(11, np.arange(n)))
    zero = np.zeros((n, 3))
    checks = {25: None, 100: None}
    for k in range(101):
        m = imu.measure(st, k / rate, zero, zero)
        if k in checks:
            checks[k] = m.delta_v_body_mps * rate  # the bias used over interval k [m/s²]
    for k, b in checks.items():
        expected = s**2 * k / rate  # k random-walk steps of variance s² dt before interval k
        assert abs(b.var() / expected - 1) < 5 * math.sqrt(2 / b.size)
        assert abs(b.mean()) < 5 * math.sqrt(expected / b.size)


def test_per_run_turn_on_draws() -> None:
    n = 5000
    imu = imu_with(accel={"bias_sigma_mps2": 2e-3, "scale_factor_sigma_ppm": 300.0})
    st = imu.initial_state(run_keys(4, np.arange(n)))
    assert abs(st.accel.bias.std() / 2e-3 - 1) < 0.05
    assert abs((st.accel.gain[:, 0, 0] - 1).std() / 3e-4 - 1) < 0.05
    sub = imu.initial_state(run_keys(4, [17]))
    assert np.array_equal(sub.accel.bias[0], st.accel.bias[17])


def test_quantisation_carries_the_remainder() -> None:
    q = 1e-3
    imu = imu_with(accel={"quantum_mps": q})
    st = imu.initial_state(run_keys(0, np.arange(3)))
    total = np.zeros((3, 3))
    for k in range(100):
        dv = imu.measure(st, k * 0.02, F, W).delta_v_body_mps
        assert np.allclose(dv / q, np.round(dv / q), atol=1e-6)
        total += dv
    assert np.all(np.abs(total - F * 0.02 * 100) < q + 1e-12)


def test_specific_force_is_the_non_gravitational_acceleration(make_state) -> None:
    veh = series1()
    dyn = RigidBodyDynamics(veh, PointMass())
    x = make_state(1000.0, tilt_rad=0.3, n=2)
    x[:, ETA0:] = 0.7  # lagged thrust levels at the command
    cmd = Commands(np.full((2, 7), 0.7), np.ones((2, 7), bool), np.zeros((2, 3)))
    cmd.engine_on[1, 0] = False  # second run: main engine off
    x[1, ETA0] = 0.0
    ok = np.ones(2, bool)
    a_ng_mci = dyn.derivative(0.0, x, cmd, ok)[:, V] - dyn.gravity_mci(0.0, x[:, R])
    f_body = specific_force_body(dyn, x, cmd, ok)
    assert np.allclose(quat_rotate(x[:, Q], f_body), a_ng_mci, rtol=1e-12, atol=1e-12)
    assert np.allclose(f_body, quat_rotate(quat_conjugate(x[:, Q]), a_ng_mci), atol=1e-12)
    assert f_body[0, 2] > f_body[1, 2] > 0.0  # thrust along body +z


def _triad_output_numpy(imu: Imu, st, keys, ch: str, tick: int, u, dt: float, scale):
    """``Imu._triad_output`` as it was in numpy (the oracle of the compiled triad)."""
    from touchdown.moon.frames import matvec
    from touchdown.noise import normal

    tr = imu._triads[ch]
    u_sat = np.clip(u, -tr.saturation, tr.saturation)
    inc = matvec(st.gain, u_sat + st.bias) * dt
    if tr.noise_density > 0.0:
        inc = inc + (tr.noise_density * math.sqrt(dt)) * scale[:, None] * normal(
            keys, imu._streams[(ch, "noise")], tick, (3,)
        )
    if tr.bias_rw > 0.0:
        st.bias = st.bias + (tr.bias_rw * math.sqrt(dt)) * normal(
            keys, imu._streams[(ch, "bias_rw")], tick, (3,)
        )
    if tr.quantum > 0.0:
        total = inc + st.remainder
        out = tr.quantum * np.floor(total / tr.quantum)
        st.remainder = total - out
        return out
    return inc


@pytest.mark.parametrize("ideal", [False, True])
@pytest.mark.parametrize("quantum", [None, 0.0])
def test_compiled_triads_match_numpy(ideal: bool, quantum) -> None:
    """The compiled triad against its numpy formulation, bit for bit, over a few ticks (state carried)."""
    base = ImuParams.ideal() if ideal else ImuParams()
    if quantum is not None:
        base = ImuParams(
            base.rate_hz, replace(base.accel, quantum_mps=quantum), replace(base.gyro, quantum_rad=quantum)
        )
    if ideal:  # white noise and a bias walk on an otherwise perfect unit
        base = ImuParams(base.rate_hz, replace(base.accel, noise_density_mps_rtsec=5e-4), base.gyro)
        base = ImuParams(base.rate_hz, base.accel, replace(base.gyro, bias_rw_radps_rtsec=1e-7))
    imu = Imu("imu", base)
    n = 200
    rng = np.random.default_rng(3)
    keys = run_keys(5, np.arange(n))
    got, ref = imu.initial_state(keys), imu.initial_state(keys)
    scale = rng.uniform(0.5, 3.0, n)
    for tick in range(1, 6):
        f = rng.normal(0.0, 5.0, (n, 3))
        f[0, 0], f[1, 1], f[2, 2] = 1e4, -1e4, np.nan  # saturated, invalid
        w = rng.normal(0.0, 0.1, (n, 3))
        for ch, u, st_got, st_ref in (("accel", f, got.accel, ref.accel), ("gyro", w, got.gyro, ref.gyro)):
            out = imu._triad_output(st_got, keys, ch, tick, u, imu.period_s, scale)
            expected = _triad_output_numpy(imu, st_ref, keys, ch, tick, u, imu.period_s, scale)
            assert np.array_equal(out, expected, equal_nan=True)
            assert np.array_equal(st_got.bias, st_ref.bias, equal_nan=True)
            assert np.array_equal(st_got.remainder, st_ref.remainder, equal_nan=True)
