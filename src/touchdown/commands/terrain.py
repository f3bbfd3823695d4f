"""`touchdown terrain` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="terrain commands.", no_args_is_help=True)
