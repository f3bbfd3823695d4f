"""`touchdown demo` end to end on the LOLA grid: the M2 replay and a small M2 campaign with their reports,
and the truth-model figures, which are the published facts they illustrate; and what the demo does with a
missed replay check with and without the grid."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_demo_writes_both_reports_and_reproduces_the_truth_model_facts(tmp_path, shared_data_dir):
    out = tmp_path / "demo"
    env = {"TOUCHDOWN_DATA": str(shared_data_dir), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", "touchdown", "demo", "--out", str(out), "--runs", "6", "--workers", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "expectations: 4 met, 0 missed" in proc.stdout  # the M2 replay reproduces REFERENCE §3.3
    replay = json.loads((out / "m2-replay" / "flight.json").read_text())
    assert replay["outcome"] == "crashed" and all(c["met"] for c in replay["checks"])
    summary = json.loads((out / "m2-campaign" / "summary.json").read_text())
    assert summary["runs"] == 6 and sum(summary["outcomes"].values()) == 6
    for kind in ("m2-replay", "m2-campaign"):
        report = out / kind / "report.html"
        assert report.stat().st_size > 100_000 and f"  {report}" in proc.stdout
    out = out / "truth-model"
    doc = json.loads((out / "demo.json").read_text())
    assert doc["terrain"].startswith("LDEM_4")
    assert doc["atlas_rim_jump_m"] >= 2000.0  # REFERENCE §2.2/§3.2: the rim step seen by the altimeter
    td = doc["m1_touchdown"]
    assert td["outcome"] == "crashed"
    assert td["vertical_speed_mps"] > 100.0  # REFERENCE §3.2: impact faster than 100 m/s
    assert [e["name"] for e in doc["m1_events"]] == ["propellant_exhausted", "touchdown:crashed"]
    # REFERENCE §3.3: from 900 m, 66 m/s cannot be stopped with ≈ 1,600 N; 44 m/s can
    assert 44.0 < doc["m2_critical_rate_mps"] < 66.0
    assert (out / "demo.png").stat().st_size > 10_000
    assert not list(out.glob(".*.tmp"))


def _stub_demo_steps(monkeypatch, replay_exit: int) -> list[str]:
    """The demo's three steps replaced by stubs that record their calls; the replay ends with
    ``typer.Exit(replay_exit)`` as `fly --check` does when an expectation is missed."""
    import typer

    from touchdown import demo
    from touchdown.commands import campaign, fly

    calls: list[str] = []

    def replay(**kwargs):
        calls.append("fly")
        raise typer.Exit(replay_exit)

    monkeypatch.setattr(fly, "fly", replay)
    monkeypatch.setattr(campaign, "campaign", lambda **kwargs: calls.append("campaign"))
    monkeypatch.setattr(demo, "run_truth_model", lambda *a, **k: calls.append("truth") or {"figure": "x"})
    return calls


def test_demo_without_the_grid_reports_the_replays_misses_and_goes_on(tmp_path, monkeypatch):
    """No LOLA grid: the flights fall back to synthetic terrain, where M2's facts are not expected; the
    demo says so first and finishes instead of stopping at the replay's missed checks."""
    from touchdown.demo import run_demo

    calls = _stub_demo_steps(monkeypatch, replay_exit=1)
    lines: list[str] = []
    empty = tmp_path / "no-data"
    empty.mkdir()
    run_demo(tmp_path / "out", data_dir=str(empty), runs=2, workers=1, echo=lines.append)
    assert calls == ["fly", "campaign", "truth"]
    assert "not in" in lines[0] and "touchdown data fetch ldem_4" in lines[0]
    assert any("not expected to hold" in line for line in lines)


def test_demo_with_the_grid_stops_at_a_missed_replay_check(tmp_path, monkeypatch, shared_data_dir):
    """With the grid a missed M2 check is a real failure: exit code 1, nothing flown after it."""
    import typer

    from touchdown.demo import run_demo

    calls = _stub_demo_steps(monkeypatch, replay_exit=1)
    lines: list[str] = []
    with pytest.raises(typer.Exit) as stopped:
        run_demo(tmp_path / "out", data_dir=str(shared_data_dir), runs=2, workers=1, echo=lines.append)
    assert stopped.value.exit_code == 1
    assert calls == ["fly"]
    assert not any("synthetic" in line for line in lines)
