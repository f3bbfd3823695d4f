"""``touchdown fly``: fly one descent of a scenario and say how it ended."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import typer

from touchdown.atomic import write_text
from touchdown.errors import InputError
from touchdown.fsw.flight_software import PHASES
from touchdown.provenance import __version__, git_revision
from touchdown.scenario.expect import CheckResult, check_flight
from touchdown.scenario.loader import LoadedScenario, load_scenario
from touchdown.sim.flight import Flight, FlightResult
from touchdown.sim.touchdown import TOUCHDOWN_FIGURES

TOUCHDOWN_FIELDS = TOUCHDOWN_FIGURES
DERIVED_TOUCHDOWN_FIELDS = ("impact_speed_mps", "hover_time_s")


def _clean(v: Any) -> Any:
    """JSON-safe value: NaN and infinities become null."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def flight_document(loaded: LoadedScenario, seed: int, result: FlightResult, run: int = 0) -> dict[str, Any]:
    """The JSON document of one flight (``--json``): outcome, touchdown figures and events."""
    row = result.sim.touchdown.row(run)
    touchdown = {k: _clean(row[k]) for k in TOUCHDOWN_FIELDS}
    touchdown["impact_speed_mps"] = _clean(math.hypot(row["vertical_speed_mps"], row["horizontal_speed_mps"]))
    hover = None if result.hover_time_s is None else float(result.hover_time_s[run])
    touchdown["hover_time_s"] = _clean(hover)
    return {
        "scenario": loaded.name,
        "source": loaded.source,
        "overrides": list(loaded.overrides),
        "seed": seed,
        "outcome": row["outcome"],
        "touchdown": touchdown,
        "events": [{k: _clean(v) for k, v in e.items()} for e in result.events[run]],
        "terrain": result.terrain_description,
        "onboard_map": result.map_description,
        "version": __version__,
        "git_revision": git_revision(),
    }


def trajectory_columns(result: FlightResult, run: int = 0) -> dict[str, np.ndarray]:
    """Truth and estimate side by side, one row per recorded time (run ``run``)."""
    tm = result.telemetry
    cols: dict[str, np.ndarray] = {k: v[:, run] for k, v in tm.items() if k not in ("phase_index",)}
    cols["phase"] = np.asarray([PHASES[int(k)] for k in tm["phase_index"][:, run]])
    cols["altimeter_accepted"] = tm["altimeter_accepted"][:, run] > 0.5
    return cols


def write_outputs(
    out: Path, loaded: LoadedScenario, doc: dict[str, Any], result: FlightResult, data_dir: str | None = None
) -> list[Path]:
    """flight.json, trajectory.parquet, flight.png, the scenario text and report.html, each written
    atomically."""
    from touchdown.report import write_report
    from touchdown.report.flight import plot_flight, write_trajectory_parquet

    out.mkdir(parents=True, exist_ok=True)
    cols = trajectory_columns(result)
    paths = [out / "flight.json", out / "trajectory.parquet", out / "flight.png", out / "scenario.toml"]
    write_text(paths[0], json.dumps(doc, indent=2) + "\n")
    meta = {"scenario": loaded.name, "seed": str(doc["seed"]), "outcome": doc["outcome"]}
    write_trajectory_parquet(cols, paths[1], metadata=meta)
    run = f" run {doc['campaign']['run']}" if "campaign" in doc else ""
    title = f"{loaded.name} · seed {doc['seed']}{run} · {doc['outcome']}"
    plot_flight(cols, doc["events"], paths[2], title)
    write_text(paths[3], loaded.text)
    paths.append(write_report(out, data_dir))
    return paths


def _summary(doc: dict[str, Any]) -> str:
    td = doc["touchdown"]
    run = f", campaign run {doc['campaign']['run']}" if "campaign" in doc else ""
    lines = [f"{doc['scenario']} (seed {doc['seed']}{run}): {doc['outcome'].upper()}"]
    if td["time_s"] is not None:
        lines.append(
            f"  touchdown at t = {td['time_s']:.1f} s: vertical {td['vertical_speed_mps']:.2f} m/s, "
            f"horizontal {td['horizontal_speed_mps']:.2f} m/s, tilt {td['tilt_deg']:.1f}°, "
            f"{td['miss_m']:.0f} m from target, {td['propellant_remaining_kg']:.1f} kg propellant left"
        )
    lines.append(f"  terrain: {doc['terrain']}; onboard map: {doc['onboard_map']}")
    lines.append(
        f"  {'t [s]':>8}  {'event':<34} {'true alt [m]':>12} {'nav alt [m]':>12} "
        f"{'v_z [m/s]':>10} {'v_h [m/s]':>10}"
    )
    for e in doc["events"]:

        def num(v: float | None, fmt: str) -> str:
            return "—" if v is None else format(v, fmt)

        lines.append(
            f"  {e['t_s']:8.1f}  {e['name']:<34} {num(e['true_altitude_m'], '12.1f')} "
            f"{num(e['nav_altitude_m'], '12.1f')} {num(e['vertical_speed_mps'], '10.2f')} "
            f"{num(e['horizontal_speed_mps'], '10.2f')}"
        )
    return "\n".join(lines)


def fly(
    scenario: str | None = typer.Argument(
        None, help="Scenario file (.toml) or built-in name (see `touchdown scenarios`); not with --from."
    ),
    seed: int = typer.Option(0, "--seed", help="Root seed: fixes every random draw of the flight."),
    set_: list[str] = typer.Option([], "--set", help="Override a field: dotted.path=value (repeatable)."),
    out: Path | None = typer.Option(
        None, "--out", help="Write flight.json, trajectory.parquet, flight.png and report.html here."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON document on stdout instead of a summary."
    ),
    check: bool = typer.Option(
        False,
        "--check",
        help="Check the flight against the scenario's \\[expect]: each expectation met or missed, "
        "exit 1 if any is missed.",
    ),
    from_: Path | None = typer.Option(
        None, "--from", help="Re-fly a run of the campaign in this directory (with --run)."
    ),
    run: int | None = typer.Option(None, "--run", help="With --from: the run to re-fly, exactly."),
    data_dir: str | None = typer.Option(
        None, "--data-dir", envvar="TOUCHDOWN_DATA", help="Data directory holding terrain/LDEM_4.*"
    ),
) -> None:
    """Fly one descent: sensors, faults and flight software in the loop over the scenario's terrain.

    With --from DIR --run K, fly run K of a campaign again, bit for bit, with its trajectory and plot."""
    if from_ is not None:
        if scenario is not None or set_ or run is None:
            raise InputError("--from DIR needs --run K and takes the scenario, seed and --set from DIR")
        loaded, result, doc, mismatch = _refly(from_, run, data_dir)
        seed = doc["seed"]
    else:
        if run is not None:
            raise InputError("--run K needs --from DIR (a campaign directory)")
        if scenario is None:
            raise InputError("name a scenario (see `touchdown scenarios`), or --from DIR --run K")
        loaded = load_scenario(scenario, set_)
        result = Flight(loaded.scenario, seed=seed, data_dir=data_dir).run()
        doc = flight_document(loaded, seed, result)
        mismatch = None
    expect = loaded.scenario.expect
    if check and expect.empty:
        raise InputError("has no [expect] table to check", where=loaded.source)
    checks = check_flight(expect, doc, trajectory_columns(result)) if check else []
    if check:
        doc["checks"] = [c.as_dict() for c in checks]
    if out is not None:
        paths = write_outputs(out, loaded, doc, result, data_dir)
    if as_json:
        typer.echo(json.dumps(doc))
    else:
        typer.echo(_summary(doc))
        if from_ is not None:
            typer.echo(f"  campaign run {run}: " + (mismatch or "identical to its row in the campaign"))
        if check:
            typer.echo(_check_summary(checks))
        if out is not None:
            typer.echo("  wrote " + ", ".join(str(p) for p in paths[:-1]))
            typer.echo(f"  report: {paths[-1]}")
    if any(not c.met for c in checks) or (mismatch is not None and mismatch.startswith("DIFFERS")):
        raise typer.Exit(1)


def _refly(cdir: Path, k: int, data_dir: str | None) -> tuple[LoadedScenario, FlightResult, dict, str | None]:
    """Run k of a campaign, its flight document, and how it compares with the campaign's row."""
    from touchdown.campaign.execute import refly
    from touchdown.campaign.store import CampaignDir

    loaded, result, params, row, seed = refly(CampaignDir(cdir), k, data_dir)
    doc = flight_document(loaded, seed, result)
    doc["campaign"] = {"directory": str(cdir), "run": k, "parameters": params}
    if row is None:
        doc["campaign"]["matches_row"] = None
        return loaded, result, doc, "not in the campaign's results yet (not compared)"
    td = result.sim.touchdown.row(0)
    same = row["outcome"] == td["outcome"] and all(
        _same(row[f], td[f]) for f in TOUCHDOWN_FIELDS if f in row and f in td
    )
    doc["campaign"]["matches_row"] = same
    return loaded, result, doc, None if same else "DIFFERS from its row in the campaign (outcome or figures)"


def _same(a: float | None, b: float) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return math.isnan(b)
    return a == b


def _check_summary(checks: list[CheckResult]) -> str:
    missed = sum(not c.met for c in checks)
    lines = [f"  expectations: {len(checks) - missed} met, {missed} missed"]
    for c in checks:
        m = c.measured
        shown = f"{m:.6g}" if isinstance(m, float) else ("—" if m is None else str(m))
        lines.append(
            f"    {'met   ' if c.met else 'MISSED'}  {c.what}: expected {c.expected}, measured {shown}"
        )
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add ``fly`` to the CLI."""
    app.command("fly")(fly)
