"""`touchdown scenarios` (list the built-in scenarios) and `touchdown validate SCENARIO` (check one).

Registered on the root app by :func:`register` (they are top-level commands, not a sub-app).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from touchdown.scenario.loader import builtin_scenarios, load_scenario

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a scenario field: dotted.path=value, value in TOML syntax or a bare string "
        "(e.g. --set fsw.navigation.gating=robust --set faults.0.value=30). Repeatable.",
        show_default=False,
    ),
]


def scenarios(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list of {name, description} and nothing else.")
    ] = False,
) -> None:
    """List the built-in scenarios (use a name wherever a scenario file is expected)."""
    items = builtin_scenarios()
    if as_json:
        typer.echo(json.dumps([{"name": n, "description": d} for n, d in items], ensure_ascii=False))
        return
    if not items:
        typer.echo("no built-in scenarios", err=True)
        return
    width = max(len(n) for n, _ in items)
    for name, description in items:
        typer.echo(f"{name:<{width}}  {description}".rstrip())


def validate(
    scenario: Annotated[
        str,
        typer.Argument(
            metavar="SCENARIO",
            help="Scenario TOML file, or the name of a built-in (see `touchdown scenarios`).",
        ),
    ],
    overrides: SetOption = None,
) -> None:
    """Load and validate a scenario (and any --set overrides): `ok` and exit 0, or one error line, exit 2."""
    from touchdown.errors import InputError
    from touchdown.scenario.build import check_fault_targets

    loaded = load_scenario(scenario, overrides or ())
    try:
        check_fault_targets(loaded.scenario)
    except InputError as exc:
        raise InputError(str(exc), where=loaded.source) from None
    typer.echo(f"ok: {loaded.name} ({loaded.source})")


def register(app: typer.Typer) -> None:
    """Add `scenarios` and `validate` to ``app``."""
    app.command("scenarios")(scenarios)
    app.command("validate")(validate)
