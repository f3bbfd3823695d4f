"""The M2 campaign answers the question RESILIENCE asks (REFERENCE §3.3): with the LRF's first valid range
dispersed over 0.3–5 km of altitude, the acquisition altitude is what decides the landing.

This is the scenario's own ``[campaign]`` table (acquisition altitude, propellant load, delivered state),
plus the navigation's start error drawn in every flight. The 10,000-run figures are in
docs/replays/resilience-m2.md; this test flies a small Sobol' campaign of the same table.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

RUNS = 64


@pytest.mark.slow
def test_m2_acquisition_altitude_is_the_top_driver(tmp_path: Path, cli, shared_data_dir: Path):
    """On the LOLA grid (M2's scenario asks for it; the synthetic fallback would be 30× slower)."""
    out = tmp_path / "m2"
    argv = ["campaign", "resilience-m2", "-n", str(RUNS), "--workers", "1", "--out", str(out)]
    argv += ["--data-dir", str(shared_data_dir)]
    code, stdout, err = cli([*argv, "--json", "--no-progress"])
    assert code == 0, err
    summary = json.loads(stdout)
    ranking = summary["sensitivity"]["ranking"]
    top, second = ranking[0], ranking[1]
    assert top["parameter"] == "faults.0.below_m" and top["kind"] == "sampled", ranking[:3]
    assert top["ks_distance"] > second["ks_distance"] + 0.2, ranking[:3]
    # late ranges fail, ranges in the planned window (≥ 3 km, REFERENCE §3.3) land
    low_third, _, high_third = top["failure_rate"]
    assert low_third["rate"] > 0.15 and high_third["rate"] == 0.0, top["failure_rate"]
    runs = out / "runs.parquet"
    landed_high = duckdb.sql(
        f"SELECT avg((outcome = 'landed')::INT) FROM '{runs}' WHERE \"faults.0.below_m\" >= 3000"
    ).fetchall()[0][0]
    assert landed_high == 1.0
