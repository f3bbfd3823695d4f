"""The README's promises: its first block is the two set-up commands, and its scenario example is valid
and flies (a README that shows a broken scenario is a defect)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_starts_with_the_two_commands_ci_runs():
    first = blocks("")[0].splitlines()
    assert [line.split("#")[0].strip() for line in first] == ["make demo", "make test"]
    ci = (README.parent / ".ci" / "run").read_text()
    assert ci.strip().splitlines()[-1] == "make test"


def test_readme_scenario_example_validates_and_lands():
    from touchdown.scenario.loader import load_scenario_text
    from touchdown.sim.flight import Flight

    (text,) = blocks("toml")
    loaded = load_scenario_text(text, "README.md")
    assert loaded.scenario.campaign.runs == 1000 and len(loaded.scenario.faults) == 1
    result = Flight(loaded.scenario, seed=0).run()
    assert result.sim.touchdown.row(0)["outcome"] == "landed"
