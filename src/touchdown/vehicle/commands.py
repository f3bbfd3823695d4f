"""Actuator commands: what the flight software sends to the vehicle.

This module holds no truth: the flight software imports it to build its output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclass
class Commands:
    """Actuator commands for N trajectories, held constant between flight-software ticks.

    ``throttle`` (N, E): commanded fraction of each engine's max thrust (clipped to the engine's
    limits while on); ``engine_on`` (N, E) bool; ``torque_body_nm`` (N, 3): RCS torque demand
    (saturated per axis at the RCS limits). ``thrust_scale`` (N, E) or None: what each engine delivers
    as a fraction of its commanded thrust (an engine fault's ``thrust_loss``, set by the truth harness,
    never by the flight software); thrust and propellant flow both scale, Isp is unchanged.
    """

    throttle: Array
    engine_on: NDArray[np.bool_]
    torque_body_nm: Array
    thrust_scale: Array | None = None

    @classmethod
    def off(cls, n: int, n_engines: int) -> Commands:
        """All engines off, no torque."""
        return cls(np.zeros((n, n_engines)), np.zeros((n, n_engines), bool), np.zeros((n, 3)))

    def take(self, idx: NDArray[np.intp]) -> Commands:
        """The commands of a subset of trajectories."""
        scale = None if self.thrust_scale is None else self.thrust_scale[idx]
        return Commands(self.throttle[idx], self.engine_on[idx], self.torque_body_nm[idx], scale)
