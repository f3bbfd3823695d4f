"""Gating on compiled kernels against the numpy code it replaces, bit for bit, over random streaks."""

from __future__ import annotations

import numpy as np
import pytest

from touchdown.fsw.navigation.gating import Gate, GateParams


class _NumpyGate:
    """Gate.in_gate / Gate.record as numpy code (before the kernels)."""

    def __init__(self, params: GateParams, n: int) -> None:
        self.params = params
        self.seen = np.zeros(n, bool)
        self.abandoned = np.zeros(n, bool)
        self.count = np.zeros(n, np.int64)
        self.streak_t0 = np.full(n, np.nan)
        self.s1 = np.zeros(n)
        self.s2 = np.zeros(n)
        self.n_streak = np.zeros(n)

    def in_gate(self, normalised, present):
        if self.params.policy == "none":
            return present.copy()
        ab = self.abandoned.reshape(self.abandoned.shape + (1,) * (present.ndim - 1))
        return present & ~ab & (np.nan_to_num(normalised, nan=np.inf) <= self.params.gate_sigma)

    def record(self, t_s, present, accepted, summary):
        p = self.params
        first = present & ~self.seen
        self.seen |= present
        none = np.zeros(present.shape[0], bool)
        if p.policy == "none":
            return none, (first, none, none.copy(), none.copy())
        rejected = present & ~accepted & ~self.abandoned
        starts = rejected & (self.count == 0)
        self.count = np.where(rejected, self.count + 1, np.where(accepted, 0, self.count))
        abandoned_now = none.copy()
        readmit = none.copy()
        if p.policy == "latch":
            abandoned_now = (self.count >= p.latch_count) & ~self.abandoned
            self.abandoned |= abandoned_now
        else:
            s = np.nan_to_num(summary)
            self.streak_t0 = np.where(starts, t_s, self.streak_t0)
            self.s1 = np.where(starts, s, np.where(rejected, self.s1 + s, self.s1))
            self.s2 = np.where(starts, s * s, np.where(rejected, self.s2 + s * s, self.s2))
            self.n_streak = np.where(starts, 1.0, np.where(rejected, self.n_streak + 1.0, self.n_streak))
            k = np.maximum(self.n_streak, 1.0)
            spread = np.sqrt(np.maximum(self.s2 / k - (self.s1 / k) ** 2, 0.0))
            restart = rejected & (spread > p.consistency)
            self.streak_t0 = np.where(restart, t_s, self.streak_t0)
            self.s1 = np.where(restart, s, self.s1)
            self.s2 = np.where(restart, s * s, self.s2)
            self.n_streak = np.where(restart, 1.0, self.n_streak)
            spread = np.where(restart, 0.0, spread)
            long_enough = t_s - np.nan_to_num(self.streak_t0, nan=np.inf) >= p.window_s - 1e-9
            readmit = rejected & long_enough & (spread <= p.consistency)
            self.count = np.where(readmit, 0, self.count)
        return readmit, (first, starts, abandoned_now, readmit)


@pytest.mark.parametrize("policy", ["none", "latch", "robust"])
@pytest.mark.parametrize("beams", [1, 2])
def test_gate_matches_numpy(policy: str, beams: int) -> None:
    n = 200
    rng = np.random.default_rng(beams)
    params = GateParams(policy=policy, gate_sigma=3.0, latch_count=3, window_s=0.5, consistency=20.0)
    gate, ref = Gate("lrf", params, n), _NumpyGate(params, n)
    level = rng.choice([0.0, 40.0, 300.0], n)  # per-run innovation level: in gate, a step, noisy
    events = 0
    for k in range(80):
        t = 0.1 * k
        nu = level[:, None] + rng.normal(0.0, 15.0, (n, beams)) * (1.0 + (level[:, None] == 300.0) * 10.0)
        nu[rng.uniform(size=(n, beams)) < 0.1] = np.nan
        normalised = np.abs(nu) / 10.0
        present = np.isfinite(nu)
        shape = (n, beams) if beams > 1 else (n,)
        normalised, present, nu = normalised.reshape(shape), present.reshape(shape), nu.reshape(shape)
        admit = gate.in_gate(normalised, present)
        assert np.array_equal(admit, ref.in_gate(normalised, present))
        row_present = present if beams == 1 else present.any(axis=1)
        row_admit = admit if beams == 1 else admit.any(axis=1)
        summary = np.where(present, nu, 0.0) if beams == 1 else np.where(present, nu, 0.0).sum(axis=1)
        got_readmit, got_events = gate.record(t, row_present, row_admit, summary)
        want_readmit, want_events = ref.record(t, row_present, row_admit, summary)
        assert np.array_equal(got_readmit, want_readmit)
        assert np.array_equal(got_events.first_valid, want_events[0])
        assert np.array_equal(got_events.rejected, want_events[1])
        assert np.array_equal(got_events.abandoned, want_events[2])
        assert np.array_equal(got_events.readmitted, want_events[3])
        events += got_readmit.sum() + got_events.abandoned.sum()
        for name in ("seen", "abandoned", "count", "streak_t0", "s1", "s2", "n_streak"):
            a, b = getattr(gate, name), getattr(ref, name)
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
    assert events > 0 or policy == "none"  # re-admissions or abandons happened
