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
centred in their bin, so they lie in the open interval (0, 1); normals come from the inverse normal CDF
(``scipy.special.ndtri``, a scalar C loop, so no SIMD path can change a last bit with the array's length).
Trajectory k's numbers are the same whether it is flown alone or in a batch of 10,000.

:func:`uniform` and :func:`normal` run as one compiled loop over the rows (:func:`_draw`), calling the
same ``ndtri`` (scipy's exported C function): the same bits as the numpy formulation in :func:`_bits`.
"""

from __future__ import annotations

import hashlib

import llvmlite.binding as llvm
import numpy as np
from numba import njit, types
from numba.extending import get_cython_function_address
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]
Keys = NDArray[np.uint64]

_M64 = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C_TICK = np.uint64(0xC2B2AE3D27D4EB4F)
_C_COMP = np.uint64(0x165667B19E3779F9)
_U53 = 2.0**-53

# scipy.special.ndtri's C function (the ufunc's own kernel), called from compiled code by a symbol name
# (an address baked into the code would keep numba from caching it)
llvm.add_symbol("touchdown_scipy_ndtri", get_cython_function_address("scipy.special.cython_special", "ndtri"))
_ndtri = types.ExternalFunction("touchdown_scipy_ndtri", types.float64(types.float64))
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


@njit(cache=True)
def _draw(keys: Keys, stream: np.uint64, ticks: Keys, tick: np.uint64, m: int, gaussian: bool) -> Array:
    """(N, m) uniforms in (0, 1), or standard normals ``ndtri(u)`` with ``gaussian``, for ``keys`` (N,).

    ``ticks`` (N,) the per-row sample counters (as uint64), or empty to use ``tick`` for every row. The
    hash chain of :func:`_bits`, row by row.
    """
    n = keys.shape[0]
    out = np.empty((n, m))
    for i in range(n):
        t = ticks[i] if ticks.shape[0] > 0 else tick
        z = _mix(keys[i] ^ stream)
        z = _mix(z + t * _C_TICK + _GOLDEN)
        for c in range(m):
            zc = _mix(z + np.uint64(c) * _C_COMP + _GOLDEN)
            u = (np.float64(zc >> _S11) + 0.5) * _U53
            out[i, c] = _ndtri(u) if gaussian else u
    return out


_NO_TICKS = np.zeros(0, dtype=np.uint64)


def _sample(keys: Keys, stream: int, tick: int | ArrayLike, shape: tuple[int, ...], gaussian: bool) -> Array:
    """:func:`uniform` or :func:`normal` through :func:`_draw` (the tick converted as :func:`_bits` does)."""
    k = np.ascontiguousarray(np.asarray(keys, dtype=np.uint64).reshape(-1))
    n = k.size
    t = np.asarray(tick)
    if t.ndim == 0:
        ticks, t0 = _NO_TICKS, np.int64(int(t)).view(np.uint64)
    else:
        ticks, t0 = np.ascontiguousarray(t.astype(np.int64).reshape(n).view(np.uint64)), np.uint64(0)
    m = int(np.prod(shape, dtype=np.int64))
    out = _draw(k, np.uint64(int(stream) & _M64), ticks, t0, m, gaussian)
    return out.reshape((n, *shape))


def uniform(keys: Keys, stream: int, tick: int | ArrayLike, shape: tuple[int, ...] = ()) -> Array:
    """Uniforms in the open interval (0, 1), shape (N, *shape); ``tick`` scalar or (N,)."""
    return _sample(keys, stream, tick, tuple(shape), gaussian=False)


def normal(keys: Keys, stream: int, tick: int | ArrayLike, shape: tuple[int, ...] = ()) -> Array:
    """Standard normals, shape (N, *shape); ``tick`` scalar or (N,). Same inputs, same bits, any N."""
    return _sample(keys, stream, tick, tuple(shape), gaussian=True)
