"""Compiled per-row screens of the batch loop (``sim.simulator``).

Rows are computed independently, with the operations of the numpy code they stand for in the same order.
"""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True, error_model="numpy")
def screen_rows(x1, prop_ok, h, dry_mass, reach_term, max_terrain_m, r_moon, flagged) -> int:
    """Which rows after a step may need an event located: ``flagged[i]`` True where the propellant ran
    out (``prop_ok`` and mass − ``dry_mass`` ≤ 0 [kg]) or where the centre of mass is low enough that a
    contact point could reach the terrain within the step. Returns how many rows are flagged.

    The height test is ``Simulator._near_ground``'s pre-check, bit for bit: with speed = |v| [m/s] and
    step h [s], margin = ``reach_term`` + 2·speed·h + 1 [m] (``reach_term`` = reach × (1 + slope allowance))
    and the row is low when |r| − ``r_moon`` − ``max_terrain_m`` < margin + 1 [m].
    """
    count = 0
    for i in range(x1.shape[0]):
        exhausted = prop_ok[i] and x1[i, 13] - dry_mass <= 0.0
        vx, vy, vz = x1[i, 3], x1[i, 4], x1[i, 5]
        speed = math.sqrt(vx * vx + vy * vy + vz * vz)
        margin = reach_term + 2.0 * speed * h[i] + 1.0
        rx, ry, rz = x1[i, 0], x1[i, 1], x1[i, 2]
        height = math.sqrt(rx * rx + ry * ry + rz * rz) - r_moon
        low = height - max_terrain_m < margin + 1.0
        flagged[i] = exhausted or low
        count += flagged[i]
    return count
