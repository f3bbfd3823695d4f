"""Keep glibc's allocator from paging a worker's temporary arrays in and out.

glibc serves a large ``malloc`` (a batch's temporary arrays: a 2,500-run covariance is 4.5 MB) from fresh
pages by ``mmap`` and hands them back on ``free``; by default it learns, raising its mmap threshold to the
largest block freed, so that a loop re-allocating the same arrays reuses the heap. Setting any threshold
(Dask's nanny exports ``MALLOC_TRIM_THRESHOLD_=65536`` to every worker it starts) switches that learning
off, and each tick then page-faults its temporaries afresh: a batch of 1,000 descents took 27 s of CPU in
such a worker against 20 s with the thresholds below (AMD EPYC, glibc 2.36).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
M_MMAP_THRESHOLD = -3
#: the largest mmap threshold glibc accepts on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX) [bytes]
MMAP_THRESHOLD_MAX = 32 * 2**20
TRIM_THRESHOLD = 2**30  # free heap kept at the top before trimming [bytes]

#: the environment variables that switch glibc's threshold learning off
_FIXING_VARIABLES = (
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)


@functools.cache
def restore_large_thresholds() -> bool:
    """Where the environment fixed glibc's thresholds, set them to what glibc would learn for a campaign
    (mmap only above 32 MiB, trim above 1 GiB). True when applied; a no-op elsewhere (not glibc, or
    nothing fixed), so the allocator of an ordinary process is left as it is."""
    if not any(v in os.environ for v in _FIXING_VARIABLES):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mmap_set = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX))
    return bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and mmap_set
