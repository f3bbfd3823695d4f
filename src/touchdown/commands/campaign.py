"""``touchdown campaign``: fly a scenario N times with its dispersions and say how often it lands and why not.

The uncertain fields live in the scenario's ``[campaign]`` table (docs/campaigns.md). Results go to
``--out`` (one Parquet row per run, ``manifest.json``, ``summary.json``); ``--resume DIR`` completes an
interrupted campaign, and ``touchdown fly --from DIR --run K`` re-flies run K with its trajectory.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from touchdown.campaign import execute
from touchdown.campaign import workers as local_workers
from touchdown.campaign.store import CampaignDir
from touchdown.errors import InputError
from touchdown.scenario.loader import load_scenario

IN_PROCESS_BELOW = 64  # runs: fewer than this fly in this process unless --workers says otherwise


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100.0 * x:.1f} %"


def _fig(p: dict[str, float | None], unit: str) -> str:
    vals = [p["p5"], p["p50"], p["p95"]]
    if any(v is None for v in vals):
        return "—"
    return " / ".join(f"{v:.3g}" for v in vals) + f" {unit}"  # type: ignore[str-format]


def summary_text(s: dict[str, Any], out: Path) -> str:
    """The human summary printed after a campaign."""
    lo, hi = s["ci95"]
    lines = [
        f"{s['scenario']}: {s['runs']:,} runs (seed {s['root_seed']}, {s['sampler']} sampling)",
        f"  landed {_pct(s['success_probability'])}  (95 % Wilson interval {_pct(lo)} – {_pct(hi)})",
        "  outcomes: " + " · ".join(f"{k} {v:,}" for k, v in s["outcomes"].items()),
        "  touchdown p5 / p50 / p95:",
    ]
    names = {
        "vertical_speed_mps": ("vertical speed", "m/s"),
        "horizontal_speed_mps": ("horizontal speed", "m/s"),
        "miss_m": ("miss distance", "m"),
        "propellant_remaining_kg": ("propellant left", "kg"),
        "hover_time_s": ("hover margin", "s"),
    }
    for k, (label, unit) in names.items():
        lines.append(f"    {label:<18} {_fig(s['touchdown'][k], unit)}")
    ranking = s["sensitivity"]["ranking"]
    if ranking:
        lines.append("  what drives failure (Monte Carlo filtering, Kolmogorov–Smirnov distance D):")
        for i, r in enumerate(ranking[:8], 1):
            mark = "*" if r.get("kind") == "drawn" else " "
            lines.append(
                f"    {i}. {r['parameter'] + mark:<33} D = {r['ks_distance']:.2f}  p = {r['p_value']:.1e}  "
                f"fails {_rates(r['parameter'], r['failure_rate'])}"
            )
        if any(r.get("kind") == "drawn" for r in ranking[:8]):
            lines.append("    * drawn in each flight from its seed (not a [campaign] dispersion)")
    elif s["sensitivity"]["ranking"] == [] and len(s["outcomes"]) > 1:
        lines.append("  what drives failure: no dispersed parameter")
    rate = s["runs_per_s"]
    if s["runs_flown"]:
        flown = f"{s['runs_flown']:,} runs flown in {s['wall_s']:.1f} s"
        flown += f" ({rate:.1f} runs/s)" if rate else ""
    else:
        flown = "every run was already flown (summary of the results on disk)"
    lines.append(f"  {flown}")
    lines.append(f"  results: {s['results']}")
    if s.get("trajectories"):
        lines.append(f"  trajectories: {s['trajectories']}")
    lines.append(f"  re-fly run K with its trajectory: touchdown fly --from {out} --run K")
    return "\n".join(lines)


def _rates(parameter: str, bins: list[dict[str, Any]]) -> str:
    """``absent 54 % · present 45 %`` or ``0.3–1.9: 95 % · 1.9–3.4: 31 % · …`` (failure rate per bin)."""
    if bins and "value" in bins[0]:
        names = {0.0: "absent", 1.0: "present"} if parameter.endswith(".present") else {}
        return " · ".join(
            f"{names.get(b['value'], format(b['value'], 'g'))} {100 * b['rate']:.0f} %" for b in bins
        )
    return " · ".join(f"{b['range'][0]:.4g}–{b['range'][1]:.4g}: {100 * b['rate']:.0f} %" for b in bins)


class _Bar:
    """A rich progress bar on stderr: runs done, success so far, the flights underway (runs in the air and
    their simulated time), ETA."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = None
        self.task = None
        self.eta = _Eta()

    def __enter__(self) -> _Bar:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]campaign"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("runs · landed {task.fields[landed]}{task.fields[air]}"),
                TextColumn("· elapsed"),
                TimeElapsedColumn(),
                TextColumn("· ETA {task.fields[eta]}"),
                console=Console(stderr=True),
                transient=False,
            )
            self.progress.__enter__()
            self.task = self.progress.add_task("campaign", total=None, landed="—", air="", eta="—")
        return self

    def __call__(self, r: execute.ProgressReport) -> None:
        """The bar counts every run whose flight has ended; the landed share is over the chunks written."""
        if self.progress is not None:
            share = f"{100.0 * r.landed / r.done:.1f} %" if r.done else "—"
            air = f" · {r.flying:,} in flight, t = {r.t_s:.0f} s" if r.flying and r.t_s is not None else ""
            done = r.done + r.finished
            eta = self.eta(r)
            left = "—" if eta is None else str(datetime.timedelta(seconds=round(eta)))
            self.progress.update(self.task, completed=done, total=r.total, landed=share, air=air, eta=left)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


class _Eta:
    """The wall time [s] a campaign has left, from its progress reports (None: no estimate yet).

    A one-round campaign (every chunk in the air at once: 10,000 runs on 2 workers) judges no run until its
    batches land, so the runs done cannot tell. Its flights can: the batches' simulated time advances at a
    measured rate, and their flight software expects the last touchdown at ``t_end_s``. Runs still queued
    add whole rounds of that length; once chunks are written and runs are still queued, the rate of runs
    done takes over."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.start = clock()
        self.ref: tuple[float, float] | None = None  # (wall, simulated time) at the round's first report

    def __call__(self, r: execute.ProgressReport) -> float | None:
        now = self.clock()
        queued = r.total - r.done - r.finished - r.flying  # runs not yet in the air
        if r.done and queued > 0:
            return (now - self.start) * (r.total - r.done) / r.done
        if r.t_s is None:
            self.ref = None
            return 0.0 if r.done == r.total else None
        if self.ref is None or r.t_s < self.ref[1]:  # a new round's flights
            self.ref = (now, r.t_s)
        wall, sim = now - self.ref[0], r.t_s - self.ref[1]
        if r.t_end_s is None or wall < 1.0 or sim <= 0.0:
            return None
        rate = sim / wall  # simulated seconds per wall second
        round_left = max(r.t_end_s - r.t_s, 0.0) / rate
        per_round = max(r.flying + r.finished, 1)
        return round_left + math.ceil(queued / per_round) * r.t_end_s / rate


def campaign(
    scenario: str | None = typer.Argument(
        None, help="Scenario file (.toml) or built-in name; not needed with --resume."
    ),
    runs: int | None = typer.Option(
        None, "-n", "--runs", help="Number of runs (default: the scenario's [campaign] runs)."
    ),
    seed: int = typer.Option(0, "--seed", help="Root seed: run k's draws come from (seed, k)."),
    sampler: str | None = typer.Option(
        None, "--sampler", help="random, sobol or lhs (default: the scenario's [campaign] sampler)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="Worker processes on this machine (default: its cores; 1: in this process)."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Run on an existing Dask cluster: tcp://host:port of its scheduler."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Campaign directory (default: out/campaigns/<scenario>-seed<S>-n<N>)."
    ),
    resume: Path | None = typer.Option(
        None, "--resume", help="Complete the interrupted campaign in this directory."
    ),
    set_: list[str] = typer.Option([], "--set", help="Override a field: dotted.path=value (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON document on stdout."),
    chunk_size: int | None = typer.Option(
        None,
        "--chunk-size",
        help="Runs per task and results file (default: up to 5,000, in whole rounds of the workers).",
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", help="Runs flown together in one array batch (default: the chunk size)."
    ),
    trajectories: float | None = typer.Option(
        None,
        "--trajectories",
        help="Also record every run's trajectory, decimated to this period [s] (trajectories.parquet).",
    ),
    data_dir: str | None = typer.Option(
        None, "--data-dir", envvar="TOUCHDOWN_DATA", help="Data directory holding terrain/LDEM_4.*"
    ),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar on stderr."),
) -> None:
    """Fly a Monte Carlo campaign: N dispersed descents; how often it lands, how it fails, and why.

    Runs fly batched, spread over worker processes (a Dask LocalCluster, or --scheduler).

    Prints the success probability with its 95 % Wilson interval and the outcome counts.

    Then the touchdown percentiles, and the parameters that drive failure (docs/campaigns.md)."""
    if workers is not None and scheduler is not None:
        raise InputError("give --workers or --scheduler, not both")
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be ≥ 1, got {workers}")
    for name, v in (("--chunk-size", chunk_size), ("--batch-size", batch_size)):
        if v is not None and v < 1:
            raise InputError(f"{name} must be ≥ 1, got {v}")
    if resume is not None:
        given = (scenario, runs, sampler, out, trajectories)
        if any(v is not None for v in given) or set_:
            raise InputError(
                "--resume DIR takes the scenario, -n, --sampler, --set, --out and --trajectories from DIR"
            )
        cdir = CampaignDir(resume)
        manifest = cdir.manifest()
        n = int(manifest["runs"])
        target = resume
    else:
        if scenario is None:
            raise InputError("name a scenario (or --resume DIR)")
        loaded = load_scenario(scenario, set_)
        cfg = loaded.scenario.campaign
        n = runs if runs is not None else cfg.runs
        sampler_name = sampler if sampler is not None else cfg.sampler
        target = out if out is not None else Path("out") / "campaigns" / f"{loaded.name}-seed{seed}-n{n}"
    if workers is None:
        workers = 1 if scheduler is None and n < IN_PROCESS_BELOW else (os.cpu_count() or 1)
    if scheduler is None and workers > 1:
        local_workers.start()  # the workers' server loads their code while this process plans the runs
    if resume is None:
        chunk = chunk_size or execute.default_chunk_size(n, workers)
        cdir = execute.create(
            loaded,
            target,
            runs=n,
            seed=seed,
            sampler=sampler_name,
            chunk_size=chunk,
            batch_size=batch_size,
            data_dir=data_dir,
            trajectory_period_s=trajectories,
        )
    try:
        with _Bar(not no_progress) as bar:
            summary = execute.run(
                cdir,
                workers=workers,
                scheduler=scheduler,
                data_dir=data_dir,
                batch_size=batch_size,
                progress=bar,
            )
    except KeyboardInterrupt:
        typer.echo(f"interrupted: complete it with  touchdown campaign --resume {target}", err=True)
        raise typer.Exit(130) from None
    from touchdown.report import write_report

    report = write_report(target, data_dir)
    if as_json:
        typer.echo(json.dumps(_json_safe({**summary, "report": str(report)})))
    else:
        typer.echo(summary_text(summary, target))
        typer.echo(f"  report: {report}")


def _json_safe(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_safe(x) for x in v]
    return v


def register(app: typer.Typer) -> None:
    """Add ``campaign`` to the CLI."""
    app.command("campaign")(campaign)
