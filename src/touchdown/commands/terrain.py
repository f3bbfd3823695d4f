"""`touchdown terrain` commands: heights, and the laser altimeter's view along a ground track."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from touchdown.errors import InputError
from touchdown.moon.frames import enu_basis, llh_to_mcmf
from touchdown.moon.terrain.base import Terrain, slope_deg
from touchdown.moon.terrain.loader import SyntheticSpec, load_terrain
from touchdown.moon.terrain.profile import great_circle_track, range_jump
from touchdown.moon.terrain.raycast import RaycastStats, raycast

app = typer.Typer(help="Terrain heights and altimeter profiles.", no_args_is_help=True)

DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (default $TOUCHDOWN_DATA).")
]
PngOption = Annotated[Path | None, typer.Option("--png", help="Write a figure of height and range here.")]

#: Along-track window [m] after the shortest range in which `profile` looks for the largest range (the jump).


def _check_lat_lon(lat_deg: float, lon_deg: float, what: str = "point") -> None:
    if not math.isfinite(lat_deg) or not -90.0 <= lat_deg <= 90.0:
        raise InputError(f"{what} latitude {lat_deg:g}° is outside −90…90°")
    if not math.isfinite(lon_deg):
        raise InputError(f"{what} longitude {lon_deg:g}° is not a finite number")


def _parse_point(text: str, what: str) -> tuple[float, float]:
    parts = text.replace(" ", "").split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise InputError(f"{what} must be LAT,LON in degrees (e.g. 48.6,43.4), got {text!r}") from None
    _check_lat_lon(lat, lon, what)
    return lat, lon


def _terrain(
    dem: str, synthetic: bool, data_dir: Path | None, site_deg: tuple[float, float], detail: bool
) -> Terrain:
    site = (math.radians(site_deg[0]), math.radians(site_deg[1]))
    return load_terrain(
        None if synthetic else dem, data_dir=data_dir, site=site, detail=detail, synthetic=SyntheticSpec()
    )


@app.command()
def height(
    lat_deg: float = typer.Argument(..., help="Latitude [deg, north positive]."),
    lon_deg: float = typer.Argument(..., help="Longitude [deg, east positive]."),
    dem: str = typer.Option("ldem_4", "--dem", help="DEM product name (ldem_4, …) or label/image path."),
    synthetic: bool = typer.Option(False, "--synthetic", help="Use synthetic terrain around the point."),
    data_dir: DataDirOption = None,
    detail: bool = typer.Option(False, "--detail", help="Add sub-pixel synthetic craters to the DEM."),
    nearest: bool = typer.Option(False, "--nearest", help="Nearest DEM post instead of bilinear."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Height [m] above the 1,737,400 m datum and slope at LAT_DEG, LON_DEG."""
    _check_lat_lon(lat_deg, lon_deg)
    terrain = _terrain(dem, synthetic, data_dir, (lat_deg, lon_deg), detail)
    lat, lon = np.radians([lat_deg]), np.radians([lon_deg])
    if nearest:
        if not hasattr(terrain, "pixels_per_degree"):
            raise InputError("--nearest needs a DEM without --detail or --synthetic")
        h = float(terrain.height(lat, lon, method="nearest")[0])  # type: ignore[call-arg]
    else:
        h = float(terrain.height(lat, lon)[0])
    slope = float(slope_deg(terrain, lat, lon)[0])
    doc = {
        "lat_deg": lat_deg,
        "lon_deg": lon_deg,
        "height_m": h,
        "slope_deg": slope,
        "method": "nearest" if nearest else "interpolated",
        "terrain": terrain.description,
    }
    if as_json:
        typer.echo(json.dumps(doc))
        return
    typer.echo(f"{lat_deg:.5f}°N {lon_deg:.5f}°E: height {h:.1f} m, slope {slope:.2f}°")
    typer.echo(f"terrain: {terrain.description}")


@app.command()
def profile(
    start: str = typer.Option(..., "--from", help="Start LAT,LON [deg]."),
    end: str = typer.Option(..., "--to", help="End LAT,LON [deg]."),
    altitude: float = typer.Option(..., "--altitude", help="Altitude above the datum sphere [m]."),
    samples: int = typer.Option(400, "--samples", help="Points along the track."),
    dem: str = typer.Option("ldem_4", "--dem", help="DEM product name or label/image path."),
    synthetic: bool = typer.Option(False, "--synthetic", help="Use synthetic terrain around --to."),
    data_dir: DataDirOption = None,
    detail: bool = typer.Option(False, "--detail", help="Add sub-pixel synthetic craters to the DEM."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    png: PngOption = None,
) -> None:
    """Nadir laser ranges along a great-circle ground track flown at constant altitude above the datum."""
    a, b = _parse_point(start, "--from"), _parse_point(end, "--to")
    if not 2 <= samples <= 100_000:
        raise InputError(f"--samples {samples} must lie in 2…100000")
    if not math.isfinite(altitude) or not -20_000.0 < altitude <= 1_000_000.0:
        raise InputError(f"--altitude {altitude:g} m must lie in (−20 km, 1000 km]")
    terrain = _terrain(dem, synthetic, data_dir, b, detail)
    lat, lon, dist = great_circle_track(a, b, samples)
    h = terrain.height(lat, lon)
    if np.any(h >= altitude):
        raise InputError(
            f"--altitude {altitude:g} m is below the terrain on this track (max {np.max(h):.0f} m)"
        )
    origin = llh_to_mcmf(lat, lon, altitude)
    _, _, up = enu_basis(lat, lon)
    stats = RaycastStats()
    rng = raycast(terrain, origin, -up, max_range_m=2.0 * (altitude - float(np.min(h))) + 1000.0, stats=stats)
    jump = range_jump(dist, rng)
    doc = {
        "from_deg": list(a),
        "to_deg": list(b),
        "altitude_m": altitude,
        "terrain": terrain.description,
        "distance_m": dist.tolist(),
        "height_m": h.tolist(),
        "range_m": [None if not np.isfinite(r) else float(r) for r in rng],
        "jump": jump,
        "raycast_iterations": stats.iterations,
    }
    if png is not None:
        _plot(png, dist, h, rng, altitude, a, b, terrain.description, jump)
    if as_json:
        typer.echo(json.dumps(doc))
        return
    typer.echo(f"terrain: {terrain.description}")
    typer.echo(
        f"{samples} samples over {dist[-1] / 1000:.1f} km at {altitude:g} m: range {np.nanmin(rng):.0f}…"
        f"{np.nanmax(rng):.0f} m; largest jump {jump['jump_m']:.0f} m after {jump['at_m'] / 1000:.1f} km"
    )
    if png is not None:
        typer.echo(f"figure: {png}")


def _plot(
    path: Path,
    dist: np.ndarray,
    h: np.ndarray,
    rng: np.ndarray,
    altitude: float,
    a: tuple[float, float],
    b: tuple[float, float],
    description: str,
    jump: dict[str, float],
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    km = dist / 1000.0
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True, constrained_layout=True)
    ax1.plot(km, h / 1000.0, color="saddlebrown", label="terrain height under the track")
    ax1.axhline(altitude / 1000.0, color="tab:blue", ls="--", label=f"flight altitude {altitude / 1000:g} km")
    ax1.set_ylabel("height above 1737.4 km datum [km]")
    ax1.legend(loc="best", fontsize=8)
    ax1.grid(alpha=0.3)
    ax1.set_title(
        f"Nadir laser range, ({a[0]:g}°N, {a[1]:g}°E) → ({b[0]:g}°N, {b[1]:g}°E)\n{description[:110]}",
        fontsize=9,
    )
    ax2.plot(km, rng / 1000.0, color="tab:red", label="laser range (ray cast)")
    ax2.set_xlabel("along-track distance [km]")
    ax2.set_ylabel("range [km]")
    if jump["jump_m"] > 0 and "max_at_m" in jump:
        x = jump["max_at_m"] / 1000.0
        lo, hi = jump["min_range_m"] / 1000.0, jump["max_range_m"] / 1000.0
        ax2.axhline(lo, color="grey", lw=0.8, ls=":")
        ax2.annotate("", xy=(x, hi), xytext=(x, lo), arrowprops={"arrowstyle": "<->", "color": "black"})
        ax2.text(
            x,
            0.5 * (lo + hi),
            f"  jump {jump['jump_m'] / 1000:.2f} km",
            va="center",
            ha="right" if x > km[-1] * 0.8 else "left",
            fontsize=9,
        )
    ax2.legend(loc="best", fontsize=8)
    ax2.grid(alpha=0.3)
    fig.savefig(path, dpi=110)
    plt.close(fig)
