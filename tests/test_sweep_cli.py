"""``touchdown sweep``: the parameter grammar, the cliff finder, and a sweep against the stopping-distance
closed form: falling at v from h with thrust acceleration a, a lander stops only if v² ≤ 2 (a − g) h."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from touchdown.commands.sweep import cliffs, parse_sweep
from touchdown.errors import InputError
from touchdown.moon.constants import G_SURFACE

DROP = str(Path(__file__).parent / "scenario" / "data" / "vertical-drop.toml")


def test_parse_sweep_range_and_list():
    assert parse_sweep("faults.0.below_m=300:900:4") == ("faults.0.below_m", [300.0, 500.0, 700.0, 900.0])
    assert parse_sweep("a.b=1,2.5,-3") == ("a.b", [1.0, 2.5, -3.0])


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("faults.0.below_m", "PARAM=start:stop:count"),
        ("=1:2:3", "empty"),
        ("x=1:2", "start:stop:count"),
        ("x=1:2:1", "count must be ≥ 2"),
        ("x=1:2:2.5", "start:stop:count"),
        ("x=a,b", "start:stop:count"),
        ("x=1:inf:3", "finite numbers"),
    ],
)
def test_parse_sweep_bad_specs_say_what_is_wrong(spec, says):
    with pytest.raises(InputError, match=says):
        parse_sweep(spec)


def test_cliffs_are_neighbours_with_different_outcomes():
    got = cliffs([1.0, 2.0, 3.0, 4.0], ["landed", "landed", "crashed", "landed"])
    assert got == [
        {"between": [2.0, 3.0], "outcomes": ["landed", "crashed"]},
        {"between": [3.0, 4.0], "outcomes": ["crashed", "landed"]},
    ]
    assert cliffs([1.0, 2.0], ["landed", "landed"]) == []


def test_sweep_finds_the_stopping_distance_cliff(cli):
    code, out, _ = cli(["sweep", DROP, "initial.speed_mps=30:75:4", "--json", "--jobs", "1"])
    assert code == 0
    doc = json.loads(out)
    assert doc["param"] == "initial.speed_mps" and [p["value"] for p in doc["points"]] == [30, 45, 60, 75]
    # Series 1 full thrust (1,600 N) on 340 kg dry + 80 kg propellant, from 900 m
    a_net = 1600.0 / 420.0 - G_SURFACE
    v_crit = math.sqrt(2.0 * a_net * 900.0)  # 62.8 m/s
    for p in doc["points"]:
        if p["value"] > v_crit:
            assert p["outcome"] == "crashed", p  # no guidance beats the closed form
        if p["value"] < 0.75 * v_crit:
            assert p["outcome"] == "landed", p  # and this one uses its thrust
    assert len(doc["cliffs"]) == 1
    lo = doc["cliffs"][0]["between"][0]
    assert lo < v_crit and doc["cliffs"][0]["outcomes"] == ["landed", "crashed"]


def test_sweep_table_and_parallel_runs_match_serial(cli):
    argv = ["sweep", DROP, "initial.speed_mps=30,75", "--event", "phase:braking"]
    code, serial, _ = cli([*argv, "--jobs", "1"])
    assert code == 0
    code, parallel, _ = cli([*argv, "--jobs", "2"])
    assert code == 0 and parallel == serial
    assert "cliff between 30 (landed) and 75 (crashed)" in serial
    assert "900 m" in serial  # the --event column: the braking phase starts at 900 m


def test_sweep_bad_parameter_is_one_line_and_exit_2(cli):
    code, out, err = cli(["sweep", DROP, "initial.speeed_mps=30:75:4"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "speeed" in err
