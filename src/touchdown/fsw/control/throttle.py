"""Throttle allocation: a thrust demand [N] onto a vehicle's engines within their limits.

Fixed-thrust engines (on/off) are lit largest first while the demand still covers each one (on a vehicle with
nothing throttleable enabled, when it covers at least half of it: the nearest thrust, which the rate loops
then pulse-modulate at the flight-software rate); the rest of the demand is shared by the throttleable
engines at one common fraction, clipped to their range. An engine with an avoided band (the LM descent
engine's 60–92.5 %, REFERENCE §3.4) is moved to the nearer edge of the band. Engines the sequencer has
disabled (e.g. the Series 1 400 N engine shut off before touchdown, REFERENCE §3.1) stay off. Every engine's
thrust is assumed along body +z (true for the presets).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from touchdown.fsw.control import _kernels
from touchdown.vehicle.commands import Commands
from touchdown.vehicle.model import Vehicle

Array = NDArray[np.float64]


class ThrottleAllocator:
    """Maps thrust demand (N,) [N] to engine commands for one vehicle."""

    def __init__(self, vehicle: Vehicle) -> None:
        self.vehicle = vehicle
        self.f_max = vehicle.max_thrust_n
        self.flow = self.f_max / vehicle.exhaust_velocity_mps  # (E,) propellant flow at throttle 1 [kg/s]
        self.tmin, self.tmax = vehicle.throttle_limits
        self.fixed = ~np.array([e.throttleable for e in vehicle.engines])
        # fixed engines, largest first; the order is fixed so the result is batch independent
        self.fixed_order = [int(i) for i in np.argsort(-self.f_max, kind="stable") if self.fixed[i]]
        self.bands = [e.throttle_band_avoided for e in vehicle.engines]
        # the same, as arrays for the compiled allocation (numpy's sum order holds for < 8 engines)
        self._compiled = len(vehicle.engines) < 8
        self._fixed_order = np.array(self.fixed_order, dtype=np.int64)
        self._tmin = np.asarray(self.tmin, dtype=float)
        self._tmax = np.asarray(self.tmax, dtype=float)
        self._has_band = np.array([b is not None for b in self.bands])
        self._band_lo = np.array([b[0] if b is not None else 0.0 for b in self.bands], dtype=float)
        self._band_hi = np.array([b[1] if b is not None else 0.0 for b in self.bands], dtype=float)
        self._f_top = self.f_max * self.tmax  # (E,) each engine's largest thrust [N]

    def capacity(self, enabled: NDArray[np.bool_]) -> Array:
        """Largest thrust [N] the enabled engines (N, E) can give."""
        if self._compiled and enabled.ndim == 2 and enabled.dtype == np.bool_:
            return _kernels.enabled_sum_rows(enabled, self._f_top)
        f = enabled * self._f_top
        return np.sum(f, axis=-1)

    def allocate(self, thrust_n: Array, enabled: NDArray[np.bool_] | None = None) -> Commands:
        """Engine commands for thrust demands (N,) [N]; ``enabled`` (N, E) masks engines off."""
        thrust_n = np.asarray(thrust_n, dtype=float)
        n, e = thrust_n.shape[0], len(self.vehicle.engines)
        enabled = np.ones((n, e), dtype=bool) if enabled is None else np.asarray(enabled, dtype=bool)
        if self._compiled and thrust_n.ndim == 1 and enabled.shape == (n, e):
            throttle, on = _kernels.allocate_rows(
                thrust_n,
                enabled,
                self.f_max,
                self.fixed,
                self._fixed_order,
                self._tmin,
                self._tmax,
                self._band_lo,
                self._band_hi,
                self._has_band,
            )
            return Commands(throttle, on, np.zeros((n, 3)))
        on = np.zeros((n, e), dtype=bool)
        throttle = np.zeros((n, e))
        remaining = np.maximum(thrust_n, 0.0)
        share = enabled & ~self.fixed
        no_trim = ~np.any(share, axis=-1)  # nothing throttleable to make up a shortfall
        for i in self.fixed_order:
            covered = remaining >= self.f_max[i]
            nearest = no_trim & (remaining >= 0.5 * self.f_max[i])
            lit = enabled[:, i] & (covered | nearest)
            on[:, i] = lit
            throttle[:, i] = np.where(lit, 1.0, 0.0)
            remaining = np.maximum(remaining - np.where(lit, self.f_max[i], 0.0), 0.0)
        capacity = np.zeros(n)
        for i in range(e):
            if not self.fixed[i]:
                capacity = capacity + share[:, i] * self.f_max[i]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(capacity > 0.0, remaining / capacity, 0.0)
        for i in range(e):
            if self.fixed[i]:
                continue
            u = np.clip(frac, self.tmin[i], self.tmax[i])
            band = self.bands[i]
            if band is not None:
                lo, hi = band
                inside = (u > lo) & (u < hi)
                u = np.where(inside, np.where(u >= 0.5 * (lo + hi), hi, lo), u)
            on[:, i] = share[:, i] & (remaining > 0.0)
            throttle[:, i] = np.where(on[:, i], u, 0.0)
        return Commands(throttle, on, np.zeros((n, 3)))

    def thrust_of(self, cmd: Commands) -> Array:
        """Total thrust [N] the commands ask for (steady state, no lag)."""
        return self._throttled_sum(cmd, self.f_max)

    def flow_of(self, cmd: Commands) -> Array:
        """Total propellant flow [kg/s] the commands ask for (steady state, no lag)."""
        return self._throttled_sum(cmd, self.flow)

    def _throttled_sum(self, cmd: Commands, per_engine: Array) -> Array:
        """Σₑ clip(throttle, tmin, tmax) · on · ``per_engine`` (N,), in numpy's order."""
        if self._compiled and cmd.throttle.ndim == 2 and cmd.throttle.dtype == np.float64:
            return _kernels.throttled_sum_rows(
                cmd.throttle, cmd.engine_on, self._tmin, self._tmax, per_engine
            )
        u = np.clip(cmd.throttle, self.tmin, self.tmax) * cmd.engine_on
        return np.sum(u * per_engine, axis=-1)
