"""Counter-based random numbers whose bits do not depend on batch size, order or chunking.

A random number is a pure function of ``(key, stream, tick, component)``:

``key``        one uint64 per trajectory, :func:`run_keys` (from ``SeedSequence(root_seed).spawn``'s
               spawn key, so it matches the campaign's ``SeedSequence(root_seed, spawn_key=(run,))``);
``stream``     which quantity (a sensor's white noise, its bias walk, its turn-on bias ...); use
               :func:`stream_id` to turn a stable name such as ``"lrf.noise"`` into a number;
``tick``       the sample counter of that stream (scalar, or one per trajectory);
``component``  the position within the requested ``shape`` (row-major flat index).

The hash is splitmix64's finaliser (``splitmix64``, shared with the crater field of
``moon.terrain.synthetic``) chained over the four counters, in wrapping uint64 arithmetic. Uniforms take
the top 53 bits and are
centred in their bin, so they lie in the open interval (0, 1); normals come from the inverse normal CDF,
``scipy.special.ndtri``: scipy's cephes algorithm compiled inline here (:func:`_ndtri`, the same operations
in the same order, the same libm ``log``), checked bit for bit against scipy's by the tests. Its passes over
an array (:func:`_ndtri_inplace`) use SIMD, whose IEEE operations round as the scalar ones do (no fused
multiply-adds without fastmath), so no last bit changes with the array's length; their logarithms (the
tails, 27 % of draws) go through numpy's SIMD log loop (:data:`LOG`, 7× faster than libm's), which
differs from libm's in the last bit on ≈ 1 tail draw in 18,000: such a normal is within 4 ulp of
scipy's (every other is scipy's bits).
Trajectory k's numbers are the same whether it is flown alone or in a batch of 10,000.

:func:`uniform` and :func:`normal` run compiled (:func:`_draw`): the bits of the numpy formulation in
:func:`_bits` followed by ``scipy.special.ndtri``, but for those rare last bits.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from touchdown._ufunc_loops import numpy_loop, unary_inplace

Array = NDArray[np.float64]
Keys = NDArray[np.uint64]

_M64 = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C_TICK = np.uint64(0xC2B2AE3D27D4EB4F)
_C_COMP = np.uint64(0x165667B19E3779F9)
_U53 = 2.0**-53
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def splitmix64(z: Keys) -> Keys:
    """splitmix64 finaliser, elementwise on uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def run_keys(root_seed: int, run_indices: ArrayLike) -> Keys:
    """One 64-bit key per run (N,): the first word of ``SeedSequence(root_seed, spawn_key=(run,))``.

    Run k's key depends only on (root_seed, k), so any subset or chunk of a campaign gets the same keys.
    """
    idx = np.atleast_1d(np.asarray(run_indices)).astype(np.int64).ravel()
    out = np.empty(idx.size, dtype=np.uint64)
    for j, k in enumerate(idx):  # once per campaign, not per step
        ss = np.random.SeedSequence(int(root_seed), spawn_key=(int(k),))
        out[j] = ss.generate_state(1, dtype=np.uint64)[0]
    return out


def stream_id(name: str) -> int:
    """A stable 64-bit stream number for a name (BLAKE2b: unlike ``hash()``, the same in every process)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def _bits(keys: Keys, stream: int, tick: int | ArrayLike, shape: tuple[int, ...]) -> Keys:
    k = np.asarray(keys, dtype=np.uint64).reshape(-1)
    n = k.size
    t = np.asarray(tick)
    if t.ndim == 0:
        t = np.full(n, int(t), dtype=np.int64)
    t = t.astype(np.int64).reshape(n).view(np.uint64)
    m = int(np.prod(shape, dtype=np.int64))
    comp = np.arange(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = splitmix64(k ^ np.uint64(int(stream) & _M64))
        z = splitmix64(z + t * _C_TICK + _GOLDEN)
        z = splitmix64(z[:, None] + comp[None, :] * _C_COMP + _GOLDEN)
    return z.reshape((n, *shape))


@njit(cache=True)
def _mix(z: np.uint64) -> np.uint64:
    """splitmix64 finaliser of one uint64 (wrapping arithmetic), as :func:`splitmix64`."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


# scipy.special.ndtri as scipy 1.17.1 computes it: its xsf library's include/xsf/cephes/ndtri.h and
# polevl.h (cephes ndtri.c, polevl.c in C++). Coefficients highest power first; the _Q ones omit a leading 1.
_NDTRI_P0 = (
    -5.99633501014107895267e1, 9.80010754185999661536e1, -5.66762857469070293439e1,
    1.39312609387279679503e1, -1.23916583867381258016e0,
)  # fmt: skip
_NDTRI_Q0 = (
    1.95448858338141759834e0, 4.67627912898881538453e0, 8.63602421390890590575e1,
    -2.25462687854119370527e2, 2.00260212380060660359e2, -8.20372256168333339912e1,
    1.59056225126211695515e1, -1.18331621121330003142e0,
)  # fmt: skip
_NDTRI_P1 = (
    4.05544892305962419923e0, 3.15251094599893866154e1, 5.71628192246421288162e1,
    4.40805073893200834700e1, 1.46849561928858024014e1, 2.18663306850790267539e0,
    -1.40256079171354495875e-1, -3.50424626827848203418e-2, -8.57456785154685413611e-4,
)  # fmt: skip
_NDTRI_Q1 = (
    1.57799883256466749731e1, 4.53907635128879210584e1, 4.13172038254672030440e1,
    1.50425385692907503408e1, 2.50464946208309415979e0, -1.42182922854787788574e-1,
    -3.80806407691578277194e-2, -9.33259480895457427372e-4,
)  # fmt: skip
_NDTRI_P2 = (
    3.23774891776946035970e0, 6.91522889068984211695e0, 3.93881025292474443415e0,
    1.33303460815807542389e0, 2.01485389549179081538e-1, 1.23716634817820021358e-2,
    3.01581553508235416007e-4, 2.65806974686737550832e-6, 6.23974539184983293730e-9,
)  # fmt: skip
_NDTRI_Q2 = (
    6.02427039364742014255e0, 3.67983563856160859403e0, 1.37702099489081330271e0,
    2.16236993594496635890e-1, 1.34204006088543189037e-2, 3.28014464682127739104e-4,
    2.89247864745380683936e-6, 6.79019408009981274425e-9,
)  # fmt: skip
_EXP_M2 = 0.13533528323661269189  # exp(-2)
_SQRT_2PI = 2.50662827463100050242e0


@njit(cache=True, inline="always")
def _polevl(x: float, coef: tuple[float, ...]) -> float:
    """cephes polevl: Horner's rule, ``coef`` highest power first."""
    ans = coef[0]
    for c in coef[1:]:
        ans = ans * x + c
    return ans


@njit(cache=True, inline="always")
def _p1evl(x: float, coef: tuple[float, ...]) -> float:
    """cephes p1evl: :func:`_polevl` with a leading coefficient 1 that ``coef`` leaves out."""
    ans = x + coef[0]
    for c in coef[1:]:
        ans = ans * x + c
    return ans


@njit(cache=True, inline="always")
def _ndtri_central(y: float) -> float:
    """:func:`_ndtri` for exp(-2) < y <= 1 - exp(-2)."""
    y = y - 0.5
    y2 = y * y
    x = y + y * (y2 * _polevl(y2, _NDTRI_P0) / _p1evl(y2, _NDTRI_Q0))
    return x * _SQRT_2PI


@njit(cache=True, inline="always")
def _ndtri_tail(x: float, log_x: float) -> float:
    """-:func:`_ndtri` for 0 < y <= exp(-2), from x = sqrt(-2 log y) and log(x)."""
    x0 = x - log_x / x
    z = 1.0 / x
    p, q = (_NDTRI_P1, _NDTRI_Q1) if x < 8.0 else (_NDTRI_P2, _NDTRI_Q2)  # x < 8: y > exp(-32)
    x1 = z * _polevl(z, p) / _p1evl(z, q)
    return x0 - x1


@njit(cache=True, inline="always")
def _ndtri(y0: float) -> float:
    """The inverse normal CDF, scipy's ``ndtri`` operation for operation (so bit for bit, as the tests check).

    -inf at 0, +inf at 1, NaN outside [0, 1] and for NaN. A rational function of y0 - 0.5 for
    exp(-2) < y0 <= 1 - exp(-2); in the tails, one of 1/x, x = sqrt(-2 log y), y = min(y0, 1 - y0).
    """
    if y0 == 0.0:
        return -math.inf
    if y0 == 1.0:
        return math.inf
    if y0 < 0.0 or y0 > 1.0:
        return math.nan
    upper = y0 > 1.0 - _EXP_M2
    y = 1.0 - y0 if upper else y0
    if y > _EXP_M2:
        return _ndtri_central(y)
    x = math.sqrt(-2.0 * math.log(y))
    x = _ndtri_tail(x, math.log(x))
    return x if upper else -x


@njit(cache=True)
def _log_inplace(loop, x: Array, n: int) -> None:
    """x[:n] = log(x[:n]): numpy's float64 loop ``loop`` (:data:`LOG`), or libm's where it is None."""
    if loop is None:
        for i in range(n):
            x[i] = math.log(x[i])
        return
    unary_inplace(loop, x, n)


@njit(cache=True, error_model="numpy")
def _ndtri_inplace(v: Array, log) -> None:
    """``v[:] = ndtri(v)`` for a 1-D array: :func:`_ndtri`'s operations, in passes that vectorise.

    The central formula for every element (SIMD), then the tails (27 % of uniforms): gathered, their two
    ``log`` calls each through numpy's SIMD loop (``log``: :data:`LOG`; ≈ 0.8 ns an element against libm's
    5.5, with libm's bits: checked at import, and against scipy in the tests), their rational functions
    (SIMD), scattered back. No branch on the data is left to mispredict. A SIMD lane rounds as scalar code
    does (no fused multiply-adds without fastmath), so the bits are :func:`_ndtri`'s.
    """
    n = v.shape[0]
    tail_i = np.empty(n, dtype=np.int64)
    tail_u = np.empty(n)
    nt = 0
    for i in range(n):  # the tail elements' indices and values, without a branch
        u = v[i]
        tail_i[nt] = i
        tail_u[nt] = u
        nt += not (_EXP_M2 < u <= 1.0 - _EXP_M2)
    for i in range(n):
        v[i] = _ndtri_central(v[i])
    x = np.empty(nt)
    log_x = np.empty(nt)
    for k in range(nt):  # y = min(u, 1 − u), then x = √(−2 log y) and log x
        u = tail_u[k]
        log_x[k] = 1.0 - u if u > 1.0 - _EXP_M2 else u
    _log_inplace(log, log_x, nt)
    for k in range(nt):
        x[k] = math.sqrt(-2.0 * log_x[k])
        log_x[k] = x[k]
    _log_inplace(log, log_x, nt)
    for k in range(nt):
        r = _ndtri_tail(x[k], log_x[k])
        x[k] = r if tail_u[k] > 1.0 - _EXP_M2 else -r
    for k in range(nt):
        u = tail_u[k]
        v[tail_i[k]] = x[k] if 0.0 < u < 1.0 else _ndtri(u)  # 0, 1, NaN and out of range as _ndtri


#: Components a row up to which :func:`_draw` hashes component by component over the rows (vector lanes
#: across rows); above it, row by row (vector lanes across a row's components).
_BY_COMPONENT_MAX = 4


@njit(cache=True)
def _draw(keys: Keys, stream: np.uint64, ticks: Keys, tick: np.uint64, m: int, gaussian: bool, log) -> Array:
    """(N, m) uniforms in (0, 1), or standard normals ``ndtri(u)`` with ``gaussian``, for ``keys`` (N,).

    ``ticks`` (N,) the per-row sample counters (as uint64), or empty to use ``tick`` for every row. The
    hash chain of :func:`_bits`, laid out row by row; the normals in one :func:`_ndtri_inplace` over all
    of them (``log``: :data:`LOG`). For a few components (m ≤ ``_BY_COMPONENT_MAX``: a triad, the beams)
    each row's two links are hashed first, then each component's last link and its uniform for every row:
    loops over the rows, which the compiler vectorises (64-bit multiplies, the exact conversion of the top
    53 bits), ≈ 2.5× faster than row by row. More components go row by row, vectorised along the row.
    """
    n = keys.shape[0]
    out = np.empty(n * m)
    if m <= _BY_COMPONENT_MAX:
        z = np.empty(n, np.uint64)  # per row: the hash of (key, stream, tick)
        if ticks.shape[0] > 0:
            for i in range(n):
                z[i] = _mix(_mix(keys[i] ^ stream) + ticks[i] * _C_TICK + _GOLDEN)
        else:
            for i in range(n):
                z[i] = _mix(_mix(keys[i] ^ stream) + tick * _C_TICK + _GOLDEN)
        by_component = np.empty((m, n))
        for c in range(m):
            offset = np.uint64(c) * _C_COMP + _GOLDEN
            for i in range(n):
                by_component[c, i] = (np.float64(_mix(z[i] + offset) >> _S11) + 0.5) * _U53
        for i in range(n):
            for c in range(m):
                out[i * m + c] = by_component[c, i]
    else:
        for i in range(n):
            t = ticks[i] if ticks.shape[0] > 0 else tick
            zi = _mix(_mix(keys[i] ^ stream) + t * _C_TICK + _GOLDEN)
            for c in range(m):
                zc = _mix(zi + np.uint64(c) * _C_COMP + _GOLDEN)
                out[i * m + c] = (np.float64(zc >> _S11) + 0.5) * _U53
    if gaussian:
        _ndtri_inplace(out, log)
    return out.reshape((n, m))


_NO_TICKS = np.zeros(0, dtype=np.uint64)
#: numpy's float64 log loop (checked against np.log), or None: libm's log then.
LOG = numpy_loop(np.log, "d->d")


def _sample(keys: Keys, stream: int, tick: int | ArrayLike, shape: tuple[int, ...], gaussian: bool) -> Array:
    """:func:`uniform` or :func:`normal` through :func:`_draw` (the tick converted as :func:`_bits` does)."""
    k = np.ascontiguousarray(np.asarray(keys, dtype=np.uint64).reshape(-1))
    n = k.size
    t = np.asarray(tick)
    if t.ndim == 0:
        ticks, t0 = _NO_TICKS, np.int64(int(t)).view(np.uint64)
    else:
        ticks, t0 = np.ascontiguousarray(t.astype(np.int64).reshape(n).view(np.uint64)), np.uint64(0)
    m = math.prod(shape)  # the shape is a tuple of ints (np.prod costs ≈ 6 µs a call)
    out = _draw(k, np.uint64(int(stream) & _M64), ticks, t0, m, gaussian, LOG)
    return out.reshape((n, *shape))


def uniform(keys: Keys, stream: int, tick: int | ArrayLike, shape: tuple[int, ...] = ()) -> Array:
    """Uniforms in the open interval (0, 1), shape (N, *shape); ``tick`` scalar or (N,)."""
    return _sample(keys, stream, tick, tuple(shape), gaussian=False)


def normal(keys: Keys, stream: int, tick: int | ArrayLike, shape: tuple[int, ...] = ()) -> Array:
    """Standard normals, shape (N, *shape); ``tick`` scalar or (N,). Same inputs, same bits, any N."""
    return _sample(keys, stream, tick, tuple(shape), gaussian=True)
