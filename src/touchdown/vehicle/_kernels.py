"""Compiled per-row kernels of the truth equations of motion (``vehicle.dynamics``).

Each kernel loops over the rows (trajectories) of a batch and computes every row in scalar code, with
the operations of the original numpy formulation in the same order, so a row's bits do not depend on
the batch it flies in and equal those of the numpy code. State layout: see ``vehicle.dynamics``.

The vehicle's constant data travel as one :class:`EomConstants` tuple (built once per
``RigidBodyDynamics``); gravity as a closed-form model code and its three parameters
(``moon.gravity.kernel_spec``), or as a given acceleration per row (``GIVEN_GRAVITY``) for fields that
are evaluated with numpy (spherical harmonics, any other model).

Performance notes. The loops index arrays bound once, before the loop, and call only scalar helpers:
handing arrays to helper functions inside a loop makes numba count references around every call, which
cost more than the arithmetic here (that is why :func:`eom_rows` writes the derivative once, inside a
loop over the RK4 stages). ``error_model="numpy"``: division by zero gives ±inf/NaN as in numpy (not an
exception), which also lets the compiler vectorise divisions.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown._scalar import _clip
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
    # engine sums of the load: rows 0–2 the force per body axis (coefficients: the thrust directions, unit,
    # body axes), rows 3–5 the torque (the torque arms r × d [m]); for row k, the first count[k] entries
    # of engine[k] and coef[k] are the engines with a non-zero coefficient and that coefficient, in order
    load_engine: NDArray[np.int64]  # (6, E)
    load_coef: Array  # (6, E)
    load_count: NDArray[np.int64]  # (6,)
    dry_mass: float  # [kg]
    capacity: float  # propellant capacity [kg]
    inertia_dry: Array  # (3,) principal inertias dry [kg·m²]
    inertia_span: Array  # (3,) full minus dry [kg·m²]


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
def lag_decay(h: Array, inv_lag: Array) -> tuple[Array, Array]:
    """exp(−(h/2)/τ) and exp(−h/τ) (N, E) for step lengths ``h`` (N,) [s] and 1/τ ``inv_lag`` (E,) [1/s]: the
    part of a first-order lag's initial error left half-way through and at the end of a step (libm's exp,
    as :func:`eom_rows` computes them)."""
    n, n_eng = h.shape[0], inv_lag.shape[0]
    half, full = np.empty((n, n_eng)), np.empty((n, n_eng))
    for i in range(n):
        for e in range(n_eng):
            half[i, e] = math.exp(-(0.5 * h[i]) * inv_lag[e])
            full[i, e] = math.exp(-h[i] * inv_lag[e])
    return half, full


#: Rows a block of :func:`eom_rows` computes side by side (its work arrays stay in the L2 cache).
LANES = 128


@njit(cache=True, error_model="numpy")
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

    Engine lag in the RK4 step: the thrust level follows its held command u exactly, η(τ) = u + (η₀ − u)
    e^(−τ/T_lag) (a first-order lag under a zero-order hold), so each stage evaluates the forces at the
    level of its own instant (τ = 0, h/2, h/2, h) and the step ends on the exact level; the rest of the
    state takes the classical RK4 combination. The step is then not bound by the lag's time constant.

    Rows go through in blocks of up to ``LANES``, every quantity held as a (…, LANES) array, so each
    operation below is a loop over the block's rows that the compiler turns into vector instructions
    (about twice as fast as a row at a time). Rows never mix: each lane computes its own row with exactly
    the scalar operations of the numpy formulation (vector +, −, ×, ÷, √ round as the scalar ones; no
    FMA).
    """
    f_max, ve, has_lag, inv_lag = c.f_max, c.ve, c.has_lag, c.inv_lag
    load_engine, load_coef, load_count = c.load_engine, c.load_coef, c.load_count
    dry_mass, capacity = c.dry_mass, c.capacity
    i_dry, i_span = c.inertia_dry, c.inertia_span
    gp0, gp1, gp2 = g_par
    given = g_code == GIVEN_GRAVITY
    n, n_col = x.shape
    n_eng = n_col - 14
    # one block: start states and drive …
    x0 = np.empty((n_col, LANES))
    u = np.empty((n_eng, LANES))  # throttle the engines are driven towards
    sc = np.empty((n_eng, LANES))  # delivered thrust fraction
    tau = np.empty((3, LANES))  # RCS torque [N·m]
    mrcs = np.empty(LANES)  # RCS flow [kg/s]
    pf = np.empty(LANES)  # 1.0 while propellant is left, else 0.0
    hh = np.empty(LANES)  # step [s]
    # … the state a stage evaluates, its derivative k1 … k4, the state after the step
    xs = np.empty((n_col, LANES))
    k = np.empty((4, n_col, LANES))
    x1 = np.empty((n_col, LANES))
    # … and intermediate quantities
    thrust = np.empty((n_eng, LANES))  # [N]
    load = np.empty((6, LANES))  # engine force [N], then total torque [N·m], body axes
    flow = np.empty(LANES)  # engine propellant flow [kg/s]
    grav = np.zeros((3, LANES))  # gravitational acceleration [m/s²]
    dec = np.empty((2, n_eng, LANES))  # lag decay over half the step, exp(−(h/2)/T_lag), and the whole
    for i0 in range(0, n, LANES):
        w = min(LANES, n - i0)  # rows in this block
        for r in range(w):
            i = i0 + r
            for j in range(n_col):
                x0[j, r] = x[i, j]
            for e in range(n_eng):
                u[e, r] = eta_cmd[i, e]
                sc[e, r] = scale[i, e]
            for a in range(3):
                tau[a, r] = tau_rcs[i, a]
                if given:
                    grav[a, r] = g_given[i, a]
            mrcs[r] = mdot_rcs[i]
            pf[r] = 1.0 if prop_ok[i] else 0.0
            hh[r] = h[i] if stages > 1 else 0.0
        if stages > 1:
            for e in range(n_eng):
                if has_lag[e]:
                    il = inv_lag[e]
                    h_prev = math.nan
                    d_half = d_full = 0.0
                    for r in range(w):  # the steps of a batch are mostly equal: one exp pair per length
                        if hh[r] != h_prev:
                            h_prev = hh[r]
                            d_half = math.exp(-(0.5 * h_prev) * il)
                            d_full = math.exp(-h_prev * il)
                        dec[0, e, r] = d_half
                        dec[1, e, r] = d_full

        for s in range(stages):
            # the stage's state: x, x + h/2 k1, x + h/2 k2, x + h k3
            for j in range(n_col):
                if s == 0:
                    for r in range(w):
                        xs[j, r] = x0[j, r]
                elif s < 3:
                    for r in range(w):
                        xs[j, r] = x0[j, r] + (0.5 * hh[r]) * k[s - 1, j, r]
                else:
                    for r in range(w):
                        xs[j, r] = x0[j, r] + hh[r] * k[2, j, r]
            if s > 0:  # a lagged engine's level at the stage's instant, exactly
                half_or_full = 0 if s < 3 else 1  # an index, not an array variable (no reference count)
                for e in range(n_eng):
                    if has_lag[e]:
                        for r in range(w):
                            xs[14 + e, r] = u[e, r] + (x0[14 + e, r] - u[e, r]) * dec[half_or_full, e, r]

            # thrust: the lagged level, or the command if no lag; zero when dry; scaled by a fault
            for e in range(n_eng):
                fm = f_max[e]
                if has_lag[e]:
                    for r in range(w):
                        thrust[e, r] = (xs[14 + e, r] * pf[r]) * fm
                else:
                    for r in range(w):
                        thrust[e, r] = (u[e, r] * pf[r]) * fm
                if scaled:
                    for r in range(w):
                        thrust[e, r] = thrust[e, r] * sc[e, r]
            # engine force and torque: sums in engine order over the non-zero coefficients (no BLAS); one
            # table for both, as a loop over a tuple of arrays would count references in this loop
            for row in range(6):
                if load_count[row] == 0:
                    for r in range(w):
                        load[row, r] = 0.0
                    continue
                e, cf = load_engine[row, 0], load_coef[row, 0]
                for r in range(w):
                    load[row, r] = thrust[e, r] * cf
                for j in range(1, load_count[row]):
                    e, cf = load_engine[row, j], load_coef[row, j]
                    for r in range(w):
                        load[row, r] += thrust[e, r] * cf
            for a in range(3):
                for r in range(w):
                    load[3 + a, r] = tau[a, r] + load[3 + a, r]
            # engine propellant flow, in engine order
            for r in range(w):
                flow[r] = thrust[0, r] / ve[0]
            for e in range(1, n_eng):
                for r in range(w):
                    flow[r] += thrust[e, r] / ve[e]
            if not given:
                for r in range(w):
                    grav[0, r], grav[1, r], grav[2, r] = field_acceleration(
                        g_code, gp0, gp1, gp2, xs[0, r], xs[1, r], xs[2, r]
                    )

            # ṙ = v; v̇ = quat_rotate(q, f_body) / m + g, i.e. f + w t + u × t with t = 2 u × f
            for r in range(w):
                fx, fy, fz = load[0, r], load[1, r], load[2, r]
                qw, qx, qy, qz = xs[6, r], xs[7, r], xs[8, r], xs[9, r]
                m = xs[13, r]
                t0 = 2.0 * (qy * fz - qz * fy)
                t1 = 2.0 * (qz * fx - qx * fz)
                t2 = 2.0 * (qx * fy - qy * fx)
                k[s, 0, r], k[s, 1, r], k[s, 2, r] = xs[3, r], xs[4, r], xs[5, r]
                k[s, 3, r] = (fx + qw * t0 + (qy * t2 - qz * t1)) / m + grav[0, r]
                k[s, 4, r] = (fy + qw * t1 + (qz * t0 - qx * t2)) / m + grav[1, r]
                k[s, 5, r] = (fz + qw * t2 + (qx * t1 - qy * t0)) / m + grav[2, r]
            # attitude kinematics ½ q ⊗ [0, ω] (the Hamilton product's operations with a zero scalar)
            for r in range(w):
                qw, qx, qy, qz = xs[6, r], xs[7, r], xs[8, r], xs[9, r]
                wx, wy, wz = xs[10, r], xs[11, r], xs[12, r]
                w0 = 0.0
                k[s, 6, r] = (qw * w0 - qx * wx - qy * wy - qz * wz) * 0.5
                k[s, 7, r] = (qw * wx + qx * w0 + qy * wz - qz * wy) * 0.5
                k[s, 8, r] = (qw * wy - qx * wz + qy * w0 + qz * wx) * 0.5
                k[s, 9, r] = (qw * wz + qx * wy - qy * wx + qz * w0) * 0.5
            # Euler's equations I ω̇ = τ − ω × Iω with the principal inertias of the propellant on
            # board; ṁ = −(engine flow + RCS flow)
            for r in range(w):
                wx, wy, wz = xs[10, r], xs[11, r], xs[12, r]
                prop = xs[13, r] - dry_mass
                if not (prop > 0.0 or prop != prop):  # np.maximum(prop, 0.0)
                    prop = 0.0
                frac = prop / capacity
                ix = i_dry[0] + frac * i_span[0]
                iy = i_dry[1] + frac * i_span[1]
                iz = i_dry[2] + frac * i_span[2]
                hx, hy, hz = ix * wx, iy * wy, iz * wz
                k[s, 10, r] = (load[3, r] - (wy * hz - wz * hy)) / ix
                k[s, 11, r] = (load[4, r] - (wz * hx - wx * hz)) / iy
                k[s, 12, r] = (load[5, r] - (wx * hy - wy * hx)) / iz
                k[s, 13, r] = -(flow[r] + mrcs[r])
            # thrust-level lag
            for e in range(n_eng):
                il = inv_lag[e]
                for r in range(w):
                    k[s, 14 + e, r] = (u[e, r] - xs[14 + e, r]) * il

        if stages == 1:
            for j in range(n_col):
                for r in range(w):
                    x1[j, r] = k[0, j, r]
        else:
            # x + h/6 (k1 + 2 k2 + 2 k3 + k4), then q / |q|
            for j in range(n_col):
                for r in range(w):
                    x1[j, r] = x0[j, r] + (hh[r] / 6.0) * (
                        k[0, j, r] + 2.0 * k[1, j, r] + 2.0 * k[2, j, r] + k[3, j, r]
                    )
            for e in range(n_eng):
                if has_lag[e]:
                    for r in range(w):
                        x1[14 + e, r] = u[e, r] + (x0[14 + e, r] - u[e, r]) * dec[1, e, r]
            for r in range(w):
                qn = math.sqrt(
                    x1[6, r] * x1[6, r] + x1[7, r] * x1[7, r] + x1[8, r] * x1[8, r] + x1[9, r] * x1[9, r]
                )
                x1[6, r] = x1[6, r] / qn
                x1[7, r] = x1[7, r] / qn
                x1[8, r] = x1[8, r] / qn
                x1[9, r] = x1[9, r] / qn
        for r in range(w):
            for j in range(n_col):
                out[i0 + r, j] = x1[j, r]
