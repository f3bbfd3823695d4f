"""The report of a Monte Carlo campaign (a ``touchdown campaign --out DIR`` directory) as one HTML page.

Reads ``manifest.json`` (scenario text, seed, sampler, version, git revision), ``runs.parquet`` (one row
per run), ``summary.json`` when present (else the summary is computed from the rows) and, when the
campaign recorded them, ``trajectories.parquet``. Re-builds the scenario for the vehicle's touchdown
limits and the terrain under the landing dispersion.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from touchdown.campaign.stats import summarize, wilson_interval
from touchdown.report import html as h
from touchdown.report.html import unreadable_as_input_error
from touchdown.report.terrain_map import draw_terrain, error_ellipse, map_extent, to_map

OUTCOME_COLOURS = {
    "landed": "#2e8b3d",
    "hard_landing": "#e08a1e",
    "tipped_over": "#8e44ad",
    "crashed": "#c0392b",
    "in_flight": "#7f8c8d",
}
SEVERITY = {"crashed": 4, "tipped_over": 3, "in_flight": 2, "hard_landing": 1, "landed": 0}
WORST_RUNS = 10
MAX_TRAJECTORIES_DRAWN = 300


def read_campaign_dir(directory: Path) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, Any]]:
    """(manifest, result columns, summary) of a campaign directory."""
    import pyarrow.parquet as pq

    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    table = pq.read_table(directory / "runs.parquet")
    cols = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    cols["outcome"] = np.asarray(cols["outcome"]).astype(str)
    summary_path = directory / "summary.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    else:
        drawn = tuple(p for p in manifest["parameters"] if p.startswith("nav.initial_error."))
        summary = summarize(cols, list(manifest["parameters"]), drawn)
    return manifest, cols, summary


def convergence_figure(outcome: np.ndarray, summary: dict[str, Any]) -> Any:
    """Running success probability with its 95 % Wilson band against runs, and the outcome breakdown."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.2), layout="constrained")
    ax, ax_o = fig.subplots(1, 2, width_ratios=(1.6, 1))
    n = np.arange(1, outcome.size + 1)
    k = np.cumsum(outcome == "landed")
    band = np.array([wilson_interval(int(kk), int(nn)) for kk, nn in zip(k, n, strict=True)])
    ax.fill_between(n, band[:, 0], band[:, 1], color="C0", alpha=0.2, lw=0, label="95 % Wilson interval")
    ax.plot(n, k / n, color="C0", lw=1.6, label="P(landed) after N runs (in run order)")
    ax.axhline(summary["success_probability"], color="0.3", ls="--", lw=1, label="final estimate")
    if outcome.size > 1:
        ax.set_xscale("log")
    ax.set_xlim(1, max(2, outcome.size))
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("runs flown, N [-]")
    ax.set_ylabel("success probability [-]")
    ax.set_title("convergence of the success probability", fontsize=10)
    ax.grid(True, alpha=0.4, which="both")
    ax.legend(fontsize=8, loc="lower right")

    names = [o for o in OUTCOME_COLOURS if (outcome == o).any()]
    counts = [int((outcome == o).sum()) for o in names]
    bars = ax_o.barh(names, counts, color=[OUTCOME_COLOURS[o] for o in names])
    for bar, c in zip(bars, counts, strict=True):
        ax_o.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {c} ({100 * c / outcome.size:.1f} %)",
            va="center",
            fontsize=9,
        )
    ax_o.invert_yaxis()
    ax_o.set_xlim(0, max(counts) * 1.35)
    ax_o.set_xlabel("runs [-]")
    ax_o.set_title("outcome breakdown", fontsize=10)
    ax_o.grid(True, axis="x", alpha=0.4)
    return fig


def dispersion_figure(cols: dict[str, np.ndarray], terrain: Any, lat0: float, lon0: float) -> Any:
    """Touchdown points on the hill-shaded terrain, coloured by outcome, with the 99 % ellipse."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.5, 7.5), layout="constrained")
    ax = fig.subplots()
    outcome = cols["outcome"]
    touched = (outcome != "in_flight") & np.isfinite(cols["lat_deg"]) & np.isfinite(cols["lon_deg"])
    e, n = to_map(cols["lat_deg"][touched], cols["lon_deg"][touched], lat0, lon0)
    ell = error_ellipse(e, n, 0.99) if e.size >= 3 else (np.zeros(0), np.zeros(0))
    ext = map_extent(np.r_[e, ell[0]], np.r_[n, ell[1]], margin=0.1, min_half_m=200.0)
    mappable = draw_terrain(ax, terrain, lat0, lon0, ext)
    km = 1e-3
    for name, colour in OUTCOME_COLOURS.items():
        sel = outcome[touched] == name
        if sel.any():
            ax.scatter(
                e[sel] * km,
                n[sel] * km,
                s=14,
                color=colour,
                edgecolors="white",
                linewidths=0.4,
                label=f"{name} ({int(sel.sum())})",
                zorder=3,
            )
    if ell[0].size:
        ax.plot(
            ell[0] * km, ell[1] * km, color="black", lw=1.5, label="99 % ellipse (Gaussian fit)", zorder=4
        )
    ax.plot(0, 0, marker="*", ms=18, color="gold", mec="black", ls="none", label="target", zorder=5)
    ax.set_xlim(ext[0] * km, ext[1] * km)
    ax.set_ylim(ext[2] * km, ext[3] * km)
    ax.set_aspect("equal")
    ax.set_xlabel("east of target [km]")
    ax.set_ylabel("north of target [km]")
    ax.set_title(f"landing dispersion: {int(touched.sum())} touchdowns", fontsize=10)
    ax.legend(fontsize=8, loc="best", framealpha=0.85)
    if mappable is not None:
        fig.colorbar(mappable, ax=ax, shrink=0.8, label="terrain height above 1737.4 km [km]")
    return fig


def distributions_figure(cols: dict[str, np.ndarray], limits: Any) -> Any:
    """Touchdown vertical and horizontal speed, and propellant left, stacked by outcome, with the limits."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.0), layout="constrained")
    axes = fig.subplots(1, 3)
    outcome = cols["outcome"]
    touched = outcome != "in_flight"
    panels = (
        (
            "vertical_speed_mps",
            "vertical speed at touchdown [m/s]",
            (
                (limits.max_vertical_speed_mps, "landing limit"),
                (limits.crash_speed_mps, "crash speed (assumed)"),
            ),
        ),
        (
            "horizontal_speed_mps",
            "horizontal speed at touchdown [m/s]",
            ((limits.max_horizontal_speed_mps, "landing limit"),),
        ),
        ("propellant_remaining_kg", "propellant left at touchdown [kg]", ((0.0, "tanks empty"),)),
    )
    for ax, (col, label, lines) in zip(axes, panels, strict=True):
        v = np.asarray(cols[col], float)
        ok = touched & np.isfinite(v)
        if not ok.any():
            ax.text(0.5, 0.5, "no touchdowns", ha="center", transform=ax.transAxes)
            continue
        lo, hi = float(v[ok].min()), float(v[ok].max())
        for x, _ in lines:
            lo, hi = min(lo, x), max(hi, x)
        bins = np.linspace(lo, hi + 1e-9 + 1e-6 * abs(hi), 31)
        names = [o for o in OUTCOME_COLOURS if (ok & (outcome == o)).any()]
        ax.hist(
            [v[ok & (outcome == o)] for o in names],
            bins=bins,
            stacked=True,
            color=[OUTCOME_COLOURS[o] for o in names],
            label=names,
        )
        for (x, what), style in zip(lines, ("-", "--"), strict=False):
            ax.axvline(x, color="black", ls=style, lw=1.3, label=f"{what}: {x:g}")
        ax.set_xlabel(label)
        ax.set_ylabel("runs [-]")
        ax.grid(True, alpha=0.4)
        ax.legend(fontsize=7.5)
    fig.suptitle(
        f"touchdown figures against the vehicle's limits ({int(touched.sum())} touchdowns)", fontsize=10
    )
    return fig


def sensitivity_figure(ranking: list[dict[str, Any]], top: int = 12) -> Any:
    """KS distance D per parameter (largest first), sampled vs drawn-in-flight, with the p-values."""
    from matplotlib.figure import Figure

    rows = ranking[:top]
    fig = Figure(figsize=(11, 0.45 * len(rows) + 1.4), layout="constrained")
    ax = fig.subplots()
    colours = {"sampled": "C0", "drawn": "C1"}
    y = np.arange(len(rows))
    ax.barh(y, [r["ks_distance"] for r in rows], color=[colours[r.get("kind", "sampled")] for r in rows])
    for yi, r in zip(y, rows, strict=True):
        ax.text(r["ks_distance"], yi, f"  p = {r['p_value']:.1e}", va="center", fontsize=8)
    ax.set_yticks(y, [r["parameter"] for r in rows], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("Kolmogorov–Smirnov distance D between landed and failed runs [-]")
    from matplotlib.patches import Patch

    what = {"sampled": "dispersed by the campaign", "drawn": "drawn inside each flight (nav error)"}
    kinds = [k for k in colours if any(r.get("kind", "sampled") == k for r in rows)]
    ax.legend(handles=[Patch(color=colours[k], label=what[k]) for k in kinds], fontsize=8, loc="lower right")
    ax.grid(True, axis="x", alpha=0.4)
    return fig


def trajectories_figure(directory: Path, outcome_of: dict[int, str]) -> Any | None:
    """True altitude against time for up to ``MAX_TRAJECTORIES_DRAWN`` recorded runs, coloured by outcome;
    None when the campaign recorded no trajectories."""
    import pyarrow.parquet as pq
    from matplotlib.figure import Figure

    path = directory / "trajectories.parquet"
    if not path.is_file():
        return None
    table = pq.read_table(path, columns=["run", "t_s", "true_altitude_m"])
    run, t, alt = (table.column(c).to_numpy() for c in ("run", "t_s", "true_altitude_m"))
    order = np.argsort(run, kind="stable")
    run, t, alt = run[order], t[order], alt[order]
    runs = np.unique(run)[:MAX_TRAJECTORIES_DRAWN]
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    ax = fig.subplots()
    seen: set[str] = set()
    for k, a, b in zip(
        runs, np.searchsorted(run, runs), np.searchsorted(run, runs, side="right"), strict=True
    ):
        o = outcome_of.get(int(k), "in_flight")
        ax.plot(
            t[a:b],
            alt[a:b] * 1e-3,
            color=OUTCOME_COLOURS.get(o, "0.5"),
            lw=0.6,
            alpha=0.55,
            label=None if o in seen else o,
        )
        seen.add(o)
    ax.set_xlabel("time [s]")
    ax.set_ylabel("true altitude above terrain [km]")
    ax.set_title(f"altitude of {runs.size} runs (decimated trajectories), coloured by outcome", fontsize=10)
    ax.grid(True, alpha=0.4)
    ax.legend(fontsize=8)
    return fig


def _fmt(v: Any, fmt: str = ".4g") -> Any:
    if isinstance(v, float | np.floating):
        return "—" if not math.isfinite(float(v)) else format(float(v), fmt)
    return v


def worst_runs(cols: dict[str, np.ndarray], parameters: list[str], directory: Path) -> tuple[list, list]:
    """Header and rows of the ``WORST_RUNS`` worst runs: most severe outcome, then fastest impact, first."""
    outcome = cols["outcome"]
    severity = np.array([SEVERITY.get(o, 2) for o in outcome])
    impact = np.nan_to_num(np.asarray(cols["impact_speed_mps"], float), nan=-1.0)
    order = np.lexsort((cols["run"], -impact, -severity))[:WORST_RUNS]
    cdir = directory.resolve()
    header = [
        "run",
        "outcome",
        "v down [m/s]",
        "v horiz. [m/s]",
        "tilt [deg]",
        "miss [m]",
        "prop. left [kg]",
        *parameters,
        "re-fly it",
    ]
    rows = []
    for i in order:
        rows.append(
            [
                int(cols["run"][i]),
                (outcome[i], "ok" if outcome[i] == "landed" else "no"),
                _fmt(cols["vertical_speed_mps"][i], ".2f"),
                _fmt(cols["horizontal_speed_mps"][i], ".2f"),
                _fmt(cols["tilt_deg"][i], ".1f"),
                _fmt(cols["miss_m"][i], ",.0f"),
                _fmt(cols["propellant_remaining_kg"][i], ".1f"),
                *(_fmt(cols[p][i]) if p in cols else "—" for p in parameters),
                (f"touchdown fly --from {cdir} --run {int(cols['run'][i])}", "cmd"),
            ]
        )
    return header, rows


def campaign_page(directory: Path, data_dir: str | None = None) -> h.Page:
    """The report page of the campaign in ``directory``."""
    from touchdown.scenario.build import true_vehicle, truth_terrain
    from touchdown.scenario.loader import load_scenario_text

    manifest, cols, summary = unreadable_as_input_error(read_campaign_dir, directory)
    loaded = load_scenario_text(
        manifest["scenario_text"], manifest.get("source", "manifest"), manifest.get("overrides", [])
    )
    sc = loaded.scenario
    vehicle = true_vehicle(sc)
    limits = vehicle.limits
    outcome = cols["outcome"][np.argsort(cols["run"], kind="stable")]
    p = summary["success_probability"]
    lo, hi = summary["ci95"]
    n = summary["runs"]
    tone = "good" if lo >= 0.9 else ("warn" if p is not None and p >= 0.5 else "bad")
    page = h.Page(
        title=f"{manifest['scenario']}: campaign of {n:,} runs",
        subtitle=f"{sc.scenario.description} · root seed {manifest['root_seed']} · "
        f"sampler {manifest['sampler']}",
        header_html=f"<div class='verdict {tone}' id='verdict'>lands in {100 * p:.1f} % of runs "
        f"(95 % interval {100 * lo:.1f}–{100 * hi:.1f} %)</div>",
    )
    td = summary["touchdown"]

    def pct(field: str, q: str, fmt: str) -> str:
        v = td.get(field, {}).get(q)
        return "—" if v is None else format(v, fmt)

    page.header_html += h.cards(
        [
            (f"{100 * p:.1f} %", "success probability (landed)"),
            (f"{100 * lo:.1f}–{100 * hi:.1f} %", "95 % Wilson interval"),
            (f"{summary['outcomes'].get('crashed', 0):,}", "crashed"),
            (pct("vertical_speed_mps", "p95", ".2f") + " m/s", "p95 vertical speed at touchdown"),
            (pct("miss_m", "p95", ",.0f") + " m", "p95 miss distance"),
            (pct("propellant_remaining_kg", "p5", ".1f") + " kg", "p5 propellant left"),
        ]
    )
    page.section(
        "success",
        "Does it land?",
        h.figure(
            convergence_figure(outcome, summary),
            "fig-convergence",
            "Left: the estimate of P(landed) as runs accumulate (in run order), with its 95 % Wilson "
            "interval; it should settle well before the last run. Right: how the runs ended.",
        ),
        h.table(
            ["outcome", "runs", "share"],
            [[o, c, f"{100 * c / n:.1f} %"] for o, c in summary["outcomes"].items()],
            "outcomes-table",
        ),
    )
    lat0, lon0 = sc.site.lat_deg, sc.site.lon_deg
    terrain = truth_terrain(sc, data_dir)
    page.section(
        "dispersion",
        "Where it lands",
        h.figure(
            dispersion_figure(cols, terrain, lat0, lon0),
            "fig-dispersion",
            f"Touchdown points in km east and north of the target ({lat0:.3f}°, {lon0:.3f}°; azimuthal "
            "equidistant) on the hill-shaded terrain, coloured by outcome; the 99 % ellipse of a Gaussian "
            f"fitted to all touchdowns. Terrain: {getattr(terrain, 'description', '')}.",
        ),
    )
    pct_rows = [[f, *(_fmt(v, ".4g") if v is not None else "—" for v in td[f].values())] for f in td]
    page.section(
        "touchdown",
        "How well it lands",
        h.figure(
            distributions_figure(cols, limits),
            "fig-distributions",
            f"Touchdown figures of every run that touched down, stacked by outcome, against "
            f"{vehicle.name}'s limits (REFERENCE §5; the crash speed is an assumption).",
        ),
        h.table(["figure", "p1", "p5", "p50", "p95", "p99"], pct_rows, "percentiles-table"),
    )
    ranking = summary["sensitivity"]["ranking"]
    if ranking:
        tercile_rows = []
        for r in ranking[:12]:
            rates = " · ".join(
                (f"{_fmt(b['range'][0])}–{_fmt(b['range'][1])}" if "range" in b else f"{_fmt(b['value'])}")
                + f": {100 * b['rate']:.0f} % of {b['runs']}"
                for b in r["failure_rate"]
            )
            tercile_rows.append(
                [
                    r["parameter"],
                    r.get("kind", "sampled"),
                    f"{r['ks_distance']:.3f}",
                    f"{r['p_value']:.1e}",
                    rates,
                ]
            )
        page.section(
            "sensitivity",
            "Why it doesn't land",
            f"<p>Method: {h.esc(summary['sensitivity']['method'])}. D = 0: failure does not depend on the "
            "parameter; D = 1: the parameter alone separates landings from failures.</p>",
            h.figure(
                sensitivity_figure(ranking),
                "fig-sensitivity",
                "Parameters ranked by how strongly they drive failure (largest KS distance first).",
            ),
            h.table(
                ["parameter", "kind", "D", "p-value", "failure rate by tercile (or value)"],
                tercile_rows,
                "sensitivity-table",
            ),
        )
    header, rows = worst_runs(cols, [r["parameter"] for r in ranking[:3]], directory)
    page.section(
        "worst-runs",
        "Worst runs",
        "<p>The most severe outcomes, fastest impact first, with the top three drivers' values. Each "
        "command re-flies its run bit for bit, with its trajectory, plot and report.</p>",
        h.table(header, rows, "worst-runs-table"),
    )
    outcome_of = {int(k): o for k, o in zip(cols["run"], cols["outcome"], strict=True)}
    traj = trajectories_figure(directory, outcome_of)
    if traj is not None:
        page.section(
            "trajectories",
            "Trajectories",
            h.figure(
                traj,
                "fig-trajectories",
                "True altitude above the terrain against time for the recorded runs.",
            ),
        )
    record = {k: v for k, v in manifest.items() if k != "scenario_text"}
    speed = ""  # of the last invocation: a --resume with nothing left to fly has no throughput
    if summary.get("runs_flown") and summary.get("runs_per_s") is not None:
        speed = (
            f"Last invocation: {summary['runs_flown']:,} runs flown in {summary['wall_s']:.1f} s "
            f"({summary['runs_per_s']:.1f} runs/s)."
        )
    page.section(
        "record",
        "Record",
        f"<p>{h.esc(speed)}</p><h3>Manifest</h3>"
        + h.pre(json.dumps(record, indent=2))
        + "<h3>Scenario file</h3>"
        + h.pre(manifest["scenario_text"]),
    )
    page.footer = (
        f"touchdown {manifest.get('version', '')} · git {manifest.get('git_revision', '')} · "
        f"report of {directory}"
    )
    return page
