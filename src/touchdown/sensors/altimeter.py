"""Laser range finder / radar altimeter: beams fixed to the body, cast against the TRUE terrain.

Each beam leaves the vehicle at ``beam_origins_body_m`` along ``beam_dirs_body``; its true slant range is
:func:`touchdown.moon.terrain.raycast.raycast` against the truth terrain, so a crater rim or a slope changes
the reading exactly as it would in flight (HAKUTO-R M1's ≈ 3 km jump over the Atlas rim, REFERENCE §3.2).

Measured range (per beam)::

    ρ = (1 + s) r + b + σ(r) ν,   σ(r) = sqrt(σ₀² + (f r)²) · noise_scale,   then quantised to q

with s the scale-factor error, b the bias (fixed plus a per-run draw), ν a standard normal from
:mod:`touchdown.noise` (stream ``"<name>.noise"``, tick ``round(t · rate)``, component = beam).

Validity (per beam): the beam hits the terrain within ``max_range_m``; the incidence angle between the
beam and the terrain normal at the hit point ≤ ``max_incidence_deg``; the speed relative to the surface
≤ ``max_speed_mps``; and the beam has *acquired*: a beam yields nothing until its range first falls to
``acquisition_range_m`` (a per-vehicle property; RESILIENCE's degraded LRF, REFERENCE §3.3, is
``acquisition_range_m = 900`` where 3,000 was planned). Once acquired, a beam stays acquired (latched in
:class:`AltimeterState`) and is valid out to ``max_range_m``. Invalid ranges are NaN.

The defaults are assumptions for a Series 1 class LRF (REFERENCE §3.1 says only that it is a laser range
finder; the planned window of first valid data was 10 → 3 km, §3.3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from touchdown.moon.frames import mci_to_mcmf, norm, quat_rotate, velocity_mci_to_mcmf
from touchdown.moon.terrain.base import Terrain
from touchdown.moon.terrain.raycast import incidence_cos, raycast
from touchdown.noise import Keys, normal, stream_id
from touchdown.sensors.base import AltimeterMeasurement
from touchdown.vehicle.dynamics import Q, R, V

Array = NDArray[np.float64]
Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class AltimeterParams:
    """Laser/radar altimeter parameters (defaults are assumptions, see the module docstring)."""

    rate_hz: float = 10.0  # measurement rate [Hz]
    beam_dirs_body: tuple[Vec3, ...] = ((0.0, 0.0, -1.0),)  # beam directions, body axes (normalised)
    beam_origins_body_m: tuple[Vec3, ...] | None = None  # beam exit points [m] (None: centre of mass)
    max_range_m: float = 10_000.0  # farthest range that can return [m]
    acquisition_range_m: float = 10_000.0  # no valid data until the range first falls to this [m]
    noise_sigma_m: float = 1.0  # range-independent white noise 1σ [m]
    noise_fraction: float = 5e-4  # range-proportional white noise 1σ [fraction of range]
    bias_m: float = 0.0  # fixed range bias [m]
    bias_sigma_m: float = 0.0  # per-run bias draw 1σ [m]
    scale_factor_ppm: float = 0.0  # range scale-factor error [ppm]
    quantization_m: float = 0.1  # output resolution [m] (0: none)
    max_incidence_deg: float = 60.0  # largest angle between beam and terrain normal that returns [deg]
    max_speed_mps: float = math.inf  # no valid data above this speed relative to the surface [m/s]
    raycast_tol_m: float = 0.01  # ray-cast bracket tolerance [m]

    @classmethod
    def ideal(cls, **overrides) -> AltimeterParams:
        """No noise, bias, scale error or quantisation; geometry and validity limits as given."""
        base = {"noise_sigma_m": 0.0, "noise_fraction": 0.0, "quantization_m": 0.0}
        return cls(**{**base, **overrides})

    def __post_init__(self) -> None:
        if len(self.beam_dirs_body) < 1:
            raise ValueError("an altimeter needs at least one beam")
        if self.beam_origins_body_m is not None and len(self.beam_origins_body_m) != len(self.beam_dirs_body):
            raise ValueError("beam_origins_body_m must have one entry per beam")


@dataclass
class AltimeterState:
    """Per-run memory of an altimeter (model side; never given to the flight software)."""

    keys: Keys  # (N,) run keys
    bias_m: Array  # (N, B) total bias (fixed + per-run draw) [m]
    acquired: NDArray[np.bool_]  # (N, B) beam has had its first valid return
    true_range_m: Array = field(
        default_factory=lambda: np.zeros((0, 0))
    )  # (N, B) last true range, NaN: no hit


class LaserAltimeter:
    """A multi-beam laser range finder (or radar altimeter) fixed to the body."""

    def __init__(self, name: str = "lrf", params: AltimeterParams | None = None) -> None:
        self.name = name
        self.params = params or AltimeterParams()
        p = self.params
        d = np.asarray(p.beam_dirs_body, dtype=float).reshape(-1, 3)
        self.beam_dirs_body = d / np.linalg.norm(d, axis=1, keepdims=True)
        self.n_beams = d.shape[0]
        o = np.zeros_like(d) if p.beam_origins_body_m is None else np.asarray(p.beam_origins_body_m, float)
        self.beam_origins_body_m = o.reshape(-1, 3)
        self._s_noise = stream_id(f"{name}.noise")
        self._s_bias = stream_id(f"{name}.bias")
        self.cos_max_incidence = math.cos(math.radians(p.max_incidence_deg))

    @property
    def period_s(self) -> float:
        return 1.0 / self.params.rate_hz

    def initial_state(self, keys: Keys) -> AltimeterState:
        """State at switch-on for runs with ``keys`` (N,): per-run bias drawn, no beam acquired."""
        keys = np.asarray(keys, dtype=np.uint64)
        n = keys.size
        b = self.params.bias_m + self.params.bias_sigma_m * normal(keys, self._s_bias, 0, (self.n_beams,))
        return AltimeterState(keys, b, np.zeros((n, self.n_beams), bool), np.full((n, self.n_beams), np.nan))

    def true_ranges(self, t_s: float, x: Array, terrain: Terrain) -> tuple[Array, Array]:
        """True slant range (N, B) [m] (NaN: no hit within max range) and cos of the incidence angle."""
        n, nb = x.shape[0], self.n_beams
        # one row per (run, beam), run-major: the frames' row kernels apply
        q = np.repeat(x[:, Q], nb, axis=0)
        o_mci = np.repeat(x[:, R], nb, axis=0) + quat_rotate(q, np.tile(self.beam_origins_body_m, (n, 1)))
        u_mci = quat_rotate(q, np.tile(self.beam_dirs_body, (n, 1)))
        o_mcmf = mci_to_mcmf(o_mci, t_s)
        u_mcmf = mci_to_mcmf(u_mci, t_s)
        r = raycast(terrain, o_mcmf, u_mcmf, self.params.max_range_m, tol_m=self.params.raycast_tol_m)
        cos_inc = incidence_cos(terrain, o_mcmf, u_mcmf, r)
        return r.reshape(n, nb), cos_inc.reshape(n, nb)

    def measure(
        self,
        state: AltimeterState,
        t_s: float,
        x: Array,
        terrain: Terrain,
        *,
        noise_scale: Array | None = None,
    ) -> AltimeterMeasurement:
        """Measurement at time t_s [s] from the truth state ``x`` (N, 14 + E) over the TRUE ``terrain``.

        ``noise_scale`` (N,): multiplier on the noise 1σ (the ``noise_scale`` fault); None = 1.
        Updates ``state.acquired`` and ``state.true_range_m``.
        """
        p = self.params
        n = x.shape[0]
        r, cos_inc = self.true_ranges(t_s, x, terrain)
        speed = norm(velocity_mci_to_mcmf(x[:, R], x[:, V], t_s))
        ok = np.isfinite(r) & (r <= p.max_range_m)
        ok &= np.nan_to_num(cos_inc, nan=-1.0) >= self.cos_max_incidence - 1e-12
        ok &= (speed <= p.max_speed_mps)[:, None]
        state.acquired |= ok & (r <= p.acquisition_range_m)
        valid = ok & state.acquired
        state.true_range_m = r

        tick = round(t_s * p.rate_hz)
        nu = normal(state.keys, self._s_noise, tick, (self.n_beams,))
        scale = np.ones(n) if noise_scale is None else np.asarray(noise_scale, float)
        r0 = np.where(np.isfinite(r), r, 0.0)
        sigma = np.sqrt(p.noise_sigma_m**2 + (p.noise_fraction * r0) ** 2) * scale[:, None]
        rho = (1.0 + 1e-6 * p.scale_factor_ppm) * r0 + state.bias_m + sigma * nu
        if p.quantization_m > 0.0:
            rho = p.quantization_m * np.round(rho / p.quantization_m)
        rho = np.where(valid, rho, np.nan)
        return AltimeterMeasurement(
            sensor=self.name,
            t_s=float(t_s),
            range_m=rho,
            valid=valid,
            beam_dirs_body=self.beam_dirs_body.copy(),
            beam_origins_body_m=self.beam_origins_body_m.copy(),
        )
