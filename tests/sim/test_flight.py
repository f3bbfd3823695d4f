"""The closed loop: sensors, faults and flight software flying the built-in scenarios.

Oracles: REFERENCE §3.4 (Apollo 11: PDI to touchdown 756 s, 45 s of hover left, braking/approach switch
near 7,000 ft) and the HAKUTO-R M1 mechanism of REFERENCE §3.2 (a latched altimeter over a terrain step).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from touchdown.fsw.flight_software import FlightSoftware
from touchdown.moon.constants import G_SURFACE
from touchdown.scenario.loader import load_scenario
from touchdown.sensors.base import Measurement
from touchdown.sim.flight import Flight

FT = 0.3048


def test_flight_software_receives_only_measurements():
    """Runtime half of ARCHITECTURE rule 1: every argument the FSW gets is a time or a measurement, and its
    map is its own object, not the truth terrain."""
    sc = load_scenario("apollo11", ["sim.t_max_s=3.0"]).scenario
    fl = Flight(sc)
    seen: list[type] = []
    step = fl.fsw.step

    def spy(t_s, measurements):
        assert isinstance(t_s, float)
        seen.extend(type(m) for m in measurements)
        assert all(isinstance(m, Measurement) for m in measurements)
        return step(t_s, measurements)

    fl.fsw.step = spy  # type: ignore[method-assign]
    fl.run()
    assert {c.__name__ for c in seen} >= {"ImuMeasurement", "StarTrackerMeasurement", "AltimeterMeasurement"}
    assert fl.fsw.map.terrain is not fl.terrain
    assert not any(isinstance(v, (Flight, type(fl.sim))) for v in vars(fl.fsw).values())
    assert isinstance(fl.fsw, FlightSoftware)


def test_thrust_loss_fault_reaches_the_delivered_thrust_of_an_on_off_engine(tmp_path):
    """A ``thrust_loss`` of 100 % on Series 1's on/off 400 N engine: the flight software still commands it
    on, and the truth burns only the 200 N thrusters' propellant (REFERENCE §3.1 engines)."""
    text = load_scenario("series1-frigoris-nominal").text
    faulty = tmp_path / "s1-loss.toml"
    faulty.write_text(text + '\n[[faults]]\nkind = "thrust_loss"\ntarget = "main_400n"\nvalue = 1.0\n')
    sets = ["fsw.sequencer.ignition_time_s=0.0", "sim.t_max_s=4.0"]
    burned = []
    for source in ("series1-frigoris-nominal", faulty):
        fl = Flight(load_scenario(source, sets).scenario, record=False)
        res = fl.run()
        burned.append(fl.initial_state()[0, 13] - res.sim.x_end[0, 13])
        assert fl.fsw.commands.engine_on[0, 0]  # still commanded on
    main_flow = 400.0 / fl.vehicle.exhaust_velocity_mps[0]
    assert burned[0] - burned[1] == pytest.approx(main_flow * 4.0, rel=0.03)  # less the 0.05 s engine lag


def test_fault_onset_and_end_are_flight_events(tmp_path):
    """A fault's onset and end appear as truth-side events with the truth figures at that tick."""
    text = load_scenario("series1-frigoris-nominal").text
    faulty = tmp_path / "s1-window.toml"
    faulty.write_text(
        text + '\n[[faults]]\nkind = "thrust_loss"\ntarget = "main_400n"\nvalue = 1.0\n'
        "start_time_s = 1.0\nduration_s = 2.0\n"
    )
    fl = Flight(load_scenario(faulty, ["sim.t_max_s=4.0"]).scenario, record=False)
    res = fl.run()
    events = {e["name"]: e for e in res.events[0]}
    onset, end = events["fault:thrust_loss:main_400n"], events["fault_cleared:thrust_loss:main_400n"]
    assert onset["t_s"] == pytest.approx(1.0)
    assert end["t_s"] == pytest.approx(3.0)
    for ev in (onset, end):  # coasting down towards perilune, ≈ 20 km up
        assert ev["true_altitude_m"] > 10_000.0 and -5.0 < ev["vertical_speed_mps"] < 0.0
    assert sum(e["name"].startswith("fault") for e in res.events[0]) == 2  # each logged once


def hover_time_s(propellant_kg: np.ndarray, mass_kg: np.ndarray, ve_mps: float) -> np.ndarray:
    """Hover time [s] the propellant buys at lunar surface gravity: (vₑ/g) ln(m / (m − m_p))."""
    return ve_mps / G_SURFACE * np.log(mass_kg / (mass_kg - propellant_kg))


@pytest.mark.slow
def test_apollo11_nominal_lands_like_eagle_across_20_seeds():
    """REFERENCE §3.4: PDI → touchdown 756.39 s (± 60 s) and 45 s of hover left (± 25 s) in every one of 20
    runs (each its own noise, biases and initial error), all landed; braking → approach at ≈ 7,000 ft."""
    loaded = load_scenario("apollo11")
    fl = Flight(loaded.scenario, seed=11, run_indices=np.arange(20), record=False)
    res = fl.run()
    td = res.sim.touchdown
    assert res.outcomes == ["landed"] * 20, res.outcomes
    assert np.all(np.abs(td.time_s - 756.39) <= 60.0), td.time_s
    dry = fl.vehicle.mass.dry_mass_kg
    hover = hover_time_s(
        td.propellant_remaining_kg,
        dry + td.propellant_remaining_kg,
        fl.vehicle.engines[0].exhaust_velocity_mps,
    )
    assert np.all(np.abs(hover - 45.0) <= 25.0), hover
    np.testing.assert_allclose(res.hover_time_s, hover, rtol=1e-12)  # the figure `fly --check` uses
    lim = fl.vehicle.limits
    assert np.all(td.vertical_speed_mps <= lim.max_vertical_speed_mps)
    assert np.all(td.horizontal_speed_mps <= lim.max_horizontal_speed_mps)
    switch = []
    for events in res.events:
        ev = [e["true_altitude_m"] for e in events if e["name"] == "phase:approach"]
        assert len(ev) == 1
        switch.append(ev[0])
    # the published ≈ 7,000 ft is one flight's: the median run meets it within 15 %; every run lands near it
    # (P63 here ends ≈ 50 s earlier than Eagle's, so the switch sits 10–17 % high: see the issue 3 notes)
    assert np.median(switch) == pytest.approx(7000 * FT, rel=0.15), np.round(switch)
    assert np.all(np.abs(np.array(switch) / (7000 * FT) - 1.0) <= 0.20), np.round(switch)


@pytest.mark.slow
def test_series1_frigoris_nominal_lands_across_20_seeds():
    """REFERENCE §3.1 descent plan: full-thrust braking from perilune to a gate ≈ 2 km up with the horizontal
    speed nulled, then a vertical descent ending at ≈ 1 m/s with the 400 N engine shut off just before
    touchdown; every one of 20 runs lands within the vehicle's limits (REFERENCE §5). The flight software's
    own estimate of the last touchdown (the braking law's time to the gate plus the terminal schedule's
    descent time; what a campaign's ETA reads) is close from early in the braking."""
    loaded = load_scenario("series1-frigoris-nominal")
    fl = Flight(loaded.scenario, seed=11, run_indices=np.arange(20), record=False)
    expected: dict[int, float] = {}

    def sample_expected_end(t: float, flying: int) -> None:
        if round(10 * t) in (300, 1000, 5000):
            expected[round(t)] = fl.expected_end_s()

    res = fl.run(progress=sample_expected_end)
    td = res.sim.touchdown
    last = res.sim.t_end_s.max()
    assert math.isnan(expected[30])  # coasting to ignition at 60 s: no estimate
    assert abs(expected[100] - last) < 0.08 * last and abs(expected[500] - last) < 0.02 * last, expected
    assert res.outcomes == ["landed"] * 20, res.outcomes
    lim = fl.vehicle.limits
    assert np.all(td.vertical_speed_mps <= lim.max_vertical_speed_mps)
    assert np.all(td.horizontal_speed_mps <= lim.max_horizontal_speed_mps)
    assert np.all(np.abs(td.vertical_speed_mps - 1.0) < 0.2), td.vertical_speed_mps  # final ≈ 1 m/s
    assert np.all(td.propellant_remaining_kg > 0.0)
    for events in res.events:
        gate = [e for e in events if e["name"] == "phase:terminal"]
        assert len(gate) == 1
        assert gate[0]["true_altitude_m"] == pytest.approx(2000.0, rel=0.15)
        assert gate[0]["horizontal_speed_mps"] < 30.0 and abs(gate[0]["vertical_speed_mps"]) < 10.0
        cut = [e for e in events if e["name"] == "engine_cutoff:main_400n"]
        assert len(cut) == 1 and 0.0 < cut[0]["true_altitude_m"] < 100.0


class StepTerrain:
    """Two plains joined by a 200 m wide ramp at longitude ``lon_step`` [rad]: ``high_m`` east of it."""

    def __init__(self, lon_step: float, low_m: float, high_m: float, width_m: float = 200.0) -> None:
        self.lon_step, self.low_m, self.high_m, self.width_m = lon_step, low_m, high_m, width_m
        self.max_slope = (high_m - low_m) / width_m * 1.01
        self.description = f"test step: {high_m - low_m:.0f} m cliff"

    def height_gradient(self, lat, lon):
        lat, lon = np.broadcast_arrays(np.asarray(lat, float), np.asarray(lon, float))
        x = (np.mod(lon - self.lon_step + np.pi, 2 * np.pi) - np.pi) * 1737400.0 * np.cos(lat)  # m east of it
        f = np.clip(x / self.width_m + 0.5, 0.0, 1.0)
        h = self.low_m + (self.high_m - self.low_m) * f
        ramp = (f > 0.0) & (f < 1.0)
        return h, np.where(ramp, (self.high_m - self.low_m) / self.width_m, 0.0), np.zeros_like(h)

    def height(self, lat, lon):
        return self.height_gradient(lat, lon)[0]


@pytest.mark.slow
@pytest.mark.parametrize("gating", ["latch", "robust"])
def test_gating_policy_over_a_2500_m_terrain_step(gating):
    """HAKUTO-R M1 (REFERENCE §3.2) in miniature. The LM flies over a plateau 2.5 km above its flat onboard
    map; the filter learns it as map offset. The plateau ends in a cliff 30 km before the site, crossed ≈ 6 km
    up: the range jumps by 2.5 km. ``latch`` abandons the altimeter and believes the ground is still 2.5 km
    higher (estimate off by kilometres, as on M1); ``robust`` re-admits it and stays within 50 m."""
    site_h = -1883.0
    loaded = load_scenario(
        "apollo11",
        [
            f"fsw.navigation.gating={gating}",
            "fsw.navigation.onboard_map=flat",
            f"fsw.navigation.map_height_m={site_h}",
            "fsw.navigation.terrain_sigma_m=3000.0",
        ],
    )
    sc = loaded.scenario
    lat, lon = math.radians(sc.site.lat_deg), math.radians(sc.site.lon_deg)
    lon_step = lon + 30_000.0 / (1737400.0 * math.cos(lat))
    terrain = StepTerrain(lon_step, site_h, site_h + 2500.0)
    res = Flight(sc, terrain=terrain).run()
    tm = res.telemetry
    t = tm["t_s"][:, 0]
    err = tm["nav_altitude_m"][:, 0] - tm["true_altitude_m"][:, 0]
    crossing = t[np.argmax(tm["true_lon_deg"][:, 0] < math.degrees(lon_step))]
    alt_at_crossing = tm["true_altitude_m"][t == crossing, 0][0]
    assert 2000.0 < alt_at_crossing < 10_000.0
    before = (t > crossing - 60.0) & (t < crossing - 20.0)  # the 45° beam sees the cliff ≈ 15 s early
    assert np.all(np.abs(err[before]) < 50.0)  # both policies had learned the plateau
    events = [e["name"] for e in res.events[0]]
    after = t > crossing + 10.0
    if gating == "latch":
        assert "landing_radar_abandoned" in events
        assert np.all(err[after] < -2000.0)  # believes it is ≥ 2 km lower than it is
        assert res.outcomes[0] != "landed"
    else:
        assert "landing_radar_readmitted" in events and "landing_radar_abandoned" not in events
        assert np.max(np.abs(err[after])) < 50.0
        assert res.outcomes[0] == "landed"


@pytest.mark.slow
def test_series1_nominal_truth_step_is_converged():
    """The Series 1 scenarios fly 0.1 s truth steps (the engine lag in closed form, docs/truth-model.md):
    the nominal descent at 0.1 s and at 25 ms lands the same 6 runs within 0.05 s, 5 mm/s and 5 g (the
    measured spread is 2 ms, 0.1 mm/s and 0.3 g; a decision on a knife edge may move one run more)."""
    runs = {}
    for dt in (0.1, 0.025):
        sc = load_scenario("series1-frigoris-nominal", [f"sim.dt_s={dt}"]).scenario
        runs[dt] = Flight(sc, seed=0, run_indices=np.arange(6), record=False).run()
    coarse, fine = runs[0.1], runs[0.025]
    assert coarse.outcomes == fine.outcomes == ["landed"] * 6
    a, b = coarse.sim.touchdown, fine.sim.touchdown
    assert np.median(np.abs(coarse.sim.t_end_s - fine.sim.t_end_s)) < 0.05
    assert np.median(np.abs(a.vertical_speed_mps - b.vertical_speed_mps)) < 5e-3
    assert np.median(np.abs(a.horizontal_speed_mps - b.horizontal_speed_mps)) < 5e-3
    assert np.median(np.abs(a.propellant_remaining_kg - b.propellant_remaining_kg)) < 5e-3
