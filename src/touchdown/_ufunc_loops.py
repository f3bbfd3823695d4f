"""numpy's own float64 inner loops (``arctan2``, ``expm1``, ``log`` …), for numba kernels to call.

numpy's SIMD loops (SVML or its own AVX-512 code) can differ from the C library's functions in the last bit
and are several times faster per element. A kernel that must give numpy's bits, or wants numpy's speed,
calls the loop itself: :func:`numpy_loop` reads it from the ufunc's loop table (public C API,
``PyUFuncObject.functions``) and checks the table's layout and the loop's results against the ufunc
before handing it over; None where either check fails (the kernels then call the C library and say so).
:func:`unary_inplace`, :func:`binary` and :func:`binary_scalar` call such a loop on contiguous float64
arrays.
"""

from __future__ import annotations

import ctypes

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: A numpy inner loop: ``void loop(char **args, npy_intp *dimensions, npy_intp *steps, void *data)``.
UFUNC_LOOP = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)

_NPY_DOUBLE = 12  # numpy's type number of float64 (NPY_DOUBLE)


def numpy_loop(ufunc: np.ufunc, signature: str = "dd->d") -> ctypes._CFuncPtr | None:
    """numpy's inner loop of ``ufunc`` for float64 ``signature``, or None where the loop table cannot be
    read safely (layout not as expected, loop data in use, or results unlike the ufunc's)."""
    try:
        index = ufunc.types.index(signature)
    except ValueError:
        return None
    nargs = ufunc.nin + ufunc.nout
    base = id(ufunc)
    # PyUFuncObject: PyObject_HEAD (16 bytes); int nin, nout, nargs, identity; functions; data; int ntypes,
    # reserved1; const char *name; const char *types
    if (
        ctypes.c_int.from_address(base + 16).value != ufunc.nin
        or ctypes.c_int.from_address(base + 20).value != ufunc.nout
        or ctypes.c_int.from_address(base + 24).value != nargs
        or ctypes.c_int.from_address(base + 48).value != ufunc.ntypes
        or ctypes.c_char_p.from_address(base + 56).value != ufunc.__name__.encode()
    ):
        return None
    type_codes = ctypes.c_void_p.from_address(base + 64).value
    codes = ctypes.string_at(type_codes + index * nargs, nargs)
    if any(c != _NPY_DOUBLE for c in codes):
        return None
    functions = ctypes.c_void_p.from_address(base + 32).value
    data = ctypes.c_void_p.from_address(base + 40).value
    if not functions or (data and ctypes.c_void_p.from_address(data + 8 * index).value):
        return None
    loop = UFUNC_LOOP(ctypes.c_void_p.from_address(functions + 8 * index).value)
    if not _same_as_ufunc(loop, ufunc):
        return None
    return loop


def _same_as_ufunc(loop: ctypes._CFuncPtr, ufunc: np.ufunc) -> bool:
    """True when ``loop`` gives ``ufunc``'s bits on random and special float64 inputs (pairs for a binary
    ufunc), in batches of any size."""
    rng = np.random.default_rng(0)
    special = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-310, -1e300, 1.7374e6, -0.3, 1e-9])
    if ufunc.nin == 2:
        inputs = [
            np.concatenate([np.repeat(special, special.size), rng.normal(size=2000) * 1e6]),
            np.concatenate([np.tile(special, special.size), rng.normal(size=2000) * 1e6]),
        ]
    else:
        inputs = [np.concatenate([special, rng.normal(size=1000) * 1e6, rng.normal(size=1000)])]
    with np.errstate(all="ignore"):
        expected = ufunc(*inputs)
    for n in (1, 2, 3, 7, 8, 9, 17, inputs[0].size):
        out = np.full(n, 12345.0)
        ins = [np.ascontiguousarray(v[-n:]) for v in inputs]
        args = (ctypes.c_void_p * (len(ins) + 1))(*[v.ctypes.data for v in ins], out.ctypes.data)
        dims = (ctypes.c_ssize_t * 1)(n)
        steps = (ctypes.c_ssize_t * (len(ins) + 1))(*([8] * (len(ins) + 1)))
        loop(args, dims, steps, None)
        if not np.array_equal(out, expected[-n:], equal_nan=True):
            return False
    return True


@njit(cache=True)
def unary_inplace(loop, x: Array, n: int) -> None:
    """x[:n] = f(x[:n]) in place through numpy's unary float64 loop ``loop`` (as ``f(x, out=x)``)."""
    args = np.empty(2, np.intp)
    args[0] = x.ctypes.data
    args[1] = x.ctypes.data
    dims = np.full(1, n, np.intp)
    steps = np.full(2, 8, np.intp)  # contiguous float64
    loop(args.ctypes, dims.ctypes, steps.ctypes, 0)


@njit(cache=True)
def binary(loop, a: Array, b: Array, out: Array, n: int) -> None:
    """out[:n] = f(a[:n], b[:n]) through numpy's binary float64 loop ``loop`` (as ``f(a, b, out=out)``)."""
    args = np.empty(3, np.intp)
    args[0] = a.ctypes.data
    args[1] = b.ctypes.data
    args[2] = out.ctypes.data
    dims = np.full(1, n, np.intp)
    steps = np.full(3, 8, np.intp)  # contiguous float64
    loop(args.ctypes, dims.ctypes, steps.ctypes, 0)


@njit(cache=True)
def binary_scalar(loop, a: Array, b: Array, out: Array, n: int) -> None:
    """out[:n] = f(a[:n], b[0]) through numpy's binary float64 loop ``loop``, ``b`` broadcast with stride 0
    as numpy broadcasts a Python scalar (``f(a, 2.5, out=out)``). ``b`` is a 1-element array the caller
    holds: one made inside a kernel only for this call would be freed once its address is read, before
    the loop reads it."""
    args = np.empty(3, np.intp)
    args[0] = a.ctypes.data
    args[1] = b.ctypes.data
    args[2] = out.ctypes.data
    dims = np.full(1, n, np.intp)
    steps = np.full(3, 8, np.intp)
    steps[1] = 0  # the scalar
    loop(args.ctypes, dims.ctypes, steps.ctypes, 0)
