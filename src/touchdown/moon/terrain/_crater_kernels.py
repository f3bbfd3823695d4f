"""The random crater field (``synthetic.CraterField``) compiled, with numpy's bits.

A query draws, for each row (class and layer), the crater of the cell the point falls in (presence,
size, position and shape, hashed from the cell) and sums the rows' crater profiles: about a hundred numpy
passes over (rows, points) arrays, ≈ 0.4 ms of call overhead for one point, and most of a
synthetic-terrain flight's time. :func:`draw_cells` (the draws) and :func:`plane_field` (heights and plane
gradients) do the same operations in one call each: hashes, uniforms and arithmetic element by element
(integer and +, −, ×, ÷ operations round as numpy's), ``np.interp`` as numpy's C code computes it
(:func:`interp_rows`), ``log``, ``exp`` and ``power`` through numpy's own float64 loops
(:mod:`touchdown._ufunc_loops`), called as numpy calls them (a scalar exponent with stride 0), and
``hypot`` from the C library, which numpy's hypot loop calls too. So the field is bit-identical to the
numpy code's (tested); where numpy's loops cannot be read (:data:`LOOPS` is None) it keeps its numpy code.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown._ufunc_loops import binary_scalar, numpy_loop, unary_inplace
from touchdown.noise import _mix

Array = NDArray[np.float64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C_J = np.uint64(0xC2B2AE3D27D4EB4F)
_S11 = np.uint64(11)
_U53 = 2.0**-53


def _loops() -> tuple | None:
    loops = (
        numpy_loop(np.log, "d->d"),
        numpy_loop(np.exp, "d->d"),
        numpy_loop(np.power),
    )
    return None if any(loop is None for loop in loops) else loops


#: numpy's float64 loops of (log, exp, power), or None where any cannot be read.
LOOPS = _loops()


class CraterRows(NamedTuple):
    """A crater field's constants as the kernels take them: R rows (each class and layer, in the order the
    field sums them), C size classes, K nodes per cumulative-density table."""

    key: NDArray[np.uint64]  # (R,) the row's hash key
    ox: Array  # (R,) lattice offset east [m, plane]
    oy: Array  # (R,) lattice offset north [m, plane]
    cell: Array  # (R,) cell side [m]
    p: Array  # (R,) probability that a cell holds a crater
    n_lo: Array  # (R,) cumulative density at the class's smallest diameter [1/m²]
    delta_n: Array  # (R,) the class's density [1/m²]
    d_lo: Array  # (R,) the class's diameter range [m]
    d_hi: Array  # (R,)
    row_class: NDArray[np.int64]  # (R,) the row's class
    log_n: Array  # (C, K) log cumulative density, increasing (np.interp's xp)
    log_d: Array  # (C, K) log diameter [log m] at those densities
    # (13,) ejecta cutoff [radii], fresh and shallow fractions, shallow d/D range, deep d/D range,
    # rim-to-depth ratio, Pike's fresh depth coefficient and exponent − 1, rim coefficient and exponent − 1,
    # the field's extent [m]
    shape: Array
    taper: Array  # (3,) the ejecta taper's constants a, b and 1 + a + b (craters._taper_consts)


@njit(cache=True)
def _uniform(key: np.uint64, stream: int) -> float:
    """``synthetic._uniform`` of one key: a uniform in [0, 1) for ``stream``."""
    z = _mix(key + np.uint64(stream) * _GOLDEN)
    return np.float64(z >> _S11) * _U53


@njit(cache=True, error_model="numpy")
def interp_rows(x: Array, row: NDArray[np.int64], xp: Array, fp: Array) -> None:
    """``x[e] = np.interp(x[e], xp[row[e]], fp[row[e]])`` in place, as numpy's C code computes it (each row
    of the (rows, K) tables increasing in xp). One loop over the elements: a helper called per element
    costs ≈ 20 ns in calling alone, four times the interpolation."""
    n = xp.shape[1]
    for e in range(x.shape[0]):
        v, r = x[e], row[e]
        if v != v:
            continue
        if v < xp[r, 0]:
            x[e] = fp[r, 0]
            continue
        if v > xp[r, n - 1]:
            x[e] = fp[r, n - 1]
            continue
        # the last j with xp[j] ≤ v (numpy's answer): guessed as if xp were evenly spaced (most tables are,
        # in log D), then walked to; a bisection's chain of dependent loads costs ≈ 45 ns an element
        x0 = xp[r, 0]
        j = min(max(int((v - x0) / (xp[r, n - 1] - x0) * (n - 1)), 0), n - 1)
        while j < n - 1 and xp[r, j + 1] <= v:
            j += 1
        while j > 0 and xp[r, j] > v:
            j -= 1
        if j == n - 1 or xp[r, j] == v:
            x[e] = fp[r, j]
            continue
        slope = (fp[r, j + 1] - fp[r, j]) / (xp[r, j + 1] - xp[r, j])
        y = slope * (v - xp[r, j]) + fp[r, j]
        if y != y:  # NaN one way: numpy tries the other end, then a flat segment
            y = slope * (v - xp[r, j + 1]) + fp[r, j + 1]
            if y != y and fp[r, j] == fp[r, j + 1]:
                y = fp[r, j]
        x[e] = y


@njit(cache=True, error_model="numpy")
def draw_cells(
    i: NDArray[np.int64], j: NDArray[np.int64], r0: int, rows: CraterRows, log_loop, exp_loop, pow_loop
) -> tuple[Array, Array, Array, Array, Array, NDArray[np.bool_]]:
    """``CraterField._draw`` of cells (i, j) (R, M) of rows r0 … r0 + R − 1: centre (x, y) [m, plane],
    diameter, depth and rim [m] and presence, each (R, M). ``rows``: the field's constants; the loops:
    numpy's (:data:`LOOPS`)."""
    key, ox, oy, cell, p = rows.key, rows.ox, rows.oy, rows.cell, rows.p
    n_lo, delta_n, d_lo, d_hi = rows.n_lo, rows.delta_n, rows.d_lo, rows.d_hi
    row_class, log_n, log_d, shape = rows.row_class, rows.log_n, rows.log_d, rows.shape
    n_rows, m = i.shape
    size = n_rows * m
    cutoff, fresh_fraction, shallow_fraction = shape[0], shape[1], shape[2]
    sd0, sd1, dd0, dd1, rim_to_depth = shape[3], shape[4], shape[5], shape[6], shape[7]
    depth_a, depth_e, rim_a, rim_e, extent = shape[8], shape[9], shape[10], shape[11], shape[12]
    keys = np.empty(size, np.uint64)
    present = np.empty(size, np.bool_)
    val = np.empty(size)  # the density target, its log, the log-diameter, then the diameter
    for r in range(n_rows):
        row = r0 + r
        for c in range(m):
            e = r * m + c
            z = _mix(key[row] + np.uint64(i[r, c]) * _GOLDEN)
            z = _mix(z + np.uint64(j[r, c]) * _C_J)
            keys[e] = z
            present[e] = _uniform(z, 1) < p[row]
            val[e] = n_lo[row] - _uniform(z, 2) * delta_n[row]
    unary_inplace(log_loop, val, size)
    cls = np.empty(size, np.int64)  # each element's class: its table
    for r in range(n_rows):
        for c in range(m):
            cls[r * m + c] = row_class[r0 + r]
    interp_rows(val, cls, log_n, log_d)
    unary_inplace(exp_loop, val, size)
    diam = val
    cx, cy = np.empty(size), np.empty(size)
    d_km = np.empty(size)
    dd_old = np.empty(size)
    fresh = np.empty(size, np.bool_)
    for r in range(n_rows):
        row = r0 + r
        for c in range(m):
            e = r * m + c
            d = min(max(diam[e], d_lo[row]), d_hi[row])  # np.clip
            diam[e] = d
            margin = 0.5 * cutoff * d
            room = cell[row] - 2.0 * margin
            z = keys[e]
            cx[e] = ox[row] + i[r, c] * cell[row] + margin + _uniform(z, 3) * room
            cy[e] = oy[row] + j[r, c] * cell[row] + margin + _uniform(z, 4) * room
            fresh[e] = _uniform(z, 5) < fresh_fraction
            shallow = _uniform(z, 6) < shallow_fraction
            u = _uniform(z, 7)
            dd_old[e] = sd0 + u * (sd1 - sd0) if shallow else dd0 + u * (dd1 - dd0)
            d_km[e] = d / 1000.0
    fd, fh = np.empty(size), np.empty(size)
    binary_scalar(pow_loop, d_km, np.full(1, depth_e), fd, size)
    binary_scalar(pow_loop, d_km, np.full(1, rim_e), fh, size)
    depth, rim = np.empty(size), np.empty(size)
    for e in range(size):
        d = diam[e]
        if fresh[e]:
            depth[e] = (depth_a * fd[e]) * d
            rim[e] = (rim_a * fh[e]) * d
        else:
            depth[e] = dd_old[e] * d
            rim[e] = rim_to_depth * dd_old[e] * d
        present[e] = present[e] and math.hypot(cx[e], cy[e]) <= extent
    out_shape = (n_rows, m)
    return (
        cx.reshape(out_shape),
        cy.reshape(out_shape),
        diam.reshape(out_shape),
        depth.reshape(out_shape),
        rim.reshape(out_shape),
        present.reshape(out_shape),
    )


@njit(cache=True, error_model="numpy")
def plane_field(
    x: Array, y: Array, gradient: bool, rows: CraterRows, log_loop, exp_loop, pow_loop
) -> tuple[Array, Array, Array]:
    """``CraterField._plane_block``: height [m] and plane gradient [m/m] of the field at plane points (x, y)
    (n,) [m], every row (class and layer) summed in order; the gradient zeros unless ``gradient``.

    The draw as :func:`draw_cells`, then ``craters.simple_profile`` with ``ejecta_taper``, the powers x⁻³
    and x⁻⁴ through numpy's loop, as numpy's code."""
    ox, oy, cell, taper = rows.ox, rows.oy, rows.cell, rows.taper
    n_rows, n = ox.shape[0], x.shape[0]
    cutoff = rows.shape[0]
    ta, tb, tnorm = taper[0], taper[1], taper[2]
    i = np.empty((n_rows, n), np.int64)
    j = np.empty((n_rows, n), np.int64)
    for r in range(n_rows):
        for c in range(n):
            i[r, c] = np.int64(np.floor((x[c] - ox[r]) / cell[r]))
            j[r, c] = np.int64(np.floor((y[c] - oy[r]) / cell[r]))
    cx, cy, diam, depth, rim, present = draw_cells(i, j, 0, rows, log_loop, exp_loop, pow_loop)
    size = n_rows * n
    dx, dy, dist, xr, xs = np.empty(size), np.empty(size), np.empty(size), np.empty(size), np.empty(size)
    for r in range(n_rows):
        for c in range(n):
            e = r * n + c
            dx[e] = x[c] - cx[r, c]
            dy[e] = y[c] - cy[r, c]
            dist[e] = math.hypot(dx[e], dy[e])
            xr[e] = dist[e] / (0.5 * diam[r, c])
            xs[e] = min(max(xr[e], 1.0), cutoff)  # np.clip(x, 1, cutoff)
    p3, p4 = np.empty(size), np.empty(size)
    binary_scalar(pow_loop, xs, np.full(1, -3.0), p3, size)
    binary_scalar(pow_loop, xs, np.full(1, -4.0), p4, size)
    h_sum, gx, gy = np.zeros(n), np.zeros(n), np.zeros(n)
    for r in range(n_rows):
        for c in range(n):
            e = r * n + c
            xv = xr[e]
            d, h = depth[r, c], rim[r, c]
            radius = 0.5 * diam[r, c]
            if xv < 1.0:
                z = h + (h + d) * (xv * xv - 1.0)
                dz = 2.0 * (h + d) * xv / radius
            else:
                inside = xv < cutoff
                t = (p3[e] + ta + tb * xs[e]) / tnorm if inside else 0.0
                dt = (-3.0 * p4[e] + tb) / tnorm if inside else 0.0
                z = h * t
                dz = h * dt / radius
            ok = present[r, c]
            h_sum[c] = h_sum[c] + (z if ok else 0.0)
            if gradient:
                g = dz / dist[e] if ok and dist[e] > 0.0 else 0.0
                gx[c] = gx[c] + g * dx[e]
                gy[c] = gy[c] + g * dy[e]
    return h_sum, gx, gy
