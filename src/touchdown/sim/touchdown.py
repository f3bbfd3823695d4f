"""The touchdown verdict: what the first contact looked like, and whether it was a landing.

Speeds are relative to the rotating surface, resolved in local east-north-up at the sub-vehicle point.
``vertical_speed_mps`` is the sink rate (positive downward). Tilt is the angle between the body +z
axis and local vertical. Classification, in order of severity:

``crashed``      a body point (engine bell, deck, top) touched first, or the speed exceeded the
                 vehicle's ``crash_speed_mps``;
``tipped_over``  the lander cannot stay upright: its remaining stability angle β = atan(a/b) − max(slope
                 it must settle on, tilt it arrives with) is gone (a: shortest distance from the centre
                 of mass to the footpad polygon's edge, b: height of the centre of mass above the pads),
                 or, pivoting without slip about the leading pad edge, the angular momentum it brings
                 (horizontal speed and tumbling rate) carries the centre of mass over that edge:
                 L²/(2 I_pivot) > m g ρ (1 − cos β), ρ = √(a² + b²). Footpads that slide make this
                 conservative;
``hard_landing`` upright but outside a limit (vertical, horizontal speed, tilt, body rate);
``landed``       within every limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from touchdown.moon.constants import G_SURFACE
from touchdown.moon.frames import (
    dot,
    enu_basis,
    mci_to_mcmf,
    mcmf_to_llh,
    norm,
    quat_rotate,
    surface_distance,
    velocity_mci_to_mcmf,
)
from touchdown.moon.terrain.base import Terrain
from touchdown.vehicle.dynamics import M, Q, R, V, W
from touchdown.vehicle.model import Vehicle

Array = NDArray[np.float64]

OUTCOMES: tuple[str, ...] = ("in_flight", "landed", "hard_landing", "tipped_over", "crashed")
IN_FLIGHT, LANDED, HARD_LANDING, TIPPED_OVER, CRASHED = range(5)
TOUCHDOWN_FIGURES: tuple[str, ...] = (
    "time_s",
    "vertical_speed_mps",
    "horizontal_speed_mps",
    "tilt_deg",
    "body_rate_deg_s",
    "slope_deg",
    "lat_deg",
    "lon_deg",
    "miss_m",
    "propellant_remaining_kg",
)
"""The first-contact figures a flight document and a campaign row carry (fields of TouchdownReport)."""


@dataclass
class TouchdownReport:
    """First-contact figures for M trajectories (arrays of shape (M,))."""

    time_s: Array
    lat_deg: Array
    lon_deg: Array
    miss_m: Array
    vertical_speed_mps: Array
    horizontal_speed_mps: Array
    tilt_deg: Array
    body_rate_deg_s: Array
    slope_deg: Array
    propellant_remaining_kg: Array
    contact_point: NDArray[np.intp]
    outcome: NDArray[np.intp]

    def outcome_names(self) -> list[str]:
        return [OUTCOMES[k] for k in self.outcome]

    def row(self, i: int) -> dict[str, float | int | str]:
        """Trajectory i as plain Python values (for JSON)."""
        out: dict[str, float | int | str] = {}
        for k, v in self.__dict__.items():
            val = v[i]
            out[k] = (
                OUTCOMES[int(val)] if k == "outcome" else (int(val) if k == "contact_point" else float(val))
            )
        return out


def judge_touchdown(
    vehicle: Vehicle,
    terrain: Terrain,
    target_lat: float,
    target_lon: float,
    t: Array,
    x: Array,
    contact_point: NDArray[np.intp],
) -> TouchdownReport:
    """Measure and classify first contacts. ``x`` (M, n) truth states at contact times ``t`` (M,) [s]."""
    r_mcmf = mci_to_mcmf(x[:, R], t)
    v_rel = velocity_mci_to_mcmf(x[:, R], x[:, V], t)
    lat, lon, _ = mcmf_to_llh(r_mcmf)
    east, north, up = enu_basis(lat, lon)
    v_up, v_e, v_n = dot(v_rel, up), dot(v_rel, east), dot(v_rel, north)
    sink = -v_up
    v_h = np.hypot(v_e, v_n)

    z_mcmf = mci_to_mcmf(quat_rotate(x[:, Q], np.broadcast_to([0.0, 0.0, 1.0], x[:, R].shape)), t)
    tilt = np.degrees(np.arccos(np.clip(dot(z_mcmf, up), -1.0, 1.0)))
    w = x[:, W]
    rate = np.degrees(norm(w))

    _, dh_de, dh_dn = terrain.height_gradient(lat, lon)
    grad = np.hypot(dh_de, dh_dn)
    slope = np.arctan(grad)
    prop = x[:, M] - vehicle.mass.dry_mass_kg
    miss = surface_distance(lat, lon, target_lat, target_lon)

    lim = vehicle.limits
    gear = vehicle.gear
    body_first = contact_point >= gear.n_footpads
    crashed = body_first | (np.hypot(sink, v_h) > lim.crash_speed_mps)

    a, b = gear.tip_arm_m, gear.com_height_m
    rho = np.hypot(a, b)
    stability = np.arctan2(a, b)
    # fraction of the horizontal velocity heading downhill (−∇h direction), 1 when at rest
    with np.errstate(invalid="ignore", divide="ignore"):
        downhill = np.where((grad > 0) & (v_h > 0), -(v_e * dh_de + v_n * dh_dn) / (grad * v_h), 1.0)
    # remaining stability angle: the worse of the slope it must settle on and the tilt it arrives with
    beta = stability - np.maximum(slope * downhill, np.radians(tilt))
    # no-slip pivot about the leading pad edge: angular momentum of the horizontal motion and of any
    # tumbling rate is conserved through the impact, then must not lift the CoM over the edge
    m = x[:, M]
    inertia_t = vehicle.mass.inertia(np.maximum(prop, 0.0))[:, 0]
    i_pivot = inertia_t + m * rho**2
    momentum = m * v_h * b + inertia_t * np.hypot(w[:, 0], w[:, 1])
    kinetic = momentum**2 / (2.0 * i_pivot)
    barrier = m * G_SURFACE * rho * (1.0 - np.cos(np.maximum(beta, 0.0)))
    tipped = (stability - slope <= 0.0) | (beta <= 0.0) | (kinetic > barrier)

    hard = (
        (sink > lim.max_vertical_speed_mps)
        | (v_h > lim.max_horizontal_speed_mps)
        | (tilt > lim.max_tilt_deg)
        | (rate > lim.max_rate_deg_s)
    )
    outcome = np.select([crashed, tipped, hard], [CRASHED, TIPPED_OVER, HARD_LANDING], LANDED)
    return TouchdownReport(
        time_s=np.asarray(t, dtype=float) * np.ones_like(sink),
        lat_deg=np.degrees(lat),
        lon_deg=np.degrees(lon),
        miss_m=miss,
        vertical_speed_mps=sink,
        horizontal_speed_mps=v_h,
        tilt_deg=tilt,
        body_rate_deg_s=rate,
        slope_deg=np.degrees(slope),
        propellant_remaining_kg=prop,
        contact_point=np.asarray(contact_point, dtype=np.intp),
        outcome=outcome.astype(np.intp),
    )
