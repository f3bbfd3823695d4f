"""Doppler velocimeter (optional per vehicle): velocity relative to the rotating lunar surface, body axes.

Modelled as the 3-vector solution a multi-beam Doppler lidar/radar outputs: the true surface-relative
velocity ``v_rel = v_mci − ω × r`` expressed in body axes (equal to ``frames.velocity_mci_to_mcmf`` rotated
into the body), with per-axis errors::

    v̂ = (1 + s) v + b + σ(v) ν,   σ(v) = sqrt(σ₀² + (f |v|)²) · noise_scale,   quantised to q

Valid while the height of the vehicle above the TRUE terrain below it is ≤ ``max_altitude_m`` (the beams
must return) and the surface-relative speed is ≤ ``max_speed_mps``. Beam-level geometry (each beam's own
footprint and dropouts) is not modelled. Defaults are assumptions (a NDL-class Doppler lidar: valid below a
few km, cm/s noise); Apollo's landing radar velocity updates were enabled below 2,000 ft/s (REFERENCE §3.4),
which ``max_speed_mps = 609.6`` reproduces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from touchdown.moon.frames import (
    cross,
    mci_to_mcmf,
    mcmf_to_llh,
    norm,
    omega_vector,
    quat_conjugate,
    quat_rotate,
)
from touchdown.moon.terrain.base import Terrain
from touchdown.noise import Keys, normal, stream_id
from touchdown.sensors.base import VelocimeterMeasurement
from touchdown.vehicle.dynamics import Q, R, V

Array = NDArray[np.float64]


@dataclass(frozen=True)
class VelocimeterParams:
    """Doppler velocimeter parameters (defaults are assumptions, see the module docstring)."""

    rate_hz: float = 10.0  # [Hz]
    max_altitude_m: float = 4_000.0  # height above terrain below which it is valid [m]
    max_speed_mps: float = 200.0  # surface-relative speed above which it is invalid [m/s]
    noise_sigma_mps: float = 0.02  # white noise 1σ per axis [m/s]
    noise_fraction: float = 1e-3  # speed-proportional noise 1σ [fraction of |v|]
    bias_mps: tuple[float, float, float] = (0.0, 0.0, 0.0)  # fixed bias, body axes [m/s]
    bias_sigma_mps: float = 0.0  # per-run bias draw 1σ per axis [m/s]
    scale_factor_ppm: float = 0.0  # scale-factor error [ppm]
    quantization_mps: float = 0.001  # output resolution [m/s] (0: none)

    @classmethod
    def ideal(cls, **overrides: float) -> VelocimeterParams:
        """No noise, bias, scale error or quantisation; validity limits as given (default: always valid)."""
        base = {
            "max_altitude_m": math.inf,
            "max_speed_mps": math.inf,
            "noise_sigma_mps": 0.0,
            "noise_fraction": 0.0,
            "quantization_mps": 0.0,
        }
        return cls(**{**base, **overrides})


@dataclass
class VelocimeterState:
    """Per-run memory (model side)."""

    keys: Keys
    bias_mps: Array  # (N, 3)


def surface_velocity_body(t_s: float, x: Array) -> Array:
    """True velocity relative to the rotating Moon [m/s], body axes (N, 3)."""
    r, v, q = x[:, R], x[:, V], x[:, Q]
    v_rel_mci = v - cross(omega_vector(r.shape[:-1]), r)
    return quat_rotate(quat_conjugate(q), v_rel_mci)


class DopplerVelocimeter:
    """Surface-relative velocity in body axes."""

    def __init__(self, name: str = "velocimeter", params: VelocimeterParams | None = None) -> None:
        self.name = name
        self.params = params or VelocimeterParams()
        self._s_noise = stream_id(f"{name}.noise")
        self._s_bias = stream_id(f"{name}.bias")

    @property
    def period_s(self) -> float:
        return 1.0 / self.params.rate_hz

    def initial_state(self, keys: Keys) -> VelocimeterState:
        keys = np.asarray(keys, dtype=np.uint64)
        p = self.params
        b = np.asarray(p.bias_mps, float) + p.bias_sigma_mps * normal(keys, self._s_bias, 0, (3,))
        return VelocimeterState(keys, b)

    def measure(
        self,
        state: VelocimeterState,
        t_s: float,
        x: Array,
        terrain: Terrain,
        *,
        noise_scale: Array | None = None,
    ) -> VelocimeterMeasurement:
        """Measurement at t_s [s] from the truth state ``x`` (N, 14 + E) over the TRUE ``terrain``."""
        p = self.params
        n = x.shape[0]
        v = surface_velocity_body(t_s, x)
        speed = norm(v)
        lat, lon, h = mcmf_to_llh(mci_to_mcmf(x[:, R], t_s))
        agl = h - terrain.height(lat, lon)
        valid = (agl <= p.max_altitude_m) & (speed <= p.max_speed_mps)
        scale = np.ones(n) if noise_scale is None else np.asarray(noise_scale, float)
        sigma = np.sqrt(p.noise_sigma_mps**2 + (p.noise_fraction * speed) ** 2) * scale
        tick = round(t_s * p.rate_hz)
        vm = (1.0 + 1e-6 * p.scale_factor_ppm) * v + state.bias_mps
        vm = vm + sigma[:, None] * normal(state.keys, self._s_noise, tick, (3,))
        if p.quantization_mps > 0.0:
            vm = p.quantization_mps * np.round(vm / p.quantization_mps)
        vm = np.where(valid[:, None], vm, np.nan)
        return VelocimeterMeasurement(sensor=self.name, t_s=float(t_s), v_body_mps=vm, valid=valid)
