"""``touchdown sweep``: fly one scenario over a range of one parameter and find where the outcome changes.

``PARAM=start:stop:count`` sweeps ``count`` evenly spaced values from ``start`` to ``stop`` (both included);
``PARAM=a,b,c`` sweeps the listed values. PARAM is any dotted scenario path that ``--set`` accepts (e.g.
``faults.0.below_m``). Each value is a separate flight with the same seed, so the sweep isolates the
parameter; the flights run in parallel processes (``--jobs``). A *cliff* is a pair of neighbouring values
whose outcomes differ.
"""

from __future__ import annotations

import json
import math
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import typer

from touchdown.errors import InputError
from touchdown.scenario.loader import load_scenario

FIGURES = (
    "vertical_speed_mps",
    "horizontal_speed_mps",
    "impact_speed_mps",
    "miss_m",
    "propellant_remaining_kg",
    "time_s",
)


def parse_sweep(spec: str) -> tuple[str, list[float]]:
    """``PARAM=start:stop:count`` or ``PARAM=a,b,c`` → (PARAM, values)."""
    where = f"sweep '{spec}'"
    if "=" not in spec:
        raise InputError("expected PARAM=start:stop:count or PARAM=a,b,c", where=where)
    param, _, rng = spec.partition("=")
    param = param.strip()
    if not param:
        raise InputError("the parameter path is empty", where=where)
    try:
        if ":" in rng:
            parts = rng.split(":")
            if len(parts) != 3:
                raise ValueError
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
            if not (math.isfinite(start) and math.isfinite(stop)):
                raise ValueError
            if count < 2:
                raise InputError("count must be ≥ 2", where=where)
            values = np.linspace(start, stop, count).tolist()
        else:
            values = [float(v) for v in rng.split(",")]
    except ValueError:
        raise InputError(
            "values must be start:stop:count (finite numbers, count an integer) or a,b,c", where=where
        ) from None
    if not values or not all(math.isfinite(v) for v in values):
        raise InputError("values must be finite numbers", where=where)
    return param, values


def _override(param: str, value: float) -> str:
    return f"{param}={value!r}"


def _fly_one(scenario: str, overrides: list[str], seed: int, events: list[str]) -> dict[str, Any]:
    """One sweep point (runs in a worker process)."""
    from touchdown.commands.fly import flight_document
    from touchdown.sim.flight import Flight

    loaded = load_scenario(scenario, overrides)
    doc = flight_document(loaded, seed, Flight(loaded.scenario, seed=seed).run())
    td = doc["touchdown"]
    point: dict[str, Any] = {"outcome": doc["outcome"], **{k: td.get(k) for k in FIGURES}}
    for name in events:
        ev = next((e for e in doc["events"] if e["name"] == name), None)
        point[name] = None if ev is None else {k: v for k, v in ev.items() if k != "name"}
    return point


def cliffs(values: list[float], outcomes: list[str]) -> list[dict[str, Any]]:
    """Neighbouring values (in the order swept) whose outcomes differ."""
    return [
        {"between": [values[i], values[i + 1]], "outcomes": [outcomes[i], outcomes[i + 1]]}
        for i in range(len(values) - 1)
        if outcomes[i] != outcomes[i + 1]
    ]


def _fmt(v: Any, spec: str = ".2f") -> str:
    return "—" if v is None else format(v, spec)


def sweep(
    scenario: str = typer.Argument(
        ..., help="Scenario file (.toml) or built-in name (see `touchdown scenarios`)."
    ),
    spec: str = typer.Argument(
        ...,
        metavar="PARAM=start:stop:count",
        help="The parameter (a dotted path, as for --set) and its values: start:stop:count or a,b,c.",
    ),
    seed: int = typer.Option(0, "--seed", help="Root seed, the same for every value."),
    set_: list[str] = typer.Option([], "--set", help="Override another field: dotted.path=value."),
    event: list[str] = typer.Option(
        [], "--event", help="Also report this event's figures per value (e.g. lrf_first_valid). Repeatable."
    ),
    jobs: int = typer.Option(
        0, "--jobs", help="Flights in parallel (0: one per CPU core).", show_default=False
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document instead of a table."),
) -> None:
    """Fly a one-parameter sweep: outcome and touchdown figures per value, and where the outcome changes."""
    param, values = parse_sweep(spec)
    for v in values:  # every value must make a valid scenario before anything flies
        loaded = load_scenario(scenario, [*set_, _override(param, v)])
    workers = jobs if jobs > 0 else (os.cpu_count() or 1)
    args = [(scenario, [*set_, _override(param, v)], seed, list(event)) for v in values]
    if workers == 1 or len(values) == 1:
        points = [_fly_one(*a) for a in args]
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(values))) as pool:
            points = list(pool.map(_fly_one, *zip(*args, strict=True)))
    outcomes = [p["outcome"] for p in points]
    doc = {
        "scenario": loaded.name,
        "param": param,
        "seed": seed,
        "overrides": list(set_),
        "points": [{"value": v, **p} for v, p in zip(values, points, strict=True)],
        "cliffs": cliffs(values, outcomes),
    }
    if as_json:
        typer.echo(json.dumps(doc))
        return
    typer.echo(_table(doc, list(event)))


def _table(doc: dict[str, Any], events: list[str]) -> str:
    lines = [f"{doc['scenario']} (seed {doc['seed']}): sweep of {doc['param']}"]
    name = doc["param"].split(".")[-1]
    head = f"  {name:>14}  {'outcome':<12} {'v_z':>8} {'v_h':>7} {'impact':>8} {'prop kg':>8}"
    for name in events:
        head += f"  {name + ' alt/v_z':>28}"
    lines.append(head)
    for p in doc["points"]:
        row = (
            f"  {p['value']:14.6g}  {p['outcome']:<12} {_fmt(p['vertical_speed_mps']):>8} "
            f"{_fmt(p['horizontal_speed_mps']):>7} {_fmt(p['impact_speed_mps']):>8} "
            f"{_fmt(p['propellant_remaining_kg'], '.1f'):>8}"
        )
        for name in events:
            ev = p.get(name)
            cell = "—" if ev is None else f"{ev['true_altitude_m']:.0f} m, {ev['vertical_speed_mps']:.1f} m/s"
            row += f"  {cell:>28}"
        lines.append(row)
    if not doc["cliffs"]:
        lines.append("  no cliff: the same outcome at every value")
    for c in doc["cliffs"]:
        (a, b), (oa, ob) = c["between"], c["outcomes"]
        lines.append(f"  cliff between {a:g} ({oa}) and {b:g} ({ob})")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add ``sweep`` to the CLI."""
    app.command("sweep")(sweep)
