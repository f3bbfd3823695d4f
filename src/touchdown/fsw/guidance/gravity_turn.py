"""Gravity-turn descent: thrust against the velocity, sized to null the speed at a target altitude.

With the thrust along −v̂ and magnitude a_T, the vertical channel (site frame, up = z) obeys
v̇_z = a_T sin γ + g_z, where sin γ = −v_z/|v| is the descent angle below the horizontal. Choosing the
constant vertical deceleration that stops the descent exactly at the target altitude h_t,
v̇_z = v_z² / (2 (h − h_t)), gives the law::

    a_T = (v_z² / (2 (h − h_t)) − g_z) / sin γ,        a_thrust = −a_T v̂.

Flown continuously it keeps that deceleration constant (d/dt [v_z²/(2Δh)] = 0 when v̇_z equals it), so
v_z(t) = v_z0 + a t and h − h_t reaches 0 with v_z = 0 at t = 2 Δh0/|v_z0|. Meanwhile the horizontal speed
decays faster than the vertical (d(v_h/|v_z|)/dt = −g v_h/v_z² < 0 for g_z = −g), so the whole speed is nulled
there and the path turns vertical: the classic gravity turn. It is meant for descending flight with a real
descent angle; near-horizontal flight (sin γ → 0, e.g. braking from an orbit's perilune) would demand
unbounded thrust, so sin γ is floored at ``min_sin_descent`` (full retro-thrust until the path steepens),
and rows that are climbing faster than that, or nearly at rest, get a hover command (a_thrust = −g).
``t_go_s`` = 2 Δh/|v_z|. ``complete`` when Δh ≤ complete_height_m or |v| ≤ complete_speed_mps. Stateless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from touchdown.errors import InputError
from touchdown.fsw.guidance.base import Array, GuidanceCommand, check_state
from touchdown.moon.frames import norm


@dataclass(frozen=True)
class GravityTurnParams:
    """target_altitude_m: altitude above the site datum where the speed should be zero [m].
    min_height_to_go_m: floor on h − h_t in the law (avoids 1/0 at the target) [m].
    min_sin_descent: floor on sin γ (caps the thrust demanded for shallow paths) [-].
    hover_speed_mps: below this speed the velocity direction is meaningless: command hover [m/s].
    complete_height_m, complete_speed_mps: end condition of the phase [m], [m/s].
    """

    target_altitude_m: float = 30.0
    min_height_to_go_m: float = 0.1
    min_sin_descent: float = 0.05
    hover_speed_mps: float = 0.05
    complete_height_m: float = 0.5
    complete_speed_mps: float = 0.5

    def __post_init__(self) -> None:
        for name in (
            "target_altitude_m",
            "min_height_to_go_m",
            "min_sin_descent",
            "hover_speed_mps",
            "complete_height_m",
            "complete_speed_mps",
        ):
            value = getattr(self, name)
            if not math.isfinite(value) or (name != "target_altitude_m" and value <= 0.0):
                raise InputError(
                    f"must be finite{'' if name == 'target_altitude_m' else ' and > 0'}, got {value!r}",
                    where=name,
                )
        if self.min_sin_descent > 1.0:
            raise InputError(f"must be ≤ 1, got {self.min_sin_descent!r}", where="min_sin_descent")


class GravityTurnGuidance:
    """Constant-vertical-deceleration gravity turn to zero speed at ``target_altitude_m`` (see module doc)."""

    frame = "local"  # flies relative to the ground below: r = (0, 0, altitude), local ENU axes

    def __init__(self, params: GravityTurnParams | None = None) -> None:
        self.params = params or GravityTurnParams()

    def reset(self, n: int) -> None:
        """Nothing to reset: the law keeps no per-trajectory state."""

    def command(self, t_s: ArrayLike, r_site: Array, v_site: Array, g_site: Array) -> GuidanceCommand:
        """Thrust acceleration [m/s²] in the site frame; ``t_s`` is not used."""
        r_site, v_site, g_site = check_state(r_site, v_site, g_site)
        p = self.params
        speed = norm(v_site)
        v_z = v_site[:, 2]
        height_to_go = r_site[:, 2] - p.target_altitude_m
        dh = np.maximum(height_to_go, p.min_height_to_go_m)
        # descending, or flying level (an orbit's perilune: |v_z| within min_sin_descent of the speed)
        flying = (speed > p.hover_speed_mps) & (v_z < p.min_sin_descent * speed)
        safe_speed = np.where(flying, speed, 1.0)
        sin_descent = np.maximum(-v_z / safe_speed, p.min_sin_descent)
        stop = np.where(v_z < 0.0, v_z * v_z / (2.0 * dh), 0.0)
        a_t = (stop - g_site[:, 2]) / sin_descent
        a_turn = -(a_t / safe_speed)[:, None] * v_site
        a_thrust_site = np.where(flying[:, None], a_turn, -g_site)
        with np.errstate(divide="ignore", invalid="ignore"):
            down = flying & (v_z < 0.0)
            t_go = np.where(down, 2.0 * np.maximum(height_to_go, 0.0) / np.where(down, -v_z, 1.0), np.nan)
        complete = (height_to_go <= p.complete_height_m) | (speed <= p.complete_speed_mps)
        return GuidanceCommand(a_thrust_site, t_go, complete)
