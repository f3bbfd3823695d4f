"""Campaign throughput: full descents of ``series1-frigoris-nominal`` with the whole flight software.

Run on demand (never a timed test)::

    TOUCHDOWN_DATA=../shared/data .venv/bin/python benchmarks/bench_campaign.py [--runs 1000 10000]
        [--workers 1 2] [--repeat K] [--scenario NAME]

For each (N, workers) it flies a fresh campaign (dispersions as in the scenario's ``[campaign]``, summaries
only, no trajectories) and prints runs per second, simulated seconds per wall second, the CPU time per
descent (this process and its workers together), and the peak resident memory of this process and of the
largest worker process. Workers = 1 flies in this process; more start a Dask LocalCluster (its start-up is
included, as a user would see it). On a shared virtual machine, whose speed drifts, ``--repeat K`` flies
each case K times and adds the best and the median.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from host import machine  # this folder: run as a script

from touchdown.campaign import execute
from touchdown.campaign import workers as local_workers
from touchdown.scenario.loader import load_scenario


def own_peak_mib() -> float:
    """Peak RSS [MiB] of this process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ChildPeak(threading.Thread):
    """The largest RSS [MiB] any descendant process (a worker) reaches, sampled every ``period_s``.

    Not the kernel's ``RUSAGE_CHILDREN``: a child started by fork and exec keeps the high-water mark of
    its parent's pages at the exec, so it would report this process's size, not the worker's."""

    def __init__(self, period_s: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.period_s, self.peak, self._stop_event = period_s, 0.0, threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self._stop_event.wait(self.period_s):
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    self.peak = max(self.peak, child.memory_info().rss / 2**20)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak


def cpu_s() -> float:
    """CPU time [s] of this process and of its child processes that have ended (user + system)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        u = resource.getrusage(who)
        total += u.ru_utime + u.ru_stime
    return total


def bench(scenario: str, runs: int, workers: int, data_dir: str | None) -> dict[str, float]:
    loaded = load_scenario(scenario)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "c"
        watch = ChildPeak()
        watch.start()
        c0 = cpu_s()
        t0 = time.perf_counter()
        if workers > 1:  # as `touchdown campaign` does: the workers' server starts before the planning
            local_workers.start()
        cdir = execute.create(
            loaded,
            out,
            runs=runs,
            seed=0,
            sampler=loaded.scenario.campaign.sampler,
            chunk_size=execute.default_chunk_size(runs, workers),
            batch_size=None,
            data_dir=data_dir,
        )
        summary = execute.run(cdir, workers=workers, data_dir=data_dir)
        wall = time.perf_counter() - t0
        local_workers.stop()  # its workers' CPU time then counts; the next case starts a fresh one
        worker_mib = watch.stop()
        cpu = cpu_s() - c0
        t_end = cdir.rows().column("t_end_s").to_numpy()
    return {
        "wall_s": wall,
        "runs_per_s": runs / wall,
        "cpu_ms_per_run": 1e3 * cpu / runs,
        "sim_s_per_wall_s": float(np.sum(t_end)) / wall,
        "mean_flight_s": float(np.mean(t_end)),
        "landed": summary["success_probability"],
        "worker_mib": worker_mib,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="series1-frigoris-nominal")
    ap.add_argument("--runs", type=int, nargs="+", default=[1000, 10_000])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=1, help="fly each case this many times (default 1)")
    args = ap.parse_args()
    data_dir = os.environ.get("TOUCHDOWN_DATA")
    print(f"machine: {machine()}")
    sc = load_scenario(args.scenario).scenario
    print(
        f"scenario: {args.scenario} (full flight software at {sc.fsw.rate_hz:g} Hz, truth RK4 step "
        f"{sc.sim.dt_s:g} s, summaries only); data: {data_dir or 'default'}"
    )
    print(
        f"{'runs':>7} {'workers':>7} {'wall [s]':>9} {'runs/s':>8} {'sim s/wall s':>13} {'CPU ms/run':>10} "
        f"{'flight [s]':>10} {'landed':>7} {'peak MiB (main / worker)':>25}"
    )
    for n in args.runs:
        for w in args.workers:
            walls = []
            for _ in range(max(args.repeat, 1)):
                r = bench(args.scenario, n, w, data_dir)
                walls.append(r["wall_s"])
                own = own_peak_mib()
                child = f"{r['worker_mib']:.0f}" if w > 1 else "—"  # in-process: no worker
                print(
                    f"{n:>7} {w:>7} {r['wall_s']:>9.1f} {r['runs_per_s']:>8.2f} "
                    f"{r['sim_s_per_wall_s']:>13.0f} {r['cpu_ms_per_run']:>10.2f} "
                    f"{r['mean_flight_s']:>10.0f} {r['landed']:>7.3f} "
                    f"{own:>12.0f} / {child:<10}",
                    flush=True,
                )
            if len(walls) > 1:
                best, median = min(walls), statistics.median(walls)
                print(f"{n:>7} {w:>7}   wall best {best:.1f} s, median {median:.1f} s")


if __name__ == "__main__":
    main()
