"""Where a result came from: the touchdown version and git revision that produced it."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from touchdown import __version__

__all__ = ["__version__", "git_revision"]


@functools.cache
def git_revision() -> str:
    """The git commit of the touchdown source in use (``+dirty`` with local changes), or ``unknown``."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")
