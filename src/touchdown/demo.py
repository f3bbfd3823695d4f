"""`touchdown demo` (what `make demo` runs): the main job on RESILIENCE (REFERENCE §3.3), then the truth model
at work on both ispace losses (REFERENCE §3.2, §3.3).

1. **The M2 replay** (`touchdown fly resilience-m2 --check`): the flight software over LOLA terrain with the
   laser range finder's late acquisition, checked against the published facts; its report.
2. **An M2 campaign** (`touchdown campaign resilience-m2 -n RUNS`): the acquisition range, propellant load
   and delivered state dispersed; how often it lands and why not; its report.
3. **The truth model** (``truth-model/demo.png``), three open-loop flights:

Truth-model panels:

1. **The Atlas rim** — what HAKUTO-R M1's laser altimeter saw: nadir ranges along a ground track into
   Atlas crater on the LOLA grid (or synthetic Atlas when the grid is absent).
2. **M1's last minutes** — the lander hovering vertical ≈ 5 km above the crater floor with its
   propellant nearly gone, as it did while its software believed it was on the ground; the tanks run
   dry, it falls, and the touchdown verdict judges the impact.
3. **RESILIENCE's braking problem, as a batch** — Series 1 landers 900 m above Mare Frigoris (where M2's
   first valid range came) descending at 30–80 m/s with every engine at full thrust: which ones stop
   in time? One batch of trajectories, one array operation per step.

The truth-model panels fly no flight software (open loop); parts 1 and 2 fly all of it.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from touchdown import datastore
from touchdown.atomic import write_text
from touchdown.moon.constants import G_SURFACE
from touchdown.moon.frames import enu_basis, llh_to_mcmf
from touchdown.moon.gravity import PointMass
from touchdown.moon.terrain.loader import SyntheticSpec, load_terrain
from touchdown.moon.terrain.profile import great_circle_track, range_jump
from touchdown.moon.terrain.raycast import raycast
from touchdown.sim.initial import state_above_site
from touchdown.sim.simulator import Simulator
from touchdown.vehicle.commands import Commands
from touchdown.vehicle.dynamics import M, R
from touchdown.vehicle.presets import series1

M1_TARGET_DEG = (47.5, 44.4)  # REFERENCE §3.2
M1_TRACK_START_DEG = (49.2, 43.0)  # north-west of Atlas, outside the rim (REFERENCE §2.2 span)
M2_TARGET_DEG = (60.5, -4.6)  # REFERENCE §3.3
M2_FIRST_RANGE_M = 900.0  # REFERENCE §3.3: first valid LRF range below ≈ 900 m


def atlas_rim(terrain, altitude_m: float = 8_000.0, samples: int = 600) -> dict[str, Any]:
    """Nadir laser ranges along the track from outside Atlas to the M1 target at constant altitude."""
    lat, lon, dist = great_circle_track(M1_TRACK_START_DEG, M1_TARGET_DEG, samples)
    _, _, up = enu_basis(lat, lon)
    rng = raycast(terrain, llh_to_mcmf(lat, lon, altitude_m), -up, max_range_m=30_000.0)
    jump = range_jump(dist, rng)
    return {
        "distance_m": dist,
        "height_m": terrain.height(lat, lon),
        "range_m": rng,
        "altitude_m": altitude_m,
        "rim_jump_m": jump["jump_m"],
        "rim_at_m": jump["at_m"],
    }


def m1_last_minutes(terrain, propellant_kg: float = 8.0, dt_s: float = 0.05) -> dict[str, Any]:
    """Series 1 hovering 5 km above the Atlas floor on its 200 N thrusters until the tanks run dry."""
    veh = series1()
    lat, lon = map(math.radians, M1_TARGET_DEG)
    floor = float(terrain.height(lat, lon))
    x0 = state_above_site(
        veh, lat, lon, floor + 5_000.0, v_enu_mps=(0.0, 0.0, -0.8), propellant_kg=propellant_kg
    )
    hover = (x0[0, M] * G_SURFACE) / (6 * 200.0)  # open-loop hover throttle on the six 200 N thrusters

    def commands(t: float, x: np.ndarray) -> Commands:
        c = Commands.off(len(x), len(veh.engines))
        c.throttle[:, 1:] = hover
        c.engine_on[:, 1:] = True
        return c

    sim = Simulator(veh, PointMass(), terrain, target_lat=lat, target_lon=lon, dt_s=dt_s, record_period_s=1.0)
    res = sim.run(x0, commands, t_max_s=600.0)
    r = res.history_x[:, 0, R]
    alt = np.linalg.norm(r, axis=1) - 1_737_400.0 - floor
    return {
        "t_s": res.history_t_s,
        "altitude_m": alt,
        "events": res.events.for_run(0),
        "touchdown": res.touchdown.row(0),
        "terrain_height_m": floor,
    }


def m2_braking_batch(terrain, n: int = 400, seed: int = 2025, dt_s: float = 0.05) -> dict[str, Any]:
    """N Series 1 landers at 900 m with descent rates dispersed over 30–80 m/s, all engines at full thrust."""
    veh = series1()
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    rate = rng.uniform(30.0, 80.0, n)
    lat, lon = map(math.radians, M2_TARGET_DEG)
    ground = float(terrain.height(lat, lon))
    x0 = np.concatenate(
        [
            state_above_site(
                veh, lat, lon, ground + M2_FIRST_RANGE_M + 1.0, v_enu_mps=(0, 0, -v), propellant_kg=80.0
            )
            for v in rate
        ]
    )
    full = Commands(np.ones((n, len(veh.engines))), np.ones((n, len(veh.engines)), bool), np.zeros((n, 3)))
    sim = Simulator(veh, PointMass(), terrain, target_lat=lat, target_lon=lon, dt_s=dt_s)
    # 40 s is enough to either hit the ground or stop and climb away; engines are never cut (open loop)
    res = sim.run(x0, lambda t, x: full, t_max_s=40.0)
    hit = res.touchdown.outcome > 0
    mass = veh.mass.dry_mass_kg + 80.0
    accel = veh.total_max_thrust_n / mass - G_SURFACE
    return {
        "descent_rate_mps": rate,
        "impact_speed_mps": np.where(hit, res.touchdown.vertical_speed_mps, 0.0),
        "outcome": res.touchdown.outcome_names(),
        "critical_rate_closed_form_mps": math.sqrt(2.0 * accel * M2_FIRST_RANGE_M),
        "stopped_fraction": float(np.mean(~hit)),
    }


def plot(
    out: Path, rim: dict[str, Any], fall: dict[str, Any], batch: dict[str, Any], terrain_desc: str
) -> Path:
    """One PNG with the three demo panels; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(16, 4.8), constrained_layout=True)
    d = rim["distance_m"] / 1000.0
    ax[0].plot(d, rim["height_m"] / 1000.0, color="0.35", label="terrain height (left)")
    ax[0].set_xlabel("along-track distance from 49.2°N 43.0°E [km]")
    ax[0].set_ylabel("terrain height above 1737.4 km [km]")
    km_up, jump_km = rim["altitude_m"] / 1000, rim["rim_jump_m"] / 1000
    ax[0].set_title(f"Atlas rim, {km_up:.0f} km up: laser range jumps {jump_km:.1f} km")
    ax_r = ax[0].twinx()
    ax_r.plot(d, rim["range_m"] / 1000.0, ":", lw=2.5, color="C3", label="nadir laser range (right)")
    ax_r.set_ylabel("laser range [km]", color="C3")
    ax_r.invert_yaxis()
    lines = ax[0].get_lines() + ax_r.get_lines()
    ax[0].legend(lines, [ln.get_label() for ln in lines], loc="lower left", fontsize=8)

    ax[1].plot(fall["t_s"], fall["altitude_m"] / 1000.0, color="C0", label="true altitude above floor")
    for t, name in fall["events"]:
        ax[1].axvline(t, color="C3" if "touchdown" in name else "C1", ls="--", lw=1, label=name)
    ax[1].set_xlabel("time [s]")
    ax[1].set_ylabel("altitude above the Atlas floor [km]")
    td = fall["touchdown"]
    ax[1].set_title(f"M1's last minutes: {td['outcome']} at {td['vertical_speed_mps']:.0f} m/s")
    ax[1].legend(fontsize=8)

    out_c = np.array([o != "in_flight" for o in batch["outcome"]])
    ax[2].scatter(
        batch["descent_rate_mps"][~out_c], batch["impact_speed_mps"][~out_c], s=8, label="stopped in time"
    )
    ax[2].scatter(
        batch["descent_rate_mps"][out_c],
        batch["impact_speed_mps"][out_c],
        s=8,
        color="C3",
        label="hit the ground",
    )
    ax[2].axvline(batch["critical_rate_closed_form_mps"], color="0.3", ls="--", label="closed form √(2 a h)")
    ax[2].axvline(66.0, color="C1", lw=1, label="M2: 66 m/s (planned 44)")
    ax[2].set_xlabel("descent rate at 900 m [m/s]")
    ax[2].set_ylabel("impact speed [m/s]")
    ax[2].set_title("M2: braking from the first valid range, full thrust")
    ax[2].legend(fontsize=8)
    # the fallback terrain's description runs long: wrapped, not cut at the figure's edges
    title = textwrap.fill(f"touchdown truth model · terrain: {terrain_desc}", width=190)
    fig.suptitle(title, fontsize=9)
    path = out / "demo.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


DEMO_RUNS = 200
"""Runs in the demo campaign: ≈ 2 min on two cores, enough for a ±6 % interval on P(land)."""


def run_demo(
    out: Path, data_dir: str | None = None, runs: int = DEMO_RUNS, workers: int | None = None, echo=print
) -> dict[str, Any]:
    """The M2 replay and an M2 campaign with their reports under ``out/m2-replay`` and ``out/m2-campaign``,
    then the truth-model figure under ``out/truth-model``; returns the paths of the reports.

    Without the LOLA grid the flights fall back to synthetic terrain, over which M2's published facts are
    not expected: the replay's checks are then reported, not enforced (with the grid, a missed check stops
    the demo with exit code 1)."""
    import typer

    from touchdown.commands.campaign import campaign
    from touchdown.commands.fly import fly

    out.mkdir(parents=True, exist_ok=True)
    replay, camp = out / "m2-replay", out / "m2-campaign"
    lola = datastore.find_dem("ldem_4", data_dir) is not None
    if not lola:
        echo(
            f"LOLA LDEM_4 is not in {datastore.data_dir(data_dir)}: the demo flies over synthetic terrain, "
            "where M2's published facts are not expected (its checks are reported, not enforced). "
            "`touchdown data fetch ldem_4` installs the grid (2 MB)."
        )
    echo("== 1. RESILIENCE (M2) replay: touchdown fly resilience-m2 --check")
    try:
        fly(
            scenario="resilience-m2",
            seed=0,
            set_=[],
            out=replay,
            as_json=False,
            check=True,
            from_=None,
            run=None,
            data_dir=data_dir,
        )
    except typer.Exit as missed:
        if lola or missed.exit_code != 1:
            raise
        echo("  (synthetic terrain: the M2 checks above are not expected to hold; the demo goes on)")
    echo(f"\n== 2. M2 campaign: touchdown campaign resilience-m2 -n {runs}")
    campaign(
        scenario="resilience-m2",
        runs=runs,
        seed=0,
        sampler=None,
        workers=workers,
        scheduler=None,
        out=camp,
        resume=None,
        set_=[],
        as_json=False,
        chunk_size=None,
        batch_size=None,
        trajectories=5.0,
        data_dir=data_dir,
        no_progress=False,
    )
    echo("\n== 3. the truth model on both ispace losses")
    truth = run_truth_model(out / "truth-model", data_dir, echo)
    reports = {"m2_replay": str(replay / "report.html"), "m2_campaign": str(camp / "report.html")}
    echo(f"\nreports:\n  {reports['m2_replay']}\n  {reports['m2_campaign']}\nfigure: {truth['figure']}")
    return {**reports, "truth_model": truth}


def run_truth_model(out: Path, data_dir: str | None = None, echo=print) -> dict[str, Any]:
    """Run the three truth-model flights, write ``demo.json`` and ``demo.png`` under ``out``; return the
    summary."""
    out.mkdir(parents=True, exist_ok=True)
    # The grid alone (no sub-pixel craters): these flights end in kilometre-scale terrain, and the
    # crater detail costs ~20 ms per terrain query today (see docs/terrain.md).
    atlas = load_terrain(
        "ldem_4", data_dir=data_dir, site=tuple(map(math.radians, M1_TARGET_DEG)), detail=False
    )
    frigoris = load_terrain(
        "ldem_4",
        data_dir=data_dir,
        site=tuple(map(math.radians, M2_TARGET_DEG)),
        synthetic=SyntheticSpec(named=False),
        detail=False,
    )
    echo(f"terrain: {atlas.description}")
    rim = atlas_rim(atlas)
    echo(
        f"1. Atlas rim at {rim['altitude_m'] / 1000:.0f} km: "
        f"nadir laser range jumps {rim['rim_jump_m']:.0f} m"
    )
    fall = m1_last_minutes(atlas)
    td = fall["touchdown"]
    for t, name in fall["events"]:
        echo(f"2. M1 t = {t:7.1f} s  {name}")
    echo(f"   impact {td['vertical_speed_mps']:.1f} m/s after {td['time_s']:.1f} s: {td['outcome']}")
    batch = m2_braking_batch(frigoris)
    echo(
        f"3. M2 braking batch ({len(batch['outcome'])} runs): stopped in time below "
        f"{batch['critical_rate_closed_form_mps']:.1f} m/s (closed form); "
        f"{100 * batch['stopped_fraction']:.0f} % of runs stopped"
    )
    png = plot(out, rim, fall, batch, atlas.description)
    summary = {
        "terrain": atlas.description,
        "atlas_rim_jump_m": rim["rim_jump_m"],
        "m1_events": [{"t_s": t, "name": n} for t, n in fall["events"]],
        "m1_touchdown": td,
        "m2_critical_rate_mps": batch["critical_rate_closed_form_mps"],
        "m2_stopped_fraction": batch["stopped_fraction"],
        "figure": str(png),
    }
    write_text(out / "demo.json", json.dumps(summary, indent=2) + "\n")
    echo(f"wrote {out / 'demo.json'} and {png}")
    return summary
