"""The scenario file schema: every field, its unit (in its name), its default and its allowed values.

A scenario is a TOML file with these tables (see docs/scenarios.md)::

    [scenario]  name, description
    [site]      target latitude/longitude, approach azimuth
    [terrain]   the TRUE terrain: LOLA grid (+ synthetic detail), synthetic, or flat
    [vehicle]   preset, propellant and overrides (limits, Isp)
    [initial]   kind = "orbit" (conic elements relative to the site) or "site" (a state before the site)
    [sensors]   imu, altimeter (optional), velocimeter (optional), star_tracker
    [[faults]]  REFERENCE §6 fault list
    [fsw]       rate, navigation (EKF and gating policy, onboard map), guidance per phase, sequencer, control
    [sim]       integration step, duration, recording, gravity model
    [expect]    published outcome and figures a replay must reproduce (``touchdown fly --check``)
    [campaign]  Monte Carlo: runs, sampler, dispersed fields, initial-state covariance (docs/campaigns.md)

Models forbid unknown keys, so a typo is an error naming the key and the allowed ones.

Every field carries a ``description``; ``touchdown.scenario.reference`` renders them, with types, units,
defaults and allowed values, into the tables of docs/scenarios.md (``python -m
touchdown.scenario.reference --write``; a test fails when the page and this schema disagree).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from touchdown.scenario.expect import Expect
from touchdown.sensors.faults import ENGINE_FAULT_KINDS, FAULT_KINDS, LATE_ACQUISITION_REFERENCES, Fault
from touchdown.vehicle.presets import PRESETS

PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False, strict=True)]
NonNegFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False, strict=True)]
Finite = Annotated[float, Field(allow_inf_nan=False, strict=True)]
Vec3 = tuple[Finite, Finite, Finite]
Bool = Annotated[bool, Field(strict=True)]

GUIDANCE_LAWS = ("apollo", "vertical", "gravity_turn", "powered_braking")
GATING_POLICIES = ("latch", "robust", "none")
ONBOARD_MAPS = ("flat", "dem")
TERRAIN_SOURCES = ("lola", "synthetic", "flat")
GRAVITY_MODELS = ("point_mass", "j2")
PHASES = ("coast", "braking", "approach", "terminal")
APOLLO_TARGET_SETS = ("apollo11-braking", "apollo11-approach", "series1-braking")

PRESET_NAMES = tuple(PRESETS)


class Model(BaseModel):
    """Base: unknown keys are errors; values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioMeta(Model):
    """What the scenario is called and what it flies."""

    name: str = Field(min_length=1, description="Name in every output and in a campaign's manifest.")
    description: str = Field("", description="One line; `touchdown scenarios` lists it.")


class Site(Model):
    """The landing target and the heading of the approach ground track."""

    lat_deg: Annotated[float, Field(strict=True, ge=-90.0, le=90.0)] = Field(
        description="Target latitude, north positive."
    )
    lon_deg: Annotated[float, Field(strict=True, ge=-180.0, le=360.0)] = Field(
        description="Target longitude, east positive (−4.6 and 355.4 are the same place)."
    )
    approach_azimuth_deg: Annotated[float, Field(strict=True, ge=0.0, lt=360.0)] = Field(
        270.0,
        description="Heading of the approach ground track at the site, clockwise from north "
        "(0: north-bound, 270: west-bound). The start lies up-track of the site on this great circle.",
    )


class Terrain(Model):
    """The TRUE terrain the sensors see and the lander touches."""

    source: Literal["lola", "synthetic", "flat"] = Field(
        "lola",
        description="`lola`: a LOLA grid, falling back to synthetic terrain (with a warning) when the grid "
        "is not installed; `synthetic`: named craters (Atlas, …) and a random crater population "
        "(REFERENCE §2.2); `flat`: a sphere at `flat_height_m`.",
    )
    dem: str = Field(
        "LDEM_4",
        description='LOLA product for `source = "lola"` (`LDEM_4`, `LDEM_16`, `LDEM_64`, polar tiles; '
        "docs/terrain-data.md).",
    )
    detail: Bool = Field(
        True,
        description="Add synthetic craters finer than the DEM's pixels (measured posts are never edited).",
    )
    flat_height_m: Finite = Field(
        0.0,
        description='Height of the flat terrain above the 1,737,400 m sphere, for `source = "flat"`.',
    )
    crater_seed: Annotated[int, Field(ge=0)] = Field(
        0,
        description="Seed of the synthetic crater field (`synthetic`, `detail` and the fallback).",
    )


class Limits(Model):
    """Touchdown limits (REFERENCE §5); unset fields keep the preset's values."""

    max_vertical_speed_mps: PositiveFloat | None = Field(
        None, description="Largest sink rate of a `landed` touchdown."
    )
    max_horizontal_speed_mps: PositiveFloat | None = Field(
        None, description="Largest horizontal speed of a `landed` touchdown."
    )
    max_tilt_deg: Annotated[float, Field(strict=True, gt=0.0, lt=90.0)] | None = Field(
        None, description="Largest angle of the body +z axis from the local vertical of a `landed` touchdown."
    )
    max_rate_deg_s: PositiveFloat | None = Field(
        None, description="Largest body rate of a `landed` touchdown."
    )
    crash_speed_mps: PositiveFloat | None = Field(
        None, description="Contact speed (vertical and horizontal together) above which it is `crashed`."
    )


class VehicleCfg(Model):
    """The lander: a preset, its load, and where the real vehicle differs from the one the flight software
    knows (``isp_scale``, ``thrust_scale`` change the truth only)."""

    preset: Literal[PRESET_NAMES] = Field(  # type: ignore[valid-type]
        description="Built-in vehicle (`touchdown.vehicle.presets`, docs/truth-model.md)."
    )
    propellant_kg: PositiveFloat | None = Field(
        None,
        description="Propellant at the start; unset: the preset's full load.",
    )
    dry_mass_kg: PositiveFloat | None = Field(
        None,
        description="Replaces the preset's dry mass (truth and flight software).",
    )
    isp_scale: PositiveFloat = Field(
        1.0,
        description="Multiplies every true engine's Isp; the flight software keeps the preset's "
        "(Series 1's Isp is not published, REFERENCE §3.1).",
    )
    thrust_scale: PositiveFloat = Field(
        1.0,
        description="Multiplies every true engine's thrust (and flow); the flight software keeps the "
        "preset's (Chandrayaan-2's engines gave more thrust than modelled, REFERENCE §3.5).",
    )
    limits: Limits = Field(Limits(), description="Touchdown limits: `[vehicle.limits]`.")


class OrbitStart(Model):
    """On a conic whose plane passes over the site along the approach azimuth (MCI, at t = 0)."""

    kind: Literal["orbit"] = Field(description="Start on an orbit.")
    periapsis_altitude_m: PositiveFloat = Field(description="Periapsis height above the 1,737,400 m sphere.")
    apoapsis_altitude_m: PositiveFloat = Field(
        description="Apoapsis height above the sphere, ≥ `periapsis_altitude_m`."
    )
    periapsis_range_m: NonNegFloat = Field(
        description="Surface distance along the approach track from the periapsis to the site "
        "(the periapsis lies before the site)."
    )
    time_to_periapsis_s: NonNegFloat = Field(
        0.0,
        description="The run starts this long before periapsis.",
    )

    @model_validator(mode="after")
    def _order(self) -> OrbitStart:
        if self.apoapsis_altitude_m < self.periapsis_altitude_m:
            raise ValueError("apoapsis_altitude_m must be ≥ periapsis_altitude_m")
        return self


class SiteStart(Model):
    """A state before the site on the approach ground track, velocity inertial and in the track plane."""

    kind: Literal["site"] = Field(description="Start at a point before the site.")
    altitude_m: Finite = Field(
        description="Height above the 1,737,400 m sphere (may be negative; the start must clear the terrain)."
    )
    range_m: NonNegFloat = Field(description="Surface distance before the site along the approach track.")
    speed_mps: NonNegFloat = Field(description="Inertial speed.")
    flight_path_angle_deg: Annotated[float, Field(strict=True, ge=-90.0, le=90.0)] = Field(
        0.0,
        description="Angle of the velocity above the local horizontal (negative: descending).",
    )


Initial = Annotated[OrbitStart | SiteStart, Field(discriminator="kind")]


class ImuCfg(Model):
    """Accelerometer and gyro triads; the IMU outputs Δv, Δθ at ``fsw.rate_hz``. Scale-factor,
    misalignment, bias random walk and quantisation keep the ``touchdown.sensors.imu`` defaults."""

    ideal: Bool = Field(False, description="No error of any kind.")
    accel_bias_sigma_mps2: NonNegFloat = Field(
        1e-3, description="Accelerometer turn-on bias 1σ per axis, drawn per run (≈ 100 µg)."
    )
    accel_noise_mps_rtsec: NonNegFloat = Field(5e-4, description="Accelerometer velocity random walk.")
    gyro_bias_sigma_radps: NonNegFloat = Field(
        4.85e-6, description="Gyro turn-on bias 1σ per axis, drawn per run (1 °/h)."
    )
    gyro_noise_rad_rtsec: NonNegFloat = Field(2.0e-5, description="Gyro angle random walk.")


class AltimeterCfg(Model):
    """Laser range finder / radar altimeter; beams given as body-axis directions (normalised on load)."""

    enabled: Bool = Field(True, description="`false`: no altimeter (TOML has no null to remove the table).")
    name: str = Field(
        "lrf", description="Instance name: fault targets and events use it (`lrf_abandoned`, `lrf.range`)."
    )
    rate_hz: PositiveFloat = Field(
        10.0, description="Measurement rate, rounded to a whole number of flight-software ticks."
    )
    beams_body: list[Vec3] = Field(
        default_factory=lambda: [(0.0, 0.0, -1.0)],
        min_length=1,
        description="Beam directions in body axes (thrust axis +z: `[0, 0, -1]` looks straight down when "
        "upright); normalised on load, none of zero length.",
    )
    max_range_m: PositiveFloat = Field(10_000.0, description="Farthest range that returns.")
    acquisition_range_m: PositiveFloat = Field(
        10_000.0,
        description="A beam gives no valid data until its true range first falls to this, then stays "
        "acquired (RESILIENCE: 900 m where 3,000 m was planned, REFERENCE §3.3).",
    )
    noise_sigma_m: NonNegFloat = Field(1.0, description="Range-independent white noise 1σ.")
    noise_fraction: NonNegFloat = Field(
        5e-4, description="Range-proportional white noise 1σ, as a fraction of the range."
    )
    bias_sigma_m: NonNegFloat = Field(0.0, description="Range bias 1σ, drawn per run.")
    max_incidence_deg: Annotated[float, Field(strict=True, gt=0.0, le=90.0)] = Field(
        60.0, description="Largest angle between the beam and the terrain normal that returns."
    )
    max_speed_mps: PositiveFloat | None = Field(
        None, description="No valid data above this surface-relative speed; unset: no limit."
    )

    @field_validator("beams_body")
    @classmethod
    def _nonzero(cls, beams: list[Vec3]) -> list[Vec3]:
        for k, b in enumerate(beams):
            if math.hypot(*b) == 0.0:
                raise ValueError(f"beam {k} has zero length")
        return beams


class VelocimeterCfg(Model):
    """Doppler velocimeter: surface-relative velocity in body axes. Flown only when the table is given."""

    name: str = Field("velocimeter", description="Instance name: fault targets and events use it.")
    rate_hz: PositiveFloat = Field(
        5.0, description="Measurement rate, rounded to a whole number of flight-software ticks."
    )
    max_altitude_m: PositiveFloat = Field(
        4_000.0,
        description="Valid at or below this height above the true terrain.",
    )
    max_speed_mps: PositiveFloat = Field(
        200.0,
        description="Valid at or below this surface-relative speed.",
    )
    noise_sigma_mps: NonNegFloat = Field(0.02, description="White noise 1σ per axis.")


class StarTrackerCfg(Model):
    """Attitude sensor: the measured body-to-inertial quaternion."""

    name: str = Field("star_tracker", description="Instance name: fault targets use it.")
    rate_hz: PositiveFloat = Field(
        5.0, description="Measurement rate, rounded to a whole number of flight-software ticks."
    )
    noise_sigma_arcsec: NonNegFloat = Field(
        10.0, description="1σ about each cross-boresight axis; about the boresight 8 times this."
    )


class Sensors(Model):
    """What the lander measures. The IMU and the star tracker always fly; the altimeter unless disabled;
    the velocimeter only when its table is given."""

    imu: ImuCfg = Field(ImuCfg(), description="`[sensors.imu]`.")
    altimeter: AltimeterCfg | None = Field(AltimeterCfg(), description="`[sensors.altimeter]`.")
    velocimeter: VelocimeterCfg | None = Field(None, description="`[sensors.velocimeter]`; absent: none.")
    star_tracker: StarTrackerCfg = Field(StarTrackerCfg(), description="`[sensors.star_tracker]`.")


class FaultCfg(Model):
    """One REFERENCE §6 fault (see touchdown.sensors.faults for each kind's fields; docs/faults.md).
    Every given start condition must hold; with none, the fault starts at the first tick of its target."""

    kind: Literal[FAULT_KINDS] = Field(  # type: ignore[valid-type]
        description="What breaks: sensor kinds act on the measurement, engine kinds on the engines."
    )
    target: str = Field(
        min_length=1,
        description="Sensor name (all its channels: `lrf`), `sensor.channel` (`imu.gyro`), or for an "
        "engine kind an engine name of the preset or `all`.",
    )
    start_time_s: NonNegFloat | None = Field(None, description="Start condition: flight time ≥ this.")
    start_altitude_m: Finite | None = Field(
        None,
        description="Start condition: true height of the centre of mass above the terrain below ≤ this.",
    )
    start_phase: Literal[PHASES] | None = Field(  # type: ignore[valid-type]
        None, description="Start condition: the flight software's phase is this."
    )
    duration_s: Annotated[float, Field(strict=True, gt=0.0)] | Literal["inf"] = Field(
        math.inf,
        description='Active this long after the onset; `inf` or `"inf"`: for ever (`dropout` needs a '
        "finite one).",
    )
    value: Finite | list[Finite] | None = Field(
        None,
        description="`bias`, `spike`: added value; `stuck`: reported value (unset: held at onset); "
        "`noise_scale`: noise 1σ factor; `thrust_loss`: fraction of thrust lost, 0–1. In the channel's "
        "units, scalar or one per component (attitude: rotation vector [rad]).",
    )
    rate_per_s: Finite | list[Finite] | None = Field(
        None, description="`drift`: rate, in the channel's units per second, scalar or one per component."
    )
    delay_s: PositiveFloat | None = Field(None, description="`delay`: age of the data delivered.")
    below_m: PositiveFloat | None = Field(
        None, description="`late_acquisition`: no valid data until `reference` first falls to this."
    )
    reference: Literal[LATE_ACQUISITION_REFERENCES] = Field(  # type: ignore[valid-type]
        "altitude",
        description="`late_acquisition`: `altitude` (true height above the terrain) or `range` (the "
        "channel's own reading, per beam).",
    )

    @property
    def is_engine_fault(self) -> bool:
        return self.kind in ENGINE_FAULT_KINDS

    def to_fault(self) -> Fault:
        """The runtime fault (raises InputError for kind-specific problems, e.g. a bias without a value)."""

        def tup(v: Any) -> Any:
            return tuple(v) if isinstance(v, list) else v

        return Fault(
            kind=self.kind,
            target=self.target,
            start_time_s=self.start_time_s,
            start_altitude_m=self.start_altitude_m,
            start_phase=self.start_phase,
            duration_s=math.inf if self.duration_s == "inf" else float(self.duration_s),
            value=tup(self.value),
            rate_per_s=tup(self.rate_per_s),
            delay_s=self.delay_s,
            below_m=self.below_m,
            reference=self.reference,
        )


class Navigation(Model):
    """EKF settings and the measurement-gating policy (docs/navigation.md, docs/gating.md)."""

    gating: Literal["latch", "robust", "none"] = Field(
        "robust", description="What happens to readings beyond the gate (docs/gating.md)."
    )
    gate_sigma: PositiveFloat = Field(
        5.0,
        description="Gate on the normalised innovation: a reading is rejected when |ν| > gate_sigma · √S "
        "(dimensionless, in σ).",
    )
    latch_count: Annotated[int, Field(ge=1)] = Field(
        3,
        description="`latch`: consecutive rejected ticks before the sensor is abandoned for good.",
    )
    robust_window_s: PositiveFloat = Field(
        2.0,
        description="`robust`: how long a streak of rejected readings must stay self-consistent before "
        "the sensor is re-admitted.",
    )
    robust_consistency_m: PositiveFloat = Field(
        60.0,
        description="`robust`: largest spread (1σ) of the altimeter innovations over that window "
        "(the velocimeter's gate uses 2 m/s).",
    )
    onboard_map: Literal["flat", "dem"] = Field(
        "dem",
        description="The flight software's terrain knowledge: `dem` (the true grid without sub-pixel "
        "detail; synthetic truth: the same synthetic field) or `flat` (a sphere at `map_height_m`).",
    )
    map_height_m: Finite | None = Field(
        None,
        description="Height of the `flat` map above the 1,737,400 m sphere; unset: the terrain height at "
        "the site.",
    )
    initial_position_sigma_m: NonNegFloat = Field(
        200.0,
        description="1σ per axis of the uploaded start position's error (ground tracking), drawn per run; "
        "also the filter's initial 1σ.",
    )
    initial_velocity_sigma_mps: NonNegFloat = Field(
        0.2,
        description="1σ per axis of the uploaded start velocity's error, drawn per run; also the filter's "
        "initial 1σ.",
    )
    initial_position_error_m: Vec3 = Field(
        (0.0, 0.0, 0.0),
        description="A fixed error added to the uploaded start position: east, north, up at the start.",
    )
    terrain_sigma_m: NonNegFloat = Field(
        30.0,
        description="Prior 1σ of the map error under the vehicle (the filter's state b_map).",
    )
    terrain_rw_m2_per_m: NonNegFloat = Field(
        0.5,
        description="Growth of the map-error variance per metre flown over the ground (random walk).",
    )
    accel_noise_mps2: PositiveFloat = Field(
        3e-3,
        description="Process noise: white acceleration standing for unmodelled IMU errors.",
    )
    altimeter_sigma_m: PositiveFloat = Field(
        5.0,
        description="The filter's range noise 1σ (sensor noise and map roughness).",
    )
    altimeter_sigma_fraction: NonNegFloat = Field(
        2e-3, description="The filter's range-proportional noise 1σ, as a fraction of the range."
    )
    velocimeter_sigma_mps: PositiveFloat = Field(
        0.2, description="The filter's velocimeter noise 1σ per axis."
    )
    velocimeter_sigma_fraction: NonNegFloat = Field(
        2e-3,
        description="The filter's speed-proportional velocimeter noise 1σ, as a fraction of |v|.",
    )
    calibrate_accel_in_coast: Bool = Field(
        True,
        description="Take the mean accelerometer output over the free-fall coast before ignition "
        "(at least 10 s) as its bias.",
    )


class ApolloPhase(Model):
    """Apollo quadratic guidance with time to go (Luminary 099, REFERENCE §3.4; docs/guidance.md)."""

    law: Literal["apollo"] = Field(description="Apollo quadratic law, flown in the site frame.")
    targets: Literal[APOLLO_TARGET_SETS] = Field(  # type: ignore[valid-type]
        description="Target set: `apollo11-braking` (P63), `apollo11-approach` (P64) (REFERENCE §3.4), "
        "`series1-braking` (a 2 km gate, REFERENCE §3.1)."
    )
    t_go_end_s: PositiveFloat | None = Field(
        None,
        description="Replaces the target set's phase end |T| (P63 62 s, P64 12 s, Series 1 10 s).",
    )


class VerticalPhase(Model):
    """Rate-hold vertical descent that nulls the horizontal velocity (docs/guidance.md)."""

    law: Literal["vertical"] = Field(description="Vertical descent, flown relative to the ground below.")
    vertical_rate_mps: Finite = Field(
        -1.0,
        description="Commanded vertical rate, up positive; used when no schedule is given.",
    )
    schedule_altitude_m: list[Finite] = Field(
        default_factory=list,
        description="Estimated heights above the ground of a piecewise-linear rate table, strictly "
        "increasing.",
    )
    schedule_vertical_rate_mps: list[Finite] = Field(
        default_factory=list,
        description="Commanded vertical rate at each of those heights, up positive; held beyond the ends.",
    )
    tau_vertical_s: PositiveFloat = Field(2.0, description="Time constant of the vertical rate hold.")
    tau_horizontal_s: PositiveFloat = Field(
        4.0, description="Time constant of the horizontal velocity nulling."
    )
    max_tilt_deg: Annotated[float, Field(strict=True, ge=0.0, lt=90.0)] = Field(
        30.0,
        description="Largest angle of the commanded thrust from the local vertical while nulling drift.",
    )

    @model_validator(mode="after")
    def _schedule(self) -> VerticalPhase:
        if len(self.schedule_altitude_m) != len(self.schedule_vertical_rate_mps):
            raise ValueError("schedule_altitude_m and schedule_vertical_rate_mps need the same length")
        return self


class GravityTurnPhase(Model):
    """Thrust against the velocity, sized to null the speed at a height (docs/guidance.md)."""

    law: Literal["gravity_turn"] = Field(description="Gravity turn, flown relative to the ground below.")
    target_altitude_m: Finite = Field(
        30.0, description="Estimated height above the ground at which the speed should reach zero."
    )


class PoweredBrakingPhase(Model):
    """Full-thrust braking that pitches up to null the horizontal speed at a gate (powered_braking.py)."""

    law: Literal["powered_braking"] = Field(
        description="Powered braking to a gate, flown relative to the ground below."
    )
    gate_altitude_m: NonNegFloat = Field(
        2000.0,
        description="Gate height above the ground below, where the horizontal speed is nulled.",
    )
    gate_vertical_rate_mps: Finite = Field(
        0.0,
        description="Vertical rate at the gate, up positive.",
    )
    complete_speed_mps: PositiveFloat = Field(
        2.0,
        description="Horizontal speed at or below which the phase ends.",
    )
    t_go_end_s: PositiveFloat = Field(
        5.0, description="Time to go at or below which the phase ends (also the floor of T in the gains)."
    )
    max_descent_rate_mps: PositiveFloat | None = Field(
        None,
        description="Largest descent rate the braking lets build up (absent: no limit); a lander that finds "
        "itself higher than it believed is otherwise let fall freely towards the gate.",
    )


PhaseLaw = Annotated[
    ApolloPhase | VerticalPhase | GravityTurnPhase | PoweredBrakingPhase, Field(discriminator="law")
]


class Guidance(Model):
    """One guidance law per powered phase, chosen by its ``law`` key (docs/guidance.md)."""

    braking: PhaseLaw = Field(
        description="`[fsw.guidance.braking]`: the braking law (the coast slews to its thrust direction)."
    )
    approach: PhaseLaw | None = Field(
        None, description="`[fsw.guidance.approach]`: optional; absent: braking is followed by terminal."
    )
    terminal: PhaseLaw = Field(
        VerticalPhase(law="vertical"),
        description="`[fsw.guidance.terminal]`: flown until contact; default a vertical descent at −1 m/s.",
    )


class EngineCutoff(Model):
    """Shut ``engines`` off (for good) once the estimated altitude is below ``altitude_m``."""

    engines: list[str] = Field(min_length=1, description="Engine names of the vehicle preset.")
    altitude_m: NonNegFloat = Field(
        description="Estimated height above the believed terrain at or below which they shut off "
        "(not in the coast)."
    )


class Sequencer(Model):
    """Phase switching on the flight software's own estimates (docs/flight.md)."""

    ignition_time_s: NonNegFloat = Field(0.0, description="coast → braking at this flight time.")
    terminal_altitude_m: NonNegFloat = Field(
        0.0,
        description="braking or approach → terminal also when the estimated altitude is at or below this "
        "(else only when the law completes).",
    )
    cutoffs: list[EngineCutoff] = Field(
        default_factory=list, description="`[[fsw.sequencer.cutoffs]]`: engine cut-offs."
    )


class Control(Model):
    """Thrust-vector pointing loop (``touchdown.fsw.control.attitude``) and the tilt limit."""

    bandwidth_rad_s: PositiveFloat = Field(1.0, description="Pointing loop natural frequency ω_n.")
    damping: PositiveFloat = Field(0.8, description="Pointing loop damping ratio ζ.")
    max_rate_deg_s: PositiveFloat = Field(10.0, description="Largest commanded body rate (slew limit).")
    max_tilt_deg: Annotated[float, Field(strict=True, gt=0.0, le=180.0)] = Field(
        180.0,
        description="The commanded thrust direction is kept within this cone about local up (180: none).",
    )


class Fsw(Model):
    """The flight software: its tick rate and its parts."""

    rate_hz: PositiveFloat = Field(
        10.0,
        description="Flight-software tick rate: the IMU outputs at it; other sensors every whole number "
        "of ticks; commands are held between ticks.",
    )
    navigation: Navigation = Field(Navigation(), description="`[fsw.navigation]`.")
    guidance: Guidance = Field(description="`[fsw.guidance]`.")
    sequencer: Sequencer = Field(Sequencer(), description="`[fsw.sequencer]`.")
    control: Control = Field(Control(), description="`[fsw.control]`.")


class Sim(Model):
    """Integration and recording."""

    dt_s: PositiveFloat = Field(0.05, description="Fixed RK4 step of the truth dynamics.")
    t_max_s: PositiveFloat = Field(
        3_600.0, description="Longest flight; a run still flying then is `in_flight`."
    )
    record_period_s: PositiveFloat = Field(
        1.0, description="Trajectory record period, rounded to a whole number of flight-software ticks."
    )
    gravity: Literal["point_mass", "j2"] = Field(
        "point_mass", description="Gravity model of the truth and of the flight software."
    )


DISTRIBUTIONS = ("normal", "uniform", "truncnormal", "lognormal", "choice")
SAMPLERS = ("random", "sobol", "lhs")
Probability = Annotated[float, Field(strict=True, ge=0.0, le=1.0)]

# the parameters each distribution needs (all others must be absent)
DIST_PARAMS: dict[str, tuple[str, ...]] = {
    "normal": ("mean", "sigma"),
    "uniform": ("low", "high"),
    "truncnormal": ("mean", "sigma", "low", "high"),
    "lognormal": ("median", "sigma_log"),
    "choice": ("values",),
}
_OPTIONAL_PARAMS = {"choice": ("weights",)}
_ALL_PARAMS = ("mean", "sigma", "low", "high", "median", "sigma_log", "values", "weights", "probability")


class Dispersion(Model):
    """One uncertain field of a campaign: a distribution over a numeric scenario field, or (``field`` =
    ``"faults.N"`` with ``probability``) the chance that fault N is present in a run at all.

    Parameters are in ``unit`` (default: the field's own unit, named by its suffix: ``_m``, ``_s``,
    ``_kg``, ``_mps``, ``_deg`` …); a unit of another dimension is an error, one of the same dimension
    is converted (``unit = "km"`` for a ``_m`` field).
    """

    field: str = Field(
        min_length=1,
        description="Dotted scenario path as `--set` takes it (`faults.0.below_m`), or `faults.N` for a "
        "fault's presence.",
    )
    dist: Literal[DISTRIBUTIONS] | None = Field(  # type: ignore[valid-type]
        None, description="Distribution; unset only for a presence (`probability`)."
    )
    unit: str | None = Field(
        None, description="Unit of the parameters (`km`, `ft`, `min`, …); unset: the field's own."
    )
    mean: Finite | None = Field(None, description="`normal`, `truncnormal`: mean.")
    sigma: NonNegFloat | None = Field(None, description="`normal`, `truncnormal`: 1σ.")
    low: Finite | None = Field(None, description="`uniform`, `truncnormal`: lower bound.")
    high: Finite | None = Field(None, description="`uniform`, `truncnormal`: upper bound, > `low`.")
    median: PositiveFloat | None = Field(None, description="`lognormal`: median.")
    sigma_log: NonNegFloat | None = Field(None, description="`lognormal`: 1σ of the natural logarithm.")
    values: list[Finite] | None = Field(default=None, min_length=1, description="`choice`: the values.")
    weights: list[NonNegFloat] | None = Field(
        None, description="`choice`: relative weights, one per value, not all zero; unset: equal."
    )
    probability: Probability | None = Field(
        None, description="Presence: the chance that fault N flies in a run (no `dist`, no `unit`)."
    )

    @model_validator(mode="after")
    def _params(self) -> Dispersion:
        given = {k for k in _ALL_PARAMS if getattr(self, k) is not None}
        if self.dist is None:
            if self.probability is None:
                raise ValueError(
                    f"needs 'dist' ({', '.join(DISTRIBUTIONS)}), or 'probability' for a fault's presence"
                )
            if given != {"probability"} or self.unit is not None:
                raise ValueError("a presence dispersion takes only 'field' and 'probability'")
            return self
        need = DIST_PARAMS[self.dist]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"dist '{self.dist}' needs {', '.join(repr(k) for k in missing)}")
        extra = sorted(given - set(need) - set(_OPTIONAL_PARAMS.get(self.dist, ())))
        if extra:
            raise ValueError(
                f"dist '{self.dist}' takes {', '.join(repr(k) for k in need)}; "
                f"remove {', '.join(repr(k) for k in extra)}"
            )
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be < high ({self.high})")
        if self.weights is not None:
            if len(self.weights) != len(self.values or ()):
                raise ValueError("weights needs one entry per value")
            if not sum(self.weights) > 0.0:
                raise ValueError("weights must not all be zero")
        return self


class InitialDispersion(Model):
    """Dispersion of the truth state at the start, in east/north/up axes at the start point: position
    east, north, up [m], then velocity east, north, up [m/s]. Give ``sigma`` (independent axes) or the
    full ``covariance`` [m², m²/s, m²/s²] (symmetric, positive semi-definite)."""

    sigma: tuple[NonNegFloat, NonNegFloat, NonNegFloat, NonNegFloat, NonNegFloat, NonNegFloat] | None = Field(
        None, description="1σ of each axis, independent: east, north, up position; east, north, up velocity."
    )
    covariance: list[list[Finite]] | None = Field(
        None, description="Full 6 × 6 covariance in the same order; symmetric, positive semi-definite."
    )

    @model_validator(mode="after")
    def _one(self) -> InitialDispersion:
        if (self.sigma is None) == (self.covariance is None):
            raise ValueError("give exactly one of 'sigma' (6 values) or 'covariance' (6 × 6)")
        if self.covariance is not None:
            c = self.covariance
            if len(c) != 6 or any(len(row) != 6 for row in c):
                raise ValueError("covariance must be 6 × 6 (east, north, up [m]; east, north, up [m/s])")
            a = np.asarray(c, float)
            scale = max(1.0, float(np.abs(a).max()))
            if np.abs(a - a.T).max() > 1e-9 * scale:
                raise ValueError("covariance must be symmetric")
            if float(np.linalg.eigvalsh(a).min()) < -1e-9 * scale:
                raise ValueError("covariance must be positive semi-definite (an eigenvalue is negative)")
        return self


class CampaignCfg(Model):
    """Monte Carlo defaults and what is uncertain (``touchdown campaign``; docs/campaigns.md)."""

    runs: Annotated[int, Field(ge=1, strict=True)] = Field(
        1000, description="Number of runs when `-n` is not given."
    )
    sampler: Literal[SAMPLERS] = Field(  # type: ignore[valid-type]
        "random", description="Sampler when `--sampler` is not given (docs/campaigns.md)."
    )
    dispersions: list[Dispersion] = Field(
        default_factory=list, description="`[[campaign.dispersions]]`: the uncertain fields."
    )
    initial_state: InitialDispersion | None = Field(
        None, description="`[campaign.initial_state]`: dispersion of the delivered truth state."
    )


class Scenario(Model):
    """A scenario file: the tables below, in any order."""

    scenario: ScenarioMeta = Field(description="`[scenario]`.")
    site: Site = Field(description="`[site]`.")
    terrain: Terrain = Field(Terrain(), description="`[terrain]`.")
    vehicle: VehicleCfg = Field(description="`[vehicle]`.")
    initial: Initial = Field(description="`[initial]`, one of two kinds.")
    sensors: Sensors = Field(Sensors(), description="`[sensors]`.")
    faults: list[FaultCfg] = Field(default_factory=list, description="`[[faults]]`: none by default.")
    fsw: Fsw = Field(description="`[fsw]`.")
    sim: Sim = Field(Sim(), description="`[sim]`.")
    expect: Expect = Field(Expect(), description="`[expect]`: nothing expected by default.")
    campaign: CampaignCfg = Field(CampaignCfg(), description="`[campaign]`.")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able) of the validated scenario, defaults included."""
        return self.model_dump(mode="json")
