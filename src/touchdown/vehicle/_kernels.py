"""Compiled per-row kernels of the truth equations of motion (``vehicle.dynamics``).

Each kernel loops over the rows (trajectories) of a batch and computes every row in scalar code, with
the operations of the original numpy formulation in the same order, so a row's bits do not depend on
the batch it flies in and equal those of the numpy code. State layout: see ``vehicle.dynamics``.

The vehicle's constant data travel as one :class:`EomConstants` tuple (built once per
``RigidBodyDynamics``); gravity as a closed-form model code and its parameters
(``moon.gravity.kernel_spec``), or as a given acceleration per row (``GIVEN_GRAVITY``) for fields that
are evaluated with numpy (spherical harmonics, any other model).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown.moon.gravity import field_acceleration

Array = NDArray[np.float64]

#: Gravity code meaning "the acceleration is given per row" (not one of ``moon.gravity``'s codes).
GIVEN_GRAVITY = -1


class EomConstants(NamedTuple):
    """A vehicle's constants as the kernels take them (E engines)."""

    f_max: Array  # (E,) maximum thrust [N]
    ve: Array  # (E,) exhaust velocity [m/s]
    has_lag: NDArray[np.bool_]  # (E,) True where the thrust follows the command through a lag
    inv_lag: Array  # (E,) 1 / lag [1/s], 0 where no lag
    throttle_min: Array  # (E,) commanded throttle limits while on (fraction of f_max)
    throttle_max: Array  # (E,)
    torque_max: Array  # (3,) RCS torque limit per body axis [N·m]
    rcs_flow_per_nm: float  # RCS propellant flow per N·m of torque [kg/s/(N·m)]
    force_engine: NDArray[np.int64]  # (3, E) engines with a non-zero thrust direction per body axis
    force_coef: Array  # (3, E) their direction components, in engine order
    force_count: NDArray[np.int64]  # (3,) how many per axis
    torque_engine: NDArray[np.int64]  # (3, E) the same for the torque arms r × d [m]
    torque_coef: Array  # (3, E)
    torque_count: NDArray[np.int64]  # (3,)
    dry_mass: float  # [kg]
    capacity: float  # propellant capacity [kg]
    inertia_dry: Array  # (3,) principal inertias dry [kg·m²]
    inertia_span: Array  # (3,) full minus dry [kg·m²]


@njit(cache=True)
def _clip(v: float, lo: float, hi: float) -> float:
    """``np.clip(v, lo, hi)`` with array bounds, bit for bit (NaN propagates; equal zeros give the bound)."""
    if not (v > lo or v != v):
        v = lo
    if not (v < hi or v != v):
        v = hi
    return v


@njit(cache=True)
def _drive_row(throttle, engine_on, torque, ok, c, eta_cmd, tau_rcs) -> float:
    """A row's drive: writes the throttle the engines are driven towards ``eta_cmd`` (E,) (clipped while
    on, 0 when off or dry) and the applied RCS torque ``tau_rcs`` (3,) [N·m] (saturated, 0 when dry);
    returns the RCS propellant flow [kg/s]."""
    for e in range(eta_cmd.shape[0]):
        u = _clip(throttle[e], c.throttle_min[e], c.throttle_max[e])
        eta_cmd[e] = u if (engine_on[e] and ok) else 0.0
    okf = 1.0 if ok else 0.0
    for k in range(3):
        tau_rcs[k] = _clip(torque[k], -c.torque_max[k], c.torque_max[k]) * okf
    return (abs(tau_rcs[0]) + abs(tau_rcs[1]) + abs(tau_rcs[2])) * c.rcs_flow_per_nm


@njit(cache=True)
def _engine_sum(thrust, engine, coef, count) -> float:
    """``Σ thrust[e] · c`` over one axis' (engine, coefficient) terms, left to right; 0 when none."""
    if count == 0:
        return 0.0
    s = thrust[engine[0]] * coef[0]
    for j in range(1, count):
        s += thrust[engine[j]] * coef[j]
    return s


@njit(cache=True)
def _derivative_row(x, eta_cmd, pf, tau_rcs, mdot_rcs, scale, scaled, c, g_code, g_par, g_row, thrust, xdot):
    """``ẋ`` of one row (14 + E,) into ``xdot``; ``thrust`` (E,) is scratch.

    ``pf`` 1.0 while propellant is left, else 0.0; ``scale`` (E,) the delivered fraction of the thrust
    when ``scaled``; gravity from ``field_acceleration(g_code, g_par, r)`` or, for ``GIVEN_GRAVITY``,
    ``g_row`` (3,) [m/s²].
    """
    n_eng = thrust.shape[0]
    for e in range(n_eng):
        eta = (x[14 + e] if c.has_lag[e] else eta_cmd[e]) * pf
        thrust[e] = eta * c.f_max[e]
        if scaled:
            thrust[e] = thrust[e] * scale[e]
    fx = _engine_sum(thrust, c.force_engine[0], c.force_coef[0], c.force_count[0])
    fy = _engine_sum(thrust, c.force_engine[1], c.force_coef[1], c.force_count[1])
    fz = _engine_sum(thrust, c.force_engine[2], c.force_coef[2], c.force_count[2])
    tx = tau_rcs[0] + _engine_sum(thrust, c.torque_engine[0], c.torque_coef[0], c.torque_count[0])
    ty = tau_rcs[1] + _engine_sum(thrust, c.torque_engine[1], c.torque_coef[1], c.torque_count[1])
    tz = tau_rcs[2] + _engine_sum(thrust, c.torque_engine[2], c.torque_coef[2], c.torque_count[2])

    xdot[0], xdot[1], xdot[2] = x[3], x[4], x[5]
    # specific thrust in mci: quat_rotate(q, f_body) / m, i.e. v + w t + u × t with t = 2 u × v
    qw, qx, qy, qz = x[6], x[7], x[8], x[9]
    m = x[13]
    t0 = 2.0 * (qy * fz - qz * fy)
    t1 = 2.0 * (qz * fx - qx * fz)
    t2 = 2.0 * (qx * fy - qy * fx)
    ax = (fx + qw * t0 + (qy * t2 - qz * t1)) / m
    ay = (fy + qw * t1 + (qz * t0 - qx * t2)) / m
    az = (fz + qw * t2 + (qx * t1 - qy * t0)) / m
    if g_code == GIVEN_GRAVITY:
        gx, gy, gz = g_row[0], g_row[1], g_row[2]
    else:
        gx, gy, gz = field_acceleration(g_code, g_par, x[0], x[1], x[2])
    xdot[3], xdot[4], xdot[5] = ax + gx, ay + gy, az + gz

    # attitude kinematics ½ q ⊗ [0, ω] (the Hamilton product's operations with a zero scalar)
    wx, wy, wz = x[10], x[11], x[12]
    w0 = 0.0
    xdot[6] = (qw * w0 - qx * wx - qy * wy - qz * wz) * 0.5
    xdot[7] = (qw * wx + qx * w0 + qy * wz - qz * wy) * 0.5
    xdot[8] = (qw * wy - qx * wz + qy * w0 + qz * wx) * 0.5
    xdot[9] = (qw * wz + qx * wy - qy * wx + qz * w0) * 0.5

    # Euler's equations with the principal inertias of the propellant on board
    prop = m - c.dry_mass
    if not (prop > 0.0 or prop != prop):  # np.maximum(prop, 0.0)
        prop = 0.0
    frac = prop / c.capacity
    ix = c.inertia_dry[0] + frac * c.inertia_span[0]
    iy = c.inertia_dry[1] + frac * c.inertia_span[1]
    iz = c.inertia_dry[2] + frac * c.inertia_span[2]
    hx, hy, hz = ix * wx, iy * wy, iz * wz
    xdot[10] = (tx - (wy * hz - wz * hy)) / ix
    xdot[11] = (ty - (wz * hx - wx * hz)) / iy
    xdot[12] = (tz - (wx * hy - wy * hx)) / iz

    total = thrust[0] / c.ve[0]
    for e in range(1, n_eng):
        total += thrust[e] / c.ve[e]
    total += mdot_rcs
    xdot[13] = -total
    for e in range(n_eng):
        xdot[14 + e] = (eta_cmd[e] - x[14 + e]) * c.inv_lag[e]


@njit(cache=True)
def drive_rows(throttle, engine_on, torque, prop_ok, c, eta_cmd, tau_rcs, mdot_rcs) -> None:
    """The state-independent drive of N rows: ``eta_cmd`` (N, E), ``tau_rcs`` (N, 3) [N·m] and
    ``mdot_rcs`` (N,) [kg/s] from commanded ``throttle`` (N, E), ``engine_on`` (N, E), RCS ``torque``
    (N, 3) [N·m] and ``prop_ok`` (N,)."""
    for i in range(throttle.shape[0]):
        mdot_rcs[i] = _drive_row(throttle[i], engine_on[i], torque[i], prop_ok[i], c, eta_cmd[i], tau_rcs[i])


@njit(cache=True)
def derivative_rows(x, eta_cmd, prop_ok, tau_rcs, mdot_rcs, scale, scaled, c, g_code, g_par, g_given, xdot):
    """``ẋ`` (N, 14 + E) of N rows for a given drive (see :func:`drive_rows`); ``g_given`` (N, 3)
    [m/s²] is read only for ``GIVEN_GRAVITY``."""
    thrust = np.empty(x.shape[1] - 14)
    for i in range(x.shape[0]):
        pf = 1.0 if prop_ok[i] else 0.0
        _derivative_row(
            x[i], eta_cmd[i], pf, tau_rcs[i], mdot_rcs[i], scale[i], scaled, c, g_code, g_par,
            g_given[i], thrust, xdot[i],
        )  # fmt: skip


@njit(cache=True)
def rk4_rows(x, h, throttle, engine_on, torque, prop_ok, scale, scaled, c, g_code, g_par, x1) -> None:
    """One classical RK4 step of N rows, commands held, then the attitude quaternion renormalised.

    ``x`` (N, 14 + E) states at the step start, ``h`` (N,) step lengths [s]; commands as for
    :func:`drive_rows`, ``scale`` (N, E) delivered thrust fractions when ``scaled``. Gravity must be a
    closed-form model (``g_code`` ≥ 0). Writes the states after the step into ``x1``.
    """
    n_col = x.shape[1]
    n_eng = n_col - 14
    eta_cmd = np.empty(n_eng)
    tau_rcs = np.empty(3)
    thrust = np.empty(n_eng)
    k1 = np.empty(n_col)
    k2 = np.empty(n_col)
    k3 = np.empty(n_col)
    k4 = np.empty(n_col)
    xs = np.empty(n_col)
    no_g = np.empty(3)
    for i in range(x.shape[0]):
        xi = x[i]
        ok = prop_ok[i]
        mdot_rcs = _drive_row(throttle[i], engine_on[i], torque[i], ok, c, eta_cmd, tau_rcs)
        pf = 1.0 if ok else 0.0
        si = scale[i]
        hi = h[i]
        half = 0.5 * hi
        _derivative_row(xi, eta_cmd, pf, tau_rcs, mdot_rcs, si, scaled, c, g_code, g_par, no_g, thrust, k1)
        for j in range(n_col):
            xs[j] = xi[j] + half * k1[j]
        _derivative_row(xs, eta_cmd, pf, tau_rcs, mdot_rcs, si, scaled, c, g_code, g_par, no_g, thrust, k2)
        for j in range(n_col):
            xs[j] = xi[j] + half * k2[j]
        _derivative_row(xs, eta_cmd, pf, tau_rcs, mdot_rcs, si, scaled, c, g_code, g_par, no_g, thrust, k3)
        for j in range(n_col):
            xs[j] = xi[j] + hi * k3[j]
        _derivative_row(xs, eta_cmd, pf, tau_rcs, mdot_rcs, si, scaled, c, g_code, g_par, no_g, thrust, k4)
        sixth = hi / 6.0
        out = x1[i]
        for j in range(n_col):
            out[j] = xi[j] + sixth * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j])
        qn = math.sqrt(out[6] * out[6] + out[7] * out[7] + out[8] * out[8] + out[9] * out[9])
        for j in range(6, 10):
            out[j] = out[j] / qn
