"""Truth/belief boundary: the measurement dataclasses import no truth model."""

from __future__ import annotations

import subprocess
import sys


def test_measurement_module_imports_no_truth() -> None:
    code = (
        "import sys, touchdown.sensors.base, touchdown.noise;"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('touchdown'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "touchdown.sensors.base" in out
    forbidden = ("touchdown.vehicle", "touchdown.sim", "touchdown.moon.terrain", "touchdown.moon.gravity")
    assert not [m for m in out if m.startswith(forbidden)], out
    assert not [m for m in out if m.startswith("touchdown.sensors.") and m != "touchdown.sensors.base"], out
