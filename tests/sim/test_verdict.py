"""Touchdown classification against hand-built contact states (limits from REFERENCE §5)."""

from __future__ import annotations

import numpy as np
import pytest

from touchdown.moon.frames import quat_from_axis_angle
from touchdown.moon.gravity import UniformGravity
from touchdown.moon.terrain.base import FlatTerrain
from touchdown.sim.initial import state_above_site
from touchdown.sim.simulator import Simulator
from touchdown.sim.touchdown import judge_touchdown
from touchdown.vehicle.commands import Commands
from touchdown.vehicle.dynamics import W
from touchdown.vehicle.presets import apollo_lm, series1


class TiltedPlane:
    """A plane rising to the east with constant slope (for tip-over cases)."""

    def __init__(self, slope_deg: float) -> None:
        self.g = np.tan(np.radians(slope_deg))
        self.max_slope = self.g
        self.description = f"plane, {slope_deg}° slope rising east"

    def height(self, lat, lon):
        return np.asarray(lon, dtype=float) * 1_737_400.0 * self.g

    def height_gradient(self, lat, lon):
        h = self.height(lat, lon)
        return h, np.full_like(h, self.g), np.zeros_like(h)


def judge(v_enu, *, tilt_deg=0.0, rate_dps=0.0, terrain=None, contact_point=0, vehicle=series1):
    veh = vehicle()
    q = quat_from_axis_angle([1.0, 0.0, 0.0], np.radians(tilt_deg))
    x = state_above_site(veh, 0.0, 0.0, 1.0, v_enu_mps=v_enu, q_body_to_enu=q, propellant_kg=50.0)
    x[:, W] = [np.radians(rate_dps), 0.0, 0.0]
    rep = judge_touchdown(veh, terrain or FlatTerrain(), 0.0, 0.0, np.zeros(1), x, np.array([contact_point]))
    return rep.outcome_names()[0], rep


@pytest.mark.parametrize(
    ("v_enu", "kw", "expected"),
    [
        ((0.0, 0.0, -1.0), {}, "landed"),  # Series 1 plan: ≈ 1 m/s (REFERENCE §3.1)
        ((1.0, 0.0, -3.5), {}, "landed"),
        ((2.0, 0.0, -1.0), {}, "tipped_over"),  # no-slip pivot: Series 1 (assumed gear) tips at 1.6 m/s
        ((0.0, 0.0, -4.5), {}, "hard_landing"),  # > 4 m/s vertical
        ((2.5, 0.0, -1.0), {"vehicle": apollo_lm}, "hard_landing"),  # > 2 m/s lateral, LM stays up
        ((0.0, 0.0, -1.0), {"tilt_deg": 60.0}, "tipped_over"),  # beyond its stability angle
        ((0.0, 0.0, -1.0), {"tilt_deg": 12.0}, "hard_landing"),  # > 10° attitude
        ((0.0, 0.0, -1.0), {"rate_dps": 6.0}, "hard_landing"),  # > 5°/s
        ((0.0, 0.0, -40.0), {}, "crashed"),  # RESILIENCE-like impact
        ((0.0, 0.0, -1.0), {"contact_point": 4}, "crashed"),  # engine bell first
        ((0.0, 0.0, -1.0), {"terrain": TiltedPlane(50.0)}, "tipped_over"),  # beyond atan(a/b) ≈ 42.6°
        ((-4.0, 0.0, -1.0), {"terrain": TiltedPlane(30.0)}, "tipped_over"),  # sliding downhill fast
    ],
)
def test_classification(v_enu, kw, expected):
    outcome, _ = judge(v_enu, **kw)
    assert outcome == expected


def test_figures_are_surface_relative_and_signed_as_documented():
    outcome, rep = judge((1.2, -0.5, -2.0), tilt_deg=4.0)
    assert rep.vertical_speed_mps[0] == pytest.approx(2.0, abs=1e-9)  # sink rate, positive down
    assert rep.horizontal_speed_mps[0] == pytest.approx(1.3, abs=1e-9)
    assert rep.tilt_deg[0] == pytest.approx(4.0, abs=1e-9)
    assert rep.miss_m[0] == pytest.approx(0.0, abs=1e-6)
    assert rep.propellant_remaining_kg[0] == pytest.approx(50.0)
    assert outcome == "landed"


def test_upside_down_lander_touches_with_the_body_and_crashes():
    """Dropped upside down, the top touches first: a crash even at low speed."""
    veh = series1()
    q = quat_from_axis_angle([1.0, 0.0, 0.0], np.radians(180.0))
    x0 = state_above_site(veh, 0.0, 0.0, 2.0, q_body_to_enu=q, propellant_kg=10.0)
    g = UniformGravity(-1.62 * x0[0, :3] / np.linalg.norm(x0[0, :3]))
    sim = Simulator(veh, g, FlatTerrain(), target_lat=0.0, target_lon=0.0, dt_s=0.01)
    res = sim.run(x0, lambda t, x: Commands.off(len(x), len(veh.engines)), t_max_s=5.0)
    assert res.touchdown.contact_point[0] >= veh.gear.n_footpads
    assert res.outcomes == ["crashed"]
