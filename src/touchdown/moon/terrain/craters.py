"""Crater science, vectorised: size-frequency laws and crater shapes (REFERENCE §2.2).

Population
----------
``neukum_cumulative(D_km, age_gyr)``: the Neukum production function (Neukum, Ivanov & Hartmann 2001),
cumulative number of craters larger than D per km², ``log10 N = Σ aᵢ (log10 D)ⁱ`` for a 1 Gyr surface,
scaled by the chronology ``N(1 km, T) = 5.44e−14 (e^{6.93 T} − 1) + 8.17e−4 T`` over ``10^a₀``
(8.17e−4, not the paper's misprinted 8.38e−4). ``trask_equilibrium(D_m)``: ``N_eq(>D) = 0.079 D⁻²`` per m²
(Trask 1966). ``cumulative_density(D_m, age_gyr)`` is their minimum, per m²: on a 3.6 Gyr mare the two cross
near D ≈ 220 m (REFERENCE §2.2).

Shapes (all lengths in metres; z is height relative to the pre-impact surface)
-------------------------------------------------------------------------------
Fresh simple craters (Pike 1977, D < ~15 km): depth ``d = 0.196 D^1.010`` (used, as in REFERENCE §2.2's
profile, as the floor's depth below the pre-impact surface), rim ``h = 0.036 D^1.014`` (D in km).
Complex craters (D > ~18 km): ``h = 0.236 D^0.399``, ``d = 1.044 D^0.301`` (km).

``simple_profile``: inside ``x = r/R < 1`` the paraboloid ``z = h + (h + d)(x² − 1)`` (z(0) = −d, z(1) = h);
outside, Pike's ``h x⁻³`` made to reach exactly zero, with zero slope, at the cutoff ``x_c``:
``z = h · taper(x)``, ``taper(x) = (x⁻³ − 4 x_c⁻³ + 3 x_c⁻⁴ x) / (1 − 4 x_c⁻³ + 3 x_c⁻⁴)`` for 1 ≤ x < x_c,
0 beyond. ``taper(1) = 1``, ``taper(x_c) = taper'(x_c) = 0`` and it decreases monotonically, so the profile
is continuous everywhere, C¹ at the cutoff, and has its steepest slope ``2(h + d)/R`` just inside the rim.
With the default ``x_c = 3`` the taper removes 15 % of Pike's ejecta height at 1.5 R and all of it by 3 R.

``complex_profile``: flat floor to ``r_floor``, a smoothstep wall rising to the rim crest at R, and the same
tapered ejecta outside. Its steepest slope is ``max(1.5 (h + d)/(R − r_floor), h |taper'(1)|/R)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

#: Neukum production-function coefficients a₀…a₁₁ for a 1 Gyr surface, D in km (REFERENCE §2.2).
NEUKUM_A: tuple[float, ...] = (
    -3.0876,
    -3.557528,
    0.781027,
    1.021521,
    -0.156012,
    -0.444058,
    0.019977,
    0.086850,
    -0.005874,
    -0.006809,
    8.25e-4,
    5.54e-5,
)
#: Chronology N(1 km, T) = CHRONO_A (e^{CHRONO_B T} − 1) + CHRONO_C T [km⁻²] (REFERENCE §2.2, 8.17e−4).
CHRONO_A = 5.44e-14
CHRONO_B = 6.93
CHRONO_C = 8.17e-4
#: Validity of the production function [km] (REFERENCE §2.2).
NEUKUM_D_RANGE_KM = (0.01, 300.0)
#: Trask (1966) equilibrium N_eq(>D) = TRASK_K D^TRASK_EXP per m², D in m (REFERENCE §2.2).
TRASK_K = 0.079
TRASK_EXP = -2.0
#: Default age of a mare surface [Gyr] (REFERENCE §2.2).
MARE_AGE_GYR = 3.6

#: Pike (1977) fresh simple craters, D in km: d = a D^b, rim h = a D^b (REFERENCE §2.2).
PIKE_SIMPLE_DEPTH = (0.196, 1.010)
PIKE_SIMPLE_RIM = (0.036, 1.014)
#: Pike (1977) complex craters, D in km (REFERENCE §2.2).
PIKE_COMPLEX_DEPTH = (1.044, 0.301)
PIKE_COMPLEX_RIM = (0.236, 0.399)
#: Default cutoff of the ejecta blanket, in crater radii.
EJECTA_CUTOFF = 3.0


def chronology_n1(age_gyr: ArrayLike) -> Array:
    """N(>1 km) per km² on a surface of age T [Gyr] (REFERENCE §2.2, with the 8.17e−4 correction)."""
    t = np.asarray(age_gyr, dtype=np.float64)
    return CHRONO_A * np.expm1(CHRONO_B * t) + CHRONO_C * t


def neukum_cumulative(d_km: ArrayLike, age_gyr: ArrayLike = 1.0) -> Array:
    """Neukum production N(>D) per km² for D [km] on a surface of age T [Gyr]."""
    x = np.log10(np.asarray(d_km, dtype=np.float64))
    log_n = np.zeros_like(x)
    for a in reversed(NEUKUM_A):  # Horner
        log_n = log_n * x + a
    return 10.0**log_n * (chronology_n1(age_gyr) / 10.0 ** NEUKUM_A[0])


def trask_equilibrium(d_m: ArrayLike) -> Array:
    """Equilibrium N_eq(>D) per m² for D [m] (Trask 1966, REFERENCE §2.2)."""
    return TRASK_K * np.asarray(d_m, dtype=np.float64) ** TRASK_EXP


def cumulative_density(d_m: ArrayLike, age_gyr: ArrayLike = MARE_AGE_GYR) -> Array:
    """N(>D) per m² = min(Neukum production, Trask equilibrium) for D [m] and age [Gyr]."""
    d_m = np.asarray(d_m, dtype=np.float64)
    production = neukum_cumulative(d_m / 1000.0, age_gyr) * 1e-6
    return np.minimum(production, trask_equilibrium(d_m))


def equilibrium_crossover_m(
    age_gyr: float = MARE_AGE_GYR, lo_m: float = 10.0, hi_m: float = 10_000.0
) -> float:
    """Diameter [m] where production meets equilibrium (bisection in log D); ≈ 220 m at 3.6 Gyr."""
    a, b = np.log(lo_m), np.log(hi_m)

    def f(u: float) -> float:
        d = np.exp(u)
        return float(np.log(neukum_cumulative(d / 1000.0, age_gyr) * 1e-6 / trask_equilibrium(d)))

    if f(a) * f(b) > 0:
        raise ValueError("no crossover in the bracket")
    for _ in range(200):
        m = 0.5 * (a + b)
        if f(a) * f(m) <= 0:
            b = m
        else:
            a = m
    return float(np.exp(0.5 * (a + b)))


# --------------------------------------------------------------------------------------------------
# Pike depth and rim laws


def pike_simple_depth_m(d_m: ArrayLike) -> Array:
    """Fresh simple crater depth [m] (rim crest to floor, Pike 1977) for diameter D [m]."""
    a, b = PIKE_SIMPLE_DEPTH
    return 1000.0 * a * (np.asarray(d_m, dtype=np.float64) / 1000.0) ** b


def pike_simple_rim_m(d_m: ArrayLike) -> Array:
    """Fresh simple crater rim height [m] above the surroundings (Pike 1977) for diameter D [m]."""
    a, b = PIKE_SIMPLE_RIM
    return 1000.0 * a * (np.asarray(d_m, dtype=np.float64) / 1000.0) ** b


def pike_complex_depth_m(d_m: ArrayLike) -> Array:
    """Fresh complex crater depth [m] (Pike 1977) for diameter D [m]."""
    a, b = PIKE_COMPLEX_DEPTH
    return 1000.0 * a * (np.asarray(d_m, dtype=np.float64) / 1000.0) ** b


def pike_complex_rim_m(d_m: ArrayLike) -> Array:
    """Fresh complex crater rim height [m] (Pike 1977) for diameter D [m]."""
    a, b = PIKE_COMPLEX_RIM
    return 1000.0 * a * (np.asarray(d_m, dtype=np.float64) / 1000.0) ** b


# --------------------------------------------------------------------------------------------------
# Profiles


def _taper_consts(cutoff: float) -> tuple[float, float, float]:
    if not cutoff > 1.0:
        raise ValueError(f"ejecta cutoff must exceed 1 crater radius, got {cutoff}")
    a = -4.0 * cutoff**-3
    b = 3.0 * cutoff**-4
    return a, b, 1.0 + a + b


def ejecta_taper(x: ArrayLike, cutoff: float = EJECTA_CUTOFF) -> tuple[Array, Array]:
    """``taper(x)`` and ``d taper/dx`` for x = r/R ≥ 1 (see the module docstring); 0 beyond ``cutoff``."""
    x = np.asarray(x, dtype=np.float64)
    a, b, norm = _taper_consts(cutoff)
    xs = np.clip(x, 1.0, cutoff)
    inside = x < cutoff
    t = np.where(inside, (xs**-3 + a + b * xs) / norm, 0.0)
    dt = np.where(inside, (-3.0 * xs**-4 + b) / norm, 0.0)
    return t, dt


def ejecta_max_slope_factor(cutoff: float = EJECTA_CUTOFF) -> float:
    """``max |taper'(x)|`` over x ≥ 1 (attained at x = 1)."""
    _, b, norm = _taper_consts(cutoff)
    return float((3.0 - b) / norm)


def simple_profile(
    r_m: ArrayLike, radius_m: ArrayLike, depth_m: ArrayLike, rim_m: ArrayLike, cutoff: float = EJECTA_CUTOFF
) -> tuple[Array, Array]:
    """Height z [m] and dz/dr [m/m] of a simple crater at distance r [m] from its centre.

    ``depth_m`` is the floor's depth d below the pre-impact surface and ``rim_m`` the rim height h, as in
    REFERENCE §2.2's profile: z(0) = −d, z(R) = h, so the rim-to-floor step is h + d.
    """
    r = np.asarray(r_m, dtype=np.float64)
    radius = np.asarray(radius_m, dtype=np.float64)
    d = np.asarray(depth_m, dtype=np.float64)
    h = np.asarray(rim_m, dtype=np.float64)
    x = r / radius
    t, dt = ejecta_taper(x, cutoff)
    inner = x < 1.0
    z = np.where(inner, h + (h + d) * (x * x - 1.0), h * t)
    dz = np.where(inner, 2.0 * (h + d) * x, h * dt) / radius
    return z, dz


def simple_max_slope(
    radius_m: ArrayLike, depth_m: ArrayLike, rim_m: ArrayLike, cutoff: float = EJECTA_CUTOFF
) -> Array:
    """Steepest |dz/dr| [m/m] of ``simple_profile``: max(2(h + d)/R, h |taper'(1)|/R)."""
    radius = np.asarray(radius_m, dtype=np.float64)
    d = np.asarray(depth_m, dtype=np.float64)
    h = np.asarray(rim_m, dtype=np.float64)
    return np.maximum(2.0 * (h + d), np.abs(h) * ejecta_max_slope_factor(cutoff)) / radius


def simple_max_slope_between(
    r_lo_m: ArrayLike,
    r_hi_m: ArrayLike,
    radius_m: ArrayLike,
    depth_m: ArrayLike,
    rim_m: ArrayLike,
    cutoff: float = EJECTA_CUTOFF,
) -> Array:
    """Steepest |dz/dr| [m/m] of ``simple_profile`` over distances r ∈ [r_lo, r_hi] [m] from the centre.

    Inside the rim |dz/dr| = 2(h + d) r/R² grows with r; outside it is h |taper'(r/R)|/R, which falls
    monotonically to 0 at the cutoff. So the steepest slope is at r_hi when the interval lies inside the rim,
    at r_lo when it lies outside, the profile's own maximum (:func:`simple_max_slope`) when it straddles
    the rim, and 0 beyond the cutoff. Needs h ≥ 0 and h + d ≥ 0.
    """
    r_lo = np.asarray(r_lo_m, dtype=np.float64)
    r_hi = np.asarray(r_hi_m, dtype=np.float64)
    radius = np.asarray(radius_m, dtype=np.float64)
    d = np.asarray(depth_m, dtype=np.float64)
    h = np.asarray(rim_m, dtype=np.float64)
    _, b, norm = _taper_consts(cutoff)
    x_lo, x_hi = r_lo / radius, r_hi / radius
    inner = 2.0 * (h + d) * np.minimum(x_hi, 1.0) / radius
    xs = np.clip(x_lo, 1.0, cutoff)
    outer = h * np.maximum(3.0 * xs**-4 - b, 0.0) / norm / radius
    slope = np.where(x_hi <= 1.0, inner, np.where(x_lo >= 1.0, outer, np.maximum(inner, outer)))
    return np.where(x_lo >= cutoff, 0.0, slope)


def complex_profile(
    r_m: ArrayLike,
    radius_m: float,
    floor_radius_m: float,
    floor_depth_m: float,
    rim_m: float,
    cutoff: float = EJECTA_CUTOFF,
) -> tuple[Array, Array]:
    """Height z [m] and dz/dr of a complex crater: flat floor, smoothstep wall, rim crest, tapered ejecta.

    ``floor_depth_m`` is the floor's depth below the pre-impact surface (z = −floor_depth on the floor),
    ``rim_m`` the crest height at r = R; the rim-to-floor step is their sum.
    """
    r = np.asarray(r_m, dtype=np.float64)
    if not 0.0 <= floor_radius_m < radius_m:
        raise ValueError("floor radius must lie in [0, R)")
    step = rim_m + floor_depth_m
    width = radius_m - floor_radius_m
    s = np.clip((r - floor_radius_m) / width, 0.0, 1.0)
    wall = -floor_depth_m + step * s * s * (3.0 - 2.0 * s)
    dwall = np.where((r > floor_radius_m) & (r < radius_m), step * 6.0 * s * (1.0 - s) / width, 0.0)
    t, dt = ejecta_taper(r / radius_m, cutoff)
    outside = r >= radius_m
    z = np.where(outside, rim_m * t, wall)
    dz = np.where(outside, rim_m * dt / radius_m, dwall)
    return z, dz


def complex_max_slope(
    radius_m: float, floor_radius_m: float, floor_depth_m: float, rim_m: float, cutoff: float = EJECTA_CUTOFF
) -> float:
    """Steepest |dz/dr| [m/m] of ``complex_profile``."""
    wall = 1.5 * abs(rim_m + floor_depth_m) / (radius_m - floor_radius_m)
    return float(max(wall, abs(rim_m) * ejecta_max_slope_factor(cutoff) / radius_m))
