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
