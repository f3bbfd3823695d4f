"""Physical constants of the Moon (SI units). Each value cites REFERENCE §1 unless stated."""

from __future__ import annotations

#: Gravitational parameter GM [m³/s²] (DE430 / Vallado, REFERENCE §1).
GM_MOON: float = 4902.800066e9

#: Mean radius [m]: the datum sphere of LOLA heights (IAU, REFERENCE §1 and §2.1).
R_MOON: float = 1_737_400.0

#: Reference radius of the gravity field [m] (GRGM1200A, REFERENCE §1).
R_GRAVITY_REF: float = 1_738_000.0

#: Sidereal rotation rate [rad/s] (JPL Horizons, REFERENCE §1).
OMEGA_MOON: float = 2.6616995e-6

#: Unnormalised J2 at R_GRAVITY_REF (REFERENCE §1: 2.027e-4 … 2.0346e-4 across codes).
J2_MOON: float = 2.033e-4

#: Standard gravity [m/s²], used only to convert specific impulse to exhaust velocity.
G0: float = 9.80665

#: Surface gravity GM/R² [m/s²] at the datum (REFERENCE §1 quotes 1.6243).
G_SURFACE: float = GM_MOON / R_MOON**2
