"""From a validated scenario to the objects a flight needs: truth (terrain, gravity, vehicle, sensors,
faults, initial state) and belief (the flight software's vehicle, gravity, onboard map and configuration).

Truth and belief are built separately on purpose: a scenario may make the real engines stronger than the
flight software thinks (``vehicle.thrust_scale``) or give it a map unlike the ground (``onboard_map``).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from touchdown.fsw.control.attitude import AttitudeControlParams
from touchdown.fsw.flight_software import EngineCutoff, FswConfig
from touchdown.fsw.guidance import (
    APOLLO11_APPROACH,
    APOLLO11_BRAKING,
    SERIES1_BRAKING,
    ApolloGuidanceParams,
    ApolloQuadraticGuidance,
    GravityTurnGuidance,
    GravityTurnParams,
    GuidanceLaw,
    PoweredBrakingGuidance,
    PoweredBrakingParams,
    VerticalDescentGuidance,
    VerticalDescentParams,
)
from touchdown.fsw.navigation.ekf import NavParams
from touchdown.fsw.navigation.gating import GateParams
from touchdown.fsw.navigation.onboard_map import OnboardMap
from touchdown.moon.constants import GM_MOON, R_MOON
from touchdown.moon.frames import enu_basis
from touchdown.moon.gravity import PointMass, ZonalJ2
from touchdown.moon.terrain import loader as terrain_loader
from touchdown.moon.terrain.base import FlatTerrain, Terrain
from touchdown.moon.terrain.loader import SyntheticSpec, load_terrain
from touchdown.scenario import schema
from touchdown.sensors.altimeter import AltimeterParams, LaserAltimeter
from touchdown.sensors.faults import Fault, validate_targets
from touchdown.sensors.imu import AccelerometerParams, GyroParams, Imu, ImuParams
from touchdown.sensors.star_tracker import StarTracker, StarTrackerParams
from touchdown.sensors.velocimeter import DopplerVelocimeter, VelocimeterParams
from touchdown.vehicle.model import Vehicle
from touchdown.vehicle.presets import vehicle_preset

Array = NDArray[np.float64]

TARGET_SETS = {
    "apollo11-braking": APOLLO11_BRAKING,
    "apollo11-approach": APOLLO11_APPROACH,
    "series1-braking": SERIES1_BRAKING,
}


# ---------------------------------------------------------------------------------------------- world
def site_rad(sc: schema.Scenario) -> tuple[float, float]:
    return math.radians(sc.site.lat_deg), math.radians(sc.site.lon_deg)


def truth_terrain(sc: schema.Scenario, data_dir: str | None = None) -> Terrain:
    """The terrain the sensors see and the lander touches (LOLA falls back to synthetic, and says so)."""
    t = sc.terrain
    if t.source == "flat":
        return FlatTerrain(t.flat_height_m)
    spec = SyntheticSpec(seed=t.crater_seed)
    dem = t.dem if t.source == "lola" else None
    return load_terrain(dem, data_dir=data_dir, site=site_rad(sc), synthetic=spec, detail=t.detail)


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """Warnings of ``logger`` off for the block (errors still pass)."""
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def onboard_map(sc: schema.Scenario, truth: Terrain, data_dir: str | None = None) -> OnboardMap:
    """The flight software's terrain knowledge: the DEM without sub-pixel detail, or a flat reference."""
    t, nav = sc.terrain, sc.fsw.navigation
    lat, lon = site_rad(sc)
    if t.source == "flat":
        grid: Terrain = FlatTerrain(t.flat_height_m)
    elif t.source == "lola":
        spec = SyntheticSpec(seed=t.crater_seed)
        # the map's own copy (ARCHITECTURE rule 1); a fallback to synthetic was announced with the truth's
        with _quiet(terrain_loader.log):
            grid = load_terrain(t.dem, data_dir=data_dir, site=(lat, lon), synthetic=spec, detail=False)
    else:
        grid = truth  # synthetic truth: the map is the same synthetic field (no independent source)
    if nav.onboard_map == "dem":
        return OnboardMap(grid)
    h = nav.map_height_m if nav.map_height_m is not None else float(grid.height(lat, lon))
    return OnboardMap(None, h)


def gravity_model(sc: schema.Scenario):
    return PointMass() if sc.sim.gravity == "point_mass" else ZonalJ2()


# ---------------------------------------------------------------------------------------------- vehicle
def believed_vehicle(sc: schema.Scenario) -> Vehicle:
    """The vehicle as designed (what the flight software knows): preset + mass and limit overrides."""
    v = vehicle_preset(sc.vehicle.preset)
    cfg = sc.vehicle
    mass = v.mass
    if cfg.dry_mass_kg is not None:
        mass = replace(mass, dry_mass_kg=cfg.dry_mass_kg)
    lim = {k: val for k, val in cfg.limits.model_dump().items() if val is not None}
    limits = replace(v.limits, **lim) if lim else v.limits
    return replace(v, mass=mass, limits=limits)


def true_vehicle(sc: schema.Scenario) -> Vehicle:
    """The vehicle as built: the believed one with the scenario's thrust and Isp scale factors."""
    v = believed_vehicle(sc)
    cfg = sc.vehicle
    if cfg.thrust_scale == 1.0 and cfg.isp_scale == 1.0:
        return v
    engines = tuple(
        replace(e, max_thrust_n=e.max_thrust_n * cfg.thrust_scale, isp_s=e.isp_s * cfg.isp_scale)
        for e in v.engines
    )
    return replace(v, engines=engines)


def propellant_kg(sc: schema.Scenario, vehicle: Vehicle) -> float:
    p = sc.vehicle.propellant_kg
    return vehicle.mass.propellant_capacity_kg if p is None else p


# ---------------------------------------------------------------------------------------------- state
def _track_point(sc: schema.Scenario, theta_before: float) -> tuple[Array, Array]:
    """Unit position and unit along-track direction at central angle ``theta_before`` [rad] before the
    site on the approach great circle (MCMF = MCI at t = 0)."""
    lat, lon = site_rad(sc)
    east, north, up = enu_basis(lat, lon)
    az = math.radians(sc.site.approach_azimuth_deg)
    h = math.sin(az) * east + math.cos(az) * north
    c, s = math.cos(theta_before), math.sin(theta_before)
    return c * up - s * h, s * up + c * h


def initial_rv(sc: schema.Scenario) -> tuple[Array, Array]:
    """Initial inertial position [m] and velocity [m/s] (MCI at t = 0) of the scenario's start."""
    init = sc.initial
    if isinstance(init, schema.SiteStart):
        r_hat, t_hat = _track_point(sc, init.range_m / R_MOON)
        g = math.radians(init.flight_path_angle_deg)
        r = (R_MOON + init.altitude_m) * r_hat
        return r, init.speed_mps * (math.cos(g) * t_hat + math.sin(g) * r_hat)
    rp, ra = R_MOON + init.periapsis_altitude_m, R_MOON + init.apoapsis_altitude_m
    a, e = 0.5 * (rp + ra), (ra - rp) / (ra + rp)
    p = a * (1.0 - e * e)
    mean = -math.sqrt(GM_MOON / a**3) * init.time_to_periapsis_s
    ecc = mean
    for _ in range(50):  # Kepler's equation, Newton
        ecc -= (ecc - e * math.sin(ecc) - mean) / (1.0 - e * math.cos(ecc))
    nu = 2.0 * math.atan2(math.sqrt(1 + e) * math.sin(ecc / 2), math.sqrt(1 - e) * math.cos(ecc / 2))
    r_hat, t_hat = _track_point(sc, init.periapsis_range_m / R_MOON - nu)
    radius = p / (1.0 + e * math.cos(nu))
    k = math.sqrt(GM_MOON / p)
    return radius * r_hat, k * e * math.sin(nu) * r_hat + k * (1.0 + e * math.cos(nu)) * t_hat


# ---------------------------------------------------------------------------------------------- sensors
def imu(sc: schema.Scenario) -> Imu:
    c, rate = sc.sensors.imu, sc.fsw.rate_hz
    if c.ideal:
        return Imu("imu", ImuParams.ideal(rate))
    accel = AccelerometerParams(
        bias_sigma_mps2=c.accel_bias_sigma_mps2, noise_density_mps_rtsec=c.accel_noise_mps_rtsec
    )
    gyro = GyroParams(
        bias_sigma_radps=c.gyro_bias_sigma_radps, noise_density_rad_rtsec=c.gyro_noise_rad_rtsec
    )
    return Imu("imu", ImuParams(rate, accel, gyro))


def altimeter(sc: schema.Scenario) -> LaserAltimeter | None:
    c = sc.sensors.altimeter
    if c is None or not c.enabled:
        return None
    params = AltimeterParams(
        rate_hz=c.rate_hz,
        beam_dirs_body=tuple(tuple(b) for b in c.beams_body),
        max_range_m=c.max_range_m,
        acquisition_range_m=c.acquisition_range_m,
        noise_sigma_m=c.noise_sigma_m,
        noise_fraction=c.noise_fraction,
        bias_sigma_m=c.bias_sigma_m,
        max_incidence_deg=c.max_incidence_deg,
        max_speed_mps=math.inf if c.max_speed_mps is None else c.max_speed_mps,
    )
    return LaserAltimeter(c.name, params)


def velocimeter(sc: schema.Scenario) -> DopplerVelocimeter | None:
    c = sc.sensors.velocimeter
    if c is None:
        return None
    params = VelocimeterParams(
        rate_hz=c.rate_hz,
        max_altitude_m=c.max_altitude_m,
        max_speed_mps=c.max_speed_mps,
        noise_sigma_mps=c.noise_sigma_mps,
    )
    return DopplerVelocimeter(c.name, params)


def star_tracker(sc: schema.Scenario) -> StarTracker:
    c = sc.sensors.star_tracker
    sigma = c.noise_sigma_arcsec
    return StarTracker(
        c.name, StarTrackerParams(rate_hz=c.rate_hz, sigma_cross_arcsec=sigma, sigma_roll_arcsec=8 * sigma)
    )


def faults(sc: schema.Scenario) -> list[Fault]:
    return [f.to_fault() for f in sc.faults]


# ---------------------------------------------------------------------------------------------- FSW
def sensor_channels(
    imu_: Imu,
    star_tracker_: StarTracker,
    altimeter_: LaserAltimeter | None,
    velocimeter_: DopplerVelocimeter | None,
) -> dict[str, tuple[str, ...]]:
    """Sensor name → the channels a fault can target on it."""
    channels = {imu_.name: ("accel", "gyro"), star_tracker_.name: ("attitude",)}
    if altimeter_ is not None:
        channels[altimeter_.name] = ("range",)
    if velocimeter_ is not None:
        channels[velocimeter_.name] = ("velocity",)
    return channels


def check_fault_targets(sc: schema.Scenario) -> None:
    """InputError (one line) for a fault whose sensor, channel or engine this scenario's lander lacks."""
    channels = sensor_channels(imu(sc), star_tracker(sc), altimeter(sc), velocimeter(sc))
    validate_targets(faults(sc), channels, [e.name for e in true_vehicle(sc).engines])


def guidance_law(sc: schema.Scenario, phase: schema.PhaseLaw, vehicle: Vehicle) -> GuidanceLaw:
    """The guidance law a phase names, configured from the scenario and the flight software's vehicle."""
    if isinstance(phase, schema.ApolloPhase):
        targets = TARGET_SETS[phase.targets]
        if phase.t_go_end_s is not None:
            targets = replace(targets, t_go_end_s=phase.t_go_end_s)
        return ApolloQuadraticGuidance(
            targets, ApolloGuidanceParams(approach_azimuth_deg=sc.site.approach_azimuth_deg)
        )
    if isinstance(phase, schema.VerticalPhase):
        return VerticalDescentGuidance(
            VerticalDescentParams(
                vertical_rate_mps=phase.vertical_rate_mps,
                tau_vertical_s=phase.tau_vertical_s,
                tau_horizontal_s=phase.tau_horizontal_s,
                max_tilt_deg=phase.max_tilt_deg,
                schedule_altitude_m=tuple(phase.schedule_altitude_m),
                schedule_vertical_rate_mps=tuple(phase.schedule_vertical_rate_mps),
            )
        )
    if isinstance(phase, schema.PoweredBrakingPhase):
        return PoweredBrakingGuidance(
            PoweredBrakingParams(
                gate_altitude_m=phase.gate_altitude_m,
                gate_vertical_rate_mps=phase.gate_vertical_rate_mps,
                exhaust_velocity_mps=vehicle.effective_exhaust_velocity_mps,
                complete_speed_mps=phase.complete_speed_mps,
                t_go_end_s=phase.t_go_end_s,
                max_descent_rate_mps=math.inf
                if phase.max_descent_rate_mps is None
                else phase.max_descent_rate_mps,
            )
        )
    if isinstance(phase, schema.GravityTurnPhase):
        return GravityTurnGuidance(GravityTurnParams(target_altitude_m=phase.target_altitude_m))
    # a law the schema accepts but nothing builds must not fly as some other law
    raise TypeError(f"no guidance law is built for {type(phase).__name__} (law = {phase.law!r})")


def fsw_config(sc: schema.Scenario, vehicle: Vehicle) -> FswConfig:
    f = sc.fsw
    nav = f.navigation
    lat, lon = site_rad(sc)
    cutoffs = tuple(
        EngineCutoff(
            tuple(vehicle.engine_index(name) for name in c.engines), c.altitude_m, "+".join(c.engines)
        )
        for c in f.sequencer.cutoffs
    )
    return FswConfig(
        site_lat_rad=lat,
        site_lon_rad=lon,
        braking=guidance_law(sc, f.guidance.braking, vehicle),
        approach=None if f.guidance.approach is None else guidance_law(sc, f.guidance.approach, vehicle),
        terminal=guidance_law(sc, f.guidance.terminal, vehicle),
        ignition_time_s=f.sequencer.ignition_time_s,
        terminal_altitude_m=f.sequencer.terminal_altitude_m,
        cutoffs=cutoffs,
        attitude=AttitudeControlParams(
            f.control.bandwidth_rad_s, f.control.damping, f.control.max_rate_deg_s
        ),
        max_tilt_deg=f.control.max_tilt_deg,
        navigation=NavParams(
            initial_position_sigma_m=nav.initial_position_sigma_m,
            initial_velocity_sigma_mps=nav.initial_velocity_sigma_mps,
            terrain_sigma_m=nav.terrain_sigma_m,
            terrain_rw_m2_per_m=nav.terrain_rw_m2_per_m,
            accel_noise_mps2=nav.accel_noise_mps2,
            altimeter_sigma_m=nav.altimeter_sigma_m,
            altimeter_sigma_fraction=nav.altimeter_sigma_fraction,
            velocimeter_sigma_mps=nav.velocimeter_sigma_mps,
            velocimeter_sigma_fraction=nav.velocimeter_sigma_fraction,
            calibrate_accel_in_coast=nav.calibrate_accel_in_coast,
            gate=GateParams(
                nav.gating, nav.gate_sigma, nav.latch_count, nav.robust_window_s, nav.robust_consistency_m
            ),
        ),
    )
