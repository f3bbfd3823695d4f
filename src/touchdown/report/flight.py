"""What `touchdown fly --out DIR` writes for one flight: the trajectory as Parquet and a summary PNG.

Both take the flight as columns: equal-length 1-D arrays, one row per recorded time, keyed by name with
the unit in the name (``t_s``, ``true_altitude_m``, ``nav_vertical_speed_mps``, …). Truth columns carry
no prefix other than ``true_``; the flight software's estimates start with ``nav_`` and are NaN before
it starts. Both files are written atomically: into a temporary file beside the target, then renamed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from touchdown.atomic import atomic_path

PHASE_COLOURS = ("#dbe9f6", "#fde7cf", "#dcefd6", "#ece1f4", "#f6dede", "#eeeeee")
"""Light band colours, given to phases in order of first appearance."""

PHASE_NAME_MIN_GAP = 0.07
"""Phase names closer than this fraction of the time span to the previous one go up a row."""

LABEL_MIN_GAP = 0.02
"""Event labels closer than this fraction of the time span to the previous label are left out."""


def _check_columns(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The columns as 1-D numpy arrays; ValueError if one is not 1-D or the lengths differ."""
    arrays = {name: np.asarray(col) for name, col in columns.items()}
    for name, arr in arrays.items():
        if arr.ndim != 1:
            raise ValueError(f"column {name!r} must be 1-D, got shape {arr.shape}")
    lengths = {name: len(arr) for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(f"columns must all have the same length, got {detail}")
    return arrays


def write_trajectory_parquet(
    columns: Mapping[str, np.ndarray], path: Path, metadata: Mapping[str, str] | None = None
) -> None:
    """Write one row per recorded time to a Parquet file at ``path``, atomically.

    ``columns``: equal-length 1-D arrays (float64, int, bool or str), units in their names (``t_s``,
    ``true_altitude_m``). NaN stays NaN (not null). ``metadata`` (e.g. scenario name, seed) is stored
    as the file's key-value metadata, strings both. Raises ValueError if the lengths differ.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = _check_columns(columns)
    table = pa.table({name: pa.array(arr) for name, arr in arrays.items()})
    if metadata:
        table = table.replace_schema_metadata({str(k): str(v) for k, v in metadata.items()})
    with atomic_path(Path(path)) as tmp:
        pq.write_table(table, tmp)


def _phase_runs(t: np.ndarray, phase: np.ndarray) -> list[tuple[str, float, float]]:
    """(name, start [s], end [s]) of each run of equal phase; a run ends where the next one starts."""
    phase = phase.astype(str)
    starts = np.flatnonzero(np.r_[True, phase[1:] != phase[:-1]])
    ends = np.r_[starts[1:], len(t) - 1]
    return [(phase[i], float(t[i]), float(t[j])) for i, j in zip(starts, ends, strict=True)]


def _finite(arrays: Mapping[str, np.ndarray], name: str) -> np.ndarray | None:
    """The column as float, or None if it is absent or holds no finite value."""
    if name not in arrays:
        return None
    col = arrays[name].astype(float)
    return col if np.isfinite(col).any() else None


def plot_flight(columns: Mapping[str, np.ndarray], events: Sequence[Mapping], path: Path, title: str) -> None:
    """Write :func:`timeline_figure` of the whole flight as a PNG to ``path``, atomically."""
    fig = timeline_figure(columns, events, title)
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def timeline_figure(
    columns: Mapping[str, np.ndarray],
    events: Sequence[Mapping],
    title: str,
    window_s: tuple[float, float] | None = None,
):
    """A matplotlib ``Figure`` of one flight against ``t_s`` [s], one panel per quantity:

    1. altitude [m]: ``true_altitude_m`` (above the terrain directly below) vs ``nav_altitude_m``, with
       ``altimeter_height_m`` readings, accepted (``altimeter_accepted``) as dots, rejected as red x;
    2. speeds [m/s]: ``true_/nav_vertical_speed_mps``, ``true_/nav_horizontal_speed_mps``
       (truth solid, estimate dashed);
    3. throttle [-]: ``thrust_fraction`` (commanded total thrust / vehicle max thrust);
    4. propellant [kg]: ``propellant_kg`` (truth) and ``nav_propellant_kg`` (estimate);
    5. attitude [deg]: ``tilt_deg``, the body axis's angle from the local vertical (when recorded).

    ``phase`` (one string per row) is shaded on every panel and named on the top one. ``events``: dicts
    with at least ``t_s`` and ``name``, drawn as vertical lines on every panel and labelled on the top
    one (a label closer than 2 % of the time span to the previous label is left out). Only ``t_s`` is
    required; other missing columns are skipped, NaN values are gaps. ``window_s`` = (start, end) [s]
    draws only the rows and events inside it.
    """
    from matplotlib.figure import Figure

    arrays = _check_columns(columns)
    if "t_s" not in arrays:
        raise ValueError("columns must include the time 't_s'")
    if window_s is not None:
        keep = (arrays["t_s"] >= window_s[0]) & (arrays["t_s"] <= window_s[1])
        arrays = {k: v[keep] for k, v in arrays.items()}
        events = [e for e in events if window_s[0] <= float(e["t_s"]) <= window_s[1]]
    t = arrays["t_s"].astype(float)
    t0, t1 = float(np.nanmin(t)), float(np.nanmax(t))
    span = max(t1 - t0, 1e-9)

    has_tilt = _finite(arrays, "tilt_deg") is not None
    fig = Figure(figsize=(11, 12 if has_tilt else 10), layout="constrained")
    axes = fig.subplots(5 if has_tilt else 4, 1, sharex=True)
    ax_alt, ax_v, ax_thr, ax_prop = axes[:4]

    def line(ax, name: str, label: str, **style) -> None:
        y = _finite(arrays, name)
        if y is not None:
            ax.plot(t, y, label=label, **style)

    line(ax_alt, "true_altitude_m", "true altitude", color="C0", lw=1.6)
    line(ax_alt, "nav_altitude_m", "nav estimate", color="C1", ls="--", lw=1.4)
    h = _finite(arrays, "altimeter_height_m")
    if h is not None:
        ok = arrays.get("altimeter_accepted", np.ones(len(t), bool)).astype(bool)
        good, bad = np.isfinite(h) & ok, np.isfinite(h) & ~ok
        ax_alt.plot(t[good], h[good], ".", ms=3, color="C2", label="altimeter, accepted")
        if bad.any():
            ax_alt.plot(t[bad], h[bad], "x", ms=6, mew=1.5, color="red", label="altimeter, rejected")
    ax_alt.set_ylabel("altitude above terrain [m]")

    for kind, colour in (("vertical", "C0"), ("horizontal", "C3")):
        line(ax_v, f"true_{kind}_speed_mps", f"{kind}, true", color=colour, lw=1.5)
        line(ax_v, f"nav_{kind}_speed_mps", f"{kind}, nav", color=colour, ls="--", lw=1.3)
    ax_v.set_ylabel("speed [m/s]")

    line(ax_thr, "thrust_fraction", "thrust / max thrust", color="C4", lw=1.4)
    ax_thr.set_ylim(-0.05, 1.05)
    ax_thr.set_ylabel("throttle: thrust / max thrust [-]")

    line(ax_prop, "propellant_kg", "true", color="C5", lw=1.6)
    line(ax_prop, "nav_propellant_kg", "nav estimate", color="C1", ls="--", lw=1.4)
    ax_prop.set_ylabel("propellant [kg]")
    if has_tilt:
        line(axes[4], "tilt_deg", "tilt from local vertical", color="C7", lw=1.4)
        axes[4].set_ylabel("attitude: tilt [deg]")
    axes[-1].set_xlabel("time [s]")
    axes[-1].set_xlim(t0, t1)

    if "phase" in arrays:
        colours: dict[str, str] = {}
        last_name = [-np.inf, -np.inf]  # centre [s] of the last name written in each of two rows
        for name, a, b in _phase_runs(t, arrays["phase"]):
            colour = colours.setdefault(name, PHASE_COLOURS[len(colours) % len(PHASE_COLOURS)])
            for ax in axes:
                ax.axvspan(a, b, color=colour, lw=0, zorder=0)
            centre = (a + b) / 2
            row = next((r for r in (0, 1) if centre - last_name[r] >= PHASE_NAME_MIN_GAP * span), None)
            if row is None:
                continue  # no room for the name: the band is still shaded
            last_name[row] = centre
            ax_alt.text(
                centre,
                1.01 + 0.09 * row,
                name,
                transform=ax_alt.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=9,
                fontweight="bold",
                color="0.3",
                bbox={"facecolor": colour, "edgecolor": "none", "pad": 1.5},
            )

    last_label = -np.inf
    for ev in sorted(events, key=lambda e: float(e["t_s"])):
        te = float(ev["t_s"])
        if not np.isfinite(te):
            continue
        for ax in axes:
            ax.axvline(te, color="0.35", lw=0.8, alpha=0.8, zorder=1)
        if te - last_label >= LABEL_MIN_GAP * span:
            ax_alt.text(
                te,
                0.03,
                f" {ev['name']}",
                transform=ax_alt.get_xaxis_transform(),
                rotation=90,
                ha="left" if te - t0 < LABEL_MIN_GAP * span else "right",  # stay inside the panel
                va="bottom",
                fontsize=7,
                color="0.2",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1},
            )
            last_label = te

    for ax in axes:
        ax.grid(True, alpha=0.4)
        if len(ax.get_legend_handles_labels()[1]) > 1:
            ax.legend(fontsize=8, loc="upper right")
    fig.suptitle(title)
    return fig
