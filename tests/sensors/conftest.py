"""Shared builders for the sensor tests (as fixtures): truth states over a site, a cliff terrain."""

from __future__ import annotations

import math

import numpy as np
import pytest

from touchdown.moon.frames import quat_from_axis_angle
from touchdown.sim.initial import state_above_site
from touchdown.vehicle.presets import series1

SITE = (math.radians(60.5), math.radians(-4.6))  # Mare Frigoris, REFERENCE §3.3


def state(
    height_m: float | np.ndarray,
    *,
    lat: float = SITE[0],
    lon: float | np.ndarray = SITE[1],
    v_enu=(0.0, 0.0, 0.0),
    tilt_rad: float = 0.0,
    t_s: float = 0.0,
    n: int | None = None,
) -> np.ndarray:
    """Truth states (N, 14 + E) of a Series 1 lander at the given heights (body +z up, tilted about east)."""
    q = quat_from_axis_angle((1.0, 0.0, 0.0), tilt_rad)
    h = np.atleast_1d(np.asarray(height_m, float))
    if n is not None and h.size == 1 and np.ndim(lon) == 0:
        return state_above_site(
            series1(),
            lat,
            float(lon),
            float(h[0]),
            v_enu_mps=v_enu,
            q_body_to_enu=q,
            propellant_kg=300.0,
            t0_s=t_s,
            n=n,
        )
    lon_a = np.broadcast_to(np.asarray(lon, float), h.shape)
    rows = [
        state_above_site(
            series1(),
            lat,
            float(lo),
            float(hh),
            v_enu_mps=v_enu,
            q_body_to_enu=q,
            propellant_kg=300.0,
            t0_s=t_s,
        )
        for hh, lo in zip(h, lon_a, strict=True)
    ]
    return np.concatenate(rows, axis=0)


class CliffTerrain:
    """Height 0 west of ``lon0`` and −``step_m`` east of it, joined by a linear ramp ``ramp_m`` wide."""

    def __init__(self, lon0: float, step_m: float = 3000.0, ramp_m: float = 50.0) -> None:
        from touchdown.moon.constants import R_MOON

        self.lon0, self.step_m, self.ramp_rad = lon0, step_m, ramp_m / R_MOON
        self.max_slope = 1.01 * step_m / (ramp_m * 0.4)  # generous: arc per radian of lon shrinks by cos(lat)
        self.description = f"cliff of {step_m} m at lon {lon0}"

    def height(self, lat, lon):
        lat, lon = np.broadcast_arrays(np.asarray(lat, float), np.asarray(lon, float))
        frac = np.clip((lon - self.lon0) / self.ramp_rad + 0.5, 0.0, 1.0)
        return -self.step_m * frac

    def height_gradient(self, lat, lon):
        from touchdown.moon.constants import R_MOON

        lat, lon = np.broadcast_arrays(np.asarray(lat, float), np.asarray(lon, float))
        h = self.height(lat, lon)
        ramp = np.abs(lon - self.lon0) < 0.5 * self.ramp_rad
        de = np.where(ramp, -self.step_m / (self.ramp_rad * R_MOON * np.cos(lat)), 0.0)
        return h, de, np.zeros_like(h)


@pytest.fixture
def make_state():
    """The :func:`state` builder."""
    return state


@pytest.fixture
def cliff():
    """The :class:`CliffTerrain` class."""
    return CliffTerrain
