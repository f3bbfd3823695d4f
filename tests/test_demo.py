"""`touchdown demo` end to end on the LOLA grid: its figures are the published facts it illustrates."""

from __future__ import annotations

import json
import subprocess
import sys


def test_demo_reproduces_the_truth_model_facts(tmp_path, shared_data_dir):
    out = tmp_path / "demo"
    env = {"TOUCHDOWN_DATA": str(shared_data_dir), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", "touchdown", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
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
