"""Each fault kind on a synthetic measurement stream; engine command filters; bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from touchdown.errors import InputError
from touchdown.moon.frames import quat_conjugate, quat_identity, quat_multiply
from touchdown.sensors.base import AltimeterMeasurement, StarTrackerMeasurement, VelocimeterMeasurement
from touchdown.sensors.faults import FAULT_KINDS, Fault, FaultInjector, Trigger, validate_targets

N = 3
RATE = 10.0  # ticks per second of the synthetic sensor
RUN = np.arange(N, dtype=float)


def truth_value(t: float) -> np.ndarray:
    """(N, 3): a ramp per run, distinct per run and component."""
    return (t + 100.0 * RUN)[:, None] * np.array([1.0, 2.0, 3.0])


def stream(faults, *, ticks: int = 60, altitude=None, phase=None, enabled=None, sensor: str = "dv"):
    """Run the faults over a synthetic velocimeter stream; returns times, values (T, N, 3), valid (T, N)."""
    inj = FaultInjector(faults, N, enabled)
    ts, vals, oks = [], [], []
    for k in range(ticks):
        t = k / RATE
        trig = Trigger(t, None if altitude is None else altitude(t), None if phase is None else phase(t))
        m = VelocimeterMeasurement(sensor, t, truth_value(t), np.ones(N, bool))
        out = inj.apply(m, trig)
        assert out.t_s == t  # latency is unannounced: the time tag never changes
        ts.append(t), vals.append(out.v_body_mps), oks.append(out.valid)
    return np.array(ts), np.array(vals), np.array(oks)


def clean(t: np.ndarray) -> np.ndarray:
    return np.stack([truth_value(x) for x in t])


def test_no_fault_and_other_targets_pass_through() -> None:
    t, v, ok = stream([Fault("off", "lrf"), Fault("bias", "imu.accel", value=1.0)])
    assert np.array_equal(v, clean(t)) and ok.all()


def test_off_and_dropout_window() -> None:
    t, v, ok = stream([Fault("off", "dv", start_time_s=2.0)])
    assert np.array_equal(ok.all(axis=1), t < 2.0 - 1e-9) and np.isnan(v[t >= 2.0]).all()
    t, v, ok = stream([Fault("dropout", "dv", start_time_s=2.0, duration_s=1.5)])
    window = (t >= 2.0 - 1e-9) & (t < 3.5 - 1e-9)
    assert np.array_equal(~ok.any(axis=1), window)
    assert np.array_equal(v[~window], clean(t)[~window])
    with pytest.raises(InputError):
        Fault("dropout", "dv", start_time_s=2.0)  # a dropout needs a window


def test_stuck_at_current_and_at_value() -> None:
    t, v, ok = stream([Fault("stuck", "dv", start_time_s=1.0, duration_s=2.0)])
    k1 = int(1.0 * RATE)
    held = (t >= 1.0 - 1e-9) & (t < 3.0 - 1e-9)
    assert np.array_equal(v[held], np.broadcast_to(truth_value(t[k1]), v[held].shape))
    assert ok.all()  # a stuck sensor says it is fine
    assert np.array_equal(v[~held], clean(t)[~held])
    t, v, ok = stream([Fault("stuck", "dv", start_time_s=1.0, value=(7.0, 8.0, 9.0))])
    assert np.array_equal(v[t >= 1.0], np.broadcast_to([7.0, 8.0, 9.0], v[t >= 1.0].shape)) and ok.all()


def test_bias_drift_and_per_run_masks() -> None:
    t, v, _ = stream(
        [Fault("bias", "dv", start_time_s=0.5, value=(1.0, -2.0, 0.5))], enabled=[[True, False, True]]
    )
    d = v - clean(t)
    on = t >= 0.5 - 1e-9
    assert (
        np.allclose(d[on][:, [0, 2]], [1.0, -2.0, 0.5]) and np.all(d[on][:, 1] == 0) and np.all(d[~on] == 0)
    )
    t, v, _ = stream([Fault("drift", "dv.velocity", start_time_s=1.0, rate_per_s=0.2)])
    d = v - clean(t)
    expect = np.where(t >= 1.0 - 1e-9, 0.2 * (t - 1.0), 0.0)
    assert np.allclose(d, expect[:, None, None], atol=1e-12)


def test_spike_appears_once() -> None:
    t, v, ok = stream([Fault("spike", "dv", start_time_s=2.05, value=500.0)])
    d = v - clean(t)
    hits = np.flatnonzero(np.any(d != 0, axis=(1, 2)))
    assert hits.tolist() == [21] and np.allclose(d[21], 500.0) and ok.all()


def test_delay_shifts_by_the_right_number_of_ticks() -> None:
    t, v, ok = stream([Fault("delay", "dv", start_time_s=2.0, delay_s=0.3)])
    late = t >= 2.0 - 1e-9
    k = np.flatnonzero(late)
    assert np.array_equal(v[k], clean(t)[k - 3])  # 0.3 s at 10 Hz: 3 ticks
    assert np.array_equal(v[~late], clean(t)[~late]) and ok.all()
    # a delay from the first tick has no history to give at first: invalid until it has
    t, v, ok = stream([Fault("delay", "dv", delay_s=0.3)])
    assert ok.all(axis=1).tolist()[:4] == [False, False, False, True]
    assert np.array_equal(v[3:], clean(t)[:-3])


def test_late_acquisition_on_altitude_and_on_own_range() -> None:
    def alt(t):  # runs descend from 3 km at 480, 950 and 2000 m/s (fast, to keep the stream short)
        return 3000.0 - np.array([480.0, 950.0, 2000.0]) * t

    t, _v, ok = stream([Fault("late_acquisition", "dv", below_m=900.0)], altitude=alt)
    first = [t[np.argmax(ok[:, i])] for i in range(N)]
    assert first == pytest.approx([4.4, 2.3, 1.1], abs=1e-9)  # first tick with altitude ≤ 900 m
    assert all(ok[t >= f - 1e-9, i].all() and not ok[t < f - 1e-9, i].any() for i, f in enumerate(first))

    inj = FaultInjector([Fault("late_acquisition", "lrf", below_m=900.0, reference="range")], 1)
    got = []
    for k, r in enumerate([3000.0, 1500.0, 950.0, 880.0, 950.0]):  # per beam: beam 1 reads 2 × r
        m = AltimeterMeasurement(
            "lrf", k * 0.1, np.array([[r, 2 * r]]), np.ones((1, 2), bool), np.eye(2, 3), np.zeros((2, 3))
        )
        got.append(inj.apply(m, Trigger(k * 0.1)).valid[0].tolist())
    assert got == [[False, False]] * 3 + [[True, False], [True, False]]


def test_noise_scale_multiplies_sigma() -> None:
    from touchdown.moon.terrain.base import FlatTerrain
    from touchdown.noise import run_keys
    from touchdown.sensors.altimeter import AltimeterParams, LaserAltimeter
    from touchdown.sim.initial import state_above_site
    from touchdown.vehicle.presets import series1

    n = 4000
    x = state_above_site(series1(), 0.3, 0.2, 1000.0, propellant_kg=300.0, n=n)
    lrf = LaserAltimeter("lrf", AltimeterParams(noise_sigma_m=1.0, noise_fraction=0.0, quantization_m=0.0))
    inj = FaultInjector([Fault("noise_scale", "lrf", start_time_s=5.0, value=4.0)], n)
    keys = run_keys(0, np.arange(n))
    errs = []
    for t in (1.0, 6.0):
        trig = Trigger(t)
        m = inj.apply(
            lrf.measure(
                lrf.initial_state(keys), t, x, FlatTerrain(0.0), noise_scale=inj.noise_scale("lrf", trig)
            ),
            trig,
        )
        errs.append((m.range_m[:, 0] - 1000.0).std())
    assert abs(errs[0] - 1.0) < 0.06 and abs(errs[1] - 4.0) < 0.25


def test_altitude_and_phase_triggers() -> None:
    t, _, ok = stream(
        [Fault("off", "dv", start_altitude_m=2000.0, duration_s=1.0)],
        altitude=lambda t: 3000.0 - 500.0 * t + 0 * RUN,
    )
    assert np.array_equal(~ok.all(axis=1), (t >= 2.0 - 1e-9) & (t < 3.0 - 1e-9))
    phases = lambda t: np.where(t + RUN >= 3.0, "approach", "braking")  # noqa: E731
    t, _v, ok = stream([Fault("off", "dv", start_phase="approach")], phase=phases)
    for i in range(N):
        assert np.array_equal(~ok[:, i], t + i >= 3.0 - 1e-9)


def test_attitude_bias_is_a_rotation() -> None:
    inj = FaultInjector([Fault("bias", "st", value=(0.0, 0.0, 0.01))], 2)
    q = quat_identity((2,))
    out = inj.apply(StarTrackerMeasurement("st", 0.0, q, np.ones(2, bool)), Trigger(0.0))
    dq = quat_multiply(quat_conjugate(q), out.q_body_to_mci)
    assert np.allclose(2 * np.arctan2(np.linalg.norm(dq[:, 1:], axis=1), dq[:, 0]), 0.01)
    assert np.allclose(dq[:, 1:3], 0.0)


def test_engine_thrust_loss_and_failure_to_ignite() -> None:
    names = ["main", "t1", "t2"]
    inj = FaultInjector(
        [
            Fault("thrust_loss", "main", start_time_s=5.0, value=0.4),
            Fault("fail_to_ignite", "t1", start_time_s=1.0, duration_s=10.0),
        ],
        2,
    )
    thr = np.full((2, 3), 0.8)
    on = np.array([[True, True, True], [True, False, True]])  # run 1: t1 off when the fault starts
    u, o = inj.engine_commands(thr, on, names, Trigger(0.5))
    assert np.array_equal(u, thr) and np.array_equal(o, on)  # nothing active yet
    u, o = inj.engine_commands(thr, on, names, Trigger(2.0))
    assert np.array_equal(u, thr) and np.array_equal(o, on)  # t1 burning in run 0 keeps burning
    u, o = inj.engine_commands(thr, np.ones((2, 3), bool), names, Trigger(6.0))
    assert np.array_equal(u, thr)  # thrust_loss acts on delivered thrust, not on the command
    assert o[:, 1].tolist() == [True, False]  # run 1 cannot light t1
    assert np.allclose(inj.thrust_scale(names, Trigger(6.0))[:, 0], 0.6)
    _, o = inj.engine_commands(thr, np.array([[True, False, True]] * 2), names, Trigger(7.0))  # shut t1
    _, o = inj.engine_commands(thr, np.ones((2, 3), bool), names, Trigger(8.0))
    assert o[:, 1].tolist() == [False, False]  # once shut, no restart while the fault lasts
    _, o = inj.engine_commands(thr, np.ones((2, 3), bool), names, Trigger(12.5))
    assert o.all()  # the window (from the onset latched at the 2.0 s tick, 10 s long) has ended
    assert thr[0, 0] == 0.8  # inputs are not modified


def test_unknown_kind_and_bad_targets_are_one_line_input_errors() -> None:
    with pytest.raises(InputError) as e:
        Fault("stuk", "lrf")
    msg = str(e.value)
    assert "\n" not in msg and "'stuk'" in msg and all(k in msg for k in FAULT_KINDS)
    for bad in (
        lambda: Fault("bias", "lrf"),  # needs a value
        lambda: Fault("thrust_loss", "main", value=1.5),
        lambda: Fault("noise_scale", "lrf", value=(2.0, 3.0)),
        lambda: Fault("late_acquisition", "lrf", below_m=900.0, reference="radar"),
        lambda: validate_targets([Fault("off", "lidar")], {"lrf": ["range"]}, ["main"]),
        lambda: validate_targets([Fault("off", "imu.magnetometer")], {"imu": ["accel", "gyro"]}, ["main"]),
        lambda: validate_targets([Fault("fail_to_ignite", "dps")], {}, ["main"]),
        lambda: stream([Fault("off", "dv.range")]),
    ):
        with pytest.raises(InputError) as e:
            bad()
        assert "\n" not in str(e.value)
    validate_targets(
        [Fault("off", "imu.gyro"), Fault("thrust_loss", "all", value=0.1)], {"imu": ["gyro"]}, ["m"]
    )
    assert math.isinf(Fault("off", "lrf").duration_s)


def test_a_trigger_computes_altitude_and_phase_only_when_a_fault_asks_and_once():
    calls = {"altitude": 0, "phase": 0}

    def altitude():
        calls["altitude"] += 1
        return np.array([500.0, 50.0])

    def phase():
        calls["phase"] += 1
        return np.array(["braking", "terminal"])

    trig = Trigger(3.0, altitude_m=altitude, phase=phase)
    assert calls == {"altitude": 0, "phase": 0}
    assert np.array_equal(trig.altitude_m, [500.0, 50.0]) and np.array_equal(trig.altitude_m, [500.0, 50.0])
    assert trig.phase[1] == "terminal" and trig.phase[0] == "braking"
    assert calls == {"altitude": 1, "phase": 1}
    assert Trigger(3.0).altitude_m is None and Trigger(3.0).phase is None
    assert np.array_equal(Trigger(1.0, np.array([7.0])).altitude_m, [7.0])  # a value as before
