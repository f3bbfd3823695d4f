"""``[expect]``: parsing, one-line errors for malformed expectations, and the check of a flight document."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from touchdown.scenario.expect import Expect, Figure, check_flight

DOC = {
    "outcome": "crashed",
    "touchdown": {"time_s": 812.0, "vertical_speed_mps": 41.0, "horizontal_speed_mps": 3.0, "miss_m": None},
    "events": [
        {"t_s": 380.2, "name": "lrf_rejected", "true_altitude_m": 5000.0, "nav_altitude_m": 2000.0},
        {"t_s": 380.4, "name": "lrf_abandoned", "true_altitude_m": 4990.0, "nav_altitude_m": 1990.0},
        {"t_s": 390.0, "name": "lrf_rejected", "true_altitude_m": 4800.0, "nav_altitude_m": 1800.0},
    ],
}


def test_figure_bounds():
    assert Figure(value=10.0, tol=2.0).bounds() == (8.0, 12.0)
    assert Figure(value=-100.0, rel=0.1).bounds() == (-110.0, -90.0)
    assert Figure(min=1.0).bounds()[0] == 1.0 and Figure(max=4).bounds()[1] == 4.0
    assert Figure(value=10.0, tol=5.0, max=12.0).bounds() == (5.0, 12.0)
    assert Figure(value=756.39, tol=60.0).describe() == "756.39 ± 60"
    assert Figure(value=2000.0, rel=0.15, max=2100.0).describe() == "2000 ± 15%, ≤ 2100"


def test_check_flight_against_a_crash():
    exp = Expect.model_validate(
        {
            "outcome": ["crashed", "tipped_over"],
            "touchdown": {
                "vertical_speed_mps": {"min": 30.0},
                "impact_speed_mps": {"min": 100.0},
                "miss_m": {"max": 1000.0},
            },
            "events": [
                {"name": "lrf_abandoned", "altitude_error_m": {"value": -3000.0, "tol": 100.0}},
                {"name": "lrf_rejected", "occurrence": "last", "t_s": {"value": 390.0, "tol": 0.5}},
                {"name": "propellant_exhausted"},
                {"name": "phase:terminal", "present": False},
            ],
        }
    )
    got = {c.what: (c.met, c.measured) for c in check_flight(exp, DOC)}
    assert got == {
        "outcome": (True, "crashed"),
        "touchdown.vertical_speed_mps": (True, 41.0),
        "touchdown.impact_speed_mps": (False, None),  # not in the document: missed
        "touchdown.miss_m": (False, None),
        "event lrf_abandoned (first).altitude_error_m": (True, -3000.0),
        "event lrf_rejected (last).t_s": (True, 390.0),
        "event propellant_exhausted": (False, "absent"),
        "event phase:terminal": (True, "0 times"),
    }


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"touchdown": {"time_s": {"value": 1.0}}}, "value needs tol"),
        ({"touchdown": {"time_s": {"tol": 1.0, "min": 0.0}}}, "tol and rel need a value"),
        ({"touchdown": {"time_s": {}}}, "give value"),
        ({"touchdown": {"time_s": {"min": 2.0, "max": 1.0}}}, "min 2.0 > max 1.0"),
        ({"touchdown": {"time_s": {"value": "7", "tol": 1.0}}}, "valid number"),
        ({"touchdown": {"speed": {"max": 1.0}}}, "Extra inputs"),
        ({"events": [{"name": "x", "present": False, "t_s": {"max": 1.0}}]}, "cannot have figures"),
        ({"events": [{"name": "x", "occurrence": "second"}]}, "first"),
    ],
)
def test_malformed_expectations_are_rejected(bad, match):
    with pytest.raises(ValidationError, match=match):
        Expect.model_validate(bad)


def test_after_s_reads_the_trajectory_that_long_after_the_event():
    traj = {
        "t_s": [370.0, 440.0, 460.0],
        "true_altitude_m": [5000.0, 5400.0, 5600.0],
        "nav_altitude_m": [5000.0, 2400.0, 2200.0],
        "true_vertical_speed_mps": [-20.0, -10.0, 0.0],
        "true_horizontal_speed_mps": [500.0, 300.0, 100.0],
        "tilt_deg": [50.0, 50.0, 0.0],
        "true_lat_deg": [45.0, 45.5, 46.0],
        "true_lon_deg": [44.4, 44.4, 44.4],
    }
    exp = Expect.model_validate(
        {
            "events": [
                {
                    "name": "lrf_abandoned",
                    "after_s": 59.6,  # 380.4 + 59.6 = 440.0: exactly the second record
                    "altitude_error_m": {"value": -3000.0, "tol": 10.0},
                    "lat_deg": {"min": 45.4, "max": 45.6},
                },
                {
                    "name": "lrf_abandoned",
                    "after_s": 69.6,
                    "vertical_speed_mps": {"value": -5.0, "tol": 1e-9},
                },
                {"name": "lrf_abandoned", "after_s": 500.0, "true_altitude_m": {"min": 0.0}},
            ]
        }
    )
    got = {c.what: (c.met, c.measured) for c in check_flight(exp, DOC, traj)}
    assert got == {
        "event lrf_abandoned (first) + 59.6 s.altitude_error_m": (True, -3000.0),
        "event lrf_abandoned (first) + 59.6 s.lat_deg": (True, 45.5),
        "event lrf_abandoned (first) + 69.6 s.vertical_speed_mps": (True, -5.0),  # interpolated
        "event lrf_abandoned (first) + 500 s.true_altitude_m": (False, None),  # beyond the record
    }


def test_after_s_on_an_absent_event_is_an_error():
    with pytest.raises(ValidationError, match="after_s"):
        Expect.model_validate({"events": [{"name": "x", "present": False, "after_s": 1.0}]})
