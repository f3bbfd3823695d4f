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
from numpy.typing import NDArray

from touchdown.moon.frames import norm, quat_multiply, quat_normalize, quat_rotate
from touchdown.noise import Keys, normal, stream_id
from touchdown.sensors.base import StarTrackerMeasurement
from touchdown.sensors.faults import small_rotation
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
        err_sensor = self.misalignment_rad + self.sigma_rad * scale[:, None] * normal(
            keys, self._s_noise, tick, (3,)
        )
        err_body = quat_rotate(np.broadcast_to(self.q_sensor_to_body, (n, 4)), err_sensor)
        q_meas = quat_normalize(quat_multiply(x[:, Q], small_rotation(err_body)))
        valid = norm(x[:, W]) <= math.radians(p.max_rate_dps)
        q_meas = np.where(valid[:, None], q_meas, np.nan)
        return StarTrackerMeasurement(sensor=self.name, t_s=float(t_s), q_body_to_mci=q_meas, valid=valid)
