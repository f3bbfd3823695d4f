"""ARCHITECTURE rule 1: the flight software never reads the true state.

Static half: every module under ``touchdown.fsw`` may import only belief-side code — frames, constants,
numeric helpers, gravity and terrain *models* (an onboard map is a terrain instance the FSW is given,
possibly unlike the truth), the vehicle's published parameters, the command and measurement types. Not
the simulator, not the truth dynamics (the state layout), not the sensor models (they read truth).
"""

from __future__ import annotations

import ast
from pathlib import Path

import touchdown

FSW = Path(touchdown.__file__).parent / "fsw"
ALLOWED = (
    "touchdown.fsw",
    "touchdown._scalar",  # numpy min/max/clip semantics for kernels: arithmetic, no state
    "touchdown._ufunc_loops",  # numpy's own math loops for kernels: arithmetic, no state
    "touchdown.errors",
    "touchdown.moon.constants",
    "touchdown.moon.frames",
    "touchdown.moon._frames_kernels",  # frames compiled: geometry, no state
    "touchdown.moon.gravity",
    "touchdown.moon.terrain",
    "touchdown.vehicle.model",
    "touchdown.vehicle.commands",
    "touchdown.sensors.base",
)


def imports_of(path: Path, package: str = "touchdown.fsw") -> list[tuple[int, str]]:
    """(line, absolute module) of every import in ``path``, a module of ``package``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1]
            found.append((node.lineno, ".".join([*base, node.module] if node.module else base)))
    return found


def test_fsw_imports_only_belief_side_modules():
    files = sorted(FSW.rglob("*.py"))
    assert files, "no flight-software modules found"
    bad = [
        f"{p.relative_to(FSW.parent)}:{line} imports {mod}"
        for p in files
        for line, mod in imports_of(p, ".".join(("touchdown", *p.relative_to(FSW.parent).parent.parts)))
        if mod.startswith("touchdown") and not mod.startswith(ALLOWED)
    ]
    assert not bad, "flight software reaches for truth:\n" + "\n".join(bad)


def test_the_check_catches_a_truth_import(tmp_path):
    """The scanner itself must see a forbidden import (so the test above can fail)."""
    p = tmp_path / "cheat.py"
    p.write_text(
        "from touchdown.sim.simulator import Simulator\n"
        "import touchdown.vehicle.dynamics\n"
        "from ...sim import x\n"
    )
    mods = [m for _, m in imports_of(p, "touchdown.fsw.guidance")]
    assert mods[2] == "touchdown.sim"
    assert [m for m in mods if not m.startswith(ALLOWED)] == mods
