"""The scenario documentation cannot rot: docs/scenarios.md's reference is what the generator makes of the
schema, every field has a description, and the TOML examples of docs/scenarios.md and docs/faults.md load,
build and (the minimal one) land."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from touchdown.scenario import reference, schema
from touchdown.scenario.loader import builtin_scenarios, load_scenario_text
from touchdown.sim.flight import Flight
from touchdown.vehicle.presets import PRESETS

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCENARIOS_PAGE = DOCS / "scenarios.md"
FAULTS_PAGE = DOCS / "faults.md"


def toml_blocks(page: Path) -> list[str]:
    """The ```toml code blocks of a page, in order."""
    return re.findall(r"```toml\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.DOTALL)


def minimal_example() -> str:
    return toml_blocks(SCENARIOS_PAGE)[0]


# --------------------------------------------------------------------------------------------------
# the generated reference


def test_scenarios_page_matches_the_schema():
    page = SCENARIOS_PAGE.read_text(encoding="utf-8")
    assert page == reference.splice(page, reference.render()), (
        "docs/scenarios.md is out of date with src/touchdown/scenario/schema.py (or expect.py): "
        f"run `.venv/bin/{reference.REGENERATE}` and commit the page"
    )
    assert reference.main(["--check", "--page", str(SCENARIOS_PAGE)]) == 0


def test_every_field_has_a_description():
    missing = [
        f"{s.model.__name__}.{name}"
        for s in reference.sections()
        for name in s.model.model_fields
        if not reference.description(s.model, name)
    ]
    assert not missing, "fields without a description (Field(description=...) in schema.py): " + ", ".join(
        missing
    )


def test_unit_overrides_and_expect_texts_name_real_fields():
    models = {s.model.__name__: s.model for s in reference.sections()}
    for model, name in (*reference.UNIT_OVERRIDES, *reference.EXPECT_DESCRIPTIONS):
        assert model in models and name in models[model].model_fields, f"{model}.{name} does not exist"


def test_every_table_has_a_section():
    text = reference.render()
    for heading in ("`[site]`", "`[[faults]]`", "`[fsw.navigation]`", "`[[campaign.dispersions]]`"):
        assert f"### {heading}" in text
    for law in schema.GUIDANCE_LAWS:
        assert f'with `law = "{law}"`' in text
    assert '`[fsw.guidance.<braking|approach|terminal>]` with `law = "apollo"`' in text


def test_splice_needs_the_markers():
    with pytest.raises(ValueError, match="markers"):
        reference.splice("# a page without markers\n", "x")


def test_the_named_choices_match_the_schema():
    """GUIDANCE_LAWS and friends are what docs/extending.md tells a new law to join: they must say what the
    schema accepts."""
    laws = {get_args(m.model_fields["law"].annotation)[0] for m in get_args(get_args(schema.PhaseLaw)[0])}
    assert laws == set(schema.GUIDANCE_LAWS)
    nav = schema.Navigation.model_fields
    assert set(get_args(nav["gating"].annotation)) == set(schema.GATING_POLICIES)
    assert set(get_args(nav["onboard_map"].annotation)) == set(schema.ONBOARD_MAPS)
    assert set(get_args(schema.Terrain.model_fields["source"].annotation)) == set(schema.TERRAIN_SOURCES)
    assert set(get_args(schema.Sim.model_fields["gravity"].annotation)) == set(schema.GRAVITY_MODELS)


def test_every_builtin_scenario_is_listed():
    page = SCENARIOS_PAGE.read_text(encoding="utf-8")
    missing = [name for name, _ in builtin_scenarios() if f"`{name}.toml`" not in page]
    assert not missing, f"docs/scenarios.md does not list {missing}"


# --------------------------------------------------------------------------------------------------
# the examples


def test_the_minimal_example_lands():
    sc = load_scenario_text(minimal_example(), "docs/scenarios.md").scenario
    result = Flight(sc, seed=0, record=False).run()
    assert result.outcomes == ["landed"]


def _preset_for(text: str) -> str:
    """The preset whose engines an example's fault targets (series1 by default)."""
    for name, make in PRESETS.items():
        engines = {e.name for e in make().engines}
        if any(f'target = "{e}"' in text for e in engines):
            return name
    return "series1"


@pytest.mark.parametrize("k", range(len(toml_blocks(FAULTS_PAGE))))
def test_fault_examples_load_and_build(k):
    block = toml_blocks(FAULTS_PAGE)[k]
    base = minimal_example().replace('preset = "series1"', f'preset = "{_preset_for(block)}"')
    text = base + "\n[sensors.velocimeter]\n\n" + block
    sc = load_scenario_text(text, f"docs/faults.md example {k}").scenario
    assert sc.faults, "an example without a fault"
    Flight(sc, seed=0, record=False)  # builds the flight: checks each target against sensors and engines
