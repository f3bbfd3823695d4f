"""Shared fixtures: where the real LOLA grid lives for tests (``../shared/data`` beside the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The shared data directory (holds ``terrain/LDEM_4.IMG``). CI must have it; elsewhere skip."""
    if not (SHARED_DATA / "terrain" / "LDEM_4.LBL").is_file():
        msg = f"LOLA test grid not found under {SHARED_DATA}"
        if os.environ.get("CI"):
            pytest.fail(msg + " (CI must provide ../shared/data)")
        pytest.skip(msg)
    return SHARED_DATA


@pytest.fixture(scope="session")
def lola_label(shared_data_dir: Path) -> Path:
    """Path of the LDEM_4 PDS3 label."""
    return shared_data_dir / "terrain" / "LDEM_4.LBL"
