"""Run a campaign: plan it into chunks, fly the missing chunks in-process or on Dask, merge, summarise.

Chunk i holds runs ``[i·chunk_size, (i+1)·chunk_size)``; the plan is fixed in the manifest, so a resumed
campaign flies exactly the chunks that have no file yet. Workers return rows; only this process writes
files. With Dask, a task whose worker dies is re-run elsewhere by the scheduler (and a task that raises is
retried twice), so a killed worker costs time, never a run.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from touchdown import __version__
from touchdown.campaign import dispersions, stats
from touchdown.campaign import workers as local_workers
from touchdown.campaign.runner import (
    NAV_ERROR_COLUMNS,
    CampaignSpec,
    Throttled,
    fly_batch,
    fly_chunk,
    fly_chunk_reporting,
    key_events,
)
from touchdown.campaign.store import CampaignDir, write_json
from touchdown.errors import InputError
from touchdown.provenance import git_revision
from touchdown.scenario import build
from touchdown.scenario.loader import LoadedScenario, load_scenario_text, value_problem
from touchdown.sim.flight import FlightResult


@dataclass(frozen=True)
class ProgressReport:
    """A campaign's progress: ``done`` runs judged (in chunks written), ``landed`` of them, ``total`` runs;
    of the chunks underway, ``finished`` runs whose flight has ended, ``flying`` runs in the air, the
    simulated time ``t_s`` [s] of the slowest batch (None: none underway) and ``t_end_s`` [s], the latest
    simulated time at which a batch's flight software expects its last touchdown (None: unknown; see
    ``FlightSoftware.expected_touchdown_s``)."""

    done: int
    landed: int
    total: int
    finished: int = 0
    flying: int = 0
    t_s: float | None = None
    t_end_s: float | None = None


Progress = Callable[[ProgressReport], None]


#: Most runs in a chunk: one batch of the flight (its fixed cost, ≈ 0.3 ms of Python a tick, is paid once
#: for all its runs) and one results file. 10,000 runs on 2 workers fly as two chunks of 5,000; progress
#: within a chunk comes from its flights (runner.fly_chunk_reporting).
MAX_CHUNK = 5000
# Dask settings of the embedded cluster: no statistical profiler (it samples the flying thread every 10 ms:
# ≈ 7 % of a chunk's time), and its housekeeping woken seldom: the event-loop tick (20 ms), the system
# monitor (500 ms) and the nannies' memory monitor (100 ms) each take the GIL from the flying thread or a
# core from the other worker. Two workers flying 2,500 descents each: 36.5–36.8 s → 33.3–34.7 s, the
# scheduler's process 1.3–1.7 → 0.25 s of CPU (AMD EPYC, 2 cores). glibc's thresholds:
# touchdown.campaign.allocator.
WORKER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}


@dataclass(frozen=True)
class Plan:
    """A campaign's fixed layout."""

    runs: int
    chunk_size: int

    @property
    def chunks(self) -> int:
        return math.ceil(self.runs / self.chunk_size)

    def chunk_runs(self, i: int) -> np.ndarray:
        return np.arange(i * self.chunk_size, min((i + 1) * self.chunk_size, self.runs), dtype=np.int64)


def default_chunk_size(runs: int, workers: int) -> int:
    """As few chunks as MAX_CHUNK allows, in whole rounds of the workers: big batches fly fastest
    (benchmarks/bench_campaign.py), and no worker idles while another flies a last chunk."""
    w = max(1, workers)
    rounds = math.ceil(runs / (w * MAX_CHUNK))
    return max(1, math.ceil(runs / (w * rounds)))


def check_sample(loaded: LoadedScenario, sample: dispersions.Sample) -> None:
    """Every sampled value must make a valid scenario: checked at the extremes of each column."""
    import tomllib

    data = tomllib.loads(loaded.text)
    for d in loaded.scenario.campaign.dispersions:
        col = dispersions.column(d)
        if d.dist is None:
            continue
        v = sample.columns[col]
        for x in (float(v.min()), float(v.max())):
            problem = value_problem(data, d.field, x)
            if problem is not None:
                raise InputError(
                    f"a sampled value is invalid: {problem}", where=f"campaign dispersion '{col}'"
                )


def create(
    loaded: LoadedScenario,
    out: Path,
    *,
    runs: int,
    seed: int,
    sampler: str,
    chunk_size: int,
    batch_size: int | None,
    data_dir: str | None,
    trajectory_period_s: float | None = None,
) -> CampaignDir:
    """Validate a new campaign and write its manifest (nothing is flown yet)."""
    if runs < 1:
        raise InputError(f"-n must be ≥ 1, got {runs}")
    if seed < 0:
        raise InputError(f"--seed must be ≥ 0, got {seed}")
    if sampler not in ("random", "sobol", "lhs"):
        raise InputError(f"--sampler '{sampler}' unknown; allowed: random, sobol, lhs")
    dt = loaded.scenario.sim.dt_s
    if trajectory_period_s is not None:
        k = round(trajectory_period_s / dt)
        if k < 1 or abs(k * dt - trajectory_period_s) > 1e-9 * max(1.0, trajectory_period_s):
            raise InputError(
                f"--trajectories {trajectory_period_s:g}: the period must be a whole multiple of "
                f"the step sim.dt_s = {dt:g} s"
            )
    cfg = loaded.scenario.campaign
    sample = dispersions.sample(cfg, sampler, seed, runs)
    check_sample(loaded, sample)
    terrain = build.truth_terrain(loaded.scenario, data_dir)
    cdir = CampaignDir(out)
    cdir.create(
        {
            "scenario": loaded.name,
            "source": loaded.source,
            "overrides": list(loaded.overrides),
            "root_seed": seed,
            "runs": runs,
            "sampler": sampler,
            "chunk_size": chunk_size,
            "batch_size": batch_size or chunk_size,
            "trajectory_period_s": trajectory_period_s,
            "parameters": list(sample.columns) + list(NAV_ERROR_COLUMNS),
            "key_events": list(key_events(loaded)),
            "terrain": terrain.description,
            "version": __version__,
            "git_revision": git_revision(),
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "status": "running",
            "scenario_text": loaded.text,
        }
    )
    return cdir


def spec_of(manifest: dict[str, Any], data_dir: str | None, batch_size: int | None = None) -> CampaignSpec:
    return CampaignSpec(
        text=manifest["scenario_text"],
        label=manifest["source"],
        overrides=tuple(manifest["overrides"]),
        seed=int(manifest["root_seed"]),
        runs=int(manifest["runs"]),
        sampler=manifest["sampler"],
        key_events=tuple(manifest["key_events"]),
        data_dir=data_dir,
        terrain=manifest["terrain"],
        batch_size=int(batch_size or manifest["batch_size"]),
        trajectory_period_s=manifest.get("trajectory_period_s"),
    )


def sample_of(manifest: dict[str, Any], runs: np.ndarray | None = None) -> dispersions.Sample:
    """The sampled values of ``runs`` (default: all), bit for bit those of the campaign."""
    loaded = load_scenario_text(manifest["scenario_text"], manifest["source"], manifest["overrides"])
    return dispersions.sample(
        loaded.scenario.campaign, manifest["sampler"], int(manifest["root_seed"]), int(manifest["runs"]), runs
    )


def refly(
    cdir: CampaignDir, k: int, data_dir: str | None = None
) -> tuple[LoadedScenario, FlightResult, dict[str, float], dict[str, Any] | None, int]:
    """Run ``k`` of a campaign flown again alone, with its trajectory recorded: (scenario it flew,
    result, its sampled values, the campaign's row of it or None if not written yet, root seed)."""

    manifest = cdir.manifest()
    n = int(manifest["runs"])
    if not 0 <= k < n:
        raise InputError(f"--run {k}: the campaign in {cdir.path} has runs 0 … {n - 1}")
    spec = spec_of(manifest, data_dir, batch_size=1)
    sample = sample_of(manifest, np.array([k]))
    (loaded, result, _), *_ = list(fly_batch(spec, sample, record=True))
    row = None
    with contextlib.suppress(InputError):
        table = cdir.rows()
        hits = [i for i, r in enumerate(table.column("run").to_pylist()) if r == k]
        if hits:
            row = {name: table.column(name)[hits[0]].as_py() for name in table.column_names}
    params = {name: float(v[0]) for name, v in sample.columns.items()}
    return loaded, result, params, row, int(manifest["root_seed"])


def run(
    cdir: CampaignDir,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    data_dir: str | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fly every chunk that has no file yet, merge, and return (and write) the summary."""
    manifest = cdir.manifest()
    plan = Plan(int(manifest["runs"]), int(manifest["chunk_size"]))
    spec = spec_of(manifest, data_dir, batch_size)
    t0 = time.perf_counter()
    flown = 0
    if not cdir.runs_path.exists():
        sample = sample_of(manifest)
        done = cdir.done_chunks()
        todo = [i for i in range(plan.chunks) if i not in done]
        tally = _Tally(progress, plan.runs, *(_tally(cdir) if done else (0, 0)))

        def finished(i: int, out: tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]) -> None:
            nonlocal flown
            cols, tracks = out
            cdir.write_chunk(i, cols, tracks)
            flown += cols["run"].size
            tally.chunk_done(i, cols["run"].size, int(np.sum(cols["outcome"] == stats.SUCCESS)))

        tasks = [(i, sample.take(plan.chunk_runs(i))) for i in todo]
        if scheduler is not None or workers > 1:
            _run_dask(spec, tasks, finished, tally, workers=workers, scheduler=scheduler)
        else:
            for i, sub in tasks:
                underway = None
                if progress is not None:
                    underway = Throttled(lambda f, fl, t, e, i=i: tally.underway(i, f, fl, t, e), 0.5)
                finished(i, fly_chunk(spec, sub, progress=underway))
        cdir.merge()
    wall = time.perf_counter() - t0
    table = cdir.rows()
    columns = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    summary = stats.summarize(columns, list(manifest["parameters"]), drawn=NAV_ERROR_COLUMNS)
    summary = {
        "scenario": manifest["scenario"],
        "root_seed": manifest["root_seed"],
        "sampler": manifest["sampler"],
        **summary,
        "wall_s": wall,
        "runs_flown": flown,
        "runs_per_s": flown / wall if flown and wall > 0 else None,
        "results": str(cdir.runs_path),
        "trajectories": str(cdir.path / "trajectories.parquet") if spec.trajectory_period_s else None,
    }
    write_json(cdir.path / "summary.json", summary)
    if manifest.get("status") != "complete":
        cdir.update_manifest(status="complete")
    return summary


class _Tally:
    """Runs judged and landed in the chunks written, and the chunks underway, reported to ``progress``
    (from this thread and from the Dask client's event loop: under a lock)."""

    def __init__(self, progress: Progress | None, total: int, done: int, landed: int) -> None:
        self.progress, self.total, self.done, self.landed = progress, total, done, landed
        self.lock = threading.Lock()
        self.written: set[int] = set()
        self.flights: dict[int, tuple[int, int, float, float]] = {}  # chunk → (finished, flying, t_s, t_end)
        self._report()

    def underway(self, chunk: int, finished: int, flying: int, t_s: float, t_end: float = math.nan) -> None:
        """A report from chunk's flights (a late one, after the chunk was written, is dropped)."""
        with self.lock:
            if chunk not in self.written:
                self.flights[chunk] = (int(finished), int(flying), float(t_s), float(t_end))
                self._report()

    def chunk_done(self, chunk: int, runs: int, landed: int) -> None:
        with self.lock:
            self.written.add(chunk)
            self.flights.pop(chunk, None)
            self.done += runs
            self.landed += landed
            self._report()

    def _report(self) -> None:
        if self.progress is None:
            return
        now = self.flights.values()
        ends = [e for _, fl, _, e in now if fl and math.isfinite(e)]
        self.progress(
            ProgressReport(
                self.done,
                self.landed,
                self.total,
                finished=sum(f for f, _, _, _ in now),
                flying=sum(fl for _, fl, _, _ in now),
                t_s=min((t for _, _, t, _ in now), default=None),
                t_end_s=max(ends) if ends else None,
            )
        )


def _tally(cdir: CampaignDir) -> tuple[int, int]:
    """(runs, landed) in the chunks already written."""
    outcome = cdir.rows().column("outcome").to_numpy(zero_copy_only=False)
    return int(outcome.size), int(np.sum(outcome == stats.SUCCESS))


def _run_dask(
    spec: CampaignSpec,
    tasks: list[tuple[int, dispersions.Sample]],
    finished: Callable[[int, tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]], None],
    tally: _Tally,
    *,
    workers: int,
    scheduler: str | None,
) -> None:
    """Fly the chunks on a Dask cluster: an embedded LocalCluster on 127.0.0.1, or ``scheduler``'s. The
    workers' progress reports arrive as events on a topic of this campaign's own."""
    from dask.distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler is not None:
            try:
                client = Client(scheduler, timeout="15s")
            except (OSError, TimeoutError) as exc:
                raise InputError(f"--scheduler {scheduler}: cannot connect: {exc}") from None
            cluster = None
        else:
            import dask

            forked = local_workers.start()  # a no-op when the campaign command started it already
            # for the cluster's whole life: a worker its nanny restarts is started the same way
            stack.enter_context(
                dask.config.set({**WORKER_CONFIG, **(local_workers.dask_config() if forked else {})})
            )
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        try:
            _submit_and_collect(client, spec, tasks, finished, tally)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def _submit_and_collect(
    client: Any,
    spec: CampaignSpec,
    tasks: list[tuple[int, dispersions.Sample]],
    finished: Callable[[int, tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]], None],
    tally: _Tally,
) -> None:
    """Submit every chunk to ``client`` and hand each result to ``finished`` as it arrives."""
    from dask.distributed import as_completed

    token = f"{os.getpid()}-{time.time_ns()}"
    topic = f"touchdown-progress-{token}"
    client.subscribe_topic(topic, lambda event: tally.underway(*event[1]))
    try:
        futures = {
            client.submit(
                fly_chunk_reporting,
                spec,
                sub,
                topic,
                i,
                key=f"touchdown-chunk-{token}-{i}",
                retries=2,
                pure=False,
            ): i
            for i, sub in tasks
        }
        for fut in as_completed(futures):
            finished(futures[fut], fut.result())
    finally:
        with contextlib.suppress(Exception):
            client.unsubscribe_topic(topic)
