"""Fly a chunk of a campaign's runs and turn each run into one result row.

A sampled value reaches a flight one of two ways:

* **per run, in the batch** (no rebuild): the initial-state offsets, ``vehicle.propellant_kg``, a fault's
  presence and its ``start_time_s``, ``start_altitude_m``, ``duration_s``, ``below_m`` and scalar ``value``
  (:class:`touchdown.sim.flight.PerRun`);
* **by rebuilding the scenario** with ``--set``-style overrides: every other field. Runs whose rebuilt
  fields are equal fly together; a continuous dispersion of such a field makes every run its own batch
  (correct, but slower: see docs/campaigns.md).

Whatever the grouping, run k's trajectory depends only on (scenario, root seed, k, its sampled values):
every random draw comes from the run's key, and every batched model is elementwise over runs.
"""

from __future__ import annotations

import functools
import json
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from touchdown.campaign.allocator import restore_large_thresholds
from touchdown.campaign.dispersions import INITIAL_COLUMNS, Sample
from touchdown.scenario import build
from touchdown.scenario.loader import LoadedScenario, load_scenario_text, override_item
from touchdown.sensors.faults import PER_RUN_FIELDS
from touchdown.sim.flight import Flight, FlightResult, PerRun
from touchdown.sim.touchdown import TOUCHDOWN_FIGURES

Array = NDArray[np.float64]

TOUCHDOWN_COLUMNS = TOUCHDOWN_FIGURES
EVENT_FIGURES = (
    "t_s",
    "true_altitude_m",
    "nav_altitude_m",
    "vertical_speed_mps",
    "horizontal_speed_mps",
)
# drawn per run inside the flight (not sampled): the ground's state-vector error at the start, uploaded −
# true, east/north/up axes at the start point; ranked by the sensitivity like a sampled parameter
NAV_ERROR_COLUMNS = tuple(
    f"nav.initial_error.{axis}_{unit}" for unit in ("m", "mps") for axis in ("east", "north", "up")
)
_FAULT_FIELD = re.compile(r"faults\.(\d+)\.(\w+)$")
FlightProgress = Callable[..., None]
"""progress(finished, flying, t_s, t_end) of a chunk's flights (:func:`fly_batch`); ``t_end``: a function
giving the simulated time [s] at which the batch's flight software expects its last touchdown (NaN:
unknown), called only by a report that goes out (:class:`Throttled`)."""
#: Wall time between two progress reports of a chunk underway [s].
REPORT_PERIOD_S = 1.0


@dataclass(frozen=True)
class CampaignSpec:
    """What any process needs to fly any run of a campaign (it travels to the workers; the manifest
    keeps it)."""

    text: str  # the scenario's TOML, as read
    label: str  # where it came from (messages)
    overrides: tuple[str, ...]  # --set items
    seed: int  # root seed
    runs: int  # N
    sampler: str
    key_events: tuple[str, ...]  # events whose first occurrence gets its own columns
    data_dir: str | None = None
    terrain: str = ""  # the terrain the campaign was planned on: a worker that sees another one stops
    batch_size: int = 1000
    trajectory_period_s: float | None = None  # record each run's trajectory at this period (None: don't)

    def loaded(self, extra: tuple[str, ...] = ()) -> LoadedScenario:
        return _load(self.text, self.label, self.overrides + extra)


@functools.lru_cache(maxsize=64)
def _load(text: str, label: str, overrides: tuple[str, ...]) -> LoadedScenario:
    return load_scenario_text(text, label, overrides)


def key_events(loaded: LoadedScenario) -> tuple[str, ...]:
    """The events a campaign tabulates: the [expect] ones, phases, altimeter verdicts, faults, exhaustion."""
    sc = loaded.scenario
    names = [e.name for e in sc.expect.events]
    names += ["phase:braking", "phase:approach", "phase:terminal", "propellant_exhausted"]
    if sc.sensors.altimeter is not None:
        alt = sc.sensors.altimeter.name
        names += [f"{alt}_first_valid", f"{alt}_abandoned"]
    names += [f"fault:{f.kind}:{f.target}" for f in sc.faults]
    return tuple(dict.fromkeys(names))


def is_per_run(column: str) -> bool:
    """Whether a sampled column is carried per run in the batch (True) or needs a rebuild (False)."""
    if column in INITIAL_COLUMNS or column == "vehicle.propellant_kg":
        return True
    m = _FAULT_FIELD.match(column)
    return m is not None and (m.group(2) == "present" or m.group(2) in PER_RUN_FIELDS)


def _per_run(sample: Sample, sc_faults) -> PerRun:
    cols = sample.columns
    offsets = np.stack([cols[c] for c in INITIAL_COLUMNS], axis=1) if INITIAL_COLUMNS[0] in cols else None
    enabled: dict[int, NDArray[np.bool_]] = {}
    params: dict[int, dict[str, Array]] = {}
    for name, v in cols.items():
        m = _FAULT_FIELD.match(name)
        if m is None:
            continue
        i, what = int(m.group(1)), m.group(2)
        if what == "present":
            enabled[i] = v > 0.5
        elif what in PER_RUN_FIELDS and (what != "value" or isinstance(sc_faults[i].value, int | float)):
            params.setdefault(i, {})[what] = v
    return PerRun(offsets, cols.get("vehicle.propellant_kg"), enabled, params)


def _groups(spec: CampaignSpec, sample: Sample) -> Iterator[tuple[tuple[str, ...], NDArray[np.intp]]]:
    """(overrides, row indices) of runs that share every rebuilt field's value, in run order."""
    rebuilt = [c for c in sample.columns if not is_per_run(c)]
    # a per-run fault field still needs a valid scalar in the scenario (it may be unset there)
    faults_scalar = [
        c for c in sample.columns if _FAULT_FIELD.match(c) and is_per_run(c) and not c.endswith(".present")
    ]
    data = _raw(spec)
    if not rebuilt:
        keys = [()] * sample.runs.size
    else:
        keys = [tuple(sample.columns[c][j] for c in rebuilt) for j in range(sample.runs.size)]
    order: dict[tuple, list[int]] = {}
    for j, k in enumerate(keys):
        order.setdefault(k, []).append(j)
    for k, rows in order.items():
        items = tuple(override_item(data, c, v) for c, v in zip(rebuilt, k, strict=True))
        first = rows[0]
        items += tuple(override_item(data, c, sample.columns[c][first]) for c in faults_scalar)
        yield items, np.asarray(rows, dtype=np.intp)


def _raw(spec: CampaignSpec) -> dict:
    import tomllib

    return tomllib.loads(spec.text)


_TERRAINS: dict[tuple[str, str | None], tuple] = {}  # per process: a worker loads each terrain once


def _terrain(sc, data_dir: str | None):
    """The true terrain and the onboard map of a scenario, shared by every batch that flies over them."""
    key = (
        json.dumps([sc.terrain.model_dump(), sc.site.model_dump(), sc.fsw.navigation.model_dump()]),
        data_dir,
    )
    if key not in _TERRAINS:
        if len(_TERRAINS) >= 8:
            _TERRAINS.clear()
        terrain = build.truth_terrain(sc, data_dir)
        _TERRAINS[key] = (terrain, build.onboard_map(sc, terrain, data_dir))
    return _TERRAINS[key]


def fly_batch(
    spec: CampaignSpec, sample: Sample, *, record: bool = False, progress: FlightProgress | None = None
) -> Iterator[tuple[LoadedScenario, FlightResult, NDArray[np.intp]]]:
    """Fly the runs of ``sample``, grouped and split into batches: (scenario, result, row indices) each.

    ``progress(finished, flying, t_s, t_end)``, when given, is called after every truth step: the runs of
    ``sample`` whose flight has ended (earlier batches and touchdowns in this one), the runs in the air, the
    batch's simulated time [s] and the function that estimates its end (``Flight.expected_end_s``)."""
    period = spec.trajectory_period_s
    ended = 0  # runs of the batches already flown
    for items, rows in _groups(spec, sample):
        if period is not None:
            items = (*items, f"sim.record_period_s={float(period)!r}")
        loaded = spec.loaded(items)
        sc = loaded.scenario
        terrain, onboard_map = _terrain(sc, spec.data_dir)
        if spec.terrain and terrain.description != spec.terrain:
            raise RuntimeError(
                f"this worker sees terrain '{terrain.description}', the campaign was planned on "
                f"'{spec.terrain}': give every worker the same data (TOUCHDOWN_DATA)"
            )
        for start in range(0, rows.size, spec.batch_size):
            part = rows[start : start + spec.batch_size]
            sub = sample.take(part)
            flight = Flight(
                sc,
                seed=spec.seed,
                run_indices=sub.runs,
                data_dir=spec.data_dir,
                record=record or period is not None,
                terrain=terrain,
                onboard_map=onboard_map,
                per_run=_per_run(sub, sc.faults),
            )
            hook = None
            if progress is not None:

                def hook(
                    t_s: float, flying: int, base: int = ended, n: int = part.size, flight: Flight = flight
                ) -> None:
                    progress(base + n - flying, flying, t_s, flight.expected_end_s)

            yield loaded, flight.run(progress=hook), part
            ended += part.size


def result_columns(spec: CampaignSpec, sample: Sample, result: FlightResult) -> dict[str, np.ndarray]:
    """One row per run of a flown batch: run, seed, sampled values, outcome, touchdown figures, events."""
    n = sample.runs.size
    td = result.sim.touchdown
    cols: dict[str, np.ndarray] = {
        "run": sample.runs.astype(np.int64),
        "seed": np.full(n, spec.seed, dtype=np.int64),
    }
    for name, v in sample.columns.items():
        cols[name] = v > 0.5 if name.endswith(".present") else v.astype(float)
    err = result.upload_error_enu if result.upload_error_enu is not None else np.full((n, 6), np.nan)
    for c, name in enumerate(NAV_ERROR_COLUMNS):
        cols[name] = err[:, c].astype(float)
    cols["outcome"] = np.asarray(result.outcomes, dtype=object)
    for name in TOUCHDOWN_COLUMNS:
        cols[name] = getattr(td, name).astype(float)
    cols["impact_speed_mps"] = np.hypot(td.vertical_speed_mps, td.horizontal_speed_mps)
    hover = result.hover_time_s if result.hover_time_s is not None else np.full(n, np.nan)
    cols["hover_time_s"] = np.asarray(hover, float)
    cols["t_end_s"] = result.sim.t_end_s.astype(float)
    for ev in spec.key_events:
        firsts = [next((e for e in result.events[i] if e["name"] == ev), None) for i in range(n)]
        for fig in EVENT_FIGURES:
            cols[f"{ev}.{fig}"] = np.array([math.nan if e is None else e[fig] for e in firsts], dtype=float)
    cols["events"] = np.array(
        [json.dumps([[e["name"], e["t_s"], e["true_altitude_m"]] for e in evs]) for evs in result.events],
        dtype=object,
    )
    return cols


def trajectory_rows(runs: NDArray[np.int64], result: FlightResult) -> dict[str, np.ndarray]:
    """Long-form trajectories of a flown batch: one row per run and recorded time up to its end."""
    from touchdown.fsw.flight_software import PHASES

    tm = result.telemetry
    keep = tm["t_s"] <= result.sim.t_end_s[None, :]  # (T, N): a run's record stops at its touchdown
    cols: dict[str, np.ndarray] = {"run": np.broadcast_to(runs[None, :], keep.shape).T[keep.T]}
    for name, v in tm.items():
        flat = v.T[keep.T]
        if name == "phase_index":
            cols["phase"] = np.asarray([PHASES[int(k)] for k in flat], dtype=object)
        elif name == "altimeter_accepted":
            cols[name] = flat > 0.5
        else:
            cols[name] = flat.astype(float)
    return cols


def _concat(parts: list[dict[str, np.ndarray]], order_by: tuple[str, ...]) -> dict[str, np.ndarray]:
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort([cols[k] for k in reversed(order_by)])
    return {k: v[order] for k, v in cols.items()}


def fly_chunk(
    spec: CampaignSpec, sample: Sample, progress: FlightProgress | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """Fly the runs of ``sample``: their result rows in run order, and their trajectories (run, time
    order) when the campaign records them (a worker's task). ``progress``: as :func:`fly_batch`'s."""
    restore_large_thresholds()  # a Dask worker's environment switches glibc's own tuning off
    parts, tracks = [], []
    for _, res, rows in fly_batch(spec, sample, progress=progress):
        sub = sample.take(rows)
        parts.append(result_columns(spec, sub, res))
        if spec.trajectory_period_s is not None:
            tracks.append(trajectory_rows(sub.runs, res))
    return _concat(parts, ("run",)), (_concat(tracks, ("run", "t_s")) if tracks else None)


class Throttled:
    """``report(finished, flying, t_s, t_end)`` at most once every ``period_s`` [s] of wall time (the first
    call always); ``t_end``, a function, is called only then, and its value [s] reported (NaN: none)."""

    def __init__(self, report: Callable[[int, int, float, float], None], period_s: float = REPORT_PERIOD_S):
        self.report = report
        self.period_s = period_s
        self.last = -math.inf

    def __call__(
        self, finished: int, flying: int, t_s: float, t_end: Callable[[], float] | None = None
    ) -> None:
        now = time.monotonic()
        if now - self.last >= self.period_s:
            self.last = now
            self.report(finished, flying, t_s, math.nan if t_end is None else float(t_end()))


def fly_chunk_reporting(
    spec: CampaignSpec, sample: Sample, topic: str, chunk: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """:func:`fly_chunk` as a Dask task that logs its flights' progress as worker events under ``topic``:
    ``[chunk, finished, flying, t_s, t_end]``, at most once every :data:`REPORT_PERIOD_S`."""
    from distributed import get_worker

    worker = get_worker()

    def report(finished: int, flying: int, t_s: float, t_end: float) -> None:
        worker.log_event(topic, [chunk, finished, flying, t_s, t_end])

    return fly_chunk(spec, sample, progress=Throttled(report))
