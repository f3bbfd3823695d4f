"""Throughput of the closed-loop flight: truth dynamics, sensors (laser ray casts on LOLA), flight software.

Run on demand (never a timed test):  .venv/bin/python benchmarks/bench_flight.py [--full] [--n 1 100 1000]
Prints the machine, then for ``series1-frigoris-nominal`` with the full flight software, per batch size N,
trajectory-simulated-seconds per wall second in two windows of the descent and the full descents per second
they imply:

* ``coast+braking``: the first ``WINDOW_S`` s (one minute of coast, then the braking burn high above the
  ground, where the altimeter is out of range);
* ``descent``: the whole descent (only with ``--full``: several minutes of wall time at N = 1,000), which adds
  the low braking and the terminal phase, where every altimeter beam is cast to the ground.

Full descents per second = (trajectory-simulated-seconds per wall second) / (simulated length of one
descent, ≈ 934 s on seed 0). Everything runs in this one process; use ``taskset`` to pin it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from host import machine  # this folder: run as a script

from touchdown.scenario.loader import load_scenario
from touchdown.sim.flight import Flight

SCENARIO = "series1-frigoris-nominal"
WINDOW_S = 300.0  # the coast+braking window [s]
DESCENT_S = 934.0  # simulated length of one full descent on seed 0 [s]


def fly(n: int, t_max_s: float | None) -> tuple[float, float]:
    """(trajectory-simulated-seconds, wall seconds) of N runs of seed 0 up to ``t_max_s`` (None: landing)."""
    overrides = [] if t_max_s is None else [f"sim.t_max_s={t_max_s}"]
    sc = load_scenario(SCENARIO, overrides=overrides).scenario
    flight = Flight(sc, seed=0, run_indices=np.arange(n), record=False)
    t0 = time.perf_counter()
    res = flight.run()
    wall = time.perf_counter() - t0
    return float(np.sum(res.sim.t_end_s)), wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1, 100, 1000], help="batch sizes")
    ap.add_argument("--full", action="store_true", help="also fly whole descents (slow)")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    print(f"scenario: {SCENARIO}, full flight software, record=False, seed 0")
    windows: list[tuple[str, float | None]] = [("coast+braking", WINDOW_S)]
    if args.full:
        windows.append(("descent", None))
    for label, t_max in windows:
        what = f"first {t_max:.0f} s" if t_max is not None else "to touchdown"
        print(f"\n{label} ({what}): trajectory-simulated-s per wall s, full descents per s")
        for n in args.n:
            sim_s, wall = fly(n, t_max)
            rate = sim_s / wall
            print(
                f"  N = {n:6d}: {rate:10,.0f} traj-sim-s/s  {rate / DESCENT_S:8.2f} descents/s  "
                f"(wall {wall:6.1f} s)"
            )


if __name__ == "__main__":
    main()
