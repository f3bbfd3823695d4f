"""Batch-first determinism: a trajectory's bits do not depend on its batch (ARCHITECTURE rule 3)."""

from __future__ import annotations

import numpy as np

from touchdown.moon.gravity import PointMass
from touchdown.moon.terrain.base import FlatTerrain
from touchdown.sim.initial import state_above_site
from touchdown.sim.simulator import Simulator
from touchdown.vehicle.commands import Commands
from touchdown.vehicle.presets import series1

LAT, LON = np.radians(60.5), np.radians(-4.6)


def scripted_commands(n_engines: int, phase: np.ndarray):
    """Open-loop commands varying with time and a per-trajectory phase: throttles, on/off, torques."""

    def source(t: float, x: np.ndarray) -> Commands:
        n = len(x)
        k = phase[:, None]
        throttle = 0.35 + 0.3 * np.sin(0.2 * t + 0.7 * k + np.arange(n_engines))
        on = np.broadcast_to(np.arange(n_engines) != (int(t) % n_engines), (n, n_engines)).copy()
        torque = np.stack([np.cos(t + k[:, 0]), np.full(n, np.sin(t)), np.zeros(n)], axis=-1) * 5.0
        return Commands(throttle, on, torque)

    return source


def fly(x0, phase):
    veh = series1()
    sim = Simulator(
        veh,
        PointMass(),
        FlatTerrain(-2430.0),
        target_lat=LAT,
        target_lon=LON,
        dt_s=0.02,
        command_period_s=0.1,
        record_period_s=1.0,
    )
    return sim.run(x0, scripted_commands(len(veh.engines), phase), t_max_s=40.0)


def initial_states(n: int):
    veh = series1()
    rows = [
        state_above_site(
            veh,
            LAT + 1e-5 * i,
            LON,
            -2430.0 + 400.0 + 10 * i,
            v_enu_mps=(3.0 + i, -1.0, -12.0 - i),
            propellant_kg=2.0 + 0.5 * i,
        )
        for i in range(n)
    ]
    return np.concatenate(rows)


def test_copies_of_one_state_are_bit_identical_to_n_equals_1():
    x1 = initial_states(1)
    single = fly(x1, np.array([0.3]))
    many = fly(np.repeat(x1, 7, axis=0), np.full(7, 0.3))
    assert single.outcomes[0] != "in_flight"
    for k in range(7):
        assert np.array_equal(many.x_end[k], single.x_end[0])
        assert many.t_end_s[k] == single.t_end_s[0]


def test_each_trajectory_is_independent_of_its_batch_neighbours():
    """Different trajectories (some run dry, all touch down at different steps) flown together and alone."""
    x = initial_states(5)
    phase = np.arange(5.0)
    together = fly(x, phase)
    names = set(together.events.name)
    assert "propellant_exhausted" in names  # the case exercises the within-step events
    for k in range(5):
        alone = fly(x[k : k + 1], phase[k : k + 1])
        assert np.array_equal(together.x_end[k], alone.x_end[0])
        assert together.t_end_s[k] == alone.t_end_s[0]
        assert together.events.for_run(k) == alone.events.for_run(0)
        # the recording is the same up to the trajectory's own end (the batch may fly on after it)
        n_rec = alone.history_t_s.size
        assert np.array_equal(together.history_t_s[: n_rec - 1], alone.history_t_s[:-1])
        assert np.array_equal(together.history_x[: n_rec - 1, k], alone.history_x[:-1, 0])


def test_closed_loop_flight_events_do_not_depend_on_the_batch():
    """Runs touching down at different times: each run's events (touchdown figures included) are those
    it has flown alone, although its flight software keeps ticking until the whole batch ends."""
    from pathlib import Path

    from touchdown.scenario.loader import load_scenario
    from touchdown.sim.flight import Flight, PerRun

    path = Path(__file__).parents[1] / "campaign" / "data" / "drop-campaign.toml"
    sc = load_scenario(str(path)).scenario
    offsets = np.zeros((3, 6))
    offsets[:, 2] = [0.0, -120.0, 60.0]  # start heights differ: touchdowns 10–20 s apart
    prop = np.array([30.0, 12.0, 25.0])

    def fly_runs(rows):
        per_run = PerRun(initial_offset_enu=offsets[rows], propellant_kg=prop[rows])
        return Flight(sc, seed=5, run_indices=np.asarray(rows), record=False, per_run=per_run).run()

    together = fly_runs([0, 1, 2])
    assert len(set(together.sim.t_end_s.round(1))) == 3
    for k in range(3):
        alone = fly_runs([k])
        assert alone.events[0] == together.events[k]
        assert alone.sim.x_end[0].tobytes() == together.sim.x_end[k].tobytes()


def test_the_states_handed_to_the_command_source_are_never_written_afterwards():
    """The simulator's contract (``CommandSource``): a source may keep the x it is handed without a copy,
    through the steps where all fly, where some have landed, and where some run dry."""
    veh = series1()
    site = {"target_lat": LAT, "target_lon": LON}
    sim = Simulator(veh, PointMass(), FlatTerrain(-2430.0), **site, dt_s=0.02, command_period_s=0.1)
    script = scripted_commands(len(veh.engines), np.arange(5.0))
    kept: list[tuple[np.ndarray, np.ndarray]] = []
    landed = []  # per tick: how many rows had touched down

    def source(t: float, x: np.ndarray) -> Commands:
        kept.append((x, x.copy()))
        landed.append(int((~sim.active).sum()))
        return script(t, x)

    res = sim.run(initial_states(5), source, t_max_s=40.0)
    assert "propellant_exhausted" in set(res.events.name)
    assert any(0 < k < 5 for k in landed)  # ticks with some rows frozen, some flying
    for x, snapshot in kept:
        assert np.array_equal(x, snapshot)
