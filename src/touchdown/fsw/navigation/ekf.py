"""Navigation filter: an EKF on position, velocity and the onboard map's offset, plus attitude.

State (per trajectory, MCI frame)::

    x = [r_mci (3) m, v_mci (3) m/s, b_map (1) m]

``b_map`` is the error of the onboard map under the vehicle (true terrain height − map height), a random
walk in distance flown. The altimeter sees only the vehicle's height above the true terrain, h − h_map − b,
so the filter needs it: with a poor map it learns the terrain, with a good one b stays near zero.

* **Propagation** (every IMU output): strapdown with the IMU's Δv rotated by the mid-interval attitude,
  the flight software's own gravity model (trapezoidal), F = ∂f/∂x with the point-mass gravity gradient.
  Process noise: white acceleration of ``accel_noise_mps2`` (over 1 s) for r, v (unmodelled IMU bias and
  scale errors) and ``terrain_rw_m2_per_m`` per metre flown over the ground for b.
* **Altimeter** (each valid beam, scalar, sequential): the range ρ along a beam of known body direction
  u, with c = −u·r̂ the cosine of its off-vertical angle, measures the height z = ρ c over a locally flat
  terrain at the beam's hit point p ≈ r + (h/c) u: ẑ = |r| − R − h_map(p) − b, H = [r̂ᵀ, 0, −1].
  Noise σ_z = c √(σ₀² + (f ρ)²) (the filter's belief, not the sensor's truth).
* **Velocimeter**: surface-relative velocity in body axes, ẑ = Cᵀ (v − ω × r), 3-vector update, noise
  σ² = σ₀² + (f |ẑ|)² per axis.
* **Accelerometer calibration in coast**: in free fall the accelerometers should read zero, so the mean
  of their output over the coast before ignition is their bias (``calibrate_accel_in_coast``; real landers
  do this before the powered descent). The estimate is subtracted from every later Δv. Its error is the
  noise averaged over the coast (σ_VRW/√t) plus the bias drift afterwards; scale-factor and misalignment
  errors remain. No coast (e.g. a run starting at PDI): no calibration.
* **Attitude**: the star tracker's quaternion when valid, else propagated with the gyro's Δθ; body rate
  = Δθ / dt. (Attitude errors of arcseconds do not need a filter at these accuracies.)

Updates use the Joseph form. Each sensor's readings pass its :class:`~touchdown.fsw.navigation.gating.Gate`.
Everything is batch-first; row i depends only on row i. The covariance algebra (F P Fᵀ + Q, the Joseph
update, the 3×3 inverse) runs in compiled per-row kernels, :mod:`touchdown.fsw.navigation._kernels`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from touchdown.fsw.navigation import _kernels
from touchdown.fsw.navigation.gating import Gate, GateEvents, GateParams
from touchdown.fsw.navigation.onboard_map import OnboardMap
from touchdown.moon._frames_kernels import small_angle_sincos
from touchdown.moon.constants import GM_MOON, OMEGA_MOON, R_MOON
from touchdown.moon.frames import (
    cross,
    mci_to_mcmf,
    mcmf_to_llh,
    norm,
    quat_conjugate,
    quat_normalize,
    quat_to_dcm,
    rotation_angle,
)
from touchdown.moon.terrain.kernels import ATAN2
from touchdown.sensors.base import (
    AltimeterMeasurement,
    ImuMeasurement,
    StarTrackerMeasurement,
    VelocimeterMeasurement,
)

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]

NX = 7
IR, IV, IB = slice(0, 3), slice(3, 6), 6
_MIN_COS = 0.2  # beams more than ≈ 78° off vertical are not used


@dataclass(frozen=True)
class NavParams:
    """The filter's beliefs and tuning (defaults are assumptions; scenario ``[fsw.navigation]``)."""

    initial_position_sigma_m: float = 200.0
    initial_velocity_sigma_mps: float = 0.2
    terrain_sigma_m: float = 30.0
    terrain_rw_m2_per_m: float = 0.5
    accel_noise_mps2: float = 3e-3
    altimeter_sigma_m: float = 5.0
    altimeter_sigma_fraction: float = 2e-3
    velocimeter_sigma_mps: float = 0.2
    velocimeter_sigma_fraction: float = 2e-3
    gate: GateParams = field(default_factory=GateParams)
    velocimeter_consistency_mps: float = 2.0
    calibrate_accel_in_coast: bool = True
    accel_calibration_min_s: float = 10.0  # shortest coast that gives a calibration [s]


def quat_from_rotation_vector(theta: Array) -> Array:
    """Unit quaternion (…, 4) of the rotation vector ``theta`` (…, 3) [rad]."""
    ang = norm(theta)
    half = 0.5 * ang
    k = np.where(ang > 0.0, np.sin(half) / np.where(ang > 0.0, ang, 1.0), 0.5)
    return np.concatenate((np.cos(half)[..., None], k[..., None] * theta), axis=-1)


class NavigationFilter:
    """EKF for N trajectories (see the module docstring)."""

    def __init__(self, params: NavParams, gravity, onboard_map: OnboardMap, n: int) -> None:
        self.params = params
        self.gravity = gravity
        self.map = onboard_map
        self.n = n
        self.x = np.zeros((n, NX))
        self.P = np.zeros((n, NX, NX))
        self.q = np.zeros((n, 4))
        self.q[:, 0] = 1.0
        self.w = np.zeros((n, 3))
        self.t = 0.0
        self.gates: dict[str, Gate] = {}
        # last altimeter tick, for telemetry: mean height reading and whether it was used
        self.last_altimeter_height_m = np.full(n, np.nan)
        self.last_altimeter_accepted = np.zeros(n, bool)
        self.accel_bias_body = np.zeros((n, 3))  # estimated accelerometer bias, body axes [m/s²]
        self._cal_dv = np.zeros((n, 3))  # Σ Δv_body over free fall [m/s]
        self._cal_t = np.zeros(n)  # Σ dt over free fall [s]
        self._q_dt = np.nan  # interval of the cached process noise (see _process_noise)
        self._q = np.zeros((NX, NX))
        self._no_radial = np.zeros((n, 3))  # radial argument of updates that have none

    # ------------------------------------------------------------------ set-up
    def initialize(self, t_s: float, r_mci: Array, v_mci: Array, q_body_to_mci: Array) -> None:
        """Start from an uploaded state (ground tracking) with the configured 1σ."""
        p = self.params
        self.t = float(t_s)
        self.x[:, IR] = r_mci
        self.x[:, IV] = v_mci
        self.x[:, IB] = 0.0
        self.q = quat_normalize(np.array(q_body_to_mci, dtype=float))
        diag = [p.initial_position_sigma_m**2] * 3 + [p.initial_velocity_sigma_mps**2] * 3
        diag += [p.terrain_sigma_m**2]
        self.P[:] = np.diag(diag)

    def gate(self, sensor: str, consistency: float | None = None) -> Gate:
        if sensor not in self.gates:
            gp = self.params.gate
            if consistency is not None:
                gp = replace(gp, consistency=consistency)
            self.gates[sensor] = Gate(sensor, gp, self.n)
        return self.gates[sensor]

    # ------------------------------------------------------------------ estimates
    @property
    def r_mci(self) -> Array:
        return self.x[:, IR]

    @property
    def v_mci(self) -> Array:
        return self.x[:, IV]

    def llh(self, t_s: float | None = None) -> tuple[Array, Array, Array]:
        """Estimated latitude, longitude [rad] and height above the sphere [m]."""
        return mcmf_to_llh(mci_to_mcmf(self.r_mci, self.t if t_s is None else t_s))

    def believed_terrain_m(self, lat: Array, lon: Array) -> Array:
        """Terrain height the filter believes at (lat, lon): map + offset [m]."""
        return self.map.height(lat, lon) + self.x[:, IB]

    def altitude_m(self) -> Array:
        """Estimated height above the believed terrain directly below [m]."""
        lat, lon, h = self.llh()
        return h - self.believed_terrain_m(lat, lon)

    # ------------------------------------------------------------------ propagation
    def propagate(self, imu: ImuMeasurement, free_fall: Mask | None = None) -> None:
        """Strapdown propagation over the IMU interval ending at ``imu.t_s``.

        ``free_fall`` (N,): rows known to be coasting with the engines off; their accelerometer output is
        accumulated for the bias calibration (see :meth:`end_accel_calibration`).
        """
        dt = imu.dt_s
        if free_fall is not None and self.params.calibrate_accel_in_coast:
            _kernels.accumulate_coast(
                self._cal_dv, self._cal_t, imu.delta_v_body_mps, free_fall, imu.accel_valid, dt
            )
        # attitude from the gyro's Δθ (sines and cosines of the half angles: small-angle series), the velocity
        # increment rotated by the mid-interval attitude, position and velocity with the gravity at both ends
        dth, ang, half = _kernels.strapdown_increments(imu.delta_theta_body_rad, imu.gyro_valid, self.w, dt)
        r0 = self.x[:, IR]
        g0 = self.gravity.acceleration(r0)
        sin_half, cos_half = small_angle_sincos(half)
        self.q, self.w, dv, r1 = _kernels.strapdown_attitude(
            self.q,
            dth,
            ang,
            sin_half,
            cos_half,
            dt,
            imu.delta_v_body_mps,
            self.accel_bias_body,
            imu.accel_valid,
            r0,
            self.x[:, IV],
            g0,
        )
        g1 = self.gravity.acceleration(r1)
        theta = rotation_angle(self.t)  # at the start of the interval, for the ground speed
        c, s = float(np.cos(theta)), float(np.sin(theta))
        rw = self.params.terrain_rw_m2_per_m
        rn, q_map = _kernels.strapdown_velocity(self.x, r1, dv, g0, g1, dt, OMEGA_MOON, c, s, rw)
        self.t = float(imu.t_s)

        # P ← F P Fᵀ + Q, F = I + A dt + A² dt²/2 with A = [[0, I], [G, 0]]; G the point-mass gravity
        # gradient at the propagated position
        _kernels.propagate_covariance(self.P, r1, rn, GM_MOON / rn**3, dt, self._process_noise(dt), q_map)

    def _process_noise(self, dt: float) -> Array:
        """Q (7, 7) for an IMU interval dt [s] but for Q_bb (set per row): the white-acceleration blocks
        (s = accel_noise², over 1 s), 0 at Q_bb."""
        if self._q_dt != dt:
            s = self.params.accel_noise_mps2**2  # white acceleration spectral density over 1 s [m²/s³]
            qm = np.zeros((NX, NX))
            eye = np.eye(3)
            qm[IR, IR] = eye * (s * dt**3 / 3.0)
            qm[IR, IV] = eye * (s * dt**2 / 2.0)
            qm[IV, IR] = eye * (s * dt**2 / 2.0)
            qm[IV, IV] = eye * (s * dt)
            self._q, self._q_dt = qm, dt
        return self._q

    def end_accel_calibration(self, rows: Mask) -> None:
        """Rows leaving free fall: their accelerometer bias estimate becomes the mean output over the coast
        (when the coast lasted at least ``accel_calibration_min_s``); the accumulators are cleared."""
        ok = rows & (self._cal_t >= self.params.accel_calibration_min_s)
        mean = self._cal_dv / np.where(self._cal_t > 0.0, self._cal_t, 1.0)[:, None]
        self.accel_bias_body = np.where(ok[:, None], mean, self.accel_bias_body)
        self._cal_dv[rows] = 0.0
        self._cal_t[rows] = 0.0

    def update_attitude(self, st: StarTrackerMeasurement) -> None:
        """Take the star tracker's attitude where it is valid."""
        self.q = _kernels.attitude_fix(st.q_body_to_mci, st.valid, self.q)

    # ------------------------------------------------------------------ updates
    def _apply(self, h: Array, nu: Array, r_meas: Array, use: Mask, radial: Array | None = None) -> None:
        """Joseph-form update with H (N, m, 7), innovation (N, m), noise R (N, m, m) on rows ``use``.

        ``radial`` (N, 3): when given, the position part of the gain is kept along it only (a height
        measurement says nothing about where the vehicle is horizontally; the cross-covariance built up over
        hundreds of kilometres of flight would otherwise move the horizontal estimate on a map error).
        """
        rad = self._no_radial if radial is None else radial
        _kernels.joseph_update(self.x, self.P, h, nu, r_meas, use, rad, radial is not None)

    def _no_readings(self) -> GateEvents:
        """The events of a tick on which a sensor delivered no valid reading on any row: none."""
        none = np.zeros(self.n, bool)
        return GateEvents(none, none.copy(), none.copy(), none.copy())

    def _altimeter_model(self, meas: AltimeterMeasurement, j: int) -> tuple[Array, Array, Array, Array]:
        """(z, ẑ, H (N, 1, 7), σ_z²) for beam j at the current estimate; NaN z where unusable."""
        theta = rotation_angle(self.t)  # of the Moon-fixed frame, as in frames.mci_to_mcmf
        cos_t, sin_t = float(np.cos(theta)), float(np.sin(theta))
        p = self.params
        grid = self.map.kernel_grid
        if grid is not None:  # an onboard DEM in memory: the same operations, compiled in one call
            return _kernels.altimeter_model_dem(
                self.r_mci, self.q, meas.beam_origins_body_m[j], meas.beam_dirs_body[j], cos_t, sin_t,
                np.ascontiguousarray(self.x[:, IB]), *grid, ATAN2, _MIN_COS, meas.range_m[:, j],
                meas.valid[:, j], p.altimeter_sigma_m**2, p.altimeter_sigma_fraction, R_MOON,
            )  # fmt: skip
        origin, rh, rn, u, c, origin_mcmf = _kernels.beam_geometry(
            self.r_mci, self.q, meas.beam_origins_body_m[j], meas.beam_dirs_body[j], cos_t, sin_t
        )
        lat0, lon0, h0 = mcmf_to_llh(origin_mcmf)
        alt0 = h0 - self.believed_terrain_m(lat0, lon0)
        hit_mcmf = _kernels.beam_hit_mcmf(origin, u, c, alt0, _MIN_COS, cos_t, sin_t)
        lat1, lon1, _ = mcmf_to_llh(hit_mcmf)
        return _kernels.beam_measurement(
            rn,
            R_MOON,
            self.believed_terrain_m(lat1, lon1),
            c,
            _MIN_COS,
            meas.range_m[:, j],
            meas.valid[:, j],
            p.altimeter_sigma_m**2,
            p.altimeter_sigma_fraction,
            rh,
        )

    def update_altimeter(self, meas: AltimeterMeasurement) -> GateEvents:
        """Gate and use every valid beam of one altimeter reading."""
        gate = self.gate(meas.sensor)
        if not meas.valid.any():  # out of range everywhere: nothing to screen, the gate's memory is unchanged
            self.last_altimeter_height_m = np.full(self.n, np.nan)
            self.last_altimeter_accepted = np.zeros(self.n, bool)
            return self._no_readings()
        nb = meas.range_m.shape[1]
        models = [self._altimeter_model(meas, j) for j in range(nb)]
        z, z_hat, hph, var = (np.empty((self.n, nb)) for _ in range(4))  # (N, B)
        for j, (zj, zhj, hj, rj) in enumerate(models):
            z[:, j], z_hat[:, j], var[:, j] = zj, zhj, rj
            hph[:, j] = _kernels.hpht(hj, self.P)[:, 0, 0]
        nu, present_b, normalised = _kernels.altimeter_screen(z, z_hat, hph, var)
        admit = gate.in_gate(normalised, present_b)
        if nb < 8:  # the per-row sums over beams in numpy's order (it sums 8 or more pairwise)
            present, accepted, summary, z_mean = _kernels.altimeter_summary(nu, present_b, admit, z)
        else:
            count = np.maximum(present_b.sum(axis=1), 1)
            present, accepted = present_b.any(axis=1), admit.any(axis=1)
            summary = np.where(present_b, nu, 0.0).sum(axis=1) / count
            z_mean = np.where(present_b, z, 0.0).sum(axis=1) / count
        readmit, events = gate.record(self.t, present, accepted, summary)
        if readmit.any():  # a persistent step: the terrain under us is not where the map says
            self.P[:, IB, IB] += np.where(readmit, summary * summary, 0.0)
            admit = admit | (readmit[:, None] & present_b)
            accepted = admit.any(axis=1)
        for j in range(nb):
            use = admit[:, j]
            if use.any():
                zj, zhj, h, r = models[j] if j == 0 else self._altimeter_model(meas, j)
                # the innovation on the rows in use (finite there); joseph_update reads no other
                nu = np.where(use, zj - zhj, 0.0)
                self._apply(h, nu[:, None], r[:, None, None], use, radial=h[:, 0, IR])
        self.last_altimeter_height_m = np.where(present, z_mean, np.nan)
        self.last_altimeter_accepted = accepted
        return events

    def update_velocimeter(self, meas: VelocimeterMeasurement) -> GateEvents:
        """Gate and use one velocimeter reading (surface-relative velocity, body axes)."""
        p = self.params
        gate = self.gate(meas.sensor, consistency=p.velocimeter_consistency_mps)
        if not meas.valid.any():  # no reading anywhere: nothing to screen, the gate's memory is unchanged
            return self._no_readings()
        c_b = quat_to_dcm(quat_conjugate(self.q))  # MCI → body
        omega = np.array([0.0, 0.0, OMEGA_MOON])
        v_rel = self.v_mci - cross(np.broadcast_to(omega, (self.n, 3)), self.r_mci)
        z_hat = np.einsum("nij,nj->ni", c_b, v_rel)
        skew = np.array([[0.0, -omega[2], 0.0], [omega[2], 0.0, 0.0], [0.0, 0.0, 0.0]])
        h = np.zeros((self.n, 3, NX))
        h[:, :, IV] = c_b
        h[:, :, IR] = -np.einsum("nij,jk->nik", c_b, skew)
        var = p.velocimeter_sigma_mps**2 + (p.velocimeter_sigma_fraction * norm(z_hat)) ** 2  # (N,)
        r_meas = var[:, None, None] * np.eye(3)
        present = meas.valid & np.all(np.isfinite(meas.v_body_mps), axis=1)
        nu = np.where(present[:, None], meas.v_body_mps - z_hat, 0.0)
        s = _kernels.hpht(h, self.P) + r_meas
        nis = np.einsum("ni,nij,nj->n", nu, _kernels.inv3_sym(s), nu)
        admit = gate.in_gate(np.sqrt(nis / 3.0), present)
        readmit, events = gate.record(self.t, present, admit, norm(nu))
        if readmit.any():  # widen the velocity uncertainty to take the persistent disagreement
            bump = np.einsum("nji,nj->ni", c_b, nu) ** 2  # the innovation in MCI axes, squared
            for k in range(3):
                self.P[:, 3 + k, 3 + k] += np.where(readmit, bump[:, k], 0.0)
            admit = admit | readmit
        if admit.any():
            self._apply(h, nu, r_meas, admit)
        return events
