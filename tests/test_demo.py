"""`touchdown demo` end to end on the LOLA grid: the M2 replay and a small M2 campaign with their reports,
and the truth-model figures, which are the published facts they illustrate."""

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
