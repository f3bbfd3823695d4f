"""The machine a benchmark ran on, on one line (every script in this folder prints it first)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numba
import numpy as np


def machine() -> str:
    """CPU model, cores, memory [GiB], and the Python, numpy and numba versions."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or platform.machine()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}, "
        f"numpy {np.__version__}, numba {numba.__version__}"
    )
