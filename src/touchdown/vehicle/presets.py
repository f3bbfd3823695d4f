"""Built-in vehicles (REFERENCE §3). Published numbers cite their section; the rest are named
assumptions, flagged ``assumed`` in comments, that a scenario can override."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from touchdown.errors import InputError
from touchdown.moon.constants import G0
from touchdown.vehicle.model import Engine, LandingGear, MassProperties, Rcs, TouchdownLimits, Vehicle

SERIES1_ISP_MAIN_S = 310.0  # REFERENCE §3.1: not published, assumed 300–320 s
SERIES1_ISP_THRUSTER_S = 290.0  # REFERENCE §3.1: assumed ~290 s
SERIES1_ENGINE_LAG_S = 0.05  # assumed: hydrazine/NTO valve response


def series1() -> Vehicle:
    """ispace Series 1 class lander (HAKUTO-R M1, RESILIENCE M2), REFERENCE §3.1.

    One 400 N main engine (on/off) and six 200 N thrusters under the deck, ≈ 1,600 N in all. The
    200 N thrusters are pulse-modulated; their duty cycle is modelled as a throttle from 0 to 1.
    Dry ≈ 340 kg + ≈ 30 kg payload; ≈ 630 kg of propellant fills it to ≈ 1,000 kg at launch.
    """
    thrusters = tuple(
        Engine(
            name=f"thruster_200n_{k + 1}",
            max_thrust_n=200.0,  # REFERENCE §3.1
            isp_s=SERIES1_ISP_THRUSTER_S,
            position_body_m=(0.45 * c, 0.45 * s, -0.6),  # assumed: ring of 0.45 m under the deck
            direction_body=(0.0, 0.0, 1.0),
            throttle_min=0.0,
            throttle_max=1.0,
            lag_s=SERIES1_ENGINE_LAG_S,
        )
        for k, (c, s) in enumerate(
            [(np.cos(a), np.sin(a)) for a in np.radians([0.0, 60.0, 120.0, 180.0, 240.0, 300.0])]
        )
    )
    main = Engine(
        name="main_400n",
        max_thrust_n=400.0,  # REFERENCE §3.1
        isp_s=SERIES1_ISP_MAIN_S,
        position_body_m=(0.0, 0.0, -0.6),
        direction_body=(0.0, 0.0, 1.0),
        throttle_min=1.0,
        throttle_max=1.0,
        lag_s=SERIES1_ENGINE_LAG_S,
    )
    return Vehicle(
        name="series1",
        description="ispace Series 1 class lander: 1 × 400 N + 6 × 200 N, ≈ 1,000 kg at launch",
        mass=MassProperties(
            dry_mass_kg=340.0 + 30.0,  # REFERENCE §3.1: dry ≈ 340 kg plus ≈ 30 kg payload
            propellant_capacity_kg=630.0,  # REFERENCE §3.1: ≈ 2/3 of ≈ 1,000 kg launch mass
            inertia_dry_kgm2=(150.0, 150.0, 180.0),  # assumed
            inertia_full_kgm2=(330.0, 330.0, 380.0),  # assumed
        ),
        engines=(main, *thrusters),
        rcs=Rcs(max_torque_nm=(40.0, 40.0, 20.0), moment_arm_m=1.0, isp_s=220.0),  # assumed
        gear=LandingGear(
            # REFERENCE §3.1: 2.6 m wide with legs, 2.3 m tall, 4 legs; CoM 1.0 m above pads (assumed)
            footpads_body_m=((1.3, 0.0, -1.0), (0.0, 1.3, -1.0), (-1.3, 0.0, -1.0), (0.0, -1.3, -1.0)),
            body_points_body_m=(
                (0.0, 0.0, -0.75),  # engine nozzle exit, 0.25 m above the pad plane (assumed)
                (0.8, 0.8, -0.55),
                (-0.8, 0.8, -0.55),
                (-0.8, -0.8, -0.55),
                (0.8, -0.8, -0.55),  # deck corners (assumed)
                (0.0, 0.0, 1.3),  # top of the vehicle
            ),
        ),
        limits=TouchdownLimits(),  # REFERENCE §5 defaults
    )


LM_DPS_THRUST_FTP_N = 43_670.0  # REFERENCE §3.4, fixed-throttle position (≈ 92.5 %)
LM_DPS_EXHAUST_VELOCITY_MPS = 2955.89  # REFERENCE §3.4 (Isp ≈ 301 s)
LM_DPS_LAG_S = 0.2  # REFERENCE §3.4
LM_DPS_FTP_FRACTION = 0.925  # REFERENCE §3.4: FTP ≈ 92 % of rated thrust
LM_MASS_AFTER_DOI_KG = 15_150.7  # REFERENCE §3.4
LM_DPS_PROPELLANT_KG = 8_248.0  # assumed: Apollo 11 DPS load (18,184 lb), not in REFERENCE


def apollo_lm() -> Vehicle:
    """Apollo Lunar Module, descent configuration (Apollo 11 "Eagle"), REFERENCE §3.4.

    Throttle 1.0 is the descent engine's fixed-throttle position (43,670 N); it throttles down to
    10 % of rated thrust and must not be held in the 60–92.5 % band.
    """
    dps = Engine(
        name="dps",
        max_thrust_n=LM_DPS_THRUST_FTP_N,
        isp_s=LM_DPS_EXHAUST_VELOCITY_MPS / G0,
        position_body_m=(0.0, 0.0, -1.2),
        direction_body=(0.0, 0.0, 1.0),
        throttle_min=0.10 / LM_DPS_FTP_FRACTION,  # REFERENCE §3.4: throttleable from ≈ 10 %
        throttle_max=1.0,
        lag_s=LM_DPS_LAG_S,
        throttle_band_avoided=(0.60 / LM_DPS_FTP_FRACTION, 1.0),  # REFERENCE §3.4: 60–92 % avoided
    )
    return Vehicle(
        name="apollo-lm",
        description="Apollo Lunar Module descent configuration: DPS 43,670 N at FTP (REFERENCE §3.4)",
        mass=MassProperties(
            dry_mass_kg=LM_MASS_AFTER_DOI_KG - LM_DPS_PROPELLANT_KG,
            propellant_capacity_kg=LM_DPS_PROPELLANT_KG,
            inertia_dry_kgm2=(21_000.0, 21_000.0, 15_000.0),  # assumed
            inertia_full_kgm2=(33_000.0, 33_000.0, 25_000.0),  # assumed
        ),
        engines=(dps,),
        # assumed: 16 × 445 N thrusters in four quads, ≈ 1.7 m arms, two per axis and sense
        rcs=Rcs(max_torque_nm=(1500.0, 1500.0, 1500.0), moment_arm_m=1.7, isp_s=290.0),
        gear=LandingGear(
            # assumed: 9.4 m footpad circle, CoM 3.0 m above the pads
            footpads_body_m=((4.7, 0.0, -3.0), (0.0, 4.7, -3.0), (-4.7, 0.0, -3.0), (0.0, -4.7, -3.0)),
            body_points_body_m=(
                (0.0, 0.0, -2.5),  # descent engine skirt (assumed 0.5 m clearance)
                (2.1, 2.1, -1.6),
                (-2.1, 2.1, -1.6),
                (-2.1, -2.1, -1.6),
                (2.1, -2.1, -1.6),
                (0.0, 0.0, 4.0),
            ),
        ),
        limits=TouchdownLimits(),  # REFERENCE §5 defaults
    )


def _ring(n: int, radius_m: float, z_m: float, phase_deg: float = 0.0) -> list[tuple[float, float, float]]:
    """``n`` body positions evenly spaced on a ring of ``radius_m`` at height ``z_m`` [m]."""
    angles = np.radians(phase_deg + 360.0 * np.arange(n) / n)
    return [(radius_m * float(np.cos(a)), radius_m * float(np.sin(a)), z_m) for a in angles]


def _gear(half_span_m: float, com_height_m: float, body_half_m: float, top_m: float) -> LandingGear:
    """Four legs on ±x, ±y at ``half_span_m``; the nozzle, deck corners and top as body contact points."""
    h = -com_height_m
    return LandingGear(
        footpads_body_m=(
            (half_span_m, 0.0, h),
            (0.0, half_span_m, h),
            (-half_span_m, 0.0, h),
            (0.0, -half_span_m, h),
        ),
        body_points_body_m=(
            (0.0, 0.0, h + 0.25),  # engine nozzle exit, 0.25 m above the pad plane (assumed)
            (body_half_m, body_half_m, h + 0.45),
            (-body_half_m, body_half_m, h + 0.45),
            (-body_half_m, -body_half_m, h + 0.45),
            (body_half_m, -body_half_m, h + 0.45),
            (0.0, 0.0, top_m),
        ),
    )


def slim() -> Vehicle:
    """JAXA SLIM (Smart Lander for Investigating Moon), REFERENCE §3.5.

    Two ≈ 500 N main engines side by side on ±y, throttleable (assumed 30–100 %), ≈ 700 kg wet, ≈ 200 kg dry.
    The engines sit 0.1 m either side of the centre line (assumed), so losing one leaves a 50 N·m torque
    at full thrust for the attitude thrusters (12 × 20 N class, assumed 60 N·m per axis) to hold.
    """
    engines = tuple(
        Engine(
            name=f"main_500n_{side}",
            max_thrust_n=500.0,  # REFERENCE §3.5: ≈ 500 N
            isp_s=320.0,  # assumed
            position_body_m=(0.0, y, -0.5),
            direction_body=(0.0, 0.0, 1.0),
            throttle_min=0.3,  # assumed
            throttle_max=1.0,
            lag_s=0.05,  # assumed
        )
        for side, y in (("a", 0.1), ("b", -0.1))
    )
    return Vehicle(
        name="slim",
        description="JAXA SLIM: 2 × 500 N throttleable, ≈ 700 kg wet, ≈ 200 kg dry (REFERENCE §3.5)",
        mass=MassProperties(
            dry_mass_kg=200.0,  # REFERENCE §3.5
            propellant_capacity_kg=500.0,  # REFERENCE §3.5: ≈ 700 kg wet
            inertia_dry_kgm2=(60.0, 60.0, 50.0),  # assumed
            inertia_full_kgm2=(150.0, 150.0, 120.0),  # assumed
        ),
        engines=engines,
        rcs=Rcs(max_torque_nm=(60.0, 60.0, 30.0), moment_arm_m=0.8, isp_s=230.0),  # assumed
        gear=_gear(half_span_m=1.0, com_height_m=0.8, body_half_m=0.7, top_m=1.6),  # assumed
        limits=TouchdownLimits(),  # REFERENCE §5 defaults
    )


def beresheet() -> Vehicle:
    """SpaceIL Beresheet, REFERENCE §3.5: ≈ 585 kg at launch.

    One main engine of the 400 N class (assumed, LEROS 2b type; not in REFERENCE), on/off, and an attitude
    control system of small thrusters (assumed 30 N·m per axis). Dry ≈ 150 kg (assumed).
    """
    main = Engine(
        name="main",
        max_thrust_n=400.0,  # assumed: 400 N class
        isp_s=318.0,  # assumed
        position_body_m=(0.0, 0.0, -0.5),
        direction_body=(0.0, 0.0, 1.0),
        throttle_min=1.0,
        throttle_max=1.0,
        lag_s=0.05,  # assumed
    )
    return Vehicle(
        name="beresheet",
        description="SpaceIL Beresheet: one 400 N class engine, ≈ 585 kg at launch (REFERENCE §3.5)",
        mass=MassProperties(
            dry_mass_kg=150.0,  # assumed
            propellant_capacity_kg=435.0,  # REFERENCE §3.5: ≈ 585 kg at launch
            inertia_dry_kgm2=(40.0, 40.0, 50.0),  # assumed
            inertia_full_kgm2=(110.0, 110.0, 130.0),  # assumed
        ),
        engines=(main,),
        rcs=Rcs(max_torque_nm=(30.0, 30.0, 15.0), moment_arm_m=0.7, isp_s=220.0),  # assumed
        gear=_gear(half_span_m=1.0, com_height_m=0.8, body_half_m=0.6, top_m=1.0),  # assumed
        limits=TouchdownLimits(),  # REFERENCE §5 defaults
    )


def vikram3() -> Vehicle:
    """ISRO Chandrayaan-3 lander Vikram, REFERENCE §3.5 and §5.

    Four 800 N throttleable engines (assumed 40–100 %) and eight 58 N attitude thrusters (assumed 1 m arms:
    2 × 58 N·m per axis). 1,752 kg at separation. Touchdown limits < 2 m/s vertical and < 0.5 m/s horizontal
    (the legs tolerate 3 m/s, taken as the hard limit).
    """
    engines = tuple(
        Engine(
            name=f"lam_800n_{k + 1}",
            max_thrust_n=800.0,  # REFERENCE §3.5
            isp_s=310.0,  # assumed: bipropellant MMH/MON-3
            position_body_m=pos,
            direction_body=(0.0, 0.0, 1.0),
            throttle_min=0.2,  # assumed: deep throttling, so the lander can hover when light
            throttle_max=1.0,
            lag_s=0.1,  # assumed
        )
        for k, pos in enumerate(_ring(4, 0.6, -0.9, phase_deg=45.0))
    )
    return Vehicle(
        name="vikram3",
        description="Chandrayaan-3 Vikram: 4 × 800 N throttleable + 8 × 58 N, 1,752 kg (REFERENCE §3.5)",
        mass=MassProperties(
            dry_mass_kg=1752.0 - 1000.0,  # assumed: ≈ 1,000 kg of propellant at separation
            propellant_capacity_kg=1000.0,
            inertia_dry_kgm2=(900.0, 900.0, 1000.0),  # assumed
            inertia_full_kgm2=(1500.0, 1500.0, 1700.0),  # assumed
        ),
        engines=engines,
        rcs=Rcs(
            max_torque_nm=(116.0, 116.0, 116.0), moment_arm_m=1.0, isp_s=290.0
        ),  # REFERENCE §3.5: 8 × 58 N
        gear=_gear(half_span_m=1.8, com_height_m=1.2, body_half_m=1.0, top_m=1.2),  # assumed
        limits=TouchdownLimits(
            max_vertical_speed_mps=2.0,  # REFERENCE §5
            max_horizontal_speed_mps=0.5,  # REFERENCE §5
            crash_speed_mps=3.0,  # REFERENCE §5: the legs are rated for 3 m/s
        ),
    )


PRESETS: dict[str, Callable[[], Vehicle]] = {
    "series1": series1,
    "apollo-lm": apollo_lm,
    "slim": slim,
    "beresheet": beresheet,
    "vikram3": vikram3,
}


def vehicle_preset(name: str) -> Vehicle:
    """A built-in vehicle by name (see ``PRESETS``)."""
    try:
        return PRESETS[name]()
    except KeyError:
        raise InputError(f"unknown vehicle preset '{name}'; choose one of {sorted(PRESETS)}") from None
