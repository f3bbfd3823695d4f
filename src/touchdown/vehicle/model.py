"""What a lander is made of: mass properties, engines, RCS, landing gear and touchdown limits.

All quantities are SI and expressed in the body frame (``+z`` the vehicle's up, the direction the main
engines push). The body origin is the centre of mass, assumed fixed as propellant drains (a stated
simplification); the inertia tensor is diagonal (principal axes) and interpolates linearly between dry
and full-tank values with the propellant on board.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from touchdown.errors import InputError
from touchdown.moon.constants import G0

Vec3 = tuple[float, float, float]


def _require(cond: bool, what: str, where: str) -> None:
    if not cond:
        raise InputError(what, where=where)


@dataclass(frozen=True)
class Engine:
    """One rocket engine (or a cluster commanded as one).

    ``direction_body`` is the unit vector along which the engine's thrust pushes the vehicle.
    ``throttle_min``/``throttle_max`` bound the commanded fraction of ``max_thrust_n`` while the engine
    is on; a fixed-thrust engine has both equal to 1. ``lag_s`` is the first-order time constant of
    the thrust response (0: instantaneous).
    """

    name: str
    max_thrust_n: float
    isp_s: float
    position_body_m: Vec3 = (0.0, 0.0, 0.0)
    direction_body: Vec3 = (0.0, 0.0, 1.0)
    throttle_min: float = 1.0
    throttle_max: float = 1.0
    lag_s: float = 0.0
    #: A throttle band (fractions) the engine must not be held in, e.g. the LM descent engine's
    #: 60–92 % band (REFERENCE §3.4); honoured by throttle mapping in the flight software.
    throttle_band_avoided: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        where = f"engine '{self.name}'"
        _require(self.max_thrust_n > 0, f"max_thrust_n must be > 0, got {self.max_thrust_n}", where)
        _require(self.isp_s > 0, f"isp_s must be > 0, got {self.isp_s}", where)
        _require(
            0.0 <= self.throttle_min <= self.throttle_max <= 1.0,
            f"need 0 ≤ throttle_min ≤ throttle_max ≤ 1, got {self.throttle_min}, {self.throttle_max}",
            where,
        )
        _require(self.lag_s >= 0, f"lag_s must be ≥ 0, got {self.lag_s}", where)
        n = math.sqrt(sum(c * c for c in self.direction_body))
        _require(abs(n - 1.0) < 1e-6, f"direction_body must be a unit vector, |d| = {n:.6g}", where)

    @property
    def exhaust_velocity_mps(self) -> float:
        """Effective exhaust velocity vₑ = Isp·g₀ [m/s]."""
        return self.isp_s * G0

    @property
    def throttleable(self) -> bool:
        """True when the thrust level can be set between limits, not only switched on and off."""
        return self.throttle_min < self.throttle_max


@dataclass(frozen=True)
class Rcs:
    """Reaction control system seen as a torque source with per-axis limits.

    Propellant use is ``|τ| / (moment_arm · Isp · g₀)`` per axis, drawn from the same tanks as the
    main engines (Series 1 and the LM draw RCS from separate tanks; the difference is small and the
    simplification is stated here).
    """

    max_torque_nm: Vec3 = (50.0, 50.0, 50.0)
    moment_arm_m: float = 1.0
    isp_s: float = 220.0

    def __post_init__(self) -> None:
        _require(all(t >= 0 for t in self.max_torque_nm), "max_torque_nm must be ≥ 0", "rcs")
        _require(self.moment_arm_m > 0, "moment_arm_m must be > 0", "rcs")
        _require(self.isp_s > 0, "isp_s must be > 0", "rcs")


@dataclass(frozen=True)
class MassProperties:
    """Dry mass (everything but usable propellant), propellant capacity and principal inertias."""

    dry_mass_kg: float
    propellant_capacity_kg: float
    inertia_dry_kgm2: Vec3
    inertia_full_kgm2: Vec3

    def __post_init__(self) -> None:
        _require(self.dry_mass_kg > 0, f"dry_mass_kg must be > 0, got {self.dry_mass_kg}", "mass")
        _require(
            self.propellant_capacity_kg >= 0,
            f"propellant_capacity_kg must be ≥ 0, got {self.propellant_capacity_kg}",
            "mass",
        )
        for name in ("inertia_dry_kgm2", "inertia_full_kgm2"):
            _require(all(i > 0 for i in getattr(self, name)), f"{name} entries must be > 0", "mass")

    def inertia(self, propellant_kg: np.ndarray) -> np.ndarray:
        """Principal inertias (…, 3) [kg·m²] with ``propellant_kg`` on board (linear interpolation)."""
        frac = np.asarray(propellant_kg, dtype=float)[..., None] / max(self.propellant_capacity_kg, 1e-300)
        dry = np.asarray(self.inertia_dry_kgm2)
        full = np.asarray(self.inertia_full_kgm2)
        return dry + frac * (full - dry)


@dataclass(frozen=True)
class LandingGear:
    """Contact geometry: footpads (first to touch on a good landing) and hard points of the body.

    ``footpads_body_m`` and ``body_points_body_m`` are positions relative to the centre of mass.
    A first contact by a body point (engine bell, deck edge) is a crash.
    """

    footpads_body_m: tuple[Vec3, ...]
    body_points_body_m: tuple[Vec3, ...] = ()

    def __post_init__(self) -> None:
        _require(len(self.footpads_body_m) >= 3, "need at least 3 footpads", "landing_gear")

    @property
    def contact_points_body_m(self) -> np.ndarray:
        """All contact points (K, 3): footpads first, then body points."""
        return np.array(self.footpads_body_m + self.body_points_body_m, dtype=float)

    @property
    def n_footpads(self) -> int:
        return len(self.footpads_body_m)

    @property
    def com_height_m(self) -> float:
        """Height of the centre of mass above the footpad plane [m]."""
        return -float(np.mean([p[2] for p in self.footpads_body_m]))

    @property
    def tip_arm_m(self) -> float:
        """Shortest horizontal distance from the centre of mass to an edge of the footpad polygon [m]."""
        pads = np.array([p[:2] for p in self.footpads_body_m])
        order = np.argsort(np.arctan2(pads[:, 1], pads[:, 0]))
        pads = pads[order]
        edges = np.roll(pads, -1, axis=0) - pads
        # distance from origin to each edge line: |cross(p, e)| / |e|
        dist = np.abs(pads[:, 0] * edges[:, 1] - pads[:, 1] * edges[:, 0]) / np.hypot(
            edges[:, 0], edges[:, 1]
        )
        return float(dist.min())


@dataclass(frozen=True)
class TouchdownLimits:
    """Limits that judge a touchdown; they belong to the vehicle (REFERENCE §5 defaults).

    Speeds are relative to the surface at first contact; vertical speed is the sink rate (positive
    down). ``crash_speed_mps`` is an assumption (nobody publishes it): above it the structure fails.
    """

    max_vertical_speed_mps: float = 4.0  # REFERENCE §5, commercial lander Monte Carlo limit
    max_horizontal_speed_mps: float = 2.0  # REFERENCE §5
    max_tilt_deg: float = 10.0  # REFERENCE §5, attitude error
    max_rate_deg_s: float = 5.0  # REFERENCE §5
    crash_speed_mps: float = 10.0  # assumed: structural failure of legs and deck

    def __post_init__(self) -> None:
        for k, v in self.__dict__.items():
            _require(v > 0, f"{k} must be > 0, got {v}", "limits")
        _require(
            self.crash_speed_mps >= self.max_vertical_speed_mps,
            "crash_speed_mps must be ≥ max_vertical_speed_mps",
            "limits",
        )


@dataclass(frozen=True)
class Vehicle:
    """A lander: mass, engines, RCS, gear and the limits that judge its touchdown."""

    name: str
    mass: MassProperties
    engines: tuple[Engine, ...]
    rcs: Rcs = field(default_factory=Rcs)
    gear: LandingGear = field(
        default_factory=lambda: LandingGear(((1, 0, -1), (0, 1, -1), (-1, 0, -1), (0, -1, -1)))
    )
    limits: TouchdownLimits = field(default_factory=TouchdownLimits)
    description: str = ""

    def __post_init__(self) -> None:
        _require(len(self.engines) >= 1, "a vehicle needs at least one engine", f"vehicle '{self.name}'")
        names = [e.name for e in self.engines]
        _require(len(set(names)) == len(names), f"duplicate engine names {names}", f"vehicle '{self.name}'")

    # Arrays the dynamics use, shape (E,) or (E, 3)
    @property
    def max_thrust_n(self) -> np.ndarray:
        return np.array([e.max_thrust_n for e in self.engines])

    @property
    def exhaust_velocity_mps(self) -> np.ndarray:
        return np.array([e.exhaust_velocity_mps for e in self.engines])

    @property
    def engine_positions_body_m(self) -> np.ndarray:
        return np.array([e.position_body_m for e in self.engines], dtype=float)

    @property
    def engine_directions_body(self) -> np.ndarray:
        return np.array([e.direction_body for e in self.engines], dtype=float)

    @property
    def throttle_limits(self) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.array([e.throttle_min for e in self.engines]),
            np.array([e.throttle_max for e in self.engines]),
        )

    @property
    def lag_s(self) -> np.ndarray:
        return np.array([e.lag_s for e in self.engines])

    @property
    def effective_exhaust_velocity_mps(self) -> float:
        """vₑ of all engines burning together at full thrust: Σ thrust / Σ flow [m/s]."""
        f = self.max_thrust_n
        return float(np.sum(f)) / float(np.sum(f / self.exhaust_velocity_mps))

    @property
    def total_max_thrust_n(self) -> float:
        """Sum of all engines' maximum thrust along body +z [N]."""
        return float(np.sum(self.max_thrust_n * self.engine_directions_body[:, 2]))

    def engine_index(self, name: str) -> int:
        """Index of the engine called ``name``."""
        for i, e in enumerate(self.engines):
            if e.name == name:
                return i
        raise InputError(
            f"unknown engine '{name}'; this vehicle has {[e.name for e in self.engines]}",
            where=f"vehicle '{self.name}'",
        )
