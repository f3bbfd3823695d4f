"""Throughput of the truth model: batched 6-DOF steps, terrain queries and laser ray casts.

Run on demand (never a timed test):  .venv/bin/python benchmarks/bench_truth.py
Prints the machine, then trajectory-steps per second for N = 1, 100, 10,000 and query rates.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from host import machine  # this folder: run as a script

from touchdown.moon.frames import enu_basis, llh_to_mcmf
from touchdown.moon.gravity import PointMass, ZonalJ2
from touchdown.moon.terrain.base import FlatTerrain
from touchdown.moon.terrain.loader import SyntheticSpec, load_terrain
from touchdown.moon.terrain.raycast import raycast
from touchdown.sim.initial import state_above_site
from touchdown.sim.simulator import Simulator
from touchdown.vehicle.commands import Commands
from touchdown.vehicle.presets import series1


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_steps(n: int, gravity, steps: int = 200) -> float:
    """Trajectory-steps per second of powered flight (all engines throttled, RCS torque)."""
    veh = series1()
    lat, lon = math.radians(60.5), math.radians(-4.6)
    x0 = state_above_site(veh, lat, lon, 20_000.0, v_enu_mps=(50.0, 0.0, -30.0), propellant_kg=300.0, n=n)
    cmd = Commands(np.full((n, 7), 0.6), np.ones((n, 7), bool), np.full((n, 3), 2.0))
    sim = Simulator(veh, gravity, FlatTerrain(-2430.0), target_lat=lat, target_lon=lon, dt_s=0.05)
    dt = best_of(lambda: sim.run(x0, lambda t, x: cmd, t_max_s=steps * 0.05))
    return n * steps / dt


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    print(f"machine: {machine()}")
    print("\n6-DOF powered flight, RK4 dt = 0.05 s (trajectory-steps per second; simulated s per wall s)")
    for name, g in (("point mass", PointMass()), ("J2", ZonalJ2())):
        for n in (1, 100, 10_000):
            rate = bench_steps(n, g, steps=200 if n < 10_000 else 40)
            print(f"  {name:10s} N = {n:6d}: {rate:12,.0f} traj-steps/s  ({rate * 0.05:10,.0f} sim-s/s)")

    site = (math.radians(47.5), math.radians(44.4))
    rng = np.random.default_rng(0)
    lat = site[0] + rng.uniform(-0.01, 0.01, 10_000)
    lon = site[1] + rng.uniform(-0.01, 0.01, 10_000)
    origin = llh_to_mcmf(lat[:1000], lon[:1000], 8_000.0)
    _, _, up = enu_basis(lat[:1000], lon[:1000])
    print("\nterrain height queries, 10,000 points (points per second)")
    for label, terrain in (
        ("LDEM_4", load_terrain("ldem_4", site=site, detail=False)),
        ("LDEM_4 + crater detail", load_terrain("ldem_4", site=site, detail=True)),
        ("synthetic (fallback)", load_terrain(None, site=site, synthetic=SyntheticSpec())),
    ):
        dt = best_of(lambda terrain=terrain: terrain.height(lat, lon))
        dt_ray = best_of(
            lambda terrain=terrain: raycast(terrain, origin, -up, max_range_m=30_000.0), repeat=1
        )
        print(f"  {label:24s} {1e4 / dt:12,.0f} heights/s   {1e3 / dt_ray:10,.0f} nadir rays/s")
        print(f"  {'':24s} ({terrain.description[:80]})")


if __name__ == "__main__":
    main()
