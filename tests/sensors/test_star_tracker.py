"""Star tracker: arcsecond noise statistics per axis, mounting, misalignment, rate limit."""

from __future__ import annotations

import math

import numpy as np

from touchdown.moon.frames import quat_conjugate, quat_from_axis_angle, quat_multiply
from touchdown.noise import run_keys
from touchdown.sensors.star_tracker import ARCSEC, StarTracker, StarTrackerParams
from touchdown.vehicle.dynamics import Q, W


def errors_arcsec(m, x) -> np.ndarray:
    dq = quat_multiply(quat_conjugate(x[:, Q]), m.q_body_to_mci)
    dq = dq * np.sign(dq[:, :1])
    return 2.0 * dq[:, 1:] / ARCSEC  # small-angle rotation vector, body axes


def test_noise_statistics_match_spec(make_state) -> None:
    n = 20_000
    x = make_state(5000.0, tilt_rad=0.7, n=n)
    st = StarTracker("st", StarTrackerParams(sigma_cross_arcsec=6.0, sigma_roll_arcsec=45.0))
    m = st.measure(st.initial_state(run_keys(1, np.arange(n))), 1.0, x)
    e = errors_arcsec(m, x)
    assert m.valid.all()
    assert np.allclose(np.linalg.norm(m.q_body_to_mci, axis=1), 1.0)
    tol = 5 * math.sqrt(0.5 / n)
    assert np.all(np.abs(e.std(axis=0) / [6.0, 6.0, 45.0] - 1) < tol)
    assert np.all(np.abs(e.mean(axis=0)) < 5 * np.array([6.0, 6.0, 45.0]) / math.sqrt(n))
    assert abs(np.corrcoef(e[:, 0], e[:, 1])[0, 1]) < 5 / math.sqrt(n)


def test_mounting_moves_the_roll_axis_and_misalignment_is_a_fixed_rotation(make_state) -> None:
    n = 20_000
    x = make_state(5000.0, n=n)
    q_mount = quat_from_axis_angle((1.0, 0.0, 0.0), math.pi / 2)  # boresight (sensor +z) along body −y
    st = StarTracker("st", StarTrackerParams(q_sensor_to_body=tuple(q_mount), sigma_cross_arcsec=5.0))
    e = errors_arcsec(st.measure(st.initial_state(run_keys(2, np.arange(n))), 0.0, x), x)
    assert np.all(np.abs(e.std(axis=0) / [5.0, 40.0, 5.0] - 1) < 0.03)
    fixed = StarTracker(
        "st",
        StarTrackerParams(
            sigma_cross_arcsec=0.0, sigma_roll_arcsec=0.0, misalignment_arcsec=(10.0, 0.0, -20.0)
        ),
    )
    e = errors_arcsec(fixed.measure(fixed.initial_state(run_keys(0, [0])), 0.0, x[:1]), x[:1])
    assert np.allclose(e[0], [10.0, 0.0, -20.0], atol=1e-6)


def test_invalid_above_rate_limit(make_state) -> None:
    x = make_state(5000.0, n=2)
    x[1, W] = [0.0, math.radians(4.0), 0.0]
    st = StarTracker("st", StarTrackerParams(max_rate_dps=3.0))
    m = st.measure(st.initial_state(run_keys(0, [0, 1])), 0.0, x)
    assert m.valid.tolist() == [True, False] and np.isnan(m.q_body_to_mci[1]).all()


def _measure_numpy(st: StarTracker, keys, t_s: float, x, scale):
    """``StarTracker.measure`` as it was in numpy (the oracle of the compiled path): (q̂, valid)."""
    from touchdown.moon.frames import norm, quat_normalize, quat_rotate
    from touchdown.noise import normal
    from touchdown.sensors.faults import small_rotation

    n = x.shape[0]
    tick = round(t_s * st.params.rate_hz)
    err_sensor = st.misalignment_rad + st.sigma_rad * scale[:, None] * normal(keys, st._s_noise, tick, (3,))
    err_body = quat_rotate(np.broadcast_to(st.q_sensor_to_body, (n, 4)), err_sensor)
    q_meas = quat_normalize(quat_multiply(x[:, Q], small_rotation(err_body)))
    valid = norm(x[:, W]) <= math.radians(st.params.max_rate_dps)
    return np.where(valid[:, None], q_meas, np.nan), valid


def test_compiled_measurement_matches_numpy(make_state) -> None:
    n = 400
    x = make_state(5000.0, tilt_rad=0.7, n=n)
    rng = np.random.default_rng(11)
    x[:, W] = rng.normal(0.0, 0.05, (n, 3))  # some above the rate limit
    x[:, Q] *= np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0)[:, None]  # either hemisphere
    params = StarTrackerParams(
        misalignment_arcsec=(3.0, -2.0, 10.0), q_sensor_to_body=(0.9, 0.1, -0.3, 0.2), max_rate_dps=2.0
    )
    for st in (StarTracker("st", params), StarTracker("st", StarTrackerParams.ideal())):
        keys = st.initial_state(run_keys(4, np.arange(n)))
        scale = rng.uniform(0.0, 3.0, n)
        scale[:3] = 0.0  # no error rotation at all (ideal unit)
        for t in (0.2, 0.4):
            m = st.measure(keys, t, x, noise_scale=scale)
            q_ref, valid_ref = _measure_numpy(st, keys, t, x, scale)
            assert np.array_equal(m.q_body_to_mci, q_ref, equal_nan=True)
            assert np.array_equal(m.valid, valid_ref)
