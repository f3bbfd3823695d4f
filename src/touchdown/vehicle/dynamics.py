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

import numpy as np
from numpy.typing import NDArray

from touchdown.moon.constants import G0
from touchdown.moon.frames import cross, mci_to_mcmf, mcmf_to_mci, quat_multiply, quat_rotate
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

    def gravity_mci(self, t: float | Array, r_mci: Array) -> Array:
        """Gravitational acceleration [m/s²] in inertial components."""
        if getattr(self.gravity, "body_fixed", False):
            return mcmf_to_mci(self.gravity.acceleration(mci_to_mcmf(r_mci, t)), t)
        return self.gravity.acceleration(r_mci)

    def derivative(
        self, t: float | Array, x: Array, cmd: Commands, propellant_ok: NDArray[np.bool_]
    ) -> Array:
        """``ẋ`` (N, 14 + E) at time t [s] (scalar or per-trajectory (N,))."""
        r, v, q, w, m = x[:, R], x[:, V], x[:, Q], x[:, W], x[:, M]
        eta_cmd = self.effective_throttle_command(cmd, propellant_ok)
        eta = self.thrust_levels(x, cmd, propellant_ok)
        thrust = eta * self.f_max  # (N, E) [N]
        if cmd.thrust_scale is not None:  # delivered thrust of a degraded engine (fault)
            thrust = thrust * cmd.thrust_scale

        # sums over engines in a fixed order (no BLAS): a trajectory's bits do not depend on N
        f_body = np.stack([_row_sum(thrust * self.dirs[:, k]) for k in range(3)], axis=-1)
        tau_eng = np.stack([_row_sum(thrust * self.engine_torque_arm[:, k]) for k in range(3)], axis=-1)
        tau_rcs = self.rcs_torque(cmd, propellant_ok)
        tau = tau_rcs + tau_eng

        xdot = np.empty_like(x)
        xdot[:, R] = v
        xdot[:, V] = quat_rotate(q, f_body) / m[:, None] + self.gravity_mci(t, r)
        xdot[:, Q] = 0.5 * quat_multiply(q, np.concatenate((np.zeros_like(m)[:, None], w), axis=-1))
        inertia = self.vehicle.mass.inertia(np.maximum(m - self.dry_mass, 0.0))
        xdot[:, W] = (tau - cross(w, inertia * w)) / inertia
        mdot_eng = thrust / self.ve
        mdot_rcs = (
            np.abs(tau_rcs[:, 0]) + np.abs(tau_rcs[:, 1]) + np.abs(tau_rcs[:, 2])
        ) * self.rcs_flow_per_nm
        xdot[:, M] = -(_row_sum(mdot_eng) + mdot_rcs)
        xdot[:, ETA0:] = (eta_cmd - x[:, ETA0:]) * self.inv_lag
        return xdot


def _row_sum(a: Array) -> Array:
    """Sum over the last axis in a fixed left-to-right order (independent of batch size)."""
    out = a[..., 0].copy()
    for k in range(1, a.shape[-1]):
        out += a[..., k]
    return out
