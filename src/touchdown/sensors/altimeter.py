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

The beam geometry and the measurement model above run in numba kernels (:func:`_beams_mcmf`,
:func:`_range_measurement`), with the operations of the numpy code they replaced in the same order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown.moon.frames import norm, quat_rotate_vector, rotation_angle, velocity_mci_to_mcmf
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
        theta = rotation_angle(t_s)
        o_mcmf, u_mcmf = _beams_mcmf(
            x[:, R],
            x[:, Q],
            self.beam_origins_body_m,
            self.beam_dirs_body,
            float(np.cos(theta)),
            float(np.sin(theta)),
        )
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
        state.true_range_m = r
        tick = round(t_s * p.rate_hz)
        nu = normal(state.keys, self._s_noise, tick, (self.n_beams,))
        scale = np.ones(n) if noise_scale is None else np.asarray(noise_scale, float)
        rho, valid = _range_measurement(
            r,
            cos_inc,
            np.ascontiguousarray(speed, dtype=np.float64),
            state.acquired,
            state.bias_m,
            nu,
            np.ascontiguousarray(scale, dtype=np.float64),
            float(p.max_range_m),
            self.cos_max_incidence - 1e-12,
            float(p.max_speed_mps),
            float(p.acquisition_range_m),
            p.noise_sigma_m**2,
            float(p.noise_fraction),
            1.0 + 1e-6 * p.scale_factor_ppm,
            float(p.quantization_m),
        )
        return AltimeterMeasurement(
            sensor=self.name,
            t_s=float(t_s),
            range_m=rho,
            valid=valid,
            beam_dirs_body=self.beam_dirs_body.copy(),
            beam_origins_body_m=self.beam_origins_body_m.copy(),
        )


@njit(cache=True)
def _beams_mcmf(
    r_mci: Array,
    q_body_to_mci: Array,
    origins_body: Array,
    dirs_body: Array,
    cos_theta: float,
    sin_theta: float,
) -> tuple[Array, Array]:
    """Exit points [m] and directions of every beam (N·B, 3), Moon-fixed, one row per (run, beam),
    run-major, from the positions ``r_mci`` (N, 3) [m], attitudes ``q_body_to_mci`` (N, 4) and the beams'
    body geometry (B, 3), with (cos, sin) of the Moon's rotation angle at that time
    (frames.quat_rotate, then frames.mci_to_mcmf: the numpy operations in the same order)."""
    n, nb = r_mci.shape[0], origins_body.shape[0]
    o_mcmf = np.empty((n * nb, 3))
    u_mcmf = np.empty((n * nb, 3))
    c, s = cos_theta, sin_theta
    for i in range(n):
        w, qx, qy, qz = q_body_to_mci[i, 0], q_body_to_mci[i, 1], q_body_to_mci[i, 2], q_body_to_mci[i, 3]
        for b in range(nb):
            k = i * nb + b
            x, y, z = quat_rotate_vector(
                w, qx, qy, qz, origins_body[b, 0], origins_body[b, 1], origins_body[b, 2]
            )
            x, y, z = r_mci[i, 0] + x, r_mci[i, 1] + y, r_mci[i, 2] + z  # the centre of mass + the offset
            o_mcmf[k, 0], o_mcmf[k, 1], o_mcmf[k, 2] = c * x + s * y, -s * x + c * y, z + 0.0 * c
            x, y, z = quat_rotate_vector(w, qx, qy, qz, dirs_body[b, 0], dirs_body[b, 1], dirs_body[b, 2])
            u_mcmf[k, 0], u_mcmf[k, 1], u_mcmf[k, 2] = c * x + s * y, -s * x + c * y, z + 0.0 * c
    return o_mcmf, u_mcmf


@njit(cache=True)
def _range_measurement(
    r: Array,
    cos_inc: Array,
    speed: Array,
    acquired: NDArray[np.bool_],
    bias_m: Array,
    nu: Array,
    noise_scale: Array,
    max_range_m: float,
    cos_min: float,
    max_speed_mps: float,
    acquisition_range_m: float,
    sigma0_sq: float,
    fraction: float,
    gain: float,
    quantum_m: float,
) -> tuple[Array, NDArray[np.bool_]]:
    """Measured ranges (N, B) [m] (NaN where invalid) and validity from the true ranges ``r`` [m], the
    incidence cosines, the surface-relative speeds (N,) [m/s], the bias [m], the standard normal draws
    ``nu`` and the noise multipliers (N,): ``gain · r + b + σ ν`` with σ = √(σ₀² + (f r)²) · scale, quantised
    to ``quantum_m`` (0: none), as in :meth:`LaserAltimeter.measure` (its docstring). Latches ``acquired``
    (N, B) in place where a valid range first falls to ``acquisition_range_m``."""
    n, nb = r.shape
    rho = np.empty((n, nb))
    valid = np.empty((n, nb), np.bool_)
    for i in range(n):
        for b in range(nb):
            ri = r[i, b]
            ok = math.isfinite(ri) and ri <= max_range_m
            ok = ok and (-1.0 if math.isnan(cos_inc[i, b]) else cos_inc[i, b]) >= cos_min  # NaN: no hit
            ok = ok and speed[i] <= max_speed_mps
            if ok and ri <= acquisition_range_m:
                acquired[i, b] = True
            valid[i, b] = ok and acquired[i, b]
            r0 = ri if math.isfinite(ri) else 0.0
            sigma = math.sqrt(sigma0_sq + (fraction * r0) * (fraction * r0)) * noise_scale[i]
            value = gain * r0 + bias_m[i, b] + sigma * nu[i, b]
            if quantum_m > 0.0:
                value = quantum_m * np.rint(value / quantum_m)
            rho[i, b] = value if valid[i, b] else math.nan
    return rho, valid
