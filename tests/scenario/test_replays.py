"""The landing library: every built-in scenario states what it must reproduce, every replay has its docs
page, and (slow) every replay passes its own ``[expect]`` — the published figures of REFERENCE §3 — and the
"what would have saved it" variants land.

The flights take 1–2 min each on one core; they run in CI (``make test``), not in ``make test-fast``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from touchdown.commands.fly import flight_document, trajectory_columns
from touchdown.scenario.expect import check_flight
from touchdown.scenario.loader import builtin_scenarios, load_scenario
from touchdown.sim.flight import Flight

DOCS = Path(__file__).resolve().parents[2] / "docs" / "replays"
NAMES = [name for name, _ in builtin_scenarios()]
REPLAYS = [n for n in NAMES if not n.endswith("-nominal")]


def _fly(name: str, overrides: tuple[str, ...] = (), seed: int = 0) -> tuple[dict, list]:
    loaded = load_scenario(name, overrides)
    result = Flight(loaded.scenario, seed=seed).run()
    doc = flight_document(loaded, seed, result)
    return doc, check_flight(loaded.scenario.expect, doc, trajectory_columns(result))


def test_the_library_holds_the_replays_the_issue_names():
    assert {"hakuto-r-m1", "resilience-m2", "apollo11"} <= set(REPLAYS)


@pytest.mark.parametrize("name", NAMES)
def test_every_builtin_states_what_it_must_reproduce(name):
    assert not load_scenario(name).scenario.expect.empty


@pytest.mark.parametrize("name", REPLAYS)
def test_every_replay_has_a_docs_page_with_sources_and_assumptions(name):
    page = DOCS / f"{name}.md"
    assert page.is_file(), f"docs/replays/{name}.md is missing"
    text = page.read_text(encoding="utf-8")
    assert "## Sources and assumptions" in text and "REFERENCE §3" in text
    assert f"touchdown fly {name} --check" in text


@pytest.mark.slow
@pytest.mark.parametrize("name", REPLAYS)
def test_replay_meets_its_published_figures(name):
    doc, checks = _fly(name)
    missed = [f"{c.what}: expected {c.expected}, measured {c.measured}" for c in checks if not c.met]
    assert not missed, f"{name} seed 0 ({doc['outcome']}): " + "; ".join(missed)


@pytest.mark.slow
def test_m1_with_robust_gating_lands():
    doc, _ = _fly("hakuto-r-m1", ("fsw.navigation.gating=robust",))
    assert doc["outcome"] == "landed", doc["touchdown"]
    names = [e["name"] for e in doc["events"]]
    assert "lrf_rejected" in names and "lrf_readmitted" in names and "lrf_abandoned" not in names
    assert doc["touchdown"]["vertical_speed_mps"] < 1.5


# M2's "what would have saved it": one design decision, the descent profile. Stop the braking at 3.5 km
# (believed) and descend no faster than 20 m/s until 300 m: from 20 m/s the lander stops in ≈ 90 m, so the
# late range (and the ≈ 1.3 km estimate error it reveals) comes in time.
M2_SAFE_PROFILE = (
    "fsw.guidance.braking.gate_altitude_m=3500.0",
    "fsw.guidance.braking.gate_vertical_rate_mps=-20.0",
    "fsw.guidance.terminal.schedule_altitude_m=[0.0, 30.0, 300.0, 3500.0]",
    "fsw.guidance.terminal.schedule_vertical_rate_mps=[-1.0, -1.0, -12.0, -20.0]",
    "fsw.sequencer.terminal_altitude_m=3500.0",
)


@pytest.mark.slow
def test_m2_with_a_safe_descent_profile_lands():
    doc, _ = _fly("resilience-m2", M2_SAFE_PROFILE)
    assert doc["outcome"] == "landed", doc["touchdown"]
    first = next(e for e in doc["events"] if e["name"] == "lrf_first_valid")
    assert first["true_altitude_m"] < 950.0  # the same late range: the profile, not the sensor, saved it
    assert -25.0 < first["vertical_speed_mps"] < 0.0


@pytest.mark.slow
def test_m2_acquisition_sweep_shows_the_cliff(cli):
    """`touchdown sweep` over M2's LRF acquisition altitude: no soft landing from a first range at 1.5 km, a
    landing from 1.8 km. The floor is vertical thrust-to-weight: from 67 m/s, 1,600 N on ≈ 450 kg stops in
    ≈ 1.3 km plus what the robust gate's 2 s cost (docs/replays/resilience-m2.md)."""
    argv = ["sweep", "resilience-m2", "faults.0.below_m=1500,1800", "--event", "lrf_first_valid"]
    code, out, _ = cli([*argv, "--json", "--jobs", "2"])
    assert code == 0
    doc = json.loads(out)
    low, high = doc["points"]
    assert low["outcome"] == "crashed" and high["outcome"] == "landed", doc["points"]
    assert doc["cliffs"] == [{"between": [1500.0, 1800.0], "outcomes": ["crashed", "landed"]}]
    for p in (low, high):  # the braking all but done (of 1,690 m/s), still at the plan's 66 m/s (§3.3)
        first = p["lrf_first_valid"]
        assert first["true_altitude_m"] == pytest.approx(p["value"], abs=10.0)
        assert first["vertical_speed_mps"] < -60.0 and first["horizontal_speed_mps"] < 60.0


@pytest.mark.slow
def test_slim_with_a_stiffer_attitude_loop_lands():
    """SLIM's "what would have saved it": the same engine loss, an attitude loop that holds the torque with a
    small lean, so the drift is nulled (docs/replays/slim-engine-out.md)."""
    doc, _ = _fly("slim-engine-out", ("fsw.control.bandwidth_rad_s=3.0",))
    assert doc["outcome"] == "landed", doc["touchdown"]
    assert any(e["name"] == "fault:thrust_loss:main_500n_a" for e in doc["events"])  # the loss still came
    assert doc["touchdown"]["miss_m"] < 20.0
