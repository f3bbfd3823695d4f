"""Campaign statistics against published values and constructed cases."""

from __future__ import annotations

import numpy as np
import pytest

from touchdown.campaign.stats import sensitivity, summarize, wilson_interval


def test_wilson_interval_matches_newcombe_1998():
    # Newcombe (1998), Statistics in Medicine 17:857, Table I:
    # 81/263 → 0.2553 – 0.3662; 15/148 → 0.0624 – 0.1605
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert wilson_interval(15, 148) == pytest.approx((0.0624, 0.1605), abs=5e-5)
    lo, hi = wilson_interval(0, 10)  # never 0 width at the edge, unlike the Wald interval
    assert lo == 0.0
    assert hi == pytest.approx(0.2775, abs=5e-5)


def test_sensitivity_ranks_the_parameter_that_separates_failures_first():
    rng = np.random.default_rng(0)
    n = 2000
    altitude = rng.uniform(0.3, 5.0, n)
    noise = rng.normal(size=n)
    present = rng.random(n) < 0.5
    landed = (altitude > 2.0) & ~(present & (altitude < 2.5))
    ranking = sensitivity({"noise": noise, "present": present.astype(float), "alt": altitude}, landed)
    assert [r["parameter"] for r in ranking][:2] == ["alt", "present"]
    # closed form: D = max over x of |F_landed − F_failed| = 1 − 0.25 / 2.75 at x = 2.5
    assert ranking[0]["ks_distance"] == pytest.approx(1.0 - 0.25 / 2.75, abs=0.03)
    assert ranking[-1]["parameter"] == "noise"
    assert ranking[-1]["p_value"] > 1e-3
    low, _, high = ranking[0]["failure_rate"]
    assert low["rate"] == 1.0
    assert high["rate"] == 0.0
    absent, there = ranking[1]["failure_rate"]
    assert there["rate"] > absent["rate"]


def test_summary_counts_outcomes_and_percentiles_of_touched_down_runs():
    cols = {
        "outcome": np.array(["landed", "landed", "crashed", "in_flight"], dtype=object),
        "vertical_speed_mps": np.array([1.0, 2.0, 30.0, np.nan]),
        "horizontal_speed_mps": np.array([0.1, 0.2, 3.0, np.nan]),
        "miss_m": np.array([10.0, 20.0, 30.0, np.nan]),
        "propellant_remaining_kg": np.array([5.0, 4.0, 0.0, np.nan]),
        "hover_time_s": np.array([50.0, 40.0, 0.0, np.nan]),
        "p": np.array([1.0, 2.0, 3.0, 4.0]),
    }
    s = summarize(cols, ["p"])
    assert s["runs"] == 4
    assert s["success_probability"] == 0.5
    assert s["outcomes"] == {"landed": 2, "crashed": 1, "in_flight": 1}
    assert s["touchdown"]["vertical_speed_mps"]["p50"] == 2.0
    assert s["sensitivity"]["method"].startswith("Monte Carlo filtering")
