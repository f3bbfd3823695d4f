"""A real flight and a real campaign on disk, flown once per session, for the report tests.

Both fly ``tests/campaign/data/drop-campaign.toml`` (a short descent over flat ground, ≈ 1 s of CPU per
dozen runs), through the CLI as a user would, so the reports are built from what the commands write.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DROP = REPO_ROOT / "tests" / "campaign" / "data" / "drop-campaign.toml"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "touchdown", *args], capture_output=True, text=True, env=env, timeout=600
    )


@pytest.fixture(scope="session")
def flight_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``touchdown fly drop-campaign.toml --seed 1 --check``-less flight with ``--out``."""
    out = tmp_path_factory.mktemp("flight") / "drop"
    proc = run_cli("fly", str(DROP), "--seed", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert f"report: {out / 'report.html'}" in proc.stdout
    return out


@pytest.fixture(scope="session")
def campaign_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 48-run campaign of the drop scenario with decimated trajectories, in this process's workers."""
    out = tmp_path_factory.mktemp("campaign") / "drop"
    proc = run_cli(
        "campaign",
        str(DROP),
        "-n",
        "48",
        "--workers",
        "1",
        "--trajectories",
        "2",
        "--no-progress",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert f"report: {out / 'report.html'}" in proc.stdout
    return out
