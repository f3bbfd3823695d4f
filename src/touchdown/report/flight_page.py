"""The report of one flight (a ``touchdown fly --out DIR`` directory) as a self-contained HTML page.

Reads ``flight.json`` (outcome, touchdown figures, events, checks), ``trajectory.parquet`` (truth and
estimate per recorded time) and ``scenario.toml``; re-builds the scenario (with the flight's ``--set``
items) for the vehicle's touchdown limits and the terrain under the ground track.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from touchdown.report import html as h
from touchdown.report.flight import timeline_figure
from touchdown.report.html import unreadable_as_input_error
from touchdown.report.terrain_map import draw_terrain, map_extent, to_map

OUTCOME_CLASS = {"landed": "good", "hard_landing": "warn", "in_flight": "warn"}
APPROACH_M = 60_000.0
"""The approach map shows the track within this distance [m] of the target."""
FINAL_DESCENT_ALTITUDE_M = 2_000.0
"""The close-up timeline starts where the true altitude last rises above this [m]."""


def read_flight_dir(directory: Path) -> tuple[dict[str, Any], dict[str, np.ndarray], str]:
    """(flight document, trajectory columns, scenario text) of a ``fly --out`` directory."""
    import pyarrow.parquet as pq

    doc = json.loads((directory / "flight.json").read_text(encoding="utf-8"))
    table = pq.read_table(directory / "trajectory.parquet")
    cols = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    return doc, cols, (directory / "scenario.toml").read_text(encoding="utf-8")


def verdict_rows(td: dict[str, Any], limits: Any) -> list[list[Any]]:
    """Rows (figure, measured, limit, within) of the touchdown verdict against the vehicle's limits."""

    def row(what: str, value: float | None, limit: float, unit: str) -> list[Any]:
        if value is None:
            return [what, "—", f"≤ {limit:g} {unit}", ("—", "")]
        ok = abs(value) <= limit
        return [what, f"{value:.2f} {unit}", f"≤ {limit:g} {unit}", ("yes", "ok") if ok else ("NO", "no")]

    return [
        row("vertical speed (sink rate)", td.get("vertical_speed_mps"), limits.max_vertical_speed_mps, "m/s"),
        row("horizontal speed", td.get("horizontal_speed_mps"), limits.max_horizontal_speed_mps, "m/s"),
        row("tilt from vertical", td.get("tilt_deg"), limits.max_tilt_deg, "deg"),
        row("body rate", td.get("body_rate_deg_s"), limits.max_rate_deg_s, "deg/s"),
        row("impact speed (structure)", td.get("impact_speed_mps"), limits.crash_speed_mps, "m/s"),
    ]


def final_descent_window(cols: dict[str, np.ndarray]) -> tuple[float, float] | None:
    """(start, end) [s] of the final descent: from the last time the true altitude was above
    ``FINAL_DESCENT_ALTITUDE_M`` to the end; None when that is most of the flight anyway."""
    t = cols["t_s"].astype(float)
    alt = cols.get("true_altitude_m")
    if alt is None or len(t) < 10:
        return None
    above = np.flatnonzero(np.asarray(alt, float) > FINAL_DESCENT_ALTITUDE_M)
    if above.size == 0:
        return None
    start = float(t[above[-1]])
    if start - t[0] < 0.2 * (t[-1] - t[0]):
        return None
    return max(float(t[0]), start - 10.0), float(t[-1])


def ground_track_figure(
    cols: dict[str, np.ndarray], doc: dict[str, Any], terrain: Any, lat0: float, lon0: float
) -> Any:
    """Three maps: the whole ground track, the approach (the last ``APPROACH_M`` to the target), and a
    close-up of the final descent and the touchdown point; one legend below them."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(16, 6.2), layout="constrained")
    axes = fig.subplots(1, 3)
    e_t, n_t = to_map(cols["true_lat_deg"], cols["true_lon_deg"], lat0, lon0)
    e_n, n_n = to_map(cols["nav_lat_deg"], cols["nav_lon_deg"], lat0, lon0)
    td = doc["touchdown"]
    touch = None
    if td.get("lat_deg") is not None:
        touch = to_map(td["lat_deg"], td["lon_deg"], lat0, lon0)
    low = np.asarray(cols.get("true_altitude_m", np.zeros_like(e_t)), float) < FINAL_DESCENT_ALTITUDE_M
    close_e = np.r_[e_t[low], [touch[0]] if touch else []]
    close_n = np.r_[n_t[low], [touch[1]] if touch else []]
    near = np.hypot(e_t, n_t) < APPROACH_M
    extents = (
        map_extent(e_t, n_t, margin=0.08),
        map_extent(e_t[near], n_t[near], margin=0.15, min_half_m=0.5 * APPROACH_M),
        map_extent(close_e, close_n, margin=0.35, min_half_m=1_000.0),
    )
    titles = (
        "whole ground track",
        f"approach: the last {APPROACH_M / 1000:g} km",
        f"close-up: below {FINAL_DESCENT_ALTITUDE_M / 1000:g} km and touchdown",
    )
    km = 1e-3
    for ax, ext, title in zip(axes, extents, titles, strict=True):
        mappable = draw_terrain(ax, terrain, lat0, lon0, ext)
        ax.plot(e_t * km, n_t * km, color="C3", lw=1.8, label="true track")
        ax.plot(e_n * km, n_n * km, color="black", ls="--", lw=1.2, label="navigation's belief")
        ax.plot(0, 0, marker="*", ms=16, color="gold", mec="black", ls="none", label="target")
        if touch is not None:
            ax.plot(
                touch[0] * km,
                touch[1] * km,
                "X",
                ms=11,
                color="C3",
                mec="white",
                ls="none",
                label=f"touchdown ({doc['outcome']}, {td['miss_m']:.0f} m from target)",
            )
        ax.set_xlim(ext[0] * km, ext[1] * km)
        ax.set_ylim(ext[2] * km, ext[3] * km)
        ax.set_aspect("equal")
        ax.set_xlabel("east of target [km]")
        ax.set_ylabel("north of target [km]")
        ax.set_title(title, fontsize=10)
        if mappable is not None:
            fig.colorbar(mappable, ax=ax, shrink=0.8, label="terrain height above 1737.4 km [km]")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=9)
    fig.suptitle(f"ground track over the terrain: {getattr(terrain, 'description', '')[:90]}", fontsize=9)
    return fig


def _num(v: Any, fmt: str) -> str:
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)


def flight_page(directory: Path, data_dir: str | None = None) -> h.Page:
    """The report page of the flight written to ``directory`` by ``touchdown fly --out``."""
    from touchdown.scenario.build import true_vehicle, truth_terrain
    from touchdown.scenario.loader import load_scenario_text

    doc, cols, text = unreadable_as_input_error(read_flight_dir, directory)
    loaded = load_scenario_text(text, str(directory / "scenario.toml"), doc.get("overrides", []))
    sc = loaded.scenario
    vehicle = true_vehicle(sc)
    limits = vehicle.limits
    terrain = truth_terrain(sc, data_dir)
    outcome = doc["outcome"]
    td = doc["touchdown"]
    run = f", campaign run {doc['campaign']['run']}" if "campaign" in doc else ""

    page = h.Page(
        title=f"{doc['scenario']}: {outcome.replace('_', ' ')}",
        subtitle=f"{sc.scenario.description} · seed {doc['seed']}{run}",
        header_html=f"<div class='verdict {OUTCOME_CLASS.get(outcome, 'bad')}' id='verdict'>"
        f"{h.esc(outcome.upper().replace('_', ' '))}</div>",
    )
    page.header_html += h.cards(
        [
            (_num(td.get("vertical_speed_mps"), ".2f") + " m/s", "vertical speed at touchdown"),
            (_num(td.get("horizontal_speed_mps"), ".2f") + " m/s", "horizontal speed at touchdown"),
            (_num(td.get("tilt_deg"), ".1f") + "°", "tilt at touchdown"),
            (_num(td.get("miss_m"), ",.0f") + " m", "from the target"),
            (_num(td.get("propellant_remaining_kg"), ".1f") + " kg", "propellant left"),
            (_num(td.get("time_s"), ".1f") + " s", "flight time to touchdown"),
        ]
    )
    page.section(
        "touchdown",
        "Touchdown verdict",
        f"<p>Judged at first contact against {h.esc(vehicle.name)}'s limits "
        "(REFERENCE §5; the crash speed is an assumption). Landed: within every limit.</p>",
        h.table(["figure", "measured", "limit", "within"], verdict_rows(td, limits), "verdict-table"),
    )
    if doc.get("checks"):
        rows = [
            [
                c["what"],
                str(c["expected"]),
                _num(c["measured"], ".6g") if isinstance(c["measured"], float) else str(c["measured"]),
                ("met", "ok") if c["met"] else ("MISSED", "no"),
            ]
            for c in doc["checks"]
        ]
        met = sum(c["met"] for c in doc["checks"])
        page.section(
            "checks",
            f"Published facts: {met} of {len(rows)} reproduced",
            "<p>The scenario's <code>[expect]</code> table: what the real mission did, with tolerances.</p>",
            h.table(["expectation", "published", "simulated", ""], rows, "checks-table"),
        )
    title = f"{doc['scenario']} · seed {doc['seed']}{run} · {outcome}"
    page.section(
        "timeline",
        "Timeline",
        h.figure(
            timeline_figure(cols, doc["events"], title),
            "fig-timeline",
            "Whole flight against time [s]: altitude above the terrain, true vs the navigation's estimate, "
            "with the altimeter's readings (accepted dots, rejected red crosses); vertical and horizontal "
            "speed (truth solid, estimate dashed); throttle; propellant; tilt; phases; events.",
        ),
    )
    window = final_descent_window(cols)
    if window is not None:
        page.section(
            "final-descent",
            "Final descent",
            h.figure(
                timeline_figure(cols, doc["events"], title + " · final descent", window_s=window),
                "fig-final-descent",
                f"The same panels from {window[0]:.0f} s (last time above {FINAL_DESCENT_ALTITUDE_M:g} m) "
                "to the end.",
            ),
        )
    lat0, lon0 = sc.site.lat_deg, sc.site.lon_deg
    page.section(
        "ground-track",
        "Ground track",
        h.figure(
            ground_track_figure(cols, doc, terrain, lat0, lon0),
            "fig-ground-track",
            "Ground track over the hill-shaded terrain (whole, approach, close-up), in km east and north "
            f"of the target "
            f"({lat0:.3f}°, {lon0:.3f}°; azimuthal equidistant, so distances from the target are true). "
            "Red: where the lander was; black dashed: where its navigation believed it was.",
        ),
    )
    ev_rows = [
        [
            _num(e["t_s"], ".1f"),
            e["name"],
            _num(e.get("true_altitude_m"), ",.1f"),
            _num(e.get("nav_altitude_m"), ",.1f"),
            _num(e.get("vertical_speed_mps"), ".2f"),
            _num(e.get("horizontal_speed_mps"), ".2f"),
        ]
        for e in doc["events"]
    ]
    page.section(
        "events",
        "Events",
        h.table(
            [
                "t [s]",
                "event",
                "true altitude [m]",
                "navigation altitude [m]",
                "v up [m/s]",
                "v horiz. [m/s]",
            ],
            ev_rows,
            "events-table",
        ),
    )
    record = {
        k: doc[k] for k in ("scenario", "source", "overrides", "seed", "terrain", "onboard_map") if k in doc
    }
    for k in ("version", "git_revision", "campaign"):
        if k in doc:
            record[k] = doc[k]
    page.section(
        "record",
        "Record",
        "<p>Re-fly: <code>"
        + h.esc(_refly_command(doc))
        + "</code></p><h3>Flight</h3>"
        + h.pre(json.dumps(record, indent=2))
        + "<h3>Scenario file</h3>"
        + h.pre(text),
    )
    page.footer = f"touchdown {doc.get('version', '')} · report of {directory}"
    return page


def _refly_command(doc: dict[str, Any]) -> str:
    if "campaign" in doc:
        return f"touchdown fly --from {doc['campaign']['directory']} --run {doc['campaign']['run']}"
    sets = "".join(f" --set {s}" for s in doc.get("overrides", []))
    src = doc["source"].removeprefix("builtin:")
    return f"touchdown fly {src} --seed {doc['seed']}{sets}"
