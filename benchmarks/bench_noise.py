"""Counter-based noise throughput: normals and uniforms a call of ``touchdown.noise`` draws for a batch.

Run on demand (never a timed test)::

    .venv/bin/python benchmarks/bench_noise.py [--rows 5000] [--repeat 7]

For m components per row (2: the laser's beams, 3: an IMU triad or the star tracker, 12: the IMU's turn-on
errors) it times ``noise.normal`` and ``noise.uniform`` on ``--rows`` rows, best of ``--repeat`` rounds,
and prints microseconds a call and nanoseconds a number. A descent draws ≈ 15.5 normals a run and tick.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from host import machine  # this folder: run as a script

from touchdown import noise


def best_us(draw, keys: np.ndarray, m: int, calls: int, repeat: int) -> float:
    """Best of ``repeat`` rounds of ``calls`` calls [µs a call]; each call a new tick, as a flight does."""
    stream = noise.stream_id("bench")
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for tick in range(calls):
            draw(keys, stream, tick, (m,))
        best = min(best, (time.perf_counter() - t0) / calls)
    return best * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    keys = noise.run_keys(0, np.arange(args.rows))
    calls = max(1, 10_000_000 // args.rows // 3)
    print(f"machine: {machine()}")
    print(f"{'m':>3} {'normal [us]':>12} {'[ns/number]':>12} {'uniform [us]':>13} {'[ns/number]':>12}")
    for m in (2, 3, 12):
        n_us = best_us(noise.normal, keys, m, calls, args.repeat)
        u_us = best_us(noise.uniform, keys, m, calls, args.repeat)
        per = 1e3 / (args.rows * m)
        print(f"{m:>3} {n_us:>12.1f} {n_us * per:>12.2f} {u_us:>13.1f} {u_us * per:>12.2f}")


if __name__ == "__main__":
    main()
