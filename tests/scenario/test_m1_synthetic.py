"""HAKUTO-R M1 without the LOLA grid: the replay falls back to the synthetic Atlas (REFERENCE §2.2) and must
still meet every published figure of its ``[expect]`` (REFERENCE §3.2), as `touchdown fly hakuto-r-m1
--check` does with TOUCHDOWN_DATA pointing at an empty directory (docs/replays/hakuto-r-m1.md).

Slow: the whole descent, ≈ 35 min of flight; a few minutes on one core.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from touchdown.commands.fly import flight_document, trajectory_columns
from touchdown.moon.terrain.synthetic import SyntheticTerrain
from touchdown.scenario.expect import check_flight
from touchdown.scenario.loader import load_scenario
from touchdown.sim.flight import Flight


@pytest.mark.slow
def test_m1_replay_on_synthetic_atlas_meets_its_published_figures(tmp_path: Path) -> None:
    loaded = load_scenario("hakuto-r-m1")
    flight = Flight(loaded.scenario, seed=0, data_dir=str(tmp_path))  # no LDEM_4 there: the fallback
    assert isinstance(flight.terrain, SyntheticTerrain)
    assert "Atlas" in flight.terrain.description
    result = flight.run()
    doc = flight_document(loaded, 0, result)
    checks = check_flight(loaded.scenario.expect, doc, trajectory_columns(result))
    missed = [f"{c.what}: expected {c.expected}, measured {c.measured}" for c in checks if not c.met]
    assert not missed, f"hakuto-r-m1 on synthetic terrain ({doc['outcome']}): " + "; ".join(missed)
