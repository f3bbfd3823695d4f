"""`touchdown terrain` through a real subprocess, and the loader's fallback."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from touchdown.moon.terrain.loader import SyntheticSpec, load_terrain
from touchdown.moon.terrain.synthetic import SyntheticTerrain


def _run(args: list[str], data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TOUCHDOWN_DATA": str(data)}
    return subprocess.run(
        [sys.executable, "-m", "touchdown", "terrain", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_height_at_apollo11(shared_data_dir: Path) -> None:
    out = _run(["height", "0.674", "23.473", "--nearest", "--json"], shared_data_dir)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["height_m"] == -1883.0  # REFERENCE §2.1
    assert "LDEM_4" in doc["terrain"]
    out = _run(["height", "0.674", "23.473"], shared_data_dir)
    assert out.returncode == 0 and "height -19" in out.stdout  # bilinear, between the posts


def test_bad_latitude_is_one_line_exit_2(shared_data_dir: Path) -> None:
    out = _run(["height", "95", "10"], shared_data_dir)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "latitude" in lines[0] and "Traceback" not in out.stderr


def test_profile_json_and_png(shared_data_dir: Path, tmp_path: Path) -> None:
    png = tmp_path / "p.png"
    out = _run(
        [
            "profile",
            "--from",
            "49.2,43.0",
            "--to",
            "47.5,44.4",
            "--altitude",
            "6000",
            "--samples",
            "120",
            "--json",
            "--png",
            str(png),
        ],
        shared_data_dir,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert len(doc["range_m"]) == 120 and doc["jump"]["jump_m"] > 1500.0
    assert png.stat().st_size > 10_000
    bad = _run(["profile", "--from", "49.2", "--to", "47.5,44.4", "--altitude", "6000"], shared_data_dir)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_fallback_to_synthetic(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        terrain = load_terrain("ldem_4", data_dir=tmp_path, site=(0.8, 0.77), synthetic=SyntheticSpec(seed=1))
    assert isinstance(terrain, SyntheticTerrain)
    assert "ldem_4 not found" in terrain.description and "touchdown data fetch ldem_4" in terrain.description
    assert "synthetic" in caplog.text
    assert terrain.height(0.8, 0.77).shape == ()


def test_loader_reads_dem_with_detail(lola_label: Path) -> None:
    terrain = load_terrain("ldem_4", data_dir=lola_label.parent.parent, site=(0.8, 0.77))
    assert "LDEM_4" in terrain.description and "detail" in terrain.description
    plain = load_terrain(str(lola_label), site=(0.8, 0.77), detail=False)
    assert plain.description.startswith("LDEM_4")
