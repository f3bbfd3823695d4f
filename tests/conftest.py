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


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run the ``touchdown`` CLI in-process: ``cli(argv)`` → (exit code, stdout, stderr)."""
    from touchdown.cli import main

    def run(argv: list[str]) -> tuple[int, str, str]:
        capsys.readouterr()  # drop anything printed before
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run
