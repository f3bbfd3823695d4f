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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from touchdown.moon.constants import G0
from touchdown.moon.frames import cross, mci_to_mcmf, mcmf_to_mci, quat_rotate
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
        # the engine sums of `derivative`, per body axis: (engine, coefficient) in engine order, zero
        # coefficients left out (they add ±0 to a sum that is exactly the same otherwise)
        self._force_terms = [_terms(self.dirs[:, k]) for k in range(3)]
        self._torque_terms = [_terms(self.engine_torque_arm[:, k]) for k in range(3)]
        self._all_lag = bool(np.all(self.has_lag))
        self._no_lag = not bool(np.any(self.has_lag))
        mass = vehicle.mass
        self._inertia_dry = np.asarray(mass.inertia_dry_kgm2, dtype=float)
        self._inertia_span = np.asarray(mass.inertia_full_kgm2, dtype=float) - self._inertia_dry
        self._capacity = max(mass.propellant_capacity_kg, 1e-300)

    # ---------------------------------------------------------------------------------------------
    def effective_throttle_command(self, cmd: Commands, propellant_ok: NDArray[np.bool_]) -> Array:
        """Throttle the engines are driven towards (N, E): clipped while on, 0 when off or dry."""
        u = np.clip(cmd.throttle, self.throttle_min, self.throttle_max)
        return np.where(cmd.engine_on & propellant_ok[:, None], u, 0.0)

    def thrust_levels(self, x: Array, cmd: Commands, propellant_ok: NDArray[np.bool_]) -> Array:
        """Actual thrust level of each engine (N, E): the lagged state, or the command if no lag."""
        u = self.effective_throttle_command(cmd, propellant_ok)
        eta = x[:, ETA0:]
        return np.where(self.has_lag, eta, u) * propellant_ok[:, None]

    def rcs_torque(self, cmd: Commands, propellant_ok: NDArray[np.bool_]) -> Array:
        """Applied RCS torque (N, 3) [N·m], saturated per axis, zero when dry."""
        tau = np.clip(cmd.torque_body_nm, -self.torque_max, self.torque_max)
        return tau * propellant_ok[:, None]

    def drive(self, cmd: Commands, propellant_ok: NDArray[np.bool_]) -> Drive:
        """The state-independent part of :meth:`derivative` for commands ``cmd`` and flags (N,)."""
        tau_rcs = self.rcs_torque(cmd, propellant_ok)
        mdot_rcs = (
            np.abs(tau_rcs[:, 0]) + np.abs(tau_rcs[:, 1]) + np.abs(tau_rcs[:, 2])
        ) * self.rcs_flow_per_nm
        return Drive(
            self.effective_throttle_command(cmd, propellant_ok),
            propellant_ok,
            propellant_ok[:, None].astype(float),
            tau_rcs,
            mdot_rcs,
            cmd.thrust_scale,
        )

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
        q, w, m = x[:, Q], x[:, W], x[:, M]
        eta_state = x[:, ETA0:]
        # thrust level: the lagged state, or the command if no lag; zero when dry
        if self._all_lag:
            eta = eta_state * d.propellant_factor
        elif self._no_lag:
            eta = d.eta_cmd * d.propellant_factor
        else:
            eta = np.where(self.has_lag, eta_state, d.eta_cmd) * d.propellant_factor
        thrust = eta * self.f_max  # (N, E) [N]
        if d.thrust_scale is not None:  # delivered thrust of a degraded engine (fault)
            thrust = thrust * d.thrust_scale

        n = x.shape[0]
        xdot = np.empty_like(x)
        # sums over engines in a fixed order (no BLAS): a trajectory's bits do not depend on N
        f_body = np.empty((n, 3))
        tau = np.empty((n, 3))
        for k in range(3):
            _engine_sum(thrust, self._force_terms[k], f_body[:, k])
            _engine_sum(thrust, self._torque_terms[k], tau[:, k])
        np.add(d.tau_rcs, tau, out=tau)

        xdot[:, R] = x[:, V]
        a = quat_rotate(x[:, Q], f_body)
        a /= m[:, None]
        np.add(a, self.gravity_mci(t, x[:, R]), out=xdot[:, V])
        _quat_rate(q, w, xdot[:, Q])
        # principal inertias with the propellant on board (MassProperties.inertia, the same operations)
        frac = np.maximum(m - self.dry_mass, 0.0)[:, None] / self._capacity
        inertia = self._inertia_dry + frac * self._inertia_span
        np.divide(tau - cross(w, inertia * w), inertia, out=xdot[:, W])
        mdot_eng = thrust / self.ve
        total = mdot_eng[:, 0].copy()
        for e in range(1, mdot_eng.shape[1]):
            total += mdot_eng[:, e]
        total += d.mdot_rcs
        np.negative(total, out=xdot[:, M])
        np.multiply(d.eta_cmd - eta_state, self.inv_lag, out=xdot[:, ETA0:])
        return xdot


def _terms(coef: Array) -> list[tuple[int, float]]:
    """(engine, coefficient) of the non-zero coefficients, in engine order."""
    return [(e, float(c)) for e, c in enumerate(coef) if c != 0.0]


def _engine_sum(thrust: Array, terms: list[tuple[int, float]], out: Array) -> None:
    """``out = Σ thrust[:, e] · c`` over ``terms`` left to right (a factor of exactly 1 is not applied)."""
    if not terms:
        out[...] = 0.0
        return
    e, c = terms[0]
    if c == 1.0:
        out[...] = thrust[:, e]
    else:
        np.multiply(thrust[:, e], c, out=out)
    for e, c in terms[1:]:
        out += thrust[:, e] if c == 1.0 else thrust[:, e] * c


def _quat_rate(q: Array, w: Array, out: Array) -> None:
    """``out = ½ q ⊗ [0, w]`` (the attitude kinematics; ``quat_multiply``'s operations with a zero scalar)."""
    pw, px, py, pz = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    qx, qy, qz = w[:, 0], w[:, 1], w[:, 2]
    qw = 0.0
    out[:, 0] = pw * qw - px * qx - py * qy - pz * qz
    out[:, 1] = pw * qx + px * qw + py * qz - pz * qy
    out[:, 2] = pw * qy - px * qz + py * qw + pz * qx
    out[:, 3] = pw * qz + px * qy - py * qx + pz * qw
    out *= 0.5


def _row_sum(a: Array) -> Array:
    """Sum over the last axis in a fixed left-to-right order (independent of batch size)."""
    out = a[..., 0].copy()
    for k in range(1, a.shape[-1]):
        out += a[..., k]
    return out
