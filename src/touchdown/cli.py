"""The `touchdown` command.

Exit codes: 0 ok, 2 bad input (one clear line on stderr), 1 internal error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from touchdown import __version__
from touchdown.commands import campaign as campaign_cmd
from touchdown.commands import data as data_cmd
from touchdown.commands import fly as fly_cmd
from touchdown.commands import report as report_cmd
from touchdown.commands import scenarios as scenarios_cmd
from touchdown.commands import sweep as sweep_cmd
from touchdown.commands import terrain as terrain_cmd
from touchdown.errors import InputError

app = typer.Typer(
    name="touchdown",
    help=(
        "Lunar landing simulator: flies a lander's flight software over the real Moon, "
        "breaks its sensors and engines on purpose, and says how often it lands and why it doesn't."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data_cmd.app, name="data")
app.add_typer(terrain_cmd.app, name="terrain")
scenarios_cmd.register(app)
fly_cmd.register(app)
sweep_cmd.register(app)
campaign_cmd.register(app)
report_cmd.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"touchdown {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Lunar landing simulator."""


@app.command()
def demo(
    out: Path = typer.Option(Path("out"), "--out", help="Directory for the reports and figures."),
    runs: int = typer.Option(200, "-n", "--runs", help="Runs in the demo campaign."),
    workers: int | None = typer.Option(
        None, "--workers", help="Campaign worker processes (default: the machine's cores)."
    ),
    data_dir: str | None = typer.Option(
        None, "--data-dir", envvar="TOUCHDOWN_DATA", help="Data directory holding terrain/LDEM_4.*"
    ),
) -> None:
    """The main job: the RESILIENCE M2 replay and an M2 campaign, each with its HTML report, then the
    truth model on both ispace losses (the Atlas rim and M2's late braking) in one figure."""
    from touchdown.demo import run_demo

    if runs < 1:
        raise InputError(f"--runs must be ≥ 1, got {runs}")
    run_demo(out, data_dir=data_dir, runs=runs, workers=workers, echo=typer.echo)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning bad input into one line on stderr and exit code 2."""
    try:
        app(args=argv)
    except InputError as exc:
        print(f"touchdown: error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
