"""Robust gating's re-admission window: only the latest ``window_s`` of a rejected streak must agree."""

from __future__ import annotations

import numpy as np

from touchdown.fsw.navigation.gating import Gate, GateParams


def _streak(summaries: list[float], dt: float = 0.1) -> list[float]:
    """Feed rejected readings one per tick; return the times at which the gate re-admitted."""
    gate = Gate("lrf", GateParams(policy="robust", window_s=2.0, consistency=60.0), 1)
    present, rejected = np.ones(1, bool), np.zeros(1, bool)
    times = []
    for k, s in enumerate(summaries):
        readmit, _ = gate.record(k * dt, present, rejected, np.array([s]))
        if readmit[0]:
            times.append(k * dt)
    return times


def test_a_steady_offset_is_readmitted_after_the_window():
    times = _streak([2400.0] * 30)
    assert times and abs(times[0] - 2.0) < 1e-9


def test_a_cliff_edge_then_a_steady_offset_is_readmitted_window_s_after_it_settles():
    edge = list(np.linspace(0.0, 2400.0, 30))  # 3 s of a growing innovation over the rim
    times = _streak(edge + [2400.0] * 40)
    # the edge's readings disagree with each other: nothing is re-admitted while it lasts, and the 2 s
    # window starts again near where the innovation settles (3.0 s; the edge's last readings are within
    # the 60 m consistency of the offset), not at the first rejection
    assert times and 4.6 <= times[0] <= 5.1


def test_readings_that_never_agree_are_never_readmitted():
    rng = np.random.default_rng(0)
    assert _streak(list(rng.normal(0.0, 500.0, 100))) == []
