"""Measurements: the only thing that crosses from truth to the flight software.

This module holds plain dataclasses and imports nothing from the truth model (no state layout, no terrain,
no dynamics), so ``touchdown.fsw`` may import it freely. The sensor models that read the truth state live
in the sibling modules (``imu``, ``altimeter``, ``velocimeter``, ``star_tracker``) and must never be imported
by the flight software.

Every measurement has ``sensor`` (the instance name faults target), ``t_s`` (the time the flight software
receives it [s]; latency faults make the content older than that, unannounced, as on a real bus), value
arrays with a leading batch axis N, and validity flags. Invalid values are NaN unless a fault says otherwise;
the flight software must read the flags. ``CHANNELS`` maps each channel name (what a fault target
``"<sensor>.<channel>"`` names) to its value field, its validity field and how additive faults act on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class Channel:
    """One faultable part of a measurement.

    ``kind``: ``"additive"`` (bias, drift and spike values add, in the value's units and components) or
    ``"attitude"`` (a quaternion; bias, drift and spike values are a small rotation vector [rad], body axes).
    """

    values: str
    valid: str
    kind: str = "additive"


@dataclass(frozen=True)
class Measurement:
    """Base of all measurements: sensor name and delivery time [s]."""

    sensor: str
    t_s: float

    CHANNELS: ClassVar[dict[str, Channel]] = {}

    @property
    def n(self) -> int:
        """Batch size N."""
        ch = next(iter(self.CHANNELS.values()))
        return int(getattr(self, ch.values).shape[0])


@dataclass(frozen=True)
class ImuMeasurement(Measurement):
    """Integrated IMU increments over the interval (t_s − dt_s, t_s].

    ``delta_v_body_mps`` (N, 3): velocity increment from the specific force (non-gravitational acceleration)
    [m/s], body axes; ``delta_theta_body_rad`` (N, 3): attitude increment from the inertial body rate [rad],
    body axes; ``accel_valid`` / ``gyro_valid`` (N,).
    """

    dt_s: float
    delta_v_body_mps: Array
    delta_theta_body_rad: Array
    accel_valid: Mask
    gyro_valid: Mask

    CHANNELS: ClassVar[dict[str, Channel]] = {
        "accel": Channel("delta_v_body_mps", "accel_valid"),
        "gyro": Channel("delta_theta_body_rad", "gyro_valid"),
    }


@dataclass(frozen=True)
class AltimeterMeasurement(Measurement):
    """Slant range along each beam to the terrain.

    ``range_m`` (N, B) [m]; ``valid`` (N, B); ``beam_dirs_body`` (B, 3): unit beam directions in body axes
    and ``beam_origins_body_m`` (B, 3): where they leave the vehicle (configuration, not truth).
    """

    range_m: Array
    valid: Mask
    beam_dirs_body: Array
    beam_origins_body_m: Array

    CHANNELS: ClassVar[dict[str, Channel]] = {"range": Channel("range_m", "valid")}


@dataclass(frozen=True)
class VelocimeterMeasurement(Measurement):
    """Velocity relative to the (rotating) lunar surface, body axes: ``v_body_mps`` (N, 3); ``valid`` (N,)."""

    v_body_mps: Array
    valid: Mask

    CHANNELS: ClassVar[dict[str, Channel]] = {"velocity": Channel("v_body_mps", "valid")}


@dataclass(frozen=True)
class StarTrackerMeasurement(Measurement):
    """Measured ``q_body_to_mci`` (N, 4) (scalar first, ``moon.frames`` convention); ``valid`` (N,)."""

    q_body_to_mci: Array
    valid: Mask

    CHANNELS: ClassVar[dict[str, Channel]] = {"attitude": Channel("q_body_to_mci", "valid", "attitude")}
