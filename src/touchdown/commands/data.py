"""`touchdown data`: download the LOLA terrain grids, see what is installed, check a DEM file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TransferSpeedColumn
from rich.table import Table

from touchdown import datastore
from touchdown.errors import InputError

app = typer.Typer(
    help=(
        "Terrain data: download the LRO LOLA height grids (fetch), list what is installed (info), "
        "check a DEM file (check). Files live in <data dir>/terrain/; the data dir is --data-dir, "
        "else $TOUCHDOWN_DATA, else $XDG_CACHE_HOME/touchdown, else ~/.cache/touchdown."
    ),
    no_args_is_help=True,
)

_DATA_DIR_HELP = (
    "Data directory (default: $TOUCHDOWN_DATA, else $XDG_CACHE_HOME/touchdown or ~/.cache/touchdown)."
)
DataDir = Annotated[Path | None, typer.Option("--data-dir", help=_DATA_DIR_HELP)]


@app.command()
def fetch(
    products: Annotated[
        list[str] | None,
        typer.Argument(
            help="Products to download (default ldem_4, 2 MB). Known: "
            + ", ".join(datastore.PRODUCTS)
            + ". Finer grids are big: ldem_16 33 MB, ldem_64 531 MB, ldem_512 tiles 2.1 GB each.",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDir = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Mirror to download from instead of the PDS Geosciences Node (also $TOUCHDOWN_DATA_URL).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Download again even if the files are present.")
    ] = False,
) -> None:
    """Download LOLA height grids (PDS3 .IMG + .LBL) into <data dir>/terrain and verify their sha256.

    Files already present and verified are skipped; --force downloads them again.

    Products with no pinned sha256 print the hash computed on download: check it against the PDS list.
    """
    names = products or ["ldem_4"]
    root = datastore.data_dir(data_dir)
    err = Console(stderr=True)
    out = Console()
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:

        def on_event(event: datastore.FetchEvent) -> None:
            if event.kind == "start":
                tasks[event.file] = bar.add_task(event.file, total=event.total)
            elif event.kind == "advance":
                bar.update(tasks[event.file], completed=event.done)
            elif event.kind == "skip":
                how = "verified" if event.pinned else "sha256 not pinned, not re-checked"
                out.print(
                    f"{event.file}: already present ({how}): {event.path}", highlight=False, soft_wrap=True
                )
            elif event.kind == "done":
                if event.file in tasks:
                    bar.remove_task(tasks.pop(event.file))
                if event.pinned:
                    note = "sha256 verified"
                else:
                    note = f"sha256 {event.sha256} (not pinned: compare with the PDS checksum list)"
                out.print(f"{event.file}: downloaded, {note}: {event.path}", highlight=False, soft_wrap=True)

        paths = datastore.fetch(names, data_dir=root, base_url=base_url, force=force, progress=on_event)
    folders = sorted({str(p.parent) for p in paths})
    out.print(f"{len(paths)} files in {', '.join(folders)}", highlight=False, soft_wrap=True)
    if datastore.data_dir() != root:
        out.print(
            f"Use them with --data-dir {root} or TOUCHDOWN_DATA={root}", highlight=False, soft_wrap=True
        )


def _size(n: int) -> str:
    if n <= 0:
        return "—"
    units = ["B", "kB", "MB", "GB"]
    k = min(len(units) - 1, int(math.log(n, 1000)))
    return f"{n / 1000**k:.3g} {units[k]}"


@app.command()
def info(
    data_dir: DataDir = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else.")
    ] = False,
) -> None:
    """List the known terrain products: present or not, size, sha256 verified, where they are."""
    root = datastore.data_dir(data_dir)
    rows = datastore.info(root)
    if as_json:
        typer.echo(json.dumps({"data_dir": str(root), "products": rows}, indent=2))
        return
    table = Table(title=f"Terrain data in {root}", title_justify="left")
    for col in ("product", "present", "size", "sha256", "path"):
        table.add_column(col, overflow="fold", no_wrap=col in ("product", "present"))
    for row in rows:
        verified = {True: "verified", False: "MISMATCH", None: "not pinned" if not row["pinned"] else "—"}
        table.add_row(
            row["product"],
            "yes" if row["present"] else "no",
            _size(row["bytes"]),
            verified[row["verified"]],
            row["path"] if row["present"] else "",
        )
    console = Console()
    console.print(table)
    console.print("Download with: touchdown data fetch [PRODUCT ...]", highlight=False)
    console.print("Credit: LRO LOLA team, NASA GSFC / PDS Geosciences Node.", highlight=False)


@app.command()
def check(
    dem: Annotated[
        str, typer.Argument(help="A product name (ldem_4) or a path to a PDS3 .LBL or .IMG file.")
    ],
    data_dir: DataDir = None,
) -> None:
    """Open a DEM and validate it (label, image size, sample type, projection, plausible heights).

    Prints a one-line description on success; a bad file gives one error line and exit code 2.
    """
    from touchdown.moon.terrain.dem import read_dem

    path = datastore.find_dem(dem, data_dir=datastore.data_dir(data_dir))
    if path is None:
        raise InputError(f"no DEM {dem!r} found (not a product in the data directory, not a file)")
    grid = read_dem(path)
    typer.echo(grid.description)
    typer.echo(
        f"pixel {grid.pixel_size_m:,.1f} m, max slope bound {grid.max_slope:.3g} m/m, "
        f"{'global' if grid.is_global else 'regional'}"
    )
