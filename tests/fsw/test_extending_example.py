"""docs/extending.md's worked examples run as written, so they cannot drift from the interfaces.

Each block marked ``<!-- example: NAME -->`` is executed: the propellant gauge (measurement and model) is
measured in a batch and alone and faulted through its channels; the exponential-descent law is checked
against the guidance interface, its schema entry validates the page's TOML, its build branch makes the
law, and the law flies the minimal scenario of docs/scenarios.md to a landing.
"""

from __future__ import annotations

import re
import sys
import textwrap
import tomllib
import types
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

import touchdown.sensors.base as sensors_base
from touchdown.errors import InputError
from touchdown.fsw.flight_software import BRAKING
from touchdown.fsw.guidance import GuidanceLaw
from touchdown.noise import run_keys
from touchdown.scenario import schema
from touchdown.scenario.loader import load_scenario_text
from touchdown.sensors.faults import Fault, FaultInjector, Trigger, validate_targets
from touchdown.sim.flight import Flight
from touchdown.sim.initial import make_state
from touchdown.vehicle.presets import series1

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = (DOCS / "extending.md").read_text(encoding="utf-8")


def example(name: str) -> str:
    """The code block right after ``<!-- example: name -->``."""
    m = re.search(rf"<!-- example: {re.escape(name)} -->\n```\w+\n(.*?)```", PAGE, flags=re.DOTALL)
    assert m, f"docs/extending.md has no example '{name}'"
    return m.group(1)


def as_module(name: str, source: str, **namespace) -> types.ModuleType:
    """Execute ``source`` as module ``name`` (registered in sys.modules, as dataclasses need)."""
    module = types.ModuleType(name)
    module.__dict__.update(namespace)
    sys.modules[name] = module
    exec(compile(source, f"docs/extending.md ({name})", "exec"), module.__dict__)
    return module


def minimal_scenario_text() -> str:
    page = (DOCS / "scenarios.md").read_text(encoding="utf-8")
    return re.findall(r"```toml\n(.*?)```", page, flags=re.DOTALL)[0]


# --------------------------------------------------------------------------------------------------
# the sensor


@pytest.fixture
def gauge(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The page's GaugeMeasurement (as if in sensors/base.py) and its model module."""
    ns = dict(vars(sensors_base))
    ns.update(dataclass=dataclass, ClassVar=ClassVar)
    exec(example("sensor-measurement"), ns)
    cls = ns["GaugeMeasurement"]
    monkeypatch.setattr(sensors_base, "GaugeMeasurement", cls, raising=False)
    model = as_module("extending_example_gauge", example("sensor-model"))
    return SimpleNamespace(
        measurement=cls, GaugeParams=model.GaugeParams, PropellantGauge=model.PropellantGauge
    )


def _states(n: int, propellant_kg: np.ndarray) -> np.ndarray:
    lander = series1()
    r = np.tile([1_737_400.0 + 2000.0, 0.0, 0.0], (n, 1))
    return make_state(
        lander, r, np.zeros((n, 3)), np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)), propellant_kg=propellant_kg
    )


def test_gauge_reads_the_truth_and_is_the_same_in_any_batch(gauge):
    dry = series1().mass.dry_mass_kg
    sensor = gauge.PropellantGauge("gauge", gauge.GaugeParams(dry_mass_kg=dry))
    n = 50
    prop = np.linspace(100.0, 400.0, n)
    x = _states(n, prop)
    keys = run_keys(7, np.arange(n))
    batch = sensor.measure(sensor.initial_state(keys), 12.0, x)
    assert isinstance(batch, sensors_base.Measurement) and batch.n == n
    assert batch.propellant_kg.shape == (n,) and batch.valid.all()
    err = batch.propellant_kg - prop
    assert 0.5 < err.std() < 5.0  # bias 2 kg and noise 0.5 kg (1σ)
    for i in (0, 17, n - 1):  # run i flown alone: the same bits
        one = sensor.measure(sensor.initial_state(keys[i : i + 1]), 12.0, x[i : i + 1])
        np.testing.assert_array_equal(one.propellant_kg, batch.propellant_kg[i : i + 1])
    ideal = gauge.PropellantGauge("gauge", gauge.GaugeParams(dry, noise_sigma_kg=0.0, bias_sigma_kg=0.0))
    np.testing.assert_allclose(
        ideal.measure(ideal.initial_state(keys), 0.0, x).propellant_kg, prop, rtol=1e-12
    )
    quiet = sensor.measure(sensor.initial_state(keys), 12.0, x, noise_scale=np.zeros(n))
    assert not np.array_equal(quiet.propellant_kg, batch.propellant_kg)  # noise_scale reaches the noise


def test_gauge_faults_work_through_its_channels(gauge):
    sensor = gauge.PropellantGauge("gauge", gauge.GaugeParams(series1().mass.dry_mass_kg))
    n = 4
    x = _states(n, np.full(n, 300.0))
    state = sensor.initial_state(run_keys(0, np.arange(n)))
    meas = sensor.measure(state, 5.0, x)
    validate_targets([Fault("bias", "gauge.mass", value=10.0)], {"gauge": ("mass",)}, [])
    with pytest.raises(InputError, match="no channel"):
        validate_targets([Fault("bias", "gauge.volume", value=10.0)], {"gauge": ("mass",)}, [])
    biased = FaultInjector([Fault("bias", "gauge.mass", value=10.0)], n).apply(meas, Trigger(5.0))
    np.testing.assert_allclose(biased.propellant_kg - meas.propellant_kg, 10.0)
    off = FaultInjector([Fault("off", "gauge")], n).apply(meas, Trigger(5.0))
    assert not off.valid.any() and np.isnan(off.propellant_kg).all()


# --------------------------------------------------------------------------------------------------
# the guidance law


@pytest.fixture(scope="module")
def law_module() -> dict:
    return vars(as_module("extending_example_exponential", example("guidance-law")))


def test_law_meets_the_interface_row_by_row(law_module):
    law = law_module["ExponentialDescentGuidance"]()
    assert isinstance(law, GuidanceLaw) and law.frame == "local"
    rng = np.random.default_rng(3)
    n = 30
    r = np.column_stack((np.zeros((n, 2)), rng.uniform(0.0, 3000.0, n)))
    v = rng.uniform(-40.0, 40.0, (n, 3))
    g = np.tile([0.0, 0.0, -1.62], (n, 1))
    law.reset(n)
    cmd = law.command(0.0, r, v, g)
    assert cmd.a_thrust_site.shape == (n, 3) and cmd.t_go_s.shape == (n,) and cmd.complete.dtype == bool
    assert (cmd.a_thrust_site[:, 2] >= 0.0).all() and not cmd.complete.any()
    for i in range(n):
        one = law.command(0.0, r[i : i + 1], v[i : i + 1], g[i : i + 1])
        np.testing.assert_array_equal(one.a_thrust_site[0], cmd.a_thrust_site[i])
    # at 1,200 m descending at the commanded −20 m/s with no drift: hover thrust, nothing else
    hold = law.command(0.0, np.array([[0.0, 0.0, 1200.0]]), np.array([[0.0, 0.0, -20.0]]), g[:1])
    np.testing.assert_allclose(hold.a_thrust_site[0], [0.0, 0.0, 1.62], atol=1e-12)
    with pytest.raises(InputError):
        law.command(0.0, r, v[:-1], g)
    with pytest.raises(InputError, match="descent"):
        law_module["ExponentialDescentParams"](final_rate_mps=1.0)


def test_law_registered_built_and_flown_lands(law_module):
    ns = dict(vars(schema))
    exec(example("guidance-schema"), ns)
    assert "exponential" in ns["GUIDANCE_LAWS"]
    phase_law = TypeAdapter(ns["PhaseLaw"])
    table = tomllib.loads(example("guidance-toml"))["fsw"]["guidance"]["braking"]
    phase = phase_law.validate_python(table)
    assert type(phase).__name__ == "ExponentialPhase"
    with pytest.raises(ValidationError):
        phase_law.validate_python({**table, "final_rate_mps": 1.0})
    assert isinstance(phase_law.validate_python({"law": "vertical"}), schema.VerticalPhase)

    build_src = "def guidance_law(sc, phase, vehicle):\n" + textwrap.indent(example("guidance-build"), "    ")
    build_ns = {
        "schema": SimpleNamespace(ExponentialPhase=ns["ExponentialPhase"]),
        **{k: law_module[k] for k in ("ExponentialDescentGuidance", "ExponentialDescentParams")},
    }
    exec(build_src, build_ns)
    law = build_ns["guidance_law"](None, phase, None)
    assert law.params.tau_s == table["tau_s"] and law.params.final_rate_mps == table["final_rate_mps"]

    sc = load_scenario_text(minimal_scenario_text(), "docs/scenarios.md").scenario
    flight = Flight(sc, seed=0, record=False)
    flight.fsw.laws[BRAKING] = law
    law.reset(flight.n)
    result = flight.run()
    assert result.outcomes == ["landed"]
    assert abs(result.sim.touchdown.vertical_speed_mps[0] - 1.0) < 0.3  # the final rate
