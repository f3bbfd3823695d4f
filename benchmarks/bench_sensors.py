"""Throughput of the sensor models alone: milliseconds per tick for N trajectories.

Run on demand (never a timed test):  .venv/bin/python benchmarks/bench_sensors.py [--n 10000] [--repeat 5]

N landers hover 2–8 km up over the Atlas rim (47.5°N 44.4°E, HAKUTO-R M1's site), tilted up to 10°, so the
laser beams hit the ground. Measured per call (best of ``--repeat``): the counter-based normals, the laser
altimeter (one nadir beam, and four beams tilted 20°) over flat ground, the LOLA grid (LDEM_4, when it is
installed: ``touchdown data fetch``) and the synthetic terrain (Atlas and a crater field), the IMU, the star
tracker, the Doppler velocimeter and three sensor faults. Prints the machine first.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np
from host import machine  # this folder: run as a script

from touchdown.moon.frames import dcm_to_quat, llh_to_mcmf, quat_multiply, quat_normalize
from touchdown.moon.terrain.base import FlatTerrain
from touchdown.moon.terrain.dem import Dem
from touchdown.moon.terrain.loader import SyntheticSpec, load_terrain
from touchdown.noise import normal, run_keys, stream_id
from touchdown.sensors.altimeter import AltimeterParams, LaserAltimeter
from touchdown.sensors.faults import Fault, FaultInjector, Trigger
from touchdown.sensors.imu import Imu
from touchdown.sensors.star_tracker import StarTracker
from touchdown.sensors.velocimeter import DopplerVelocimeter
from touchdown.sim.initial import make_state
from touchdown.vehicle.presets import series1

SITE = (math.radians(47.5), math.radians(44.4))  # the Atlas rim (REFERENCE §2.2)


def states(n: int, terrain_height: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """N hovering truth states 2–8 km above ``terrain_height`` near the site (MCI = MCMF at t = 0)."""
    rng = np.random.default_rng(0)
    lat = SITE[0] + rng.uniform(-0.01, 0.01, n)
    lon = SITE[1] + rng.uniform(-0.01, 0.01, n)
    r = llh_to_mcmf(lat, lon, terrain_height(lat, lon) + rng.uniform(2_000.0, 8_000.0, n))
    up = r / np.linalg.norm(r, axis=1)[:, None]
    # body +z (thrust) up, body −z (the nadir beam) down, tilted up to 10°
    tilt = quat_normalize(np.concatenate((np.ones((n, 1)), rng.normal(0.0, 0.04, (n, 3))), axis=1))
    east = np.cross([0.0, 0.0, 1.0], up)
    east /= np.linalg.norm(east, axis=1)[:, None]
    north = np.cross(up, east)
    dcm = np.stack((east, north, up), axis=-1)  # body (east, north, up) → MCI
    q = quat_multiply(dcm_to_quat(dcm), tilt)
    return make_state(series1(), r, np.zeros((n, 3)), q, propellant_kg=200.0)


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # compile, fill caches
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return 1e3 * best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="trajectories")
    ap.add_argument("--repeat", type=int, default=5, help="calls timed, the best kept")
    args = ap.parse_args()
    n, repeat = args.n, args.repeat
    print(f"machine: {machine()}")
    print(f"N = {n}, best of {repeat} calls")
    keys = run_keys(0, np.arange(n))
    rows: list[tuple[str, float]] = [
        ("normal (N, 3)", best_ms(lambda: normal(keys, stream_id("bench"), 7, (3,)), repeat))
    ]

    terrains = {"flat": FlatTerrain(0.0)}
    lola = load_terrain("LDEM_4", site=SITE, detail=False)
    if isinstance(lola, Dem):  # not the synthetic fallback (no LOLA grid installed)
        terrains["LOLA LDEM_4"] = lola
    terrains["synthetic (Atlas + crater field)"] = load_terrain(None, site=SITE, synthetic=SyntheticSpec())
    nadir = LaserAltimeter("lrf", AltimeterParams(beam_dirs_body=((0.0, 0.0, -1.0),), max_range_m=10_000.0))
    s, c = math.sin(math.radians(20.0)), math.cos(math.radians(20.0))
    four = LaserAltimeter(
        "lrf",
        AltimeterParams(
            beam_dirs_body=((s, 0.0, -c), (-s, 0.0, -c), (0.0, s, -c), (0.0, -s, -c)), max_range_m=10_000.0
        ),
    )
    for name, terrain in terrains.items():
        x = states(n, terrain.height)
        for label, lrf in (("1 nadir beam", nadir), ("4 beams tilted 20°", four)):
            st = lrf.initial_state(keys)

            def tick(lrf=lrf, st=st, x=x, terrain=terrain) -> None:
                lrf.measure(st, 0.0, x, terrain)

            ms = best_ms(tick, repeat)
            hits = np.isfinite(lrf.true_ranges(0.0, x, terrain)[0]).mean()
            rows.append((f"LRF, {label}, {name} ({100 * hits:.0f} % hit)", ms))

    x = states(n, terrains["flat"].height)
    imu = Imu()
    imu_state = imu.initial_state(keys)
    f_body, w_body = np.tile([0.0, 0.0, 1.62], (n, 1)), np.zeros((n, 3))
    rows.append(("IMU", best_ms(lambda: imu.measure(imu_state, 0.1, f_body, w_body), repeat)))
    tracker = StarTracker()
    st_state = tracker.initial_state(keys)
    rows.append(("star tracker", best_ms(lambda: tracker.measure(st_state, 0.0, x), repeat)))
    doppler = DopplerVelocimeter()
    vel_state = doppler.initial_state(keys)
    flat = terrains["flat"]
    rows.append(("velocimeter, flat", best_ms(lambda: doppler.measure(vel_state, 0.0, x, flat), repeat)))
    faults = FaultInjector(
        [
            Fault(kind="bias", target="lrf", value=5.0, start_time_s=0.0),
            Fault(kind="noise_scale", target="imu.accel", value=3.0, start_time_s=0.0),
            Fault(kind="dropout", target="star_tracker", start_time_s=0.0, duration_s=10.0),
        ],
        n,
    )
    st_alt = nadir.initial_state(keys)
    meas = nadir.measure(st_alt, 0.0, x, flat)

    def apply() -> None:
        trig = Trigger(0.0, altitude_m=np.full(n, 3_000.0), phase=np.full(n, "braking"))
        faults.apply(meas, trig)
        faults.noise_scale("imu", trig, "accel")

    rows.append(("3 sensor faults (apply + noise scale)", best_ms(apply, repeat)))
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}s}  ms per tick")
    for label, ms in rows:
        print(f"{label:{width}s}  {ms:10.2f}")


if __name__ == "__main__":
    main()
