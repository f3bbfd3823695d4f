"""Ground tracks and what a nadir laser altimeter sees along them."""

from __future__ import annotations

import math

import numpy as np

from touchdown.errors import InputError
from touchdown.moon.constants import R_MOON
from touchdown.moon.frames import llh_to_mcmf

#: Window after the shortest range in which the altimeter's jump is measured [m].
JUMP_WINDOW_M = 15_000.0


def great_circle_track(
    a_deg: tuple[float, float], b_deg: tuple[float, float], n: int
) -> tuple[np.ndarray, ...]:
    """Great-circle samples (lat, lon [rad], along-track distance [m]) from a to b."""
    p1 = llh_to_mcmf(math.radians(a_deg[0]), math.radians(a_deg[1]), 0.0, radius=1.0)
    p2 = llh_to_mcmf(math.radians(b_deg[0]), math.radians(b_deg[1]), 0.0, radius=1.0)
    omega = math.acos(max(-1.0, min(1.0, float(np.dot(p1, p2)))))
    if omega < 1e-9 or abs(omega - math.pi) < 1e-9:
        raise InputError("--from and --to must be distinct, non-antipodal points")
    f = np.linspace(0.0, 1.0, n)
    p = (np.sin((1.0 - f) * omega)[:, None] * p1 + np.sin(f * omega)[:, None] * p2) / math.sin(omega)
    lat = np.arctan2(p[:, 2], np.hypot(p[:, 0], p[:, 1]))
    lon = np.arctan2(p[:, 1], p[:, 0])
    return lat, lon, f * omega * R_MOON


def range_jump(
    distance_m: np.ndarray, range_m: np.ndarray, window_m: float = JUMP_WINDOW_M
) -> dict[str, float]:
    """The altimeter's jump: largest range within ``window_m`` after the shortest range, minus that range."""
    i = int(np.nanargmin(range_m))
    after = (distance_m > distance_m[i]) & (distance_m <= distance_m[i] + window_m)
    if not np.any(after & np.isfinite(range_m)):
        return {"jump_m": 0.0, "at_m": float(distance_m[i]), "min_range_m": float(range_m[i])}
    j = int(np.flatnonzero(after)[np.nanargmax(range_m[after])])
    return {
        "jump_m": float(range_m[j] - range_m[i]),
        "at_m": float(distance_m[i]),
        "min_range_m": float(range_m[i]),
        "max_range_m": float(range_m[j]),
        "max_at_m": float(distance_m[j]),
    }
