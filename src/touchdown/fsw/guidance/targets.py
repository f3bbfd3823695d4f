"""Phase targets for the Apollo quadratic law: the Apollo 11 padload in SI, and builders for other vehicles.

Targets live in the **apollo guidance frame** (see ``apollo.py``): x up, y cross-range, z downrange, origin
at the landing site. ``R_D, V_D, A_D`` are the aim-point position, velocity and acceleration reached at time
to go T = 0, ``J_Dz`` the downrange jerk there; the phase itself ends earlier, when |T| ≤ ``t_go_end_s``
(Apollo aimed beyond its gates so that the 1/T gains never blow up in flight).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from touchdown.errors import InputError

Vec3 = tuple[float, float, float]

#: International foot [m], exact by definition (1959).
FT_TO_M: float = 0.3048


@dataclass(frozen=True)
class PhaseTargets:
    """Aim-point targets of one quadratic-guidance phase (apollo frame: x up, y cross-range, z downrange).

    r_d_apollo_m [m], v_d_apollo_mps [m/s], a_d_apollo_mps2 [m/s²]: target state at T = 0.
    j_dz_mps3 [m/s³]: target downrange jerk; it fixes the time to go (the cubic in ``apollo.py``).
    t_go_end_s [s]: the phase is complete when the time to go |T| falls to this value.
    """

    name: str
    r_d_apollo_m: Vec3
    v_d_apollo_mps: Vec3
    a_d_apollo_mps2: Vec3
    j_dz_mps3: float
    t_go_end_s: float

    def __post_init__(self) -> None:
        for field in ("r_d_apollo_m", "v_d_apollo_mps", "a_d_apollo_mps2"):
            value = getattr(self, field)
            if len(value) != 3 or not all(math.isfinite(float(c)) for c in value):
                raise InputError(
                    f"needs three finite components, got {value!r}", where=f"{self.name}.{field}"
                )
            object.__setattr__(self, field, tuple(float(c) for c in value))
        if not math.isfinite(self.j_dz_mps3):
            raise InputError(f"must be finite, got {self.j_dz_mps3!r}", where=f"{self.name}.j_dz_mps3")
        if not (math.isfinite(self.t_go_end_s) and self.t_go_end_s >= 0.0):
            raise InputError(
                f"must be a finite time ≥ 0 s, got {self.t_go_end_s!r}", where=f"{self.name}.t_go_end_s"
            )


def targets_from_ft(
    name: str, r_ft: Vec3, v_ftps: Vec3, a_ftps2: Vec3, j_z_ftps3: float, t_go_end_s: float
) -> PhaseTargets:
    """Targets published in feet (Luminary padload) converted to SI with 1 ft = 0.3048 m exactly."""
    return PhaseTargets(
        name=name,
        r_d_apollo_m=tuple(c * FT_TO_M for c in r_ft),
        v_d_apollo_mps=tuple(c * FT_TO_M for c in v_ftps),
        a_d_apollo_mps2=tuple(c * FT_TO_M for c in a_ftps2),
        j_dz_mps3=j_z_ftps3 * FT_TO_M,
        t_go_end_s=t_go_end_s,
    )


def gate_targets(
    name: str,
    r_gate_apollo_m: Vec3,
    v_gate_apollo_mps: Vec3,
    a_gate_apollo_mps2: Vec3 = (0.0, 0.0, 0.0),
    j_dz_mps3: float = 0.0,
    t_go_end_s: float = 10.0,
) -> PhaseTargets:
    """Targets for a vehicle that should be at a *gate* state when the phase ends (|T| = ``t_go_end_s``).

    The aim point is the gate state carried ``t_go_end_s`` forward along the cubic the law flies
    (jerk ``j_dz_mps3`` downrange, none on x and y):
    R_D = R_g + V_g t_e + A_g t_e²/2 + J t_e³/6,  V_D = V_g + A_g t_e + J t_e²/2,  A_D = A_g + J t_e.
    This is how Apollo placed its aim points beyond high and low gate. The vehicle reaches the gate exactly
    when it starts on that cubic; otherwise the law's own quartic correction adds a small gate error.
    """
    t_e = float(t_go_end_s)
    jerk = (0.0, 0.0, float(j_dz_mps3))
    r_d = tuple(
        r + v * t_e + a * t_e**2 / 2 + j * t_e**3 / 6
        for r, v, a, j in zip(r_gate_apollo_m, v_gate_apollo_mps, a_gate_apollo_mps2, jerk, strict=True)
    )
    v_d = tuple(
        v + a * t_e + j * t_e**2 / 2
        for v, a, j in zip(v_gate_apollo_mps, a_gate_apollo_mps2, jerk, strict=True)
    )
    a_d = tuple(a + j * t_e for a, j in zip(a_gate_apollo_mps2, jerk, strict=True))
    return PhaseTargets(name, r_d, v_d, a_d, float(j_dz_mps3), t_e)


def vertical_gate_targets(
    altitude_m: float,
    vertical_rate_mps: float,
    t_go_end_s: float = 10.0,
    downrange_m: float = 0.0,
    name: str = "vertical-gate",
) -> PhaseTargets:
    """A gate with no horizontal velocity and vertical thrust (A_g = 0, so thrust = −g), ``altitude_m``
    above the site and ``downrange_m`` along the approach (negative: short of the site).

    ``vertical_rate_mps`` is signed (up positive; a descent is negative).
    """
    return gate_targets(
        name,
        (float(altitude_m), 0.0, float(downrange_m)),
        (float(vertical_rate_mps), 0.0, 0.0),
        (0.0, 0.0, 0.0),
        0.0,
        t_go_end_s,
    )


# --------------------------------------------------------------------------------------------------
# Apollo 11 (Luminary 099 padload), REFERENCE §3.4: ft, ft/s, ft/s², ft/s³; x up, z downrange, y = 0.
# SI values (exact, 1 ft = 0.3048 m) are written beside each number.

APOLLO11_BRAKING = targets_from_ft(
    "apollo11-braking (P63)",
    r_ft=(171.835, 0.0, -10678.596),  # = (52.375308, 0, -3254.8360608) m
    v_ftps=(-105.876, 0.0, -1.04),  # = (-32.2710048, 0, -0.316992) m/s
    a_ftps2=(0.6241, 0.0, -9.1044),  # = (0.19022568, 0, -2.77502112) m/s²
    j_z_ftps3=-0.01882677,  # = -0.005738399496 m/s³
    t_go_end_s=62.0,  # braking ends at |T| = 62 s
)

APOLLO11_APPROACH = targets_from_ft(
    "apollo11-approach (P64)",
    r_ft=(111.085, 0.0, -26.794),  # = (33.858708, 0, -8.1668112) m
    v_ftps=(-4.993, 0.0, 0.248),  # = (-1.5218664, 0, 0.0755904) m/s
    a_ftps2=(-0.2624, 0.0, -0.512),  # = (-0.07997952, 0, -0.1560576) m/s²
    j_z_ftps3=0.00180772,  # = 0.000550993056 m/s³
    t_go_end_s=12.0,  # approach ends at |T| = 12 s
)

#: Apollo vertical-descent rate (P66), −3 ft/s = −0.9144 m/s, REFERENCE §3.4.
APOLLO11_VERTICAL_RATE_MPS: float = -3.0 * FT_TO_M

#: Apollo 11 ignition design point (REFERENCE §3.4), apollo frame relative to the site:
#: speed 5545.46 ft/s = 1690.256208 m/s, R_x = −130,519.86 ft = −39,782.453328 m,
#: R_z = −1,432,597.3 ft = −436,655.65704 m.
APOLLO11_IGNITION_SPEED_MPS: float = 5545.46 * FT_TO_M
APOLLO11_IGNITION_R_APOLLO_M: Vec3 = (-130519.86 * FT_TO_M, 0.0, -1432597.3 * FT_TO_M)

# --------------------------------------------------------------------------------------------------
# ispace Series 1 (REFERENCE §3.1): horizontal speed ≈ 0 and attitude vertical at ≈ 2 km altitude, then a
# slow vertical descent, final ≈ 1 m/s. The gate's vertical rate is not published: −44 m/s is assumed from
# the planned ≈ 44 m/s descent below ~900 m quoted in REFERENCE §3.3.

SERIES1_GATE_ALTITUDE_M: float = 2000.0
SERIES1_GATE_VERTICAL_RATE_MPS: float = -44.0
SERIES1_FINAL_VERTICAL_RATE_MPS: float = -1.0

SERIES1_BRAKING = vertical_gate_targets(
    SERIES1_GATE_ALTITUDE_M, SERIES1_GATE_VERTICAL_RATE_MPS, t_go_end_s=10.0, name="series1-braking"
)

#: Assumed Series 1 terminal rate schedule (altitude above the site [m] → vertical rate [m/s]): −44 m/s at
#: the 2 km gate, −10 m/s at 300 m, −1 m/s (REFERENCE §3.1 final) from 30 m down. Intermediate points are
#: assumptions chosen to keep the braking demand below ~1 m/s² above gravity.
SERIES1_RATE_SCHEDULE: tuple[tuple[float, ...], tuple[float, ...]] = (
    (0.0, 30.0, 300.0, 2000.0),
    (-1.0, -1.0, -10.0, -44.0),
)
