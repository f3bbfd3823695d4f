"""Measurement gating: which readings the navigation filter believes.

Every reading is screened on its normalised innovation |ν|/√S (ν = measured − predicted, S its predicted
variance). What happens to readings beyond ``gate_sigma`` is the policy:

``none``    every reading is used, however far from the prediction.
``latch``   readings beyond the gate are rejected; after ``latch_count`` consecutive rejected ticks the
            sensor is abandoned for the rest of the flight. This is how HAKUTO-R M1's software treated its
            laser range finder after the ≈ 3 km jump over the Atlas rim (REFERENCE §3.2).
``robust``  readings beyond the gate are rejected, but a sensor whose rejected readings stay
            self-consistent (the innovation's spread ≤ ``consistency`` over the last ``window_s`` of the
            streak; a reading that breaks the consistency restarts the window) is re-admitted:
            a step that persists is a fact about the world (a cliff, a map error), not a sensor fault.
            The filter then widens the uncertainty of the state that explains the step (the terrain offset
            under the vehicle for an altimeter) and uses the reading. What M1 needed.

A :class:`Gate` holds one sensor's per-trajectory memory (N,); it decides nothing about the filter's state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from touchdown.errors import InputError
from touchdown.fsw.navigation import _gating_kernels as _k

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]

GATING_POLICIES = ("none", "latch", "robust")
_T_EPS = 1e-9


@dataclass(frozen=True)
class GateParams:
    """policy: one of GATING_POLICIES; gate_sigma: threshold on |ν|/√S [-]; latch_count: consecutive
    rejected ticks before a latch abandons the sensor; window_s [s] and consistency [measurement units, 1σ]:
    the robust re-admission test."""

    policy: str = "robust"
    gate_sigma: float = 5.0
    latch_count: int = 3
    window_s: float = 2.0
    consistency: float = 60.0

    def __post_init__(self) -> None:
        if self.policy not in GATING_POLICIES:
            raise InputError(
                f"unknown gating policy '{self.policy}'; allowed: {', '.join(GATING_POLICIES)}",
                where="fsw.navigation.gating",
            )
        if not (self.gate_sigma > 0.0 and self.latch_count >= 1 and self.window_s > 0.0):
            raise InputError("gate_sigma, latch_count and window_s must be > 0", where="fsw.navigation")
        if not (math.isfinite(self.consistency) and self.consistency > 0.0):
            raise InputError("consistency must be > 0", where="fsw.navigation")


@dataclass
class GateEvents:
    """Per-trajectory masks (N,) of what happened at one tick."""

    first_valid: Mask  # first tick with a valid reading
    rejected: Mask  # first rejected tick of a streak
    abandoned: Mask  # latch: sensor abandoned now
    readmitted: Mask  # robust: sensor re-admitted now


class Gate:
    """One sensor's gating memory for N trajectories."""

    def __init__(self, sensor: str, params: GateParams, n: int) -> None:
        self.sensor = sensor
        self.params = params
        self.seen = np.zeros(n, bool)  # a valid reading has arrived
        self.abandoned = np.zeros(n, bool)
        self.count = np.zeros(n, np.int64)  # consecutive rejected ticks
        self.streak_t0 = np.full(n, np.nan)  # time of the first rejected tick of the streak [s]
        self.s1 = np.zeros(n)  # sum of the innovation summary over the streak
        self.s2 = np.zeros(n)  # sum of its squares
        self.n_streak = np.zeros(n)

    def in_gate(self, normalised: Array, present: Mask) -> Mask:
        """Readings (N, …) the policy admits on the gate alone (before any re-admission)."""
        if normalised.ndim in (1, 2) and normalised.dtype == np.float64 and present.shape == normalised.shape:
            policy = GATING_POLICIES.index(self.params.policy)
            one = normalised.ndim == 1  # one reading per trajectory: a column of one
            out = _k.in_gate_rows(
                normalised[:, None] if one else normalised,
                present[:, None] if one else present,
                self.abandoned,
                self.params.gate_sigma,
                policy,
            )
            return out[:, 0] if one else out
        if self.params.policy == "none":
            return present.copy()
        usable = present & ~_rows(self.abandoned, present)
        return usable & (np.nan_to_num(normalised, nan=np.inf) <= self.params.gate_sigma)

    def record(self, t_s: float, present: Mask, accepted: Mask, summary: Array) -> tuple[Mask, GateEvents]:
        """Update the memory after screening one tick; returns (re-admit now (N,), events).

        ``present`` (N,): the sensor delivered a valid reading; ``accepted`` (N,): at least one reading
        passed the gate; ``summary`` (N,): the tick's innovation in measurement units (e.g. mean over beams).
        """
        p = self.params
        if summary.dtype == np.float64 and self.count.dtype == np.int64:
            readmit, *masks = _k.record_rows(
                float(t_s),
                present,
                accepted,
                summary,
                GATING_POLICIES.index(p.policy),
                p.latch_count,
                p.window_s,
                p.consistency,
                _T_EPS,
                self.seen,
                self.abandoned,
                self.count,
                self.streak_t0,
                self.s1,
                self.s2,
                self.n_streak,
            )
            return readmit, GateEvents(*masks)
        first = present & ~self.seen
        self.seen |= present
        n = present.shape[0]
        none = np.zeros(n, bool)
        if p.policy == "none":
            return none, GateEvents(first, none, none.copy(), none.copy())
        rejected = present & ~accepted & ~self.abandoned
        starts = rejected & (self.count == 0)
        self.count = np.where(rejected, self.count + 1, np.where(accepted, 0, self.count))
        abandoned_now = none.copy()
        readmit = none.copy()
        if p.policy == "latch":
            abandoned_now = (self.count >= p.latch_count) & ~self.abandoned
            self.abandoned |= abandoned_now
        else:
            s = np.nan_to_num(summary)
            self.streak_t0 = np.where(starts, t_s, self.streak_t0)
            self.s1 = np.where(starts, s, np.where(rejected, self.s1 + s, self.s1))
            self.s2 = np.where(starts, s * s, np.where(rejected, self.s2 + s * s, self.s2))
            self.n_streak = np.where(starts, 1.0, np.where(rejected, self.n_streak + 1.0, self.n_streak))
            k = np.maximum(self.n_streak, 1.0)
            spread = np.sqrt(np.maximum(self.s2 / k - (self.s1 / k) ** 2, 0.0))
            # readings that disagree with each other restart the window from this one: only the latest
            # ``window_s`` of a streak must be consistent (a cliff edge, then a steady offset, re-admits)
            restart = rejected & (spread > p.consistency)
            self.streak_t0 = np.where(restart, t_s, self.streak_t0)
            self.s1 = np.where(restart, s, self.s1)
            self.s2 = np.where(restart, s * s, self.s2)
            self.n_streak = np.where(restart, 1.0, self.n_streak)
            spread = np.where(restart, 0.0, spread)
            long_enough = t_s - np.nan_to_num(self.streak_t0, nan=np.inf) >= p.window_s - _T_EPS
            readmit = rejected & long_enough & (spread <= p.consistency)
            self.count = np.where(readmit, 0, self.count)
        return readmit, GateEvents(first, starts, abandoned_now, readmit)


def _rows(mask: Mask, like: Mask) -> Mask:
    return mask.reshape(mask.shape + (1,) * (like.ndim - 1))
