"""Star tracker / attitude sensor: measured ``q_body_to_mci`` with small-angle errors.

The measured attitude is the true one followed by a small body-axis error rotation::

    q̂_body_to_mci = q_body_to_mci ⊗ δq(δθ),   δθ_body = C_sensor_to_body (m + σ ⊙ ν · noise_scale)

with ``σ = (σ_cross, σ_cross, σ_roll)`` in sensor axes (a star tracker is much less accurate about its own
boresight, sensor +z, than across it), ``m`` a fixed mounting/alignment error, ν standard normals from
:mod:`touchdown.noise`. Invalid (no attitude solution) while the body rate exceeds ``max_rate_dps``
(star smearing). Sun/Earth/Moon exclusion angles are not modelled. Defaults are assumptions for a small
commercial star tracker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown.moon.frames import quat_rotate_vector, quat_turned
from touchdown.noise import Keys, normal, stream_id
from touchdown.sensors.base import StarTrackerMeasurement
from touchdown.vehicle.dynamics import Q, W

Array = NDArray[np.float64]

ARCSEC = math.pi / (180.0 * 3600.0)  # [rad]


@dataclass(frozen=True)
class StarTrackerParams:
    """Star tracker parameters (defaults are assumptions)."""

    rate_hz: float = 5.0  # [Hz]
    sigma_cross_arcsec: float = 5.0  # 1σ about each cross-boresight axis [arcsec]
    sigma_roll_arcsec: float = 40.0  # 1σ about the boresight [arcsec]
    q_sensor_to_body: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)  # mounting (boresight = +z)
    misalignment_arcsec: tuple[float, float, float] = (0.0, 0.0, 0.0)  # fixed error, sensor axes [arcsec]
    max_rate_dps: float = 3.0  # no solution above this body rate [deg/s]

    @classmethod
    def ideal(cls, **overrides) -> StarTrackerParams:
        """No noise or misalignment; always valid unless ``max_rate_dps`` is given."""
        base = {"sigma_cross_arcsec": 0.0, "sigma_roll_arcsec": 0.0, "max_rate_dps": math.inf}
        return cls(**{**base, **overrides})


class StarTracker:
    """Attitude sensor reading the true ``q_body_to_mci`` with arcsecond noise."""

    def __init__(self, name: str = "star_tracker", params: StarTrackerParams | None = None) -> None:
        self.name = name
        self.params = params or StarTrackerParams()
        p = self.params
        self.sigma_rad = ARCSEC * np.array([p.sigma_cross_arcsec, p.sigma_cross_arcsec, p.sigma_roll_arcsec])
        self.misalignment_rad = ARCSEC * np.asarray(p.misalignment_arcsec, float)
        q = np.asarray(p.q_sensor_to_body, float)
        self.q_sensor_to_body = q / np.linalg.norm(q)
        self._s_noise = stream_id(f"{name}.noise")

    @property
    def period_s(self) -> float:
        return 1.0 / self.params.rate_hz

    def initial_state(self, keys: Keys) -> Keys:
        """The state is just the run keys (N,)."""
        return np.asarray(keys, dtype=np.uint64)

    def measure(
        self, keys: Keys, t_s: float, x: Array, *, noise_scale: Array | None = None
    ) -> StarTrackerMeasurement:
        """Measurement at t_s [s] from the truth state ``x`` (N, 14 + E)."""
        p = self.params
        n = x.shape[0]
        scale = np.ones(n) if noise_scale is None else np.asarray(noise_scale, float)
        tick = round(t_s * p.rate_hz)
        nu = normal(keys, self._s_noise, tick, (3,))
        err_body, ang, half = _error_rotation_rows(
            self.misalignment_rad, self.sigma_rad, scale, nu, self.q_sensor_to_body
        )
        q_meas, valid = _measured_attitude_rows(
            x[:, Q], err_body, ang, np.sin(half), np.cos(half), x[:, W], math.radians(p.max_rate_dps)
        )
        return StarTrackerMeasurement(sensor=self.name, t_s=float(t_s), q_body_to_mci=q_meas, valid=valid)


@njit(cache=True, error_model="numpy")
def _error_rotation_rows(
    misalignment: Array, sigma: Array, scale: Array, nu: Array, q_sensor_to_body: Array
) -> tuple[Array, Array, Array]:
    """The error rotation vector δθ_body = C_sensor_to_body (m + σ ⊙ ν · scale) (N, 3) [rad], its angle |δθ|
    and half angle (N,) [rad], whose sine and cosine numpy takes."""
    n = nu.shape[0]
    err = np.empty((n, 3))
    ang = np.empty(n)
    half = np.empty(n)
    w, x, y, z = q_sensor_to_body[0], q_sensor_to_body[1], q_sensor_to_body[2], q_sensor_to_body[3]
    for i in range(n):
        e0 = misalignment[0] + sigma[0] * scale[i] * nu[i, 0]
        e1 = misalignment[1] + sigma[1] * scale[i] * nu[i, 1]
        e2 = misalignment[2] + sigma[2] * scale[i] * nu[i, 2]
        e0, e1, e2 = quat_rotate_vector(w, x, y, z, e0, e1, e2)
        err[i, 0], err[i, 1], err[i, 2] = e0, e1, e2
        ang[i] = math.sqrt(e0 * e0 + e1 * e1 + e2 * e2)
        half[i] = 0.5 * ang[i]
    return err, ang, half


@njit(cache=True, error_model="numpy")
def _measured_attitude_rows(
    q_true: Array, err: Array, ang: Array, sin_half: Array, cos_half: Array, w_body: Array, max_rate: float
) -> tuple[Array, NDArray[np.bool_]]:
    """q̂ = q ⊗ δq(δθ) normalised (scalar part ≥ 0) (N, 4), NaN where invalid, and the validity (N,): the
    body rate |ω| ≤ ``max_rate`` [rad/s]. δq = [cos h, k δθ], k = sin h / |δθ| (0.5 at |δθ| = 0)."""
    n = q_true.shape[0]
    q_meas = np.empty((n, 4))
    valid = np.empty(n, np.bool_)
    for i in range(n):
        qw, qx, qy, qz = quat_turned(
            q_true[i, 0], q_true[i, 1], q_true[i, 2], q_true[i, 3], err[i, 0], err[i, 1], err[i, 2],
            ang[i], sin_half[i], cos_half[i],
        )  # fmt: skip
        w0, w1, w2 = w_body[i, 0], w_body[i, 1], w_body[i, 2]
        valid[i] = math.sqrt(w0 * w0 + w1 * w1 + w2 * w2) <= max_rate
        if valid[i]:
            q_meas[i, 0], q_meas[i, 1], q_meas[i, 2], q_meas[i, 3] = qw, qx, qy, qz
        else:
            q_meas[i, :] = np.nan
    return q_meas, valid
