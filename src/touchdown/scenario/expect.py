"""``[expect]``: the published outcome and figures a scenario must reproduce, and the check of a flight.

A scenario's ``[expect]`` table (schema ``Expect``)::

    [expect]
    outcome = "landed"                       # or a list of allowed outcome classes
    [expect.touchdown]                       # any touchdown figure of `touchdown fly --json`
    time_s = { value = 756.39, tol = 60.0 }  # |measured − value| ≤ tol
    hover_time_s = { value = 45.0, tol = 25.0 }
    vertical_speed_mps = { max = 4.0 }       # bounds: min and/or max
    [[expect.events]]                        # the first event of that name (``occurrence = "last"``)
    name = "phase:approach"
    true_altitude_m = { value = 2133.6, rel = 0.15 }   # |measured − value| ≤ rel·|value|
    [[expect.events]]
    name = "lrf_abandoned"
    present = false                          # must not happen
    [[expect.events]]
    name = "lrf_abandoned"
    after_s = 60.0                           # figures read from the trajectory 60 s after the event
    altitude_error_m = { value = -3000.0, tol = 800.0 }

Event figures are the truth's (altitude above the terrain below, surface-relative speeds, tilt of the thrust
axis from the local vertical, position) plus the estimate's altitude; ``after_s`` reads them from the
recorded trajectory (linear interpolation) that long after the event. A figure that was not measured (no
touchdown, no such event, or ``after_s`` beyond the end of the record) misses. ``check_flight`` returns one
:class:`CheckResult` per expectation, in file order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

Finite = Annotated[float, Field(allow_inf_nan=False, strict=True)]
NonNeg = Annotated[float, Field(ge=0.0, allow_inf_nan=False, strict=True)]

TOUCHDOWN_FIGURES = (
    "time_s",
    "vertical_speed_mps",
    "horizontal_speed_mps",
    "impact_speed_mps",
    "tilt_deg",
    "miss_m",
    "propellant_remaining_kg",
    "hover_time_s",
)
EVENT_FIGURES = (
    "t_s",
    "true_altitude_m",
    "nav_altitude_m",
    "altitude_error_m",
    "vertical_speed_mps",
    "horizontal_speed_mps",
    "tilt_deg",
    "lat_deg",
    "lon_deg",
)
# event figure → trajectory column (``trajectory_columns`` of ``touchdown fly``), for ``after_s``
TRAJECTORY_COLUMNS = {
    "true_altitude_m": "true_altitude_m",
    "nav_altitude_m": "nav_altitude_m",
    "vertical_speed_mps": "true_vertical_speed_mps",
    "horizontal_speed_mps": "true_horizontal_speed_mps",
    "tilt_deg": "tilt_deg",
    "lat_deg": "true_lat_deg",
    "lon_deg": "true_lon_deg",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Figure(_Strict):
    """One expected number: ``value`` ± ``tol`` (absolute) or ``rel`` (fraction), and/or ``min``/``max``."""

    value: Finite | None = None
    tol: NonNeg | None = None
    rel: NonNeg | None = None
    min: Finite | None = None
    max: Finite | None = None

    @model_validator(mode="after")
    def _complete(self) -> Figure:
        if self.value is None and self.min is None and self.max is None:
            raise ValueError("give value (with tol or rel), min or max")
        if self.value is not None and self.tol is None and self.rel is None:
            raise ValueError("value needs tol (absolute) or rel (fraction)")
        if self.value is None and (self.tol is not None or self.rel is not None):
            raise ValueError("tol and rel need a value")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} > max {self.max}")
        return self

    def bounds(self) -> tuple[float, float]:
        """The accepted interval [lo, hi]."""
        lo, hi = -math.inf, math.inf
        if self.value is not None:
            half = self.tol if self.tol is not None else (self.rel or 0.0) * abs(self.value)
            lo, hi = self.value - half, self.value + half
        if self.min is not None:
            lo = max(lo, self.min)
        if self.max is not None:
            hi = min(hi, self.max)
        return lo, hi

    def describe(self) -> str:
        parts = []
        if self.value is not None:
            parts.append(
                f"{self.value:g} ± {self.tol:g}"
                if self.tol is not None
                else f"{self.value:g} ± {self.rel:.0%}"
            )
        if self.min is not None:
            parts.append(f"≥ {self.min:g}")
        if self.max is not None:
            parts.append(f"≤ {self.max:g}")
        return ", ".join(parts)


class TouchdownExpect(_Strict):
    time_s: Figure | None = None
    vertical_speed_mps: Figure | None = None
    horizontal_speed_mps: Figure | None = None
    impact_speed_mps: Figure | None = None
    tilt_deg: Figure | None = None
    miss_m: Figure | None = None
    propellant_remaining_kg: Figure | None = None
    hover_time_s: Figure | None = None


class EventExpect(_Strict):
    name: str = Field(min_length=1)
    occurrence: Literal["first", "last"] = "first"
    present: Annotated[bool, Field(strict=True)] = True
    after_s: NonNeg | None = None  # read the figures this long after the event (from the trajectory)
    t_s: Figure | None = None
    true_altitude_m: Figure | None = None
    nav_altitude_m: Figure | None = None
    altitude_error_m: Figure | None = None  # estimate − truth
    vertical_speed_mps: Figure | None = None
    horizontal_speed_mps: Figure | None = None
    tilt_deg: Figure | None = None
    lat_deg: Figure | None = None
    lon_deg: Figure | None = None

    @model_validator(mode="after")
    def _absent_has_no_figures(self) -> EventExpect:
        if not self.present and (self.after_s is not None or any(getattr(self, k) for k in EVENT_FIGURES)):
            raise ValueError("an event expected absent (present = false) cannot have figures or after_s")
        return self


class Expect(_Strict):
    """Published outcome and figures a flight must reproduce (see the module docstring)."""

    outcome: str | list[str] | None = None
    touchdown: TouchdownExpect = TouchdownExpect()
    events: list[EventExpect] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return (
            self.outcome is None
            and not self.events
            and all(getattr(self.touchdown, k) is None for k in TOUCHDOWN_FIGURES)
        )


@dataclass(frozen=True)
class CheckResult:
    """One expectation: what was expected, what was measured, and whether it was met."""

    what: str
    expected: str
    measured: Any
    met: bool

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "expected": self.expected, "measured": self.measured, "met": self.met}


def _figure(what: str, fig: Figure, measured: float | None) -> CheckResult:
    lo, hi = fig.bounds()
    ok = measured is not None and math.isfinite(measured) and lo <= measured <= hi
    return CheckResult(what, fig.describe(), measured, bool(ok))


def check_flight(
    expect: Expect, doc: dict[str, Any], trajectory: Mapping[str, Any] | None = None
) -> list[CheckResult]:
    """Check a flight document (``touchdown fly --json``) against ``expect``; ``trajectory`` (columns by
    name, ``t_s`` increasing) is needed by expectations with ``after_s``."""
    out: list[CheckResult] = []
    if expect.outcome is not None:
        allowed = [expect.outcome] if isinstance(expect.outcome, str) else list(expect.outcome)
        out.append(CheckResult("outcome", " or ".join(allowed), doc["outcome"], doc["outcome"] in allowed))
    td = doc.get("touchdown") or {}
    for k in TOUCHDOWN_FIGURES:
        fig = getattr(expect.touchdown, k)
        if fig is not None:
            out.append(_figure(f"touchdown.{k}", fig, td.get(k)))
    for e in expect.events:
        found = [ev for ev in doc["events"] if ev["name"] == e.name]
        if not e.present:
            out.append(CheckResult(f"event {e.name}", "absent", f"{len(found)} times", not found))
            continue
        ev = (found[0] if e.occurrence == "first" else found[-1]) if found else None
        if not any(getattr(e, k) is not None for k in EVENT_FIGURES):
            out.append(
                CheckResult(f"event {e.name}", "present", "present" if ev else "absent", ev is not None)
            )
            continue
        label = f"event {e.name} ({e.occurrence})"
        if e.after_s is not None:
            label += f" + {e.after_s:g} s"
            ev = None if ev is None else _sample_after(ev["t_s"] + e.after_s, trajectory)
        for k in EVENT_FIGURES:
            fig = getattr(e, k)
            if fig is None:
                continue
            value = None if ev is None else _event_figure(ev, k)
            out.append(_figure(f"{label}.{k}", fig, value))
    return out


def _sample_after(t_s: float, trajectory: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Event-like figures read from the trajectory at ``t_s`` (None beyond the record)."""
    if trajectory is None:
        raise ValueError("an expectation with after_s needs the flight's trajectory")
    t = np.asarray(trajectory["t_s"], dtype=float)
    if t.size == 0 or not (t[0] <= t_s <= t[-1]):
        return None
    out: dict[str, Any] = {"t_s": t_s}
    for k, col in TRAJECTORY_COLUMNS.items():
        out[k] = float(np.interp(t_s, t, np.asarray(trajectory[col], dtype=float)))
    return out


def _event_figure(ev: dict[str, Any], k: str) -> float | None:
    if k == "altitude_error_m":
        if ev.get("nav_altitude_m") is None or ev.get("true_altitude_m") is None:
            return None
        return ev["nav_altitude_m"] - ev["true_altitude_m"]
    return ev.get(k)
