"""``touchdown report``: one self-contained HTML page for a flight or a campaign directory."""

from __future__ import annotations

import webbrowser
from pathlib import Path

import typer


def report(
    directory: Path = typer.Argument(
        ..., help="A `touchdown fly --out` or `touchdown campaign --out` directory."
    ),
    open_: bool = typer.Option(False, "--open", help="Open the report in the default web browser."),
    data_dir: str | None = typer.Option(
        None, "--data-dir", envvar="TOUCHDOWN_DATA", help="Data directory holding terrain/LDEM_4.*"
    ),
) -> None:
    """Write DIR/report.html: figures embedded, no network needed to view it.

    A flight: altitude true vs estimated with the altimeter's accepted and rejected readings, speeds,
    throttle, propellant, attitude, the ground track over the terrain, and the touchdown verdict.
    A campaign: the success probability and how it converged, the outcomes, the landing dispersion with
    its 99 % ellipse, touchdown figures against the limits, what drives failure, and the worst runs."""
    from touchdown.report import write_report

    path = write_report(directory, data_dir)
    typer.echo(f"report: {path}")
    if open_:
        webbrowser.open(path.resolve().as_uri())


def register(app: typer.Typer) -> None:
    """Add ``report`` to the CLI."""
    app.command("report")(report)
