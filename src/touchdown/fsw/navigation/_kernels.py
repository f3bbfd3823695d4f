"""Compiled per-row kernels of the navigation filter (``fsw.navigation.ekf``): the covariance propagation
F P Fᵀ + Q, the Joseph-form measurement update, H P Hᵀ, the symmetric 3×3 inverse, and the altimeter
beam model's arithmetic (its latitudes and longitudes, atan2, and the map stay in numpy).

Each kernel loops over the rows (trajectories) and computes every row in scalar code with the operations of
the numpy formulation it replaces in the same order, so a row's bits equal the numpy code's and do not depend
on the batch it flies in. That code formed its batched products with ``np.einsum("nik,nkj->nij")``, whose sum
over k takes one of two orders, depending on the operands' memory layout (numpy's SSE2 baseline loops):

* *ascending*: 0 + p₀ + p₁ + … + p₆ (the second factor strided along k, as in ``A @ B``);
* *paired*: two lanes, the even and the odd k, each summed in ascending k from 0, then 0 + (s_even + s_odd)
  (both factors contiguous along k, as in ``A @ Bᵀ`` with Bᵀ a transposed view): einsum's SIMD dot product.

F P Fᵀ and (I − KH) P (I − KH)ᵀ skip the products with an exact zero in F or I − KH (most of F; three
columns of I − KH for a height measurement). That is exact: adding ±0 to a sum that started at +0 leaves it
unchanged bit for bit, provided the other factor is finite, so a row whose covariance holds a NaN or an
infinity takes every product, as before (0 × ∞ = NaN). The two common patterns (F; I − KH of a height
measurement) are written out (``_propagate_row``, ``_sandwich_height``); any other takes the index lists
of ``_sandwich``.

The numpy code's scalar expressions keep their order too, down to the ``0.0 +`` that starts every sum
(it turns a −0 product into +0, as einsum's zeroed output does) and numpy's own semantics where they differ
from Python's (``np.maximum``: NaN wins, the second operand on a tie; divisions by zero give ±∞/NaN).

Blocks. :func:`propagate_covariance` and the scalar (m = 1) path of :func:`joseph_update` take the rows
in blocks of ``LANES``: a block's matrices are gathered into work arrays laid out (7, 7, LANES) (vectors
(7, LANES)), every step is a loop with the lane innermost, which the compiler turns into vector
instructions across rows (a row's 7-wide loops do not vectorise), and the results are scattered back.
Each lane does its row's scalar operations in the same order (vector +, −, ×, ÷ round as the scalar ones;
no FMA, no reassociation), so the bits are those of the per-row code. A row outside the common case (a P
that is not finite; for the update, an I − KH without the height pattern) is computed again alone by the
per-row code, whose result it keeps. The lane loops call no function that takes an array (numba counts
references around such calls).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

from touchdown._scalar import _maximum
from touchdown.moon._frames_kernels import llh_parts_rows
from touchdown.moon.frames import quat_rotate_vector, quat_turned
from touchdown.moon.terrain.kernels import _atan2, dem_height

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]

NX = 7  # state size: r (3), v (3), map offset b (1)


@njit(cache=True, error_model="numpy")
def _all_finite(a: Array) -> bool:
    """True when every entry of the 7×7 ``a`` is finite (their sum is; an overflow only answers False)."""
    total = 0.0
    for i in range(NX):
        for j in range(NX):
            total += a[i, j]
    return math.isfinite(total)


@njit(cache=True, error_model="numpy")
def _sandwich(
    a: Array, p: Array, out: Array, work: Array, idx: NDArray[np.int64], cnt: NDArray[np.int64], sparse: bool
) -> None:
    """``out = (a p) aᵀ`` for 7×7 matrices: a p ascending, (a p) aᵀ paired (see the module docstring).

    With ``sparse`` (only for a finite ``p``) the products with an exact zero in ``a`` are skipped. ``work``
    (3, 7, 7), ``idx`` (7, 7) and ``cnt`` (7,) are scratch.
    """
    ap, apt, sums = work[0], work[1], work[2]
    for i in range(NX):  # the columns taken in row i of a, ascending
        c = 0
        for k in range(NX):
            if not sparse or a[i, k] != 0.0:
                idx[i, c] = k
                c += 1
        cnt[i] = c
    for i in range(NX):  # a p, row by row (each entry a sum in ascending k)
        for j in range(NX):
            ap[i, j] = 0.0
        for t in range(cnt[i]):
            k = idx[i, t]
            aik = a[i, k]
            for j in range(NX):
                ap[i, j] += aik * p[k, j]
    for i in range(NX):
        for j in range(NX):
            apt[j, i] = ap[i, j]
    s_even, s_odd = sums[0], sums[1]
    for j in range(NX):  # (a p) aᵀ column by column: the even and the odd k of row j of a
        for i in range(NX):
            s_even[i] = 0.0
            s_odd[i] = 0.0
        for t in range(cnt[j]):
            k = idx[j, t]
            ajk = a[j, k]
            if k % 2 == 0:
                for i in range(NX):
                    s_even[i] += apt[k, i] * ajk
            else:
                for i in range(NX):
                    s_odd[i] += apt[k, i] * ajk
        for i in range(NX):
            out[i, j] = 0.0 + (s_even[i] + s_odd[i])


@njit(cache=True, error_model="numpy")
def _height_pattern(a: Array) -> bool:
    """True when the 7×7 ``a`` is zero off the diagonal in columns 3–5 (I − KH for H = [r̂ᵀ, 0, 0, 0, h_b])."""
    for k in range(3, 6):
        for i in range(NX):
            if i != k and a[i, k] != 0.0:
                return False
    return True


@njit(cache=True, error_model="numpy")
def _sandwich_height(a: Array, p: Array, out: Array, ap: Array) -> None:
    """:func:`_sandwich` (sparse) for an ``a`` of :func:`_height_pattern` and a finite ``p``, written out:
    the terms of columns 0, 1, 2, 6 and the diagonal of columns 3–5, in the same orders."""
    for i in range(NX):
        a0, a1, a2, a6 = a[i, 0], a[i, 1], a[i, 2], a[i, 6]
        if 3 <= i <= 5:
            ai = a[i, i]
            for j in range(NX):
                ap[i, j] = 0.0 + a0 * p[0, j] + a1 * p[1, j] + a2 * p[2, j] + ai * p[i, j] + a6 * p[6, j]
        else:
            for j in range(NX):
                ap[i, j] = 0.0 + a0 * p[0, j] + a1 * p[1, j] + a2 * p[2, j] + a6 * p[6, j]
    for j in range(NX):
        b0, b1, b2, b6 = a[j, 0], a[j, 1], a[j, 2], a[j, 6]
        if j == 3:
            b3 = a[3, 3]
            for i in range(NX):
                e = 0.0 + ap[i, 0] * b0 + ap[i, 2] * b2 + ap[i, 6] * b6
                o = 0.0 + ap[i, 1] * b1 + ap[i, 3] * b3
                out[i, j] = 0.0 + (e + o)
        elif j == 4:
            b4 = a[4, 4]
            for i in range(NX):
                e = 0.0 + ap[i, 0] * b0 + ap[i, 2] * b2 + ap[i, 4] * b4 + ap[i, 6] * b6
                o = 0.0 + ap[i, 1] * b1
                out[i, j] = 0.0 + (e + o)
        elif j == 5:
            b5 = a[5, 5]
            for i in range(NX):
                e = 0.0 + ap[i, 0] * b0 + ap[i, 2] * b2 + ap[i, 6] * b6
                o = 0.0 + ap[i, 1] * b1 + ap[i, 5] * b5
                out[i, j] = 0.0 + (e + o)
        else:
            for i in range(NX):
                e = 0.0 + ap[i, 0] * b0 + ap[i, 2] * b2 + ap[i, 6] * b6
                o = 0.0 + ap[i, 1] * b1
                out[i, j] = 0.0 + (e + o)


@njit(cache=True, error_model="numpy")
def _propagate_row(p: Array, f: Array, dt: float, fp: Array, out: Array) -> None:
    """``out = F p Fᵀ`` (7×7) for F with the transition matrix's zero pattern (see propagate_covariance)
    and a finite ``p``: ascending then paired sums over the structurally non-zero entries of F only."""
    for i in range(3):  # F_rr, F_rv = I dt
        for j in range(NX):
            fp[i, j] = 0.0 + f[i, 0] * p[0, j] + f[i, 1] * p[1, j] + f[i, 2] * p[2, j] + dt * p[3 + i, j]
    for i in range(3, 6):  # F_vr, F_vv
        for j in range(NX):
            fp[i, j] = (
                0.0
                + f[i, 0] * p[0, j]
                + f[i, 1] * p[1, j]
                + f[i, 2] * p[2, j]
                + f[i, 3] * p[3, j]
                + f[i, 4] * p[4, j]
                + f[i, 5] * p[5, j]
            )
    for j in range(NX):  # F_bb = 1
        fp[6, j] = 0.0 + 1.0 * p[6, j]
    for i in range(NX):
        a = fp[i]
        out[i, 0] = 0.0 + ((0.0 + a[0] * f[0, 0] + a[2] * f[0, 2]) + (0.0 + a[1] * f[0, 1] + a[3] * dt))
        out[i, 1] = 0.0 + ((0.0 + a[0] * f[1, 0] + a[2] * f[1, 2] + a[4] * dt) + (0.0 + a[1] * f[1, 1]))
        out[i, 2] = 0.0 + ((0.0 + a[0] * f[2, 0] + a[2] * f[2, 2]) + (0.0 + a[1] * f[2, 1] + a[5] * dt))
        for j in range(3, 6):
            out[i, j] = 0.0 + (
                (0.0 + a[0] * f[j, 0] + a[2] * f[j, 2] + a[4] * f[j, 4])
                + (0.0 + a[1] * f[j, 1] + a[3] * f[j, 3] + a[5] * f[j, 5])
            )
        out[i, 6] = 0.0 + ((0.0 + a[6] * 1.0) + 0.0)


#: Rows a block of :func:`propagate_covariance` and :func:`joseph_update` computes side by side: their
#: work arrays, a few (7, 7, LANES), stay in the L1 cache (32 measured best of 8 to 128 for both).
LANES = 32


@njit(cache=True, error_model="numpy")
def _propagate_one(
    p: Array,
    r_mci: Array,
    r_norm: Array,
    gm_over_r3: Array,
    dt: float,
    q_const: Array,
    q_map: Array,
    n: int,
    f: Array,
    out: Array,
    work: Array,
    idx: NDArray[np.int64],
    cnt: NDArray[np.int64],
    rh: Array,
) -> None:
    """:func:`propagate_covariance` of row ``n`` alone (any P; the dense products where it is not finite).
    ``f`` (7, 7) holds F's constant entries; ``out``, ``work``, ``idx``, ``cnt`` and ``rh`` are scratch."""
    for i in range(3):
        rh[i] = r_mci[n, i] / r_norm[n]
    for i in range(3):
        for j in range(3):
            eye = 1.0 if i == j else 0.0
            grad = gm_over_r3[n] * (3.0 * rh[i] * rh[j] - eye)
            half = 0.5 * grad * dt * dt
            f[i, j] = eye + half  # F_rr
            f[3 + i, j] = grad * dt  # F_vr
            f[3 + i, 3 + j] = eye + half  # F_vv
    if _all_finite(p[n]):
        _propagate_row(p[n], f, dt, work[0], out)
    else:  # every product, as the dense numpy code: NaN and ∞ spread the same way
        _sandwich(f, p[n], out, work, idx, cnt, False)
    for i in range(NX):
        for j in range(NX):
            q = q_map[n] if i == 6 and j == 6 else q_const[i, j]
            p[n, i, j] = out[i, j] + q


@njit(cache=True, error_model="numpy")
def propagate_covariance(
    p: Array, r_mci: Array, r_norm: Array, gm_over_r3: Array, dt: float, q_const: Array, q_map: Array
) -> None:
    """P ← F P Fᵀ + Q in place, for every row of ``p`` (N, 7, 7).

    F = I + A dt + A² dt²/2 with A = [[0, I], [G, 0]], G = GM/r³ (3 r̂ r̂ᵀ − I) the point-mass gravity
    gradient [1/s²] at ``r_mci`` (N, 3) [m], ``r_norm`` = |r| (N,) [m], ``gm_over_r3`` = GM/|r|³ (N,) [1/s²];
    ``dt`` the IMU interval [s]. Q = ``q_const`` (7, 7) (white-acceleration blocks) but Q_bb = ``q_map`` (N,)
    [m²] (the map offset's random walk over the ground distance flown).

    Rows go through in blocks of ``LANES`` with :func:`_propagate_row`'s sums in every lane (see the
    module docstring); a row whose P is not finite is then computed alone by :func:`_propagate_one`.
    """
    n_rows = p.shape[0]
    pb = np.empty((NX, NX, LANES))  # P of the block's rows, then F P Fᵀ + Q
    fp = np.empty((NX, NX, LANES))  # F P
    fa = np.empty((3, 3, LANES))  # F_rr = F_vv = I + G dt²/2
    fg = np.empty((3, 3, LANES))  # F_vr = G dt [1/s]
    rh = np.empty((3, LANES))  # r̂
    gm = np.empty(LANES)  # GM/r³ [1/s²]
    qm = np.empty(LANES)  # Q_bb [m²]
    total = np.empty(LANES)  # Σ P, as _all_finite sums it
    f = np.zeros((NX, NX))  # _propagate_one's F: F_rv = I dt, F_bb = 1, zeros elsewhere
    for i in range(3):
        f[i, 3 + i] = 1.0 * dt
    f[6, 6] = 1.0
    out = np.empty((NX, NX))
    work = np.empty((3, NX, NX))
    idx = np.empty((NX, NX), np.int64)
    cnt = np.empty(NX, np.int64)
    rh1 = np.empty(3)
    for i0 in range(0, n_rows, LANES):
        w = min(LANES, n_rows - i0)  # rows in this block
        for r in range(w):
            n = i0 + r
            for i in range(NX):
                for j in range(NX):
                    pb[i, j, r] = p[n, i, j]
            for i in range(3):
                rh[i, r] = r_mci[n, i] / r_norm[n]
            gm[r] = gm_over_r3[n]
            qm[r] = q_map[n]
        for r in range(w):
            total[r] = 0.0
        for i in range(NX):
            for j in range(NX):
                for r in range(w):
                    total[r] += pb[i, j, r]
        for i in range(3):  # F's entries
            for j in range(3):
                eye = 1.0 if i == j else 0.0
                for r in range(w):
                    grad = gm[r] * (3.0 * rh[i, r] * rh[j, r] - eye)
                    half = 0.5 * grad * dt * dt
                    fa[i, j, r] = eye + half
                    fg[i, j, r] = grad * dt
        for j in range(NX):  # F P, a column per pass over the lanes
            for r in range(w):
                a00, a01, a02 = fa[0, 0, r], fa[0, 1, r], fa[0, 2, r]
                a10, a11, a12 = fa[1, 0, r], fa[1, 1, r], fa[1, 2, r]
                a20, a21, a22 = fa[2, 0, r], fa[2, 1, r], fa[2, 2, r]
                g00, g01, g02 = fg[0, 0, r], fg[0, 1, r], fg[0, 2, r]
                g10, g11, g12 = fg[1, 0, r], fg[1, 1, r], fg[1, 2, r]
                g20, g21, g22 = fg[2, 0, r], fg[2, 1, r], fg[2, 2, r]
                p0, p1, p2, p3 = pb[0, j, r], pb[1, j, r], pb[2, j, r], pb[3, j, r]
                p4, p5, p6 = pb[4, j, r], pb[5, j, r], pb[6, j, r]
                fp[0, j, r] = 0.0 + a00 * p0 + a01 * p1 + a02 * p2 + dt * p3
                fp[1, j, r] = 0.0 + a10 * p0 + a11 * p1 + a12 * p2 + dt * p4
                fp[2, j, r] = 0.0 + a20 * p0 + a21 * p1 + a22 * p2 + dt * p5
                fp[3, j, r] = 0.0 + g00 * p0 + g01 * p1 + g02 * p2 + a00 * p3 + a01 * p4 + a02 * p5
                fp[4, j, r] = 0.0 + g10 * p0 + g11 * p1 + g12 * p2 + a10 * p3 + a11 * p4 + a12 * p5
                fp[5, j, r] = 0.0 + g20 * p0 + g21 * p1 + g22 * p2 + a20 * p3 + a21 * p4 + a22 * p5
                fp[6, j, r] = 0.0 + 1.0 * p6
        for i in range(NX):  # (F P) Fᵀ + Q, a row per pass over the lanes, into pb
            q0, q1, q2, q3 = q_const[i, 0], q_const[i, 1], q_const[i, 2], q_const[i, 3]
            q4, q5, q6 = q_const[i, 4], q_const[i, 5], q_const[i, 6]
            for r in range(w):
                a00, a01, a02 = fa[0, 0, r], fa[0, 1, r], fa[0, 2, r]
                a10, a11, a12 = fa[1, 0, r], fa[1, 1, r], fa[1, 2, r]
                a20, a21, a22 = fa[2, 0, r], fa[2, 1, r], fa[2, 2, r]
                g00, g01, g02 = fg[0, 0, r], fg[0, 1, r], fg[0, 2, r]
                g10, g11, g12 = fg[1, 0, r], fg[1, 1, r], fg[1, 2, r]
                g20, g21, g22 = fg[2, 0, r], fg[2, 1, r], fg[2, 2, r]
                b0, b1, b2, b3 = fp[i, 0, r], fp[i, 1, r], fp[i, 2, r], fp[i, 3, r]
                b4, b5, b6 = fp[i, 4, r], fp[i, 5, r], fp[i, 6, r]
                pb[i, 0, r] = 0.0 + ((0.0 + b0 * a00 + b2 * a02) + (0.0 + b1 * a01 + b3 * dt)) + q0
                pb[i, 1, r] = 0.0 + ((0.0 + b0 * a10 + b2 * a12 + b4 * dt) + (0.0 + b1 * a11)) + q1
                pb[i, 2, r] = 0.0 + ((0.0 + b0 * a20 + b2 * a22) + (0.0 + b1 * a21 + b5 * dt)) + q2
                pb[i, 3, r] = (
                    0.0
                    + ((0.0 + b0 * g00 + b2 * g02 + b4 * a01) + (0.0 + b1 * g01 + b3 * a00 + b5 * a02))
                    + q3
                )
                pb[i, 4, r] = (
                    0.0
                    + ((0.0 + b0 * g10 + b2 * g12 + b4 * a11) + (0.0 + b1 * g11 + b3 * a10 + b5 * a12))
                    + q4
                )
                pb[i, 5, r] = (
                    0.0
                    + ((0.0 + b0 * g20 + b2 * g22 + b4 * a21) + (0.0 + b1 * g21 + b3 * a20 + b5 * a22))
                    + q5
                )
                pb[i, 6, r] = 0.0 + ((0.0 + b6 * 1.0) + 0.0)
            if i < NX - 1:
                for r in range(w):
                    pb[i, 6, r] = pb[i, 6, r] + q6
            else:
                for r in range(w):
                    pb[i, 6, r] = pb[i, 6, r] + qm[r]
        for r in range(w):
            n = i0 + r
            if math.isfinite(total[r]):
                for i in range(NX):
                    for j in range(NX):
                        p[n, i, j] = pb[i, j, r]
            else:
                _propagate_one(
                    p, r_mci, r_norm, gm_over_r3, dt, q_const, q_map, n, f, out, work, idx, cnt, rh1
                )


@njit(cache=True, error_model="numpy")
def _inv3_into(s: Array, out: Array) -> None:
    """Inverse of the symmetric 3×3 ``s`` (upper triangle read) by cofactors, into ``out``."""
    a, b, c = s[0, 0], s[0, 1], s[0, 2]
    d, e, f = s[1, 1], s[1, 2], s[2, 2]
    c00, c01, c02 = d * f - e * e, c * e - b * f, b * e - c * d
    c11, c12, c22 = a * f - c * c, b * c - a * e, a * d - b * b
    det = a * c00 + b * c01 + c * c02
    out[0, 0], out[0, 1], out[0, 2] = c00 / det, c01 / det, c02 / det
    out[1, 0], out[1, 1], out[1, 2] = c01 / det, c11 / det, c12 / det
    out[2, 0], out[2, 1], out[2, 2] = c02 / det, c12 / det, c22 / det


@njit(cache=True, error_model="numpy")
def inv3_sym(s: Array) -> Array:
    """Inverses (N, 3, 3) of symmetric 3×3 matrices ``s`` (N, 3, 3), by cofactors (upper triangle read)."""
    out = np.empty((s.shape[0], 3, 3))
    for n in range(s.shape[0]):
        _inv3_into(s[n], out[n])
    return out


@njit(cache=True, error_model="numpy")
def _hp_into(h: Array, p: Array, out: Array) -> None:
    """``out = h p`` (m, 7), ascending order."""
    for a in range(h.shape[0]):
        for j in range(NX):
            s = 0.0
            for k in range(NX):
                s += h[a, k] * p[k, j]
            out[a, j] = s


@njit(cache=True, error_model="numpy")
def _paired_7(x: Array, y: Array) -> float:
    """Σₖ x_k y_k over 7 entries in einsum's paired order (see the module docstring)."""
    s_even = 0.0
    s_odd = 0.0
    for k in range(0, NX, 2):
        s_even += x[k] * y[k]
    for k in range(1, NX, 2):
        s_odd += x[k] * y[k]
    return 0.0 + (s_even + s_odd)


@njit(cache=True, error_model="numpy")
def hpht(h: Array, p: Array) -> Array:
    """H P Hᵀ (N, m, m) for measurement matrices ``h`` (N, m, 7) and covariances ``p`` (N, 7, 7): H P
    ascending, then paired with H."""
    n_rows, m = h.shape[0], h.shape[1]
    out = np.empty((n_rows, m, m))
    hp = np.empty(NX)
    for n in range(n_rows):
        for a in range(m):
            for j in range(NX):
                hp[j] = 0.0
            for k in range(NX):
                hk = h[n, a, k]
                for j in range(NX):
                    hp[j] += hk * p[n, k, j]
            for b in range(m):
                s_even = 0.0
                s_odd = 0.0
                for k in range(0, NX, 2):
                    s_even += hp[k] * h[n, b, k]
                for k in range(1, NX, 2):
                    s_odd += hp[k] * h[n, b, k]
                out[n, a, b] = 0.0 + (s_even + s_odd)
    return out


@njit(cache=True, error_model="numpy")
def _joseph_scalar_row(
    x: Array,
    p: Array,
    h: Array,
    nu: float,
    r: float,
    radial: Array,
    use_radial: bool,
    k: Array,
    ikh: Array,
    p_new: Array,
    work: Array,
    idx: NDArray[np.int64],
    cnt: NDArray[np.int64],
) -> None:
    """:func:`joseph_update` of one row for a scalar measurement (m = 1, ``h`` (7,)): the same operations,
    without the loops over the measurement's components."""
    hp = work[0, 0]
    for j in range(NX):
        hp[j] = 0.0
    for c in range(NX):
        hc = h[c]
        for j in range(NX):
            hp[j] += hc * p[c, j]
    s_even = 0.0
    s_odd = 0.0
    for c in range(0, NX, 2):
        s_even += hp[c] * h[c]
    for c in range(1, NX, 2):
        s_odd += hp[c] * h[c]
    s_inv = 1.0 / ((0.0 + (s_even + s_odd)) + r)
    for i in range(NX):
        s_even = 0.0
        s_odd = 0.0
        for c in range(0, NX, 2):
            s_even += p[i, c] * h[c]
        for c in range(1, NX, 2):
            s_odd += p[i, c] * h[c]
        k[i] = 0.0 + (0.0 + (s_even + s_odd)) * s_inv
    if use_radial:
        d = 0.0 + ((0.0 + radial[0] * k[0] + radial[2] * k[2]) + (0.0 + radial[1] * k[1]))
        for i in range(3):
            k[i] = radial[i] * d
    for i in range(NX):
        x[i] = x[i] + (0.0 + ((0.0 + k[i] * nu) + 0.0))
    for i in range(NX):
        for j in range(NX):
            ikh[i, j] = (1.0 if i == j else 0.0) - (0.0 + k[i] * h[j])
    if _all_finite(p) and _height_pattern(ikh):  # a height measurement: H = [r̂ᵀ, 0, 0, 0, −1]
        _sandwich_height(ikh, p, p_new, work[0])
    else:
        _sandwich(ikh, p, p_new, work, idx, cnt, _all_finite(p))
    for i in range(NX):
        kr = 0.0 + k[i] * r
        for j in range(NX):
            p_new[i, j] = p_new[i, j] + (0.0 + ((0.0 + kr * k[j]) + 0.0))
    for i in range(NX):
        for j in range(NX):
            p[i, j] = 0.5 * (p_new[i, j] + p_new[j, i])


@njit(cache=True, error_model="numpy")
def _joseph_scalar_rows(
    x: Array, p: Array, h: Array, nu: Array, r_meas: Array, use: Mask, radial: Array, use_radial: bool
) -> None:
    """:func:`joseph_update` for a scalar measurement (m = 1; the arguments as there) on the rows ``use``,
    in blocks of ``LANES`` (see the module docstring).

    Every lane takes :func:`_joseph_scalar_row`'s operations up to I − KH; where P is finite and I − KH has
    the height pattern (:func:`_height_pattern`), it goes on with :func:`_sandwich_height`'s sums and the
    rest, and the row takes the lane's result; any other row is computed again alone by
    :func:`_joseph_scalar_row`.
    """
    rows = np.flatnonzero(use)
    n_use = rows.shape[0]
    pb = np.empty((NX, NX, LANES))  # P, then (I − KH) P (I − KH)ᵀ + K R Kᵀ
    ap = np.empty((NX, NX, LANES))  # (I − KH) P, then the updated P
    ikh = np.empty((NX, NX, LANES))  # I − KH
    hb = np.empty((NX, LANES))  # H
    kb = np.empty((NX, LANES))  # K
    xb = np.empty((NX, LANES))  # x
    rad = np.empty((3, LANES))  # the unit radial
    nub = np.empty(LANES)  # ν
    rb = np.empty(LANES)  # R
    total = np.empty(LANES)  # Σ P, as _all_finite sums it
    off = np.empty(LANES)  # entries of I − KH off the height pattern (non-zero or NaN)
    k1 = np.empty(NX)  # _joseph_scalar_row's scratch
    ikh1 = np.empty((NX, NX))
    p_new = np.empty((NX, NX))
    work = np.empty((3, NX, NX))
    idx = np.empty((NX, NX), np.int64)
    cnt = np.empty(NX, np.int64)
    for b0 in range(0, n_use, LANES):
        w = min(LANES, n_use - b0)  # rows in this block
        for ln in range(w):
            n = rows[b0 + ln]
            for i in range(NX):
                for j in range(NX):
                    pb[i, j, ln] = p[n, i, j]
            for i in range(NX):
                hb[i, ln] = h[n, 0, i]
                xb[i, ln] = x[n, i]
            nub[ln] = nu[n, 0]
            rb[ln] = r_meas[n, 0, 0]
            if use_radial:
                for i in range(3):
                    rad[i, ln] = radial[n, i]
        for i in range(NX):
            for ln in range(w):
                t = 0.0 if i == 0 else total[ln]
                for j in range(NX):
                    t += pb[i, j, ln]
                total[ln] = t
        # S = H P Hᵀ + R (H P ascending, then paired with H) and K = P Hᵀ S⁻¹ (paired)
        for ln in range(w):
            s_even = 0.0
            s_odd = 0.0
            for j in range(NX):
                hp = 0.0
                for c in range(NX):
                    hp += hb[c, ln] * pb[c, j, ln]
                if j % 2 == 0:
                    s_even += hp * hb[j, ln]
                else:
                    s_odd += hp * hb[j, ln]
            s_inv = 1.0 / ((0.0 + (s_even + s_odd)) + rb[ln])
            for i in range(NX):
                s_even = 0.0
                s_odd = 0.0
                for c in range(0, NX, 2):
                    s_even += pb[i, c, ln] * hb[c, ln]
                for c in range(1, NX, 2):
                    s_odd += pb[i, c, ln] * hb[c, ln]
                kb[i, ln] = 0.0 + (0.0 + (s_even + s_odd)) * s_inv
        if use_radial:
            for ln in range(w):
                k0, k1_, k2 = kb[0, ln], kb[1, ln], kb[2, ln]
                d = 0.0 + ((0.0 + rad[0, ln] * k0 + rad[2, ln] * k2) + (0.0 + rad[1, ln] * k1_))
                for i in range(3):
                    kb[i, ln] = rad[i, ln] * d
        # x ← x + K ν; I − KH, and its entries off the height pattern
        for i in range(NX):
            for ln in range(w):
                xb[i, ln] = xb[i, ln] + (0.0 + ((0.0 + kb[i, ln] * nub[ln]) + 0.0))
        for c in range(NX):
            for ln in range(w):
                hc = hb[c, ln]
                for i in range(NX):
                    ikh[i, c, ln] = (1.0 if i == c else 0.0) - (0.0 + kb[i, ln] * hc)
        for ln in range(w):
            n_off = 0.0
            for c in range(3, 6):
                for i in range(NX):
                    if i != c and ikh[i, c, ln] != 0.0:
                        n_off += 1.0
            off[ln] = n_off
        # (I − KH) P: the terms of columns 0–2 and 6 and of the diagonal (as _sandwich_height)
        for j in range(NX):
            for ln in range(w):
                p0, p1, p2, p6 = pb[0, j, ln], pb[1, j, ln], pb[2, j, ln], pb[6, j, ln]
                for i in range(NX):
                    s = 0.0 + ikh[i, 0, ln] * p0 + ikh[i, 1, ln] * p1 + ikh[i, 2, ln] * p2
                    if 3 <= i <= 5:
                        s += ikh[i, i, ln] * pb[i, j, ln]
                    ap[i, j, ln] = s + ikh[i, 6, ln] * p6
        # ((I − KH) P) (I − KH)ᵀ (paired) + K R Kᵀ
        for i in range(NX):
            for ln in range(w):
                a0, a1, a2, a6 = ap[i, 0, ln], ap[i, 1, ln], ap[i, 2, ln], ap[i, 6, ln]
                kr = 0.0 + kb[i, ln] * rb[ln]
                for j in range(NX):
                    e = 0.0 + a0 * ikh[j, 0, ln] + a2 * ikh[j, 2, ln]
                    o = 0.0 + a1 * ikh[j, 1, ln]
                    if j == 3 or j == 5:
                        e += a6 * ikh[j, 6, ln]
                        o += ap[i, j, ln] * ikh[j, j, ln]
                    elif j == 4:
                        e += ap[i, 4, ln] * ikh[4, 4, ln]
                        e += a6 * ikh[j, 6, ln]
                    else:
                        e += a6 * ikh[j, 6, ln]
                    pb[i, j, ln] = 0.0 + (e + o) + (0.0 + ((0.0 + kr * kb[j, ln]) + 0.0))
        # P ← ½ (P + Pᵀ)
        for i in range(NX):
            for ln in range(w):
                for j in range(NX):
                    ap[i, j, ln] = 0.5 * (pb[i, j, ln] + pb[j, i, ln])
        for ln in range(w):
            n = rows[b0 + ln]
            if math.isfinite(total[ln]) and off[ln] == 0.0:
                for i in range(NX):
                    x[n, i] = xb[i, ln]
                    for j in range(NX):
                        p[n, i, j] = ap[i, j, ln]
            else:
                _joseph_scalar_row(
                    x[n],
                    p[n],
                    h[n, 0],
                    nu[n, 0],
                    r_meas[n, 0, 0],
                    radial[n],
                    use_radial,
                    k1,
                    ikh1,
                    p_new,
                    work,
                    idx,
                    cnt,
                )


@njit(cache=True, error_model="numpy")
def joseph_update(
    x: Array, p: Array, h: Array, nu: Array, r_meas: Array, use: Mask, radial: Array, use_radial: bool
) -> None:
    """Kalman update of the state ``x`` (N, 7) and covariance ``p`` (N, 7, 7), in place, on the rows ``use``.

    ``h`` (N, m, 7) measurement matrices, ``nu`` (N, m) innovations, ``r_meas`` (N, m, m) measurement noise
    (units of the measurement, squared), m = 1 or 3. K = P Hᵀ S⁻¹ with S = H P Hᵀ + R; with ``use_radial``
    the position rows of K are projected onto the unit vector ``radial`` (N, 3) (m = 1: a height measurement
    moves the position estimate only vertically). x ← x + K ν; P ← sym((I − KH) P (I − KH)ᵀ + K R Kᵀ), the
    Joseph form, symmetrised as ½ (P + Pᵀ).

    m = 1 goes through in blocks of rows (:func:`_joseph_scalar_rows`); m = 3 a row at a time.
    """
    n_rows, m = h.shape[0], h.shape[1]
    if m == 1:
        _joseph_scalar_rows(x, p, h, nu, r_meas, use, radial, use_radial)
        return
    hp = np.empty((m, NX))
    s = np.empty((m, m))
    s_inv = np.empty((m, m))
    pht = np.empty((NX, m))
    k = np.empty((NX, m))
    kr = np.empty((NX, m))
    ikh = np.empty((NX, NX))
    p_new = np.empty((NX, NX))
    work = np.empty((3, NX, NX))
    idx = np.empty((NX, NX), np.int64)
    cnt = np.empty(NX, np.int64)
    dot_r = np.empty(m)
    for n in range(n_rows):
        if not use[n]:
            continue
        hn, pn, rn = h[n], p[n], r_meas[n]
        # innovation covariance S = H P Hᵀ + R and its inverse
        _hp_into(hn, pn, hp)
        for a in range(m):
            for b in range(m):
                s[a, b] = _paired_7(hp[a], hn[b]) + rn[a, b]
        if m == 1:
            s_inv[0, 0] = 1.0 / s[0, 0]
        else:
            _inv3_into(s, s_inv)
        # gain K = (P Hᵀ) S⁻¹
        for i in range(NX):
            for a in range(m):
                pht[i, a] = _paired_7(pn[i], hn[a])
        for i in range(NX):
            for b in range(m):
                acc = 0.0
                for a in range(m):
                    acc += pht[i, a] * s_inv[a, b]
                k[i, b] = acc
        if use_radial:  # K_r ← r̂ (r̂ · K_r), paired when K_r is contiguous along r (m = 1)
            for b in range(m):
                if m == 1:
                    d = 0.0 + (
                        (0.0 + radial[n, 0] * k[0, b] + radial[n, 2] * k[2, b])
                        + (0.0 + radial[n, 1] * k[1, b])
                    )
                else:
                    d = 0.0 + radial[n, 0] * k[0, b] + radial[n, 1] * k[1, b] + radial[n, 2] * k[2, b]
                dot_r[b] = d
            for i in range(3):
                for b in range(m):
                    k[i, b] = radial[n, i] * dot_r[b]
        # x ← x + K ν (paired over the measurement components)
        for i in range(NX):
            s_even = 0.0
            s_odd = 0.0
            for a in range(0, m, 2):
                s_even += k[i, a] * nu[n, a]
            for a in range(1, m, 2):
                s_odd += k[i, a] * nu[n, a]
            x[n, i] = x[n, i] + (0.0 + (s_even + s_odd))
        # Joseph form
        for i in range(NX):
            for j in range(NX):
                acc = 0.0
                for a in range(m):
                    acc += k[i, a] * hn[a, j]
                ikh[i, j] = (1.0 if i == j else 0.0) - acc
        _sandwich(ikh, pn, p_new, work, idx, cnt, _all_finite(pn))
        for i in range(NX):
            for b in range(m):
                acc = 0.0
                for a in range(m):
                    acc += k[i, a] * rn[a, b]
                kr[i, b] = acc
        for i in range(NX):
            for j in range(NX):
                s_even = 0.0
                s_odd = 0.0
                for a in range(0, m, 2):
                    s_even += kr[i, a] * k[j, a]
                for a in range(1, m, 2):
                    s_odd += kr[i, a] * k[j, a]
                p_new[i, j] = p_new[i, j] + (0.0 + (s_even + s_odd))
        for i in range(NX):
            for j in range(NX):
                pn[i, j] = 0.5 * (p_new[i, j] + p_new[j, i])


# ---------------------------------------------------------------------------------------------- altimeter
@njit(cache=True, error_model="numpy")
def beam_geometry(
    r_mci: Array, q_body_to_mci: Array, origin_body: Array, dir_body: Array, cos_t: float, sin_t: float
) -> tuple[Array, Array, Array, Array, Array, Array]:
    """Where an altimeter beam starts and points, at the estimated state, per row.

    ``r_mci`` (N, 3) [m] and ``q_body_to_mci`` (N, 4): the estimate; ``origin_body``, ``dir_body`` (3,): the
    beam's origin [m] and unit direction in body axes; ``cos_t``, ``sin_t``: the Moon's rotation angle.
    Returns the origin in MCI (N, 3) [m], its unit radial r̂ (N, 3), its radius (N,) [m], the beam's
    direction u in MCI (N, 3), c = −u · r̂ (N,) (the cosine of its angle from the local down) and the origin
    in MCMF (N, 3) [m].
    """
    n = r_mci.shape[0]
    origin = np.empty((n, 3))
    radial = np.empty((n, 3))
    r_norm = np.empty(n)
    u = np.empty((n, 3))
    c = np.empty(n)
    origin_mcmf = np.empty((n, 3))
    o0, o1, o2 = origin_body[0], origin_body[1], origin_body[2]
    d0, d1, d2 = dir_body[0], dir_body[1], dir_body[2]
    for i in range(n):
        w, x, y, z = q_body_to_mci[i, 0], q_body_to_mci[i, 1], q_body_to_mci[i, 2], q_body_to_mci[i, 3]
        a0, a1, a2 = quat_rotate_vector(w, x, y, z, o0, o1, o2)
        a0, a1, a2 = r_mci[i, 0] + a0, r_mci[i, 1] + a1, r_mci[i, 2] + a2
        rn = math.sqrt(a0 * a0 + a1 * a1 + a2 * a2)
        origin[i, 0], origin[i, 1], origin[i, 2] = a0, a1, a2
        radial[i, 0], radial[i, 1], radial[i, 2] = a0 / rn, a1 / rn, a2 / rn
        r_norm[i] = rn
        b0, b1, b2 = quat_rotate_vector(w, x, y, z, d0, d1, d2)
        u[i, 0], u[i, 1], u[i, 2] = b0, b1, b2
        c[i] = -(b0 * radial[i, 0] + b1 * radial[i, 1] + b2 * radial[i, 2])
        origin_mcmf[i, 0] = cos_t * a0 + sin_t * a1
        origin_mcmf[i, 1] = -sin_t * a0 + cos_t * a1
        origin_mcmf[i, 2] = a2 + 0.0 * cos_t
    return origin, radial, r_norm, u, c, origin_mcmf


@njit(cache=True, error_model="numpy")
def beam_hit_mcmf(
    origin: Array, u: Array, c: Array, altitude: Array, min_cos: float, cos_t: float, sin_t: float
) -> Array:
    """The beam's hit point on flat ground ``altitude`` (N,) [m] below its origin, in MCMF (N, 3) [m]:
    origin + max(altitude, 0) / max(c, ``min_cos``) u, turned by the Moon's rotation angle."""
    n = origin.shape[0]
    out = np.empty((n, 3))
    for i in range(n):
        d = _maximum(altitude[i], 0.0) / _maximum(c[i], min_cos)
        a0 = origin[i, 0] + d * u[i, 0]
        a1 = origin[i, 1] + d * u[i, 1]
        a2 = origin[i, 2] + d * u[i, 2]
        out[i, 0] = cos_t * a0 + sin_t * a1
        out[i, 1] = -sin_t * a0 + cos_t * a1
        out[i, 2] = a2 + 0.0 * cos_t
    return out


@njit(cache=True, error_model="numpy")
def beam_measurement(
    r_norm: Array,
    radius: float,
    terrain_m: Array,
    c: Array,
    min_cos: float,
    range_m: Array,
    valid: NDArray[np.bool_],
    sigma0_sq: float,
    sigma_fraction: float,
    radial: Array,
) -> tuple[Array, Array, Array, Array]:
    """(z, ẑ, H (N, 1, 7), σ_z²) of one beam from its geometry (see ``NavigationFilter._altimeter_model``).

    z = ρ c [m] where the reading is valid, finite and c ≥ ``min_cos``, else NaN; ẑ = |r| − R − terrain [m];
    H = [r̂ᵀ, 0, −1]; σ_z = max(c, min_cos) √(σ₀² + (f ρ)²) [m] (ρ as ``np.nan_to_num``).
    """
    n = r_norm.shape[0]
    z = np.empty(n)
    z_hat = np.empty(n)
    h = np.zeros((n, 1, NX))
    var = np.empty(n)
    big = np.finfo(np.float64).max
    for i in range(n):
        z_hat[i] = r_norm[i] - radius - terrain_m[i]
        rho = range_m[i]
        usable = valid[i] and math.isfinite(rho) and c[i] >= min_cos
        z[i] = rho * c[i] if usable else np.nan
        rho_num = 0.0 if rho != rho else (big if rho == np.inf else (-big if rho == -np.inf else rho))
        e = sigma_fraction * rho_num
        sig = _maximum(c[i], min_cos) * math.sqrt(sigma0_sq + e * e)
        var[i] = sig * sig
        h[i, 0, 0], h[i, 0, 1], h[i, 0, 2] = radial[i, 0], radial[i, 1], radial[i, 2]
        h[i, 0, 6] = -1.0
    return z, z_hat, h, var


@njit(cache=True, error_model="numpy")
def _believed_terrain(
    r_mcmf: Array, radius: float, bias: Array, heights: Array, grid_fields: tuple, atan2
) -> tuple[Array, Array]:
    """Height above ``radius`` (N,) [m] of the Moon-fixed points (N, 3) [m] and the believed terrain there
    (N,) [m]: the onboard DEM's bilinear height (NaN off its grid) + ``bias`` (frames.mcmf_to_llh with
    numpy's arctan2 loop ``atan2``, then Dem.height's kernel)."""
    x, y, z, rxy, h = llh_parts_rows(r_mcmf, radius)
    n = x.shape[0]
    lat, lon = np.empty(n), np.empty(n)
    _atan2(atan2, z, rxy, lat, n)
    _atan2(atan2, y, x, lon, n)
    terrain = dem_height(lat, lon, heights, grid_fields)
    for i in range(n):
        terrain[i] = terrain[i] + bias[i]
    return h, terrain


@njit(cache=True, error_model="numpy")
def altimeter_model_dem(
    r_mci: Array,
    q_body_to_mci: Array,
    origin_body: Array,
    dir_body: Array,
    cos_t: float,
    sin_t: float,
    bias: Array,
    heights: Array,
    grid_fields: tuple,
    atan2,
    min_cos: float,
    range_m: Array,
    valid: NDArray[np.bool_],
    sigma0_sq: float,
    sigma_fraction: float,
    radius: float,
) -> tuple[Array, Array, Array, Array]:
    """``NavigationFilter._altimeter_model`` over an onboard DEM in memory, in one call: the beam's geometry
    (:func:`beam_geometry`), the believed terrain below its origin, the flat-ground hit point
    (:func:`beam_hit_mcmf`), the believed terrain there and (z, ẑ, H, σ_z²) (:func:`beam_measurement`).
    ``bias`` (N,) [m]: the filter's terrain offset; ``heights``, ``grid_fields``: ``Dem.kernel_grid``."""
    origin, radial, rn, u, c, origin_mcmf = beam_geometry(
        r_mci, q_body_to_mci, origin_body, dir_body, cos_t, sin_t
    )
    h0, terrain0 = _believed_terrain(origin_mcmf, radius, bias, heights, grid_fields, atan2)
    hit = beam_hit_mcmf(origin, u, c, h0 - terrain0, min_cos, cos_t, sin_t)
    _, terrain1 = _believed_terrain(hit, radius, bias, heights, grid_fields, atan2)
    return beam_measurement(
        rn, radius, terrain1, c, min_cos, range_m, valid, sigma0_sq, sigma_fraction, radial
    )


# ---------------------------------------------------------------------------------------------- strapdown
@njit(cache=True, error_model="numpy")
def strapdown_increments(
    dtheta_meas: Array, gyro_valid: Mask, w_body: Array, dt: float
) -> tuple[Array, Array, Array]:
    """The attitude increment Δθ (N, 3) [rad] (the gyro's, or the last rate × dt where it is invalid), the
    angles |Δθ/2| and |Δθ| (N, 2) [rad] and their halves (N, 2), whose sine and cosine numpy takes."""
    n = dtheta_meas.shape[0]
    dth = np.empty((n, 3))
    ang = np.empty((n, 2))
    half = np.empty((n, 2))
    for i in range(n):
        for k in range(3):
            dth[i, k] = dtheta_meas[i, k] if gyro_valid[i] else w_body[i, k] * dt
        m0, m1, m2 = 0.5 * dth[i, 0], 0.5 * dth[i, 1], 0.5 * dth[i, 2]
        ang[i, 0] = math.sqrt(m0 * m0 + m1 * m1 + m2 * m2)
        ang[i, 1] = math.sqrt(dth[i, 0] * dth[i, 0] + dth[i, 1] * dth[i, 1] + dth[i, 2] * dth[i, 2])
        half[i, 0] = 0.5 * ang[i, 0]
        half[i, 1] = 0.5 * ang[i, 1]
    return dth, ang, half


@njit(cache=True, error_model="numpy")
def _turned(q: Array, i: int, scale: float, dth: Array, ang: float, sin_h: float, cos_h: float) -> tuple:
    """quat_normalize(q ⊗ [cos h, k θ]) with θ = ``scale`` Δθ, k = sin h / |θ| (0.5 at |θ| = 0)."""
    return quat_turned(
        q[i, 0], q[i, 1], q[i, 2], q[i, 3], scale * dth[i, 0], scale * dth[i, 1], scale * dth[i, 2],
        ang, sin_h, cos_h,
    )  # fmt: skip


@njit(cache=True, error_model="numpy")
def strapdown_attitude(
    q_body_to_mci: Array,
    dth: Array,
    ang: Array,
    sin_half: Array,
    cos_half: Array,
    dt: float,
    dv_meas: Array,
    accel_bias: Array,
    accel_valid: Mask,
    r_mci: Array,
    v_mci: Array,
    g0: Array,
) -> tuple[Array, Array, Array, Array]:
    """Attitude, rate and position over one IMU interval dt [s], per row.

    q ← q ⊗ q(Δθ) and the mid-interval attitude q ⊗ q(Δθ/2) (normalised, scalar part ≥ 0), from the angles
    and the sines/cosines of their halves (``strapdown_increments``, numpy); ω = Δθ/dt [rad/s]; the
    velocity increment Δv = q_mid (Δv_meas − b dt) [m/s] in MCI (0 where the accelerometer is invalid);
    r₁ = r + v dt + ½ (Δv + g₀ dt) dt [m] with the gravity g₀ at r [m/s²].
    Returns (q (N, 4), ω (N, 3), Δv (N, 3), r₁ (N, 3)).
    """
    n = dth.shape[0]
    q_new = np.empty((n, 4))
    w = np.empty((n, 3))
    dv = np.empty((n, 3))
    r1 = np.empty((n, 3))
    for i in range(n):
        mw, mx, my, mz = _turned(q_body_to_mci, i, 0.5, dth, ang[i, 0], sin_half[i, 0], cos_half[i, 0])
        q_new[i, 0], q_new[i, 1], q_new[i, 2], q_new[i, 3] = _turned(
            q_body_to_mci, i, 1.0, dth, ang[i, 1], sin_half[i, 1], cos_half[i, 1]
        )
        for k in range(3):
            w[i, k] = dth[i, k] / dt
        b0 = dv_meas[i, 0] - accel_bias[i, 0] * dt
        b1 = dv_meas[i, 1] - accel_bias[i, 1] * dt
        b2 = dv_meas[i, 2] - accel_bias[i, 2] * dt
        d0, d1, d2 = quat_rotate_vector(mw, mx, my, mz, b0, b1, b2)
        if not accel_valid[i]:
            d0, d1, d2 = 0.0, 0.0, 0.0
        dv[i, 0], dv[i, 1], dv[i, 2] = d0, d1, d2
        for k in range(3):
            r1[i, k] = r_mci[i, k] + v_mci[i, k] * dt + 0.5 * (dv[i, k] + g0[i, k] * dt) * dt
    return q_new, w, dv, r1


@njit(cache=True, error_model="numpy")
def strapdown_velocity(
    x: Array,
    r1: Array,
    dv: Array,
    g0: Array,
    g1: Array,
    dt: float,
    omega: float,
    cos_t: float,
    sin_t: float,
    terrain_rw: float,
) -> tuple[Array, Array]:
    """v₁ = v + Δv + ½ (g₀ + g₁) dt; the state ``x`` (N, 7) takes r₁ and v₁ in place.

    Returns |r₁| (N,) [m] and the map offset's process noise over the interval, ``terrain_rw`` × the
    ground speed at the start (|C (v − ω × r)|, C the turn with cos_t, sin_t at the start) × dt (N,) [m²].
    """
    n = x.shape[0]
    r_norm = np.empty(n)
    q_map = np.empty(n)
    for i in range(n):
        r0, r1_, r2 = x[i, 0], x[i, 1], x[i, 2]
        v0, v1, v2 = x[i, 3], x[i, 4], x[i, 5]
        a = v0 - (0.0 * r2 - omega * r1_)  # v − ω × r at the start, into MCMF, its norm
        b = v1 - (omega * r0 - 0.0 * r2)
        c = v2 - (0.0 * r1_ - 0.0 * r0)
        m0, m1, m2 = cos_t * a + sin_t * b, -sin_t * a + cos_t * b, c + 0.0 * cos_t
        q_map[i] = terrain_rw * math.sqrt(m0 * m0 + m1 * m1 + m2 * m2) * dt
        for k in range(3):
            x[i, 3 + k] = x[i, 3 + k] + dv[i, k] + 0.5 * (g0[i, k] + g1[i, k]) * dt
            x[i, k] = r1[i, k]
        r_norm[i] = math.sqrt(r1[i, 0] * r1[i, 0] + r1[i, 1] * r1[i, 1] + r1[i, 2] * r1[i, 2])
    return r_norm, q_map


@njit(cache=True, error_model="numpy")
def attitude_fix(q_meas: Array, valid: Mask, q_prev: Array) -> Array:
    """The attitude (N, 4) after a star-tracker reading: the measured quaternion where it is valid and finite,
    else the previous one, turned to the previous one's hemisphere (q and −q are the same attitude) and
    normalised with a non-negative scalar part (``frames.quat_normalize``); the hemisphere test sums
    q · q_prev in component order (numpy's for 4 terms)."""
    n = q_prev.shape[0]
    out = np.empty((n, 4))
    for i in range(n):
        ok = valid[i]
        for k in range(4):
            ok = ok and math.isfinite(q_meas[i, k])
        if ok:
            q0, q1, q2, q3 = q_meas[i, 0], q_meas[i, 1], q_meas[i, 2], q_meas[i, 3]
        else:
            q0, q1, q2, q3 = q_prev[i, 0], q_prev[i, 1], q_prev[i, 2], q_prev[i, 3]
        if q0 * q_prev[i, 0] + q1 * q_prev[i, 1] + q2 * q_prev[i, 2] + q3 * q_prev[i, 3] < 0.0:
            q0, q1, q2, q3 = -q0, -q1, -q2, -q3
        f = (-1.0 if q0 < 0.0 else 1.0) / math.sqrt(q0 * q0 + q1 * q1 + q2 * q2 + q3 * q3)
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = q0 * f, q1 * f, q2 * f, q3 * f
    return out


@njit(cache=True, error_model="numpy")
def accumulate_coast(
    sum_dv: Array, sum_t: Array, dv_meas: Array, free_fall: Mask, accel_valid: Mask, dt: float
) -> None:
    """Σ Δv_meas [m/s] and Σ dt [s], in place, over the rows coasting with a valid accelerometer."""
    for i in range(sum_t.shape[0]):
        use = free_fall[i] and accel_valid[i]
        for k in range(3):
            sum_dv[i, k] = sum_dv[i, k] + (dv_meas[i, k] if use else 0.0)
        sum_t[i] = sum_t[i] + (dt if use else 0.0)


@njit(cache=True, error_model="numpy")
def altimeter_screen(z: Array, z_hat: Array, hph: Array, var: Array) -> tuple[Array, Mask, Array]:
    """Innovations ν = z − ẑ (N, B) [m] of the B beams, which are present (finite), and |ν| / √S with
    S = H P Hᵀ + σ_z² (``hph``, ``var`` (N, B) [m²])."""
    n, nb = z.shape
    nu = np.empty((n, nb))
    present = np.empty((n, nb), np.bool_)
    normalised = np.empty((n, nb))
    for i in range(n):
        for j in range(nb):
            v = z[i, j] - z_hat[i, j]
            nu[i, j] = v
            present[i, j] = math.isfinite(v)
            normalised[i, j] = abs(v) / math.sqrt(hph[i, j] + var[i, j])
    return nu, present, normalised


@njit(cache=True, error_model="numpy")
def altimeter_summary(nu: Array, present_b: Mask, admit: Mask, z: Array) -> tuple[Mask, Mask, Array, Array]:
    """Per row (N,): any beam present, any admitted, the mean innovation and the mean height z over the
    present beams [m] (0 when none; summed in beam order, as numpy for < 8 beams)."""
    n, nb = nu.shape
    present = np.empty(n, np.bool_)
    accepted = np.empty(n, np.bool_)
    summary = np.empty(n)
    z_mean = np.empty(n)
    for i in range(n):
        count = 0
        any_admit = False
        s_nu = 0.0
        s_z = 0.0
        for j in range(nb):
            p = present_b[i, j]
            count += 1 if p else 0
            any_admit = any_admit or admit[i, j]
            a = nu[i, j] if p else 0.0
            b = z[i, j] if p else 0.0
            s_nu = a if j == 0 else s_nu + a
            s_z = b if j == 0 else s_z + b
        present[i] = count > 0
        accepted[i] = any_admit
        c = float(max(count, 1))
        summary[i] = s_nu / c
        z_mean[i] = s_z / c
    return present, accepted, summary, z_mean
