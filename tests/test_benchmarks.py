"""The benchmark scripts stay runnable: each imports and answers ``--help`` (none is timed here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py"))


def test_the_folder_has_the_campaign_benchmark() -> None:
    assert "bench_campaign.py" in SCRIPTS  # issue 5's throughput table comes from it


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_script_answers_help(script: str) -> None:
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    if script != "host.py":  # the machine line's module, not a benchmark
        assert run.stdout.startswith("usage:"), run.stdout[:200]
