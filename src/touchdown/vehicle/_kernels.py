"""Compiled per-row kernels of the truth equations of motion (``vehicle.dynamics``).

Each kernel loops over the rows (trajectories) of a batch and computes every row in scalar code, with
the operations of the original numpy formulation in the same order, so a row's bits do not depend on
the batch it flies in and equal those of the numpy code. State layout: see ``vehicle.dynamics``.

The vehicle's constant data travel as one :class:`EomConstants` tuple (built once per
``RigidBodyDynamics``); gravity as a closed-form model code and its three parameters
(``moon.gravity.kernel_spec``), or as a given acceleration per row (``GIVEN_GRAVITY``) for fields that
are evaluated with numpy (spherical harmonics, any other model).

Performance note: the row loops index arrays bound once, before the loop, and call only scalar helpers.
Handing arrays to helper functions inside a loop makes numba count references around every call, which
cost more than the arithmetic here; that is why :func:`eom_rows` writes the derivative once, inside a
loop over the RK4 stages, rather than in a helper.
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
    # engine sums per body axis: for axis k, the first count[k] entries of engine[k] and coef[k] are the
    # engines with a non-zero coefficient and that coefficient, in engine order
    force_engine: NDArray[np.int64]  # (3, E) thrust directions (unit, body axes)
    force_coef: Array  # (3, E)
    force_count: NDArray[np.int64]  # (3,)
    torque_engine: NDArray[np.int64]  # (3, E) torque arms r × d [m]
    torque_coef: Array  # (3, E)
    torque_count: NDArray[np.int64]  # (3,)
    dry_mass: float  # [kg]
    capacity: float  # propellant capacity [kg]
    inertia_dry: Array  # (3,) principal inertias dry [kg·m²]
    inertia_span: Array  # (3,) full minus dry [kg·m²]


@njit(cache=True, inline="always")
def _clip(v: float, lo: float, hi: float) -> float:
    """``np.clip(v, lo, hi)`` with array bounds, bit for bit (NaN propagates; equal zeros give the bound)."""
    if not (v > lo or v != v):
        v = lo
    if not (v < hi or v != v):
        v = hi
    return v


@njit(cache=True)
def drive_rows(throttle, engine_on, torque, prop_ok, c, eta_cmd, tau_rcs, mdot_rcs) -> None:
    """The state-independent drive of N rows from the commands and the propellant flags.

    In: commanded ``throttle`` (N, E) [fraction of f_max], ``engine_on`` (N, E), RCS ``torque`` (N, 3)
    [N·m], ``prop_ok`` (N,). Out: ``eta_cmd`` (N, E) throttle the engines are driven towards (clipped to
    the limits while on, 0 when off or dry), ``tau_rcs`` (N, 3) applied RCS torque [N·m] (saturated per
    axis, 0 when dry) and ``mdot_rcs`` (N,) RCS propellant flow [kg/s].
    """
    throttle_min, throttle_max, torque_max = c.throttle_min, c.throttle_max, c.torque_max
    for i in range(throttle.shape[0]):
        ok = prop_ok[i]
        for e in range(throttle.shape[1]):
            u = _clip(throttle[i, e], throttle_min[e], throttle_max[e])
            eta_cmd[i, e] = u if (engine_on[i, e] and ok) else 0.0
        okf = 1.0 if ok else 0.0
        for k in range(3):
            tau_rcs[i, k] = _clip(torque[i, k], -torque_max[k], torque_max[k]) * okf
        mdot_rcs[i] = (abs(tau_rcs[i, 0]) + abs(tau_rcs[i, 1]) + abs(tau_rcs[i, 2])) * c.rcs_flow_per_nm


@njit(cache=True)
def eom_rows(
    stages, x, h, eta_cmd, prop_ok, tau_rcs, mdot_rcs, scale, scaled, c, g_code, g_par, g_given, out
):
    """The derivative (``stages`` = 1) or one classical RK4 step (``stages`` = 4) of N rows.

    ``x`` (N, 14 + E) states; ``h`` (N,) step lengths [s] (read for RK4 only); the drive ``eta_cmd``,
    ``prop_ok``, ``tau_rcs``, ``mdot_rcs`` from :func:`drive_rows`, held over the step; ``scale`` (N, E)
    delivered fraction of the thrust, read when ``scaled``; gravity ``field_acceleration(g_code,
    *g_par, r)`` [m/s²], or ``g_given`` (N, 3) for ``GIVEN_GRAVITY`` (derivative only).

    Writes into ``out`` (N, 14 + E) ẋ, or the state after the step with the attitude quaternion
    renormalised.
    """
    f_max, ve, has_lag, inv_lag = c.f_max, c.ve, c.has_lag, c.inv_lag
    force_engine, force_coef, force_count = c.force_engine, c.force_coef, c.force_count
    torque_engine, torque_coef, torque_count = c.torque_engine, c.torque_coef, c.torque_count
    dry_mass, capacity, inertia_dry, inertia_span = c.dry_mass, c.capacity, c.inertia_dry, c.inertia_span
    gp0, gp1, gp2 = g_par
    n_col = x.shape[1]
    n_eng = n_col - 14
    xs = np.empty(n_col)  # the state a stage evaluates
    k = np.empty((4, n_col))  # the stage derivatives k1 … k4
    thrust = np.empty(n_eng)  # [N]
    load = np.empty(6)  # engine force (body, [N]) and engine torque (body, [N·m])
    for i in range(x.shape[0]):
        pf = 1.0 if prop_ok[i] else 0.0
        hi = h[i]
        half = 0.5 * hi
        for s in range(stages):
            if s == 0:
                for j in range(n_col):
                    xs[j] = x[i, j]
            elif s < 3:
                for j in range(n_col):
                    xs[j] = x[i, j] + half * k[s - 1, j]
            else:
                for j in range(n_col):
                    xs[j] = x[i, j] + hi * k[2, j]

            # ---- ẋ at xs into k[s] ----
            # thrust level: the lagged state, or the command if no lag; zero when dry
            for e in range(n_eng):
                eta = (xs[14 + e] if has_lag[e] else eta_cmd[i, e]) * pf
                thrust[e] = eta * f_max[e]
                if scaled:  # delivered thrust of a degraded engine (fault)
                    thrust[e] = thrust[e] * scale[i, e]
            # engine sums in engine order over the non-zero coefficients (no BLAS)
            for a in range(3):
                sf = 0.0
                if force_count[a] > 0:
                    sf = thrust[force_engine[a, 0]] * force_coef[a, 0]
                    for j in range(1, force_count[a]):
                        sf += thrust[force_engine[a, j]] * force_coef[a, j]
                st = 0.0
                if torque_count[a] > 0:
                    st = thrust[torque_engine[a, 0]] * torque_coef[a, 0]
                    for j in range(1, torque_count[a]):
                        st += thrust[torque_engine[a, j]] * torque_coef[a, j]
                load[a] = sf
                load[3 + a] = tau_rcs[i, a] + st
            fx, fy, fz = load[0], load[1], load[2]

            k[s, 0], k[s, 1], k[s, 2] = xs[3], xs[4], xs[5]
            # specific thrust in mci: quat_rotate(q, f_body) / m, i.e. f + w t + u × t with t = 2 u × f
            qw, qx, qy, qz = xs[6], xs[7], xs[8], xs[9]
            m = xs[13]
            t0 = 2.0 * (qy * fz - qz * fy)
            t1 = 2.0 * (qz * fx - qx * fz)
            t2 = 2.0 * (qx * fy - qy * fx)
            ax = (fx + qw * t0 + (qy * t2 - qz * t1)) / m
            ay = (fy + qw * t1 + (qz * t0 - qx * t2)) / m
            az = (fz + qw * t2 + (qx * t1 - qy * t0)) / m
            if g_code == GIVEN_GRAVITY:
                gx, gy, gz = g_given[i, 0], g_given[i, 1], g_given[i, 2]
            else:
                gx, gy, gz = field_acceleration(g_code, gp0, gp1, gp2, xs[0], xs[1], xs[2])
            k[s, 3], k[s, 4], k[s, 5] = ax + gx, ay + gy, az + gz

            # attitude kinematics ½ q ⊗ [0, ω] (the Hamilton product's operations with a zero scalar)
            wx, wy, wz = xs[10], xs[11], xs[12]
            w0 = 0.0
            k[s, 6] = (qw * w0 - qx * wx - qy * wy - qz * wz) * 0.5
            k[s, 7] = (qw * wx + qx * w0 + qy * wz - qz * wy) * 0.5
            k[s, 8] = (qw * wy - qx * wz + qy * w0 + qz * wx) * 0.5
            k[s, 9] = (qw * wz + qx * wy - qy * wx + qz * w0) * 0.5

            # Euler's equations I ω̇ = τ − ω × Iω with the principal inertias of the propellant on board
            prop = m - dry_mass
            if not (prop > 0.0 or prop != prop):  # np.maximum(prop, 0.0)
                prop = 0.0
            frac = prop / capacity
            ix = inertia_dry[0] + frac * inertia_span[0]
            iy = inertia_dry[1] + frac * inertia_span[1]
            iz = inertia_dry[2] + frac * inertia_span[2]
            hx, hy, hz = ix * wx, iy * wy, iz * wz
            k[s, 10] = (load[3] - (wy * hz - wz * hy)) / ix
            k[s, 11] = (load[4] - (wz * hx - wx * hz)) / iy
            k[s, 12] = (load[5] - (wx * hy - wy * hx)) / iz

            # mass flow of the engines and the RCS; thrust-level lag
            total = thrust[0] / ve[0]
            for e in range(1, n_eng):
                total += thrust[e] / ve[e]
            total += mdot_rcs[i]
            k[s, 13] = -total
            for e in range(n_eng):
                k[s, 14 + e] = (eta_cmd[i, e] - xs[14 + e]) * inv_lag[e]

        if stages == 1:
            for j in range(n_col):
                out[i, j] = k[0, j]
        else:
            sixth = hi / 6.0
            for j in range(n_col):
                out[i, j] = x[i, j] + sixth * (k[0, j] + 2.0 * k[1, j] + 2.0 * k[2, j] + k[3, j])
            qn = math.sqrt(
                out[i, 6] * out[i, 6] + out[i, 7] * out[i, 7] + out[i, 8] * out[i, 8] + out[i, 9] * out[i, 9]
            )
            for j in range(6, 10):
                out[i, j] = out[i, j] / qn
