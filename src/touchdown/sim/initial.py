"""Initial truth states: above a site with a surface-relative velocity, or on a circular orbit."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.moon.constants import GM_MOON, R_MOON
from touchdown.moon.frames import (
    dcm_mci_to_mcmf,
    dcm_to_quat,
    enu_basis,
    llh_to_mcmf,
    mcmf_to_mci,
    quat_multiply,
    transpose,
    velocity_mcmf_to_mci,
)
from touchdown.vehicle.dynamics import ETA0, M, Q, R, V, W, state_size
from touchdown.vehicle.model import Vehicle

Array = NDArray[np.float64]


def make_state(
    vehicle: Vehicle,
    r_mci: ArrayLike,
    v_mci: ArrayLike,
    q_body_to_mci: ArrayLike,
    *,
    propellant_kg: ArrayLike,
    w_body: ArrayLike = (0.0, 0.0, 0.0),
    throttle: ArrayLike = 0.0,
) -> Array:
    """Truth state rows (N, 14 + E) from their parts; inputs broadcast over N."""
    r = np.atleast_2d(np.asarray(r_mci, dtype=float))
    n = r.shape[0]
    x = np.zeros((n, state_size(vehicle)))
    x[:, R] = r
    x[:, V] = np.asarray(v_mci, dtype=float)
    x[:, Q] = np.asarray(q_body_to_mci, dtype=float)
    x[:, W] = np.asarray(w_body, dtype=float)
    x[:, M] = vehicle.mass.dry_mass_kg + np.asarray(propellant_kg, dtype=float)
    x[:, ETA0:] = np.asarray(throttle, dtype=float)
    return x


def q_enu_to_mcmf(lat: ArrayLike, lon: ArrayLike) -> Array:
    """Quaternion ``q_enu_to_mcmf`` of the local east-north-up frame at (lat, lon) [rad]."""
    east, north, up = enu_basis(lat, lon)
    return dcm_to_quat(np.stack((east, north, up), axis=-1))  # columns: ENU axes in MCMF


def state_above_site(
    vehicle: Vehicle,
    lat: float,
    lon: float,
    height_m: float,
    *,
    v_enu_mps: ArrayLike = (0.0, 0.0, 0.0),
    q_body_to_enu: ArrayLike = (1.0, 0.0, 0.0, 0.0),
    propellant_kg: float,
    t0_s: float = 0.0,
    n: int = 1,
) -> Array:
    """N copies of a state at height above the datum over (lat, lon) [rad], moving at ``v_enu_mps``
    relative to the surface, with attitude ``q_body_to_enu`` (identity: body +z local up)."""
    r_mcmf = llh_to_mcmf(lat, lon, height_m)
    east, north, up = enu_basis(lat, lon)
    v = np.asarray(v_enu_mps, dtype=float)
    v_mcmf = v[0] * east + v[1] * north + v[2] * up
    r_mci = mcmf_to_mci(r_mcmf, t0_s)
    v_mci = velocity_mcmf_to_mci(r_mcmf, v_mcmf, t0_s)
    q_mcmf_to_mci = dcm_to_quat(transpose(dcm_mci_to_mcmf(t0_s)))
    q = quat_multiply(q_mcmf_to_mci, quat_multiply(q_enu_to_mcmf(lat, lon), np.asarray(q_body_to_enu, float)))
    return make_state(
        vehicle,
        np.broadcast_to(r_mci, (n, 3)),
        np.broadcast_to(v_mci, (n, 3)),
        np.broadcast_to(q, (n, 4)),
        propellant_kg=propellant_kg,
    )


def circular_orbit_state(
    vehicle: Vehicle,
    altitude_m: float,
    *,
    inclination: float = 0.0,
    raan: float = 0.0,
    arg_latitude: float = 0.0,
    gm: float = GM_MOON,
    propellant_kg: float = 0.0,
    n: int = 1,
) -> Array:
    """N copies of a state on a circular orbit of ``altitude_m`` above R_MOON (angles in rad),
    body +z along the radius vector."""
    a = R_MOON + altitude_m
    speed = np.sqrt(gm / a)
    cu, su = np.cos(arg_latitude), np.sin(arg_latitude)
    co, so = np.cos(raan), np.sin(raan)
    ci, si = np.cos(inclination), np.sin(inclination)
    r_hat = np.array([co * cu - so * su * ci, so * cu + co * su * ci, su * si])
    t_hat = np.array([-co * su - so * cu * ci, -so * su + co * cu * ci, cu * si])
    n_hat = np.cross(r_hat, t_hat)
    q = dcm_to_quat(np.stack((t_hat, n_hat, r_hat), axis=-1))
    return make_state(
        vehicle,
        np.broadcast_to(a * r_hat, (n, 3)),
        np.broadcast_to(speed * t_hat, (n, 3)),
        np.broadcast_to(q, (n, 4)),
        propellant_kg=propellant_kg,
    )
