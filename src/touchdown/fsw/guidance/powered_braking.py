"""Powered braking to a high gate at full thrust: retro-thrust on the horizontal, a steered vertical.

Landers with little thrust margin (Series 1: ≈ 1,600 N on ≈ 850 kg, 1.2 lunar g, REFERENCE §3.1) cannot fly
a position-targeting law such as Apollo's: they brake from perilune at full thrust and *pitch up* as the
orbital speed bleeds off, so that the horizontal speed is nulled at a gate (≈ 2 km up, vertical, REFERENCE
§3.1). This law does exactly that, in the local east-north-up frame below the vehicle (up = z, r_z = altitude
above the believed terrain):

* time to null the horizontal speed v_h with the horizontal thrust share cos θ of a full-thrust burn, with
  the mass falling (rocket equation, a_max = F/m, ṁ = F/vₑ)::

      T = (vₑ / a_max) (1 − exp(−v_h / (vₑ cos θ)))

* vertical channel: the linear-acceleration (E-guidance) solution that reaches the gate altitude h_g with
  vertical rate ḣ_g in T, plus the gravity the curved path does not cancel::

      ḧ_cmd = 6 (h_g − h) / T² − (4 ḣ + 2 ḣ_g) / T
      a_z   = ḧ_cmd − g_z − v_h² / (R + h)                (centrifugal relief of a curved path)

  clamped to [0, a_max] (the law never thrusts downward: it lets gravity do that);
* descent-rate limit (optional, ``max_descent_rate_mps`` = v_lim): the vertical command never lets the
  descent grow past v_lim, ḧ_cmd ≥ (−v_lim − ḣ) / τ_lim with τ_lim = 2 s. Without it, a lander that finds
  itself higher than it believed (an altimeter correcting a low estimate mid-braking) is let fall freely
  towards the gate and arrives faster than it can stop from;
* horizontal: the rest of full thrust, against the horizontal velocity, a_h = √(a_max² − a_z²).

θ is solved by a fixed-point iteration (eight passes). ``complete`` when v_h ≤ ``complete_speed_mps`` or
T ≤ ``t_go_end_s``; the terminal phase then flies the last kilometres. ``t_go_s`` = T. Stateless.

The law needs each trajectory's thrust capability a_max [m/s²]: it declares ``uses_thrust_capability`` and
the flight software passes its own estimate (engine capacity over gauged mass), see ``base.GuidanceLaw``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from touchdown.errors import InputError
from touchdown.fsw.guidance import _kernels
from touchdown.fsw.guidance.base import Array, GuidanceCommand, check_state
from touchdown.moon.constants import R_MOON

_TAU_LIMIT_S = 2.0  # time constant of the descent-rate limit [s]
_PASSES = 8  # fixed-point passes for θ: each contracts by ≈ 0.3 at Series 1 numbers


@dataclass(frozen=True)
class PoweredBrakingParams:
    """gate_altitude_m: altitude above the ground where the horizontal speed is nulled [m].
    gate_vertical_rate_mps: vertical rate at the gate, up positive [m/s].
    exhaust_velocity_mps: effective exhaust velocity of the braking engines, vₑ [m/s].
    reference_radius_m: radius of the body for the centrifugal term [m].
    complete_speed_mps: horizontal speed that ends the phase [m/s].
    t_go_end_s: time to go that ends the phase (the E-guidance gains grow as 1/T²) [s].
    max_descent_rate_mps: largest descent rate the law lets build up, > 0 [m/s]; inf: no limit.
    """

    gate_altitude_m: float = 2000.0
    gate_vertical_rate_mps: float = 0.0
    exhaust_velocity_mps: float = 2900.0
    reference_radius_m: float = R_MOON
    complete_speed_mps: float = 2.0
    t_go_end_s: float = 5.0
    max_descent_rate_mps: float = math.inf

    def __post_init__(self) -> None:
        for name in ("gate_altitude_m", "gate_vertical_rate_mps"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise InputError(f"must be finite, got {value!r}", where=name)
        for name in ("exhaust_velocity_mps", "reference_radius_m", "complete_speed_mps", "t_go_end_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise InputError(f"must be finite and > 0, got {value!r}", where=name)
        if not self.max_descent_rate_mps > 0.0:
            raise InputError(
                f"must be > 0 (or inf), got {self.max_descent_rate_mps!r}", where="max_descent_rate_mps"
            )


class PoweredBrakingGuidance:
    """Full-thrust braking that pitches up to reach a high gate with no horizontal speed (module doc)."""

    frame = "local"  # relative to the ground below: r = (0, 0, altitude), local ENU axes
    uses_thrust_capability = True  # command() takes a_max_mps2

    def __init__(self, params: PoweredBrakingParams | None = None) -> None:
        self.params = params or PoweredBrakingParams()

    def reset(self, n: int) -> None:
        """Nothing to reset: the law keeps no per-trajectory state."""

    def command(
        self, t_s: ArrayLike, r_site: Array, v_site: Array, g_site: Array, a_max_mps2: ArrayLike = 1.0
    ) -> GuidanceCommand:
        """Thrust acceleration [m/s²] in the local frame; ``a_max_mps2`` (N,) is the thrust capability."""
        r_site, v_site, g_site = check_state(r_site, v_site, g_site)
        p = self.params
        a_max = np.maximum(np.broadcast_to(np.asarray(a_max_mps2, dtype=float), r_site.shape[:1]), 1e-9)
        a_thrust, t_go, complete = _kernels.braking_command(
            a_max, np.ascontiguousarray(r_site), np.ascontiguousarray(v_site), np.ascontiguousarray(g_site),
            p.exhaust_velocity_mps, p.reference_radius_m, p.t_go_end_s, p.gate_altitude_m,
            2.0 * p.gate_vertical_rate_mps, p.max_descent_rate_mps, _TAU_LIMIT_S,
            math.isfinite(p.max_descent_rate_mps), p.complete_speed_mps, _PASSES, _kernels.EXPM1,
        )  # fmt: skip
        return GuidanceCommand(a_thrust, t_go, complete)
