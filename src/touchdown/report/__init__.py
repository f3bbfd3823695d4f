"""touchdown.report: what a flight or a campaign leaves on disk, and the HTML page that shows it.

``write_report(DIR)`` reads a ``touchdown fly --out`` or ``touchdown campaign --out`` directory and writes
``DIR/report.html``: one self-contained file (figures embedded as PNG, no script, no network).
"""

from __future__ import annotations

from pathlib import Path

from touchdown.atomic import write_text
from touchdown.errors import InputError

REPORT_NAME = "report.html"


def report_kind(directory: Path) -> str:
    """ "flight" or "campaign" for a results directory; InputError naming what is missing otherwise."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError("is not a directory", where=str(directory))
    if (directory / "manifest.json").is_file():
        if not (directory / "runs.parquet").is_file():
            raise InputError(
                "campaign has no runs.parquet yet (finish it with --resume)", where=str(directory)
            )
        return "campaign"
    if (directory / "flight.json").is_file():
        for name in ("trajectory.parquet", "scenario.toml"):
            if not (directory / name).is_file():
                raise InputError(f"flight directory has no {name}", where=str(directory))
        return "flight"
    raise InputError(
        "is neither a flight (flight.json) nor a campaign (manifest.json) directory", where=str(directory)
    )


def write_report(directory: Path, data_dir: str | None = None) -> Path:
    """Write ``directory/report.html`` for the flight or campaign there, atomically; return its path."""
    import matplotlib

    matplotlib.use("Agg")
    directory = Path(directory)
    if report_kind(directory) == "campaign":
        from touchdown.report.campaign_page import campaign_page

        page = campaign_page(directory, data_dir)
    else:
        from touchdown.report.flight_page import flight_page

        page = flight_page(directory, data_dir)
    path = directory / REPORT_NAME
    write_text(path, page.render())
    return path
