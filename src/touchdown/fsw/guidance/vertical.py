"""Terminal vertical descent: hold a commanded vertical rate and null the horizontal velocity.

Law (site frame, up = z; first-order rate hold on each channel)::

    a_z   = (ḣ_cmd(h) − v_z) / τ_v,        a_h = −v_h / τ_h,        thrust acceleration = a − g,

then limited to what a descent engine can do: its vertical part is never negative (an engine cannot pull
the lander down: when ḣ_cmd asks for more than free fall the law lets gravity act and asks for no thrust,
so the attitude stays upright), and its horizontal part is at most tan(``max_tilt_deg``) times the vertical
part (the lander stays within that tilt of vertical while it nulls the drift).

Within those limits, on a double integrator with constant ḣ_cmd this gives
v_z − ḣ_cmd = (v_z0 − ḣ_cmd) e^(−t/τ_v) and
v_h = v_h0 e^(−t/τ_h) exactly. ḣ_cmd is either a constant (Apollo P66: −3 ft/s, REFERENCE §3.4;
Series 1: final ≈ −1 m/s, REFERENCE §3.1) or a piecewise-linear schedule of the estimated altitude
h = r_site z (height above the site's datum), held constant beyond the table's ends.

The phase never completes by itself: descent continues until the sequencer senses touchdown
(``complete`` is always False and ``t_go_s`` is NaN). The law keeps no state.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from touchdown.errors import InputError
from touchdown.fsw.guidance.base import Array, GuidanceCommand, check_state


@dataclass(frozen=True)
class VerticalDescentParams:
    """vertical_rate_mps: commanded vertical rate, up positive (a descent is negative) [m/s].
    tau_vertical_s, tau_horizontal_s: first-order time constants of the rate hold and of horizontal
        velocity nulling [s].
    schedule_altitude_m, schedule_vertical_rate_mps: optional piecewise-linear ḣ_cmd(h) table (altitudes
        strictly increasing [m], rates [m/s]); when given it replaces ``vertical_rate_mps``.
    max_tilt_deg: largest angle of the thrust from the local vertical while nulling drift [deg].
    """

    vertical_rate_mps: float = -1.0
    tau_vertical_s: float = 2.0
    tau_horizontal_s: float = 4.0
    schedule_altitude_m: tuple[float, ...] = ()
    schedule_vertical_rate_mps: tuple[float, ...] = ()
    max_tilt_deg: float = 30.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_tilt_deg) and 0.0 <= self.max_tilt_deg < 90.0):
            raise InputError(f"must be in [0, 90) deg, got {self.max_tilt_deg!r}", where="max_tilt_deg")
        if not math.isfinite(self.vertical_rate_mps):
            raise InputError(f"must be finite, got {self.vertical_rate_mps!r}", where="vertical_rate_mps")
        for name in ("tau_vertical_s", "tau_horizontal_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise InputError(f"must be a time > 0 s, got {value!r}", where=name)
        alt, rate = tuple(self.schedule_altitude_m), tuple(self.schedule_vertical_rate_mps)
        if len(alt) != len(rate):
            raise InputError(
                f"{len(alt)} altitudes but {len(rate)} rates", where="schedule_vertical_rate_mps"
            )
        if alt and (
            not all(math.isfinite(x) for x in alt + rate) or any(b <= a for a, b in itertools.pairwise(alt))
        ):
            raise InputError("altitudes must be finite and strictly increasing", where="schedule_altitude_m")
        object.__setattr__(self, "schedule_altitude_m", tuple(float(x) for x in alt))
        object.__setattr__(self, "schedule_vertical_rate_mps", tuple(float(x) for x in rate))


class VerticalDescentGuidance:
    """Rate-hold terminal descent with horizontal velocity nulling (see module docstring). Stateless."""

    frame = "local"  # flies relative to the ground below: r = (0, 0, altitude), local ENU axes

    def __init__(self, params: VerticalDescentParams | None = None) -> None:
        self.params = params or VerticalDescentParams()
        self._alt = np.asarray(self.params.schedule_altitude_m, dtype=float)
        self._rate = np.asarray(self.params.schedule_vertical_rate_mps, dtype=float)
        self._tan_tilt = math.tan(math.radians(self.params.max_tilt_deg))

    def reset(self, n: int) -> None:
        """Nothing to reset: the law keeps no per-trajectory state."""

    def vertical_rate_command(self, altitude_m: Array) -> Array:
        """ḣ_cmd [m/s] (N,) at the estimated altitude above the site datum [m]."""
        if self._alt.size == 0:
            return np.full(np.shape(altitude_m), self.params.vertical_rate_mps)
        return np.interp(altitude_m, self._alt, self._rate)

    def descent_time_s(self, altitude_m: ArrayLike) -> Array:
        """Time [s] the schedule takes from ``altitude_m`` (N,) [m] down to 0 m, flown at ḣ_cmd exactly:
        ∫₀ʰ dh / |ḣ_cmd(h)|, in closed form on each linear piece (ln of the rates' ratio over their slope;
        Δh / |ḣ| where the rate is constant). 0 at or below 0 m; NaN where the schedule does not descend
        (a rate ≥ 0). An estimate for progress displays: the lander lags the schedule by ≈ τ_v."""
        h = np.maximum(np.asarray(altitude_m, dtype=float), 0.0)
        if self._alt.size == 0:
            rate = self.params.vertical_rate_mps
            return h / -rate if rate < 0.0 else np.full(h.shape, np.nan)
        alt, speed = self._alt, -self._rate  # knots ascending [m], descent speeds [m/s]
        if np.any(speed <= 0.0):
            return np.full(h.shape, np.nan)
        out = np.minimum(h, alt[0]) / speed[0]  # below the first knot: its rate held
        for a0, a1, s0, s1 in zip(alt[:-1], alt[1:], speed[:-1], speed[1:], strict=True):
            dh = np.clip(h - a0, 0.0, a1 - a0)  # the part of this piece below h
            slope = (s1 - s0) / (a1 - a0)  # d|ḣ|/dh
            out = out + (dh / s0 if slope == 0.0 else np.log((s0 + slope * dh) / s0) / slope)
        return out + np.maximum(h - alt[-1], 0.0) / speed[-1]  # above the last knot: its rate held

    def command(self, t_s: ArrayLike, r_site: Array, v_site: Array, g_site: Array) -> GuidanceCommand:
        """Thrust acceleration [m/s²] in the site frame; ``t_s`` is not used."""
        r_site, v_site, g_site = check_state(r_site, v_site, g_site)
        p = self.params
        rate_cmd = self.vertical_rate_command(r_site[:, 2])
        a_cmd = np.stack(
            (
                -v_site[:, 0] / p.tau_horizontal_s,
                -v_site[:, 1] / p.tau_horizontal_s,
                (rate_cmd - v_site[:, 2]) / p.tau_vertical_s,
            ),
            axis=-1,
        )
        a_thrust = a_cmd - g_site
        a_thrust[:, 2] = np.maximum(a_thrust[:, 2], 0.0)
        h_max = self._tan_tilt * a_thrust[:, 2]
        h_mag = np.hypot(a_thrust[:, 0], a_thrust[:, 1])
        scale = np.where(h_mag > h_max, h_max / np.where(h_mag > 0.0, h_mag, 1.0), 1.0)
        a_thrust[:, :2] *= scale[:, None]
        n = r_site.shape[0]
        return GuidanceCommand(a_thrust, np.full(n, np.nan), np.zeros(n, dtype=bool))
