"""``touchdown fly``: the JSON document, the summary, the outputs and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

SHORT = ["--set", "sim.t_max_s=20.0"]  # the first 20 s of Apollo 11's braking phase: fast


def test_fly_json_document(cli):
    code, out, _ = cli(["fly", "apollo11", "--seed", "3", "--json", *SHORT])
    assert code == 0
    doc = json.loads(out)  # one JSON document, nothing else on stdout
    assert doc["scenario"] == "apollo11" and doc["seed"] == 3
    assert doc["outcome"] == "in_flight"  # 20 s after PDI the LM is still 15 km up
    assert set(doc["touchdown"]) == {
        "time_s",
        "vertical_speed_mps",
        "horizontal_speed_mps",
        "tilt_deg",
        "body_rate_deg_s",
        "slope_deg",
        "lat_deg",
        "lon_deg",
        "miss_m",
        "propellant_remaining_kg",
        "impact_speed_mps",
        "hover_time_s",
    }
    first = doc["events"][0]
    assert first["name"] == "phase:braking" and first["t_s"] == 0.0
    assert set(first) == {
        "t_s",
        "name",
        "true_altitude_m",
        "nav_altitude_m",
        "vertical_speed_mps",
        "horizontal_speed_mps",
        "tilt_deg",
        "lat_deg",
        "lon_deg",
    }
    assert 13_000.0 < first["true_altitude_m"] < 17_000.0  # ≈ 50,000 ft above the site (REFERENCE §3.4)


def test_fly_out_writes_trajectory_plot_and_record(tmp_path: Path, cli):
    out = tmp_path / "flight"
    code, text, _ = cli(["fly", "apollo11", "--out", str(out), *SHORT])
    assert code == 0 and "IN_FLIGHT" in text and "wrote" in text
    assert f"report: {out / 'report.html'}" in text
    names = sorted(p.name for p in out.iterdir())
    assert names == ["flight.json", "flight.png", "report.html", "scenario.toml", "trajectory.parquet"]
    table = pq.read_table(out / "trajectory.parquet")
    cols = set(table.column_names)
    assert {"t_s", "true_altitude_m", "nav_altitude_m", "phase", "thrust_fraction", "propellant_kg"} <= cols
    assert table.num_rows == 20  # FSW ticks at 0 … 19 s, recorded every 1 s
    assert (out / "flight.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fly_bad_override_is_one_line(cli):
    code, out, err = cli(["fly", "apollo11", "--set", "fsw.navigation.gating=sometimes"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("touchdown: error: --set") and "gating" in err


def test_fly_check_reports_each_expectation_and_exits_1_when_one_is_missed(cli):
    """20 s after PDI the LM has not landed: the outcome and touchdown expectations are missed (measured
    in_flight, no figure), the absent-event expectation is met; exit code 1."""
    code, out, _ = cli(["fly", "apollo11", "--check", *SHORT])
    assert code == 1
    assert "expectations: 1 met, 5 missed" in out
    assert "MISSED  outcome: expected landed, measured in_flight" in out
    assert "MISSED  touchdown.time_s: expected 756.39 ± 60, measured —" in out
    assert "met     event landing_radar_abandoned: expected absent, measured 0 times" in out
    code, out, _ = cli(["fly", "apollo11", "--check", "--json", *SHORT])
    doc = json.loads(out)
    assert code == 1 and [c["met"] for c in doc["checks"]] == [False, False, False, False, False, True]


def test_fly_check_without_expect_is_bad_input(tmp_path, cli):
    from touchdown.scenario.loader import load_scenario

    text = load_scenario("apollo11").text
    bare = tmp_path / "bare.toml"
    bare.write_text(text[: text.index("[expect]")])
    code, out, err = cli(["fly", str(bare), "--check", *SHORT])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "has no [expect] table to check" in err and "bare.toml" in err


def test_fly_start_below_the_terrain_is_one_line_and_nothing_written(tmp_path, cli):
    """A `site` start may lie below the 1,737,400 m sphere (SLIM's ground is 878 m below it), not below the
    ground."""
    out = tmp_path / "run"
    code, stdout, err = cli(
        ["fly", "slim-engine-out", "--set", "initial.altitude_m=-5000", "--out", str(out)]
    )
    assert code == 2 and stdout == ""
    assert err.strip().count("\n") == 0 and "initial (site)" in err and "below the terrain" in err
    assert not out.exists()
