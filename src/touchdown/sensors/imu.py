"""Inertial measurement unit: accelerometer and gyro triads, output as integrated increments.

Output choice: the IMU delivers, every ``1 / rate_hz`` seconds, the velocity increment Δv [m/s] and the
attitude increment Δθ [rad] accumulated over the interval, in body axes — what a strapdown IMU gives a
navigation filter (rates are Δ/dt). The simulator supplies the mean specific force ``f_body`` [m/s²] (the
non-gravitational acceleration: thrust / mass, body axes — it knows the applied force; see
:func:`specific_force_body`) and the mean inertial body rate ``w_body`` [rad/s] over the interval; coning
and sculling within an interval are not modelled.

Error model per triad (u the true mean input over the interval, dt the interval)::

    Δ = [(I + S + M)(u + b_k)] dt + n_d √dt ν,      b_{k+1} = b_k + σ_rw √dt ν'

``S`` diagonal scale-factor errors and ``M`` off-diagonal misalignment/non-orthogonality (fixed values plus
per-run draws), ``b_k`` the bias: fixed + per-run turn-on draw + a random walk of density ``σ_rw``
(so Var b(t) grows as σ_rw² t), ``n_d`` the white-noise density (velocity / angle random walk), ν standard
normals from :mod:`touchdown.noise`. The increments are then saturated at ``range`` and quantised to the
output quantum with the remainder carried to the next interval (no information is lost, as in real
pulse-counting IMUs).

Default numbers are assumptions for a tactical-grade unit (about 100 µg / 1 °/h bias, 0.03 m/s/√h VRW,
0.07 °/√h ARW).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown._scalar import _clip
from touchdown.noise import Keys, normal, stream_id
from touchdown.sensors.base import ImuMeasurement

Array = NDArray[np.float64]
Vec3 = tuple[float, float, float]
Off6 = tuple[float, float, float, float, float, float]

_ARCSEC = math.pi / (180.0 * 3600.0)
_DEG_H = math.pi / 180.0 / 3600.0  # 1 °/h in rad/s


@dataclass(frozen=True)
class AccelerometerParams:
    """Accelerometer triad. Misalignment entries are the off-diagonals (xy, xz, yx, yz, zx, zy) [rad]."""

    bias_mps2: Vec3 = (0.0, 0.0, 0.0)  # fixed bias [m/s²]
    bias_sigma_mps2: float = 1e-3  # per-run turn-on bias 1σ per axis [m/s²] (≈ 100 µg)
    bias_rw_mps2_rtsec: float = 1e-5  # bias random-walk density [m/s²/√s]
    noise_density_mps_rtsec: float = 5e-4  # velocity random walk [m/s/√s] (≈ 0.03 m/s/√h)
    scale_factor_ppm: Vec3 = (0.0, 0.0, 0.0)  # fixed scale-factor errors [ppm]
    scale_factor_sigma_ppm: float = 100.0  # per-run draw 1σ [ppm]
    misalignment_rad: Off6 = (0.0,) * 6  # fixed off-diagonal coupling [rad]
    misalignment_sigma_rad: float = 1e-4  # per-run draw 1σ [rad]
    quantum_mps: float = 1e-4  # Δv output quantum [m/s] (0: none)
    range_mps2: float = 300.0  # saturation of the mean specific force [m/s²]


@dataclass(frozen=True)
class GyroParams:
    """Gyro triad. Misalignment entries are the off-diagonals (xy, xz, yx, yz, zx, zy) [rad]."""

    bias_radps: Vec3 = (0.0, 0.0, 0.0)  # fixed bias [rad/s]
    bias_sigma_radps: float = 1.0 * _DEG_H  # per-run turn-on bias 1σ per axis [rad/s] (1 °/h)
    bias_rw_radps_rtsec: float = 1e-7  # bias random-walk density [rad/s/√s]
    noise_density_rad_rtsec: float = 2.0e-5  # angle random walk [rad/√s] (≈ 0.07 °/√h)
    scale_factor_ppm: Vec3 = (0.0, 0.0, 0.0)  # fixed scale-factor errors [ppm]
    scale_factor_sigma_ppm: float = 100.0  # per-run draw 1σ [ppm]
    misalignment_rad: Off6 = (0.0,) * 6  # fixed off-diagonal coupling [rad]
    misalignment_sigma_rad: float = 1e-4  # per-run draw 1σ [rad]
    quantum_rad: float = 1.0 * _ARCSEC  # Δθ output quantum [rad] (0: none)
    range_radps: float = math.radians(400.0)  # saturation of the mean rate [rad/s]


@dataclass(frozen=True)
class ImuParams:
    """An IMU: rate and its two triads."""

    rate_hz: float = 50.0  # output rate [Hz]
    accel: AccelerometerParams = AccelerometerParams()
    gyro: GyroParams = GyroParams()

    @classmethod
    def ideal(cls, rate_hz: float = 50.0) -> ImuParams:
        """A perfect IMU (no error of any kind): the reference for tests and truth-nav runs."""
        a = AccelerometerParams(
            bias_sigma_mps2=0.0,
            bias_rw_mps2_rtsec=0.0,
            noise_density_mps_rtsec=0.0,
            scale_factor_sigma_ppm=0.0,
            misalignment_sigma_rad=0.0,
            quantum_mps=0.0,
        )
        g = GyroParams(
            bias_sigma_radps=0.0,
            bias_rw_radps_rtsec=0.0,
            noise_density_rad_rtsec=0.0,
            scale_factor_sigma_ppm=0.0,
            misalignment_sigma_rad=0.0,
            quantum_rad=0.0,
        )
        return cls(rate_hz, a, g)


@dataclass(frozen=True)
class _Triad:
    """Unit-free view of one triad's parameters."""

    bias: Array
    bias_sigma: float
    bias_rw: float
    noise_density: float
    sf: Array
    sf_sigma: float
    mis: Array
    mis_sigma: float
    quantum: float
    saturation: float


def _triad_accel(p: AccelerometerParams) -> _Triad:
    return _Triad(
        np.asarray(p.bias_mps2, float),
        p.bias_sigma_mps2,
        p.bias_rw_mps2_rtsec,
        p.noise_density_mps_rtsec,
        1e-6 * np.asarray(p.scale_factor_ppm, float),
        1e-6 * p.scale_factor_sigma_ppm,
        np.asarray(p.misalignment_rad, float),
        p.misalignment_sigma_rad,
        p.quantum_mps,
        p.range_mps2,
    )


def _triad_gyro(p: GyroParams) -> _Triad:
    return _Triad(
        np.asarray(p.bias_radps, float),
        p.bias_sigma_radps,
        p.bias_rw_radps_rtsec,
        p.noise_density_rad_rtsec,
        1e-6 * np.asarray(p.scale_factor_ppm, float),
        1e-6 * p.scale_factor_sigma_ppm,
        np.asarray(p.misalignment_rad, float),
        p.misalignment_sigma_rad,
        p.quantum_rad,
        p.range_radps,
    )


@dataclass
class TriadState:
    """Per-run memory of one triad: error matrix (I + S + M), current bias, quantisation remainder."""

    gain: Array  # (N, 3, 3)
    bias: Array  # (N, 3) current bias [m/s² or rad/s]
    remainder: Array  # (N, 3) quantisation remainder carried [m/s or rad]


@dataclass
class ImuState:
    """Per-run memory of an IMU (model side)."""

    keys: Keys
    accel: TriadState
    gyro: TriadState


_OFF = ((0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1))


class Imu:
    """Accelerometer + gyro triads in body axes (sensor axes = body axes, up to the misalignment)."""

    def __init__(self, name: str = "imu", params: ImuParams | None = None) -> None:
        self.name = name
        self.params = params or ImuParams()
        self._triads = {"accel": _triad_accel(self.params.accel), "gyro": _triad_gyro(self.params.gyro)}
        self._streams = {
            (ch, what): stream_id(f"{name}.{ch}.{what}")
            for ch in ("accel", "gyro")
            for what in ("noise", "bias_rw", "turn_on")
        }

    @property
    def period_s(self) -> float:
        return 1.0 / self.params.rate_hz

    def _init_triad(self, keys: Keys, ch: str) -> TriadState:
        tr = self._triads[ch]
        n = keys.size
        draws = normal(keys, self._streams[(ch, "turn_on")], 0, (12,))  # 3 bias, 3 scale, 6 misalignment
        gain = np.zeros((n, 3, 3))
        for i in range(3):
            gain[:, i, i] = 1.0 + tr.sf[i] + tr.sf_sigma * draws[:, 3 + i]
        for j, (a, b) in enumerate(_OFF):
            gain[:, a, b] = tr.mis[j] + tr.mis_sigma * draws[:, 6 + j]
        bias = tr.bias + tr.bias_sigma * draws[:, 0:3]
        return TriadState(gain, bias, np.zeros((n, 3)))

    def initial_state(self, keys: Keys) -> ImuState:
        """State at switch-on for runs with ``keys`` (N,): per-run bias, scale factor, misalignment drawn."""
        keys = np.asarray(keys, dtype=np.uint64)
        return ImuState(keys, self._init_triad(keys, "accel"), self._init_triad(keys, "gyro"))

    def _triad_output(
        self, st: TriadState, keys: Keys, ch: str, tick: int, u: Array, dt: float, scale: Array
    ) -> Array:
        tr = self._triads[ch]
        root_dt = math.sqrt(dt)
        noise = normal(keys, self._streams[(ch, "noise")], tick, (3,)) if tr.noise_density > 0.0 else None
        walk = normal(keys, self._streams[(ch, "bias_rw")], tick, (3,)) if tr.bias_rw > 0.0 else None
        out, bias, remainder = _triad_rows(
            u, st.gain, st.bias, st.remainder, tr.saturation, dt, noise, tr.noise_density * root_dt, scale,
            walk, tr.bias_rw * root_dt, tr.quantum,
        )  # fmt: skip
        if walk is not None:  # bias for the next interval
            st.bias = bias
        if tr.quantum > 0.0:
            st.remainder = remainder
        return out

    def measure(
        self,
        state: ImuState,
        t_s: float,
        f_body_mps2: Array,
        w_body_radps: Array,
        *,
        noise_scale_accel: Array | None = None,
        noise_scale_gyro: Array | None = None,
    ) -> ImuMeasurement:
        """Increments over (t_s − 1/rate, t_s] from the mean specific force ``f_body_mps2`` (N, 3) and the
        mean inertial body rate ``w_body_radps`` (N, 3). ``noise_scale_*`` (N,): white-noise multipliers."""
        dt = self.period_s
        n = f_body_mps2.shape[0]
        tick = round(t_s * self.params.rate_hz)
        one = np.ones(n)
        sa = one if noise_scale_accel is None else np.asarray(noise_scale_accel, float)
        sg = one if noise_scale_gyro is None else np.asarray(noise_scale_gyro, float)
        dv = self._triad_output(
            state.accel, state.keys, "accel", tick, np.asarray(f_body_mps2, float), dt, sa
        )
        dth = self._triad_output(
            state.gyro, state.keys, "gyro", tick, np.asarray(w_body_radps, float), dt, sg
        )
        valid = np.ones(n, dtype=bool)
        return ImuMeasurement(
            sensor=self.name,
            t_s=float(t_s),
            dt_s=dt,
            delta_v_body_mps=dv,
            delta_theta_body_rad=dth,
            accel_valid=valid,
            gyro_valid=valid.copy(),
        )


@njit(cache=True, error_model="numpy")
def _triad_rows(
    u: Array,
    gain: Array,
    bias: Array,
    remainder: Array,
    saturation: float,
    dt: float,
    noise: Array | None,
    noise_sigma: float,
    scale: Array,
    walk: Array | None,
    walk_sigma: float,
    quantum: float,
) -> tuple[Array, Array, Array]:
    """One triad's output over an interval dt [s], per row: the increments (N, 3), the bias for the next
    interval and the quantisation remainder carried (N, 3) (see the module docstring).

    ``u`` (N, 3) the true mean input, saturated at ± ``saturation``; ``gain`` (N, 3, 3) = I + S + M; ``bias``
    (N, 3); ``noise`` (N, 3) standard normals (None: no white noise) times ``noise_sigma`` = n_d √dt and the
    per-row ``scale`` (N,); ``walk`` (N, 3) standard normals (None: no bias walk) times ``walk_sigma`` =
    σ_rw √dt; ``quantum`` the output quantum (≤ 0: none; the remainder is then returned as given). The
    operations of the numpy formulation, in its order.
    """
    n = u.shape[0]
    out = np.empty((n, 3))
    bias_next = np.empty((n, 3))
    carried = np.empty((n, 3))
    for i in range(n):
        v0 = _clip(u[i, 0], -saturation, saturation) + bias[i, 0]
        v1 = _clip(u[i, 1], -saturation, saturation) + bias[i, 1]
        v2 = _clip(u[i, 2], -saturation, saturation) + bias[i, 2]
        for r in range(3):
            inc = (gain[i, r, 0] * v0 + gain[i, r, 1] * v1 + gain[i, r, 2] * v2) * dt
            if noise is not None:
                inc = inc + noise_sigma * scale[i] * noise[i, r]
            bias_next[i, r] = bias[i, r] + walk_sigma * walk[i, r] if walk is not None else bias[i, r]
            if quantum > 0.0:
                total = inc + remainder[i, r]
                out[i, r] = quantum * np.floor(total / quantum)
                carried[i, r] = total - out[i, r]
            else:
                out[i, r] = inc
                carried[i, r] = remainder[i, r]
    return out, bias_next, carried


def specific_force_body(dynamics, x: Array, cmd, propellant_ok: NDArray[np.bool_]) -> Array:
    """Specific force [m/s²] in body axes, (N, 3): engine thrust / mass (what an accelerometer senses).

    ``dynamics`` a :class:`touchdown.vehicle.dynamics.RigidBodyDynamics`, ``cmd`` its ``Commands``. RCS
    forces are taken as pure couples (the truth model applies RCS as torque only).
    """
    from touchdown.vehicle.dynamics import M

    thrust = dynamics.thrust_levels(x, cmd, propellant_ok) * dynamics.f_max  # (N, E) [N]
    f = np.zeros((x.shape[0], 3))
    for e in range(thrust.shape[1]):  # fixed order: bits independent of N
        f += thrust[:, e : e + 1] * dynamics.dirs[e]
    return f / x[:, M][:, None]
