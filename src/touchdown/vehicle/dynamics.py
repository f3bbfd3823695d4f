"""6-DOF equations of motion of a variable-mass lander, batch-first.

The truth state of N trajectories is one array ``x`` of shape (N, 14 + E) for a vehicle with E engines:

=========  =========  ==========================================================
columns    name       meaning
=========  =========  ==========================================================
0:3        r_mci      position of the centre of mass [m], Moon-centred inertial
3:6        v_mci      inertial velocity [m/s]
6:10       q_body_to_mci  attitude quaternion (scalar first, see ``moon.frames``)
10:13      w_body     angular velocity relative to inertial, body axes [rad/s]
13         mass       total mass [kg]; propellant on board is ``mass − dry mass``
14:14+E    throttle   actual thrust level of each engine, fraction of its max thrust
=========  =========  ==========================================================

Forces: gravity (any ``moon.gravity`` model) and engine thrust; torques: engine thrust about the
centre of mass and the RCS. Rigid body: ``I ω̇ = τ − ω × Iω`` with the current principal inertias
(the İω and jet-damping terms are neglected, as is usual for landers). Thrust level follows the
command through a first-order lag; it is cut, exactly, when the propellant runs out — the simulator
locates that instant within the step and sets the ``propellant_ok`` flag this module obeys.

The arithmetic runs in compiled kernels over the rows (``vehicle._kernels``):
:meth:`RigidBodyDynamics.derivative` and :meth:`RigidBodyDynamics.step` (a whole RK4 step) share the one
derivative, ``_kernels.eom_rows``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.moon.constants import G0
from touchdown.moon.frames import cross, mci_to_mcmf, mcmf_to_mci
from touchdown.moon.gravity import kernel_spec
from touchdown.sim.integrate import rk4_step
from touchdown.vehicle import _kernels
from touchdown.vehicle.commands import Commands
from touchdown.vehicle.model import Vehicle

Array = NDArray[np.float64]

R = slice(0, 3)
V = slice(3, 6)
Q = slice(6, 10)
W = slice(10, 13)
M = 13
ETA0 = 14


def state_size(vehicle: Vehicle) -> int:
    """Number of columns of the truth state for ``vehicle``."""
    return ETA0 + len(vehicle.engines)


@dataclass
class Drive:
    """What the commands and the propellant flag make of the forces, independent of the state (one RK4 step
    evaluates the derivative four times with the same drive): see :meth:`RigidBodyDynamics.drive`."""

    eta_cmd: Array  # (N, E) throttle the engines are driven towards
    propellant_ok: NDArray[np.bool_]  # (N,)
    propellant_factor: Array  # (N, 1) 1.0 while propellant is left, else 0.0
    tau_rcs: Array  # (N, 3) applied RCS torque [N·m]
    mdot_rcs: Array  # (N,) RCS propellant flow [kg/s]
    thrust_scale: Array | None  # (N, E) delivered fraction of the commanded thrust (fault), or None


class RigidBodyDynamics:
    """Right-hand side ``ẋ = f(t, x, commands)`` for one vehicle and gravity field."""

    def __init__(self, vehicle: Vehicle, gravity) -> None:
        self.vehicle = vehicle
        self.gravity = gravity
        self.n_engines = len(vehicle.engines)
        self.dry_mass = vehicle.mass.dry_mass_kg
        self.f_max = vehicle.max_thrust_n
        self.ve = vehicle.exhaust_velocity_mps
        self.dirs = vehicle.engine_directions_body
        self.pos = vehicle.engine_positions_body_m
        self.throttle_min, self.throttle_max = vehicle.throttle_limits
        self.lag = vehicle.lag_s
        self.has_lag = self.lag > 0.0
        self.inv_lag = np.where(self.has_lag, 1.0 / np.where(self.has_lag, self.lag, 1.0), 0.0)
        self.torque_max = np.asarray(vehicle.rcs.max_torque_nm, dtype=float)
        self.rcs_flow_per_nm = 1.0 / (vehicle.rcs.moment_arm_m * vehicle.rcs.isp_s * G0)
        # engine torque arms r × d, (E, 3)
        self.engine_torque_arm = cross(self.pos, self.dirs)
        mass = vehicle.mass
        # the engine sums per body axis run over the non-zero coefficients only, in engine order (a zero
        # coefficient would add ±0 to a sum that is exactly the same otherwise)
        load_engine, load_coef, load_count = _term_table(np.hstack([self.dirs, self.engine_torque_arm]))
        self.constants = _kernels.EomConstants(
            f_max=np.ascontiguousarray(self.f_max, dtype=float),
            ve=np.ascontiguousarray(self.ve, dtype=float),
            has_lag=np.ascontiguousarray(self.has_lag),
            inv_lag=np.ascontiguousarray(self.inv_lag, dtype=float),
            throttle_min=np.ascontiguousarray(self.throttle_min, dtype=float),
            throttle_max=np.ascontiguousarray(self.throttle_max, dtype=float),
            torque_max=self.torque_max.copy(),
            rcs_flow_per_nm=float(self.rcs_flow_per_nm),
            load_engine=load_engine,
            load_coef=load_coef,
            load_count=load_count,
            dry_mass=float(self.dry_mass),
            capacity=float(max(mass.propellant_capacity_kg, 1e-300)),
            inertia_dry=np.asarray(mass.inertia_dry_kgm2, dtype=float).copy(),
            inertia_span=np.asarray(mass.inertia_full_kgm2, dtype=float) - np.asarray(mass.inertia_dry_kgm2),
        )
        # closed-form gravity runs inside the kernels; any other field is evaluated with numpy per stage
        spec = kernel_spec(gravity)
        self._g_code, self._g_par = (_kernels.GIVEN_GRAVITY, (0.0, 0.0, 0.0)) if spec is None else spec

    # ---------------------------------------------------------------------------------------------
    def effective_throttle_command(self, cmd: Commands, propellant_ok: NDArray[np.bool_]) -> Array:
        """Throttle the engines are driven towards (N, E): clipped while on, 0 when off or dry."""
        return self.drive(cmd, propellant_ok).eta_cmd

    def thrust_levels(self, x: Array, cmd: Commands, propellant_ok: NDArray[np.bool_]) -> Array:
        """Actual thrust level of each engine (N, E): the lagged state, or the command if no lag."""
        u = self.effective_throttle_command(cmd, propellant_ok)
        eta = x[:, ETA0:]
        return np.where(self.has_lag, eta, u) * propellant_ok[:, None]

    def rcs_torque(self, cmd: Commands, propellant_ok: NDArray[np.bool_]) -> Array:
        """Applied RCS torque (N, 3) [N·m], saturated per axis, zero when dry."""
        return self.drive(cmd, propellant_ok).tau_rcs

    def drive(self, cmd: Commands, propellant_ok: NDArray[np.bool_]) -> Drive:
        """The state-independent part of :meth:`derivative` for commands ``cmd`` and flags (N,)."""
        ok = np.ascontiguousarray(propellant_ok, dtype=bool)
        eta_cmd, tau_rcs, mdot_rcs = self._drive(cmd, ok)
        return Drive(eta_cmd, ok, ok[:, None].astype(float), tau_rcs, mdot_rcs, cmd.thrust_scale)

    def _drive(self, cmd: Commands, ok: NDArray[np.bool_]) -> tuple[Array, Array, Array]:
        """(eta_cmd (N, E), tau_rcs (N, 3), mdot_rcs (N,)) of :meth:`drive` from ``_kernels.drive_rows``."""
        n = ok.shape[0]
        eta_cmd = np.empty((n, self.n_engines))
        tau_rcs = np.empty((n, 3))
        mdot_rcs = np.empty(n)
        _kernels.drive_rows(
            _rows(cmd.throttle, n, self.n_engines),
            _rows(cmd.engine_on, n, self.n_engines, np.bool_),
            _rows(cmd.torque_body_nm, n, 3),
            ok,
            self.constants,
            eta_cmd,
            tau_rcs,
            mdot_rcs,
        )
        return eta_cmd, tau_rcs, mdot_rcs

    def gravity_mci(self, t: float | Array, r_mci: Array) -> Array:
        """Gravitational acceleration [m/s²] in inertial components."""
        if getattr(self.gravity, "body_fixed", False):
            return mcmf_to_mci(self.gravity.acceleration(mci_to_mcmf(r_mci, t)), t)
        return self.gravity.acceleration(r_mci)

    def derivative(
        self,
        t: float | Array,
        x: Array,
        cmd: Commands | None,
        propellant_ok: NDArray[np.bool_] | None,
        drive: Drive | None = None,
    ) -> Array:
        """``ẋ`` (N, 14 + E) at time t [s] (scalar or per-trajectory (N,)).

        ``drive`` (from :meth:`drive`) replaces ``cmd`` and ``propellant_ok`` when given.
        """
        d = drive if drive is not None else self.drive(cmd, propellant_ok)  # type: ignore[arg-type]
        x = np.ascontiguousarray(x, dtype=float)
        given = self._g_code == _kernels.GIVEN_GRAVITY
        g = np.ascontiguousarray(self.gravity_mci(t, x[:, R]), dtype=float) if given else _NO_GRAVITY
        n = x.shape[0]
        xdot = np.empty_like(x)
        self._eom(
            1, x, _NO_STEP, _rows(d.eta_cmd, n, self.n_engines), _rows(d.propellant_ok, n, None, np.bool_),
            _rows(d.tau_rcs, n, 3), _rows(d.mdot_rcs, n, None), d.thrust_scale, g, xdot,
        )  # fmt: skip
        return xdot

    def step(
        self, t: float | Array, x: Array, cmd: Commands, propellant_ok: NDArray[np.bool_], h: float | Array
    ) -> Array:
        """The states (N, 14 + E) after one RK4 step of length h [s] (scalar or per-trajectory (N,)) from
        (t, x), commands held, the attitude quaternion renormalised at the end.

        Closed-form gravity: one compiled call for the whole step. Any other field: four
        :meth:`derivative` calls through ``sim.integrate.rk4_step`` (the same arithmetic).
        """
        x = np.ascontiguousarray(x, dtype=float)
        if self._g_code == _kernels.GIVEN_GRAVITY:
            drive = self.drive(cmd, propellant_ok)
            x1 = rk4_step(
                lambda tt, xx: self.derivative(tt, xx, None, None, drive),
                t,
                x,
                h,
                self._exact_lag(x, drive, h),
            )
            q = x1[:, Q]
            x1[:, Q] = q / np.sqrt(q[:, 0] ** 2 + q[:, 1] ** 2 + q[:, 2] ** 2 + q[:, 3] ** 2)[:, None]
            return x1
        n = x.shape[0]
        ok = np.ascontiguousarray(propellant_ok, dtype=bool)
        eta_cmd, tau_rcs, mdot_rcs = self._drive(cmd, ok)
        hh = np.full(n, h, dtype=float) if np.ndim(h) == 0 else _rows(h, n, None)
        x1 = np.empty_like(x)
        self._eom(4, x, hh, eta_cmd, ok, tau_rcs, mdot_rcs, cmd.thrust_scale, _NO_GRAVITY, x1)
        return x1

    def _exact_lag(self, x: Array, drive: Drive, h: float | Array):
        """The ``exact`` hook of ``rk4_step``: each lagged engine's level η = u + (η₀ − u) e^(−τ/T_lag) at the
        stage's instant τ (h/2, h) from the step's start level η₀ and held command u (as ``eom_rows``)."""
        lagged = np.flatnonzero(self.has_lag)
        if lagged.size == 0:
            return None
        n = x.shape[0]
        hh = np.ascontiguousarray(np.broadcast_to(np.asarray(h, dtype=float), (n,)))
        half, full = _kernels.lag_decay(hh, np.ascontiguousarray(self.inv_lag[lagged], dtype=float))
        u = _rows(drive.eta_cmd, n, self.n_engines)[:, lagged]
        eta0 = x[:, ETA0 + lagged]
        at_half, at_end = u + (eta0 - u) * half, u + (eta0 - u) * full
        cols = ETA0 + lagged

        def exact(state: Array, whole: bool) -> None:
            state[:, cols] = at_end if whole else at_half

        return exact

    def _eom(
        self,
        stages: int,
        x: Array,
        h: Array,
        eta_cmd: Array,
        ok: NDArray[np.bool_],
        tau_rcs: Array,
        mdot_rcs: Array,
        thrust_scale: Array | None,
        g: Array,
        out: Array,
    ) -> None:
        """``_kernels.eom_rows``: the derivative (1 stage) or an RK4 step (4) into ``out``."""
        n = x.shape[0]
        scaled = thrust_scale is not None
        scale = eta_cmd if thrust_scale is None else _rows(thrust_scale, n, self.n_engines)
        _kernels.eom_rows(
            stages, x, h, eta_cmd, ok, tau_rcs, mdot_rcs, scale, scaled, self.constants, self._g_code,
            self._g_par, g, out,
        )  # fmt: skip


_NO_STEP = np.zeros(0)  # step lengths of a derivative (not read)
_NO_GRAVITY = np.zeros((0, 3))  # given gravity of a closed-form field (not read)


def _rows(a: ArrayLike, n: int, width: int | None, dtype: type = np.float64) -> NDArray:
    """``a`` as the kernels take it: broadcast to (n, width), or (n,) for width None, C-contiguous."""
    shape = (n,) if width is None else (n, width)
    if type(a) is np.ndarray and a.shape == shape and a.dtype == dtype and a.flags.c_contiguous:
        return a
    return np.ascontiguousarray(np.broadcast_to(np.asarray(a, dtype=dtype), shape))


def _term_table(per_engine: Array) -> tuple[NDArray[np.int64], Array, NDArray[np.int64]]:
    """The engine sums' terms per column k of (E, K) per-engine coefficients (the force's three body axes,
    then the torque's): (K, E) engine indices and coefficients, the first count[k] of row k being column
    k's non-zero coefficients in engine order, and the counts (K,)."""
    n_engines, n_sums = per_engine.shape
    engine = np.zeros((n_sums, max(n_engines, 1)), dtype=np.int64)
    coef = np.zeros((n_sums, max(n_engines, 1)))
    count = np.zeros(n_sums, dtype=np.int64)
    for k in range(n_sums):
        for e in range(n_engines):
            if per_engine[e, k] != 0.0:
                engine[k, count[k]] = e
                coef[k, count[k]] = per_engine[e, k]
                count[k] += 1
    return engine, coef, count
