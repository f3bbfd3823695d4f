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
    name: str = Field(min_length=1)
    description: str = ""


class Site(Model):
    """The landing target and the heading of the approach ground track."""

    lat_deg: Annotated[float, Field(strict=True, ge=-90.0, le=90.0)]
    lon_deg: Annotated[float, Field(strict=True, ge=-180.0, le=360.0)]
    approach_azimuth_deg: Annotated[float, Field(strict=True, ge=0.0, lt=360.0)] = (
        270.0  # clockwise from north
    )


class Terrain(Model):
    """The TRUE terrain the sensors see and the lander touches."""

    source: Literal["lola", "synthetic", "flat"] = "lola"  # lola falls back to synthetic when absent
    dem: str = "LDEM_4"  # product name for source = "lola"
    detail: Bool = True  # add synthetic craters finer than the DEM's pixels
    flat_height_m: Finite = 0.0  # height above the 1,737,400 m sphere for source = "flat"
    crater_seed: Annotated[int, Field(ge=0)] = 0  # seed of the synthetic crater field


class Limits(Model):
    """Touchdown limits (REFERENCE §5); unset fields keep the preset's values."""

    max_vertical_speed_mps: PositiveFloat | None = None
    max_horizontal_speed_mps: PositiveFloat | None = None
    max_tilt_deg: Annotated[float, Field(strict=True, gt=0.0, lt=90.0)] | None = None
    max_rate_deg_s: PositiveFloat | None = None
    crash_speed_mps: PositiveFloat | None = None


class VehicleCfg(Model):
    preset: Literal[PRESET_NAMES]  # type: ignore[valid-type]
    propellant_kg: PositiveFloat | None = None  # at the start; None: the preset's full load
    dry_mass_kg: PositiveFloat | None = None  # override of the preset's dry mass
    isp_scale: PositiveFloat = 1.0  # multiplies every engine's Isp (Isp is an assumption for Series 1)
    thrust_scale: PositiveFloat = 1.0  # multiplies every engine's thrust (Chandrayaan-2's surprise)
    limits: Limits = Limits()


class OrbitStart(Model):
    """On a conic whose plane passes over the site along the approach azimuth (MCI, at t = 0)."""

    kind: Literal["orbit"]
    periapsis_altitude_m: PositiveFloat  # above the 1,737,400 m sphere
    apoapsis_altitude_m: PositiveFloat
    periapsis_range_m: NonNegFloat  # surface distance from the periapsis to the site (periapsis before it)
    time_to_periapsis_s: NonNegFloat = 0.0  # the run starts this long before periapsis

    @model_validator(mode="after")
    def _order(self) -> OrbitStart:
        if self.apoapsis_altitude_m < self.periapsis_altitude_m:
            raise ValueError("apoapsis_altitude_m must be ≥ periapsis_altitude_m")
        return self


class SiteStart(Model):
    """A state before the site on the approach ground track, velocity inertial and in the track plane."""

    kind: Literal["site"]
    altitude_m: Finite  # above the 1,737,400 m sphere (negative: below it; the start must clear the terrain)
    range_m: NonNegFloat  # surface distance to the site
    speed_mps: NonNegFloat  # inertial speed
    flight_path_angle_deg: Annotated[float, Field(strict=True, ge=-90.0, le=90.0)] = (
        0.0  # above the local horizontal
    )


Initial = Annotated[OrbitStart | SiteStart, Field(discriminator="kind")]


class ImuCfg(Model):
    ideal: Bool = False  # no error of any kind
    accel_bias_sigma_mps2: NonNegFloat = 1e-3
    accel_noise_mps_rtsec: NonNegFloat = 5e-4
    gyro_bias_sigma_radps: NonNegFloat = 4.85e-6  # 1 °/h
    gyro_noise_rad_rtsec: NonNegFloat = 2.0e-5


class AltimeterCfg(Model):
    """Laser range finder / radar altimeter; beams given as body-axis directions (normalised on load)."""

    enabled: Bool = True
    name: str = "lrf"
    rate_hz: PositiveFloat = 10.0
    beams_body: list[Vec3] = Field(default_factory=lambda: [(0.0, 0.0, -1.0)], min_length=1)
    max_range_m: PositiveFloat = 10_000.0
    acquisition_range_m: PositiveFloat = 10_000.0
    noise_sigma_m: NonNegFloat = 1.0
    noise_fraction: NonNegFloat = 5e-4
    bias_sigma_m: NonNegFloat = 0.0
    max_incidence_deg: Annotated[float, Field(strict=True, gt=0.0, le=90.0)] = 60.0
    max_speed_mps: PositiveFloat | None = None

    @field_validator("beams_body")
    @classmethod
    def _nonzero(cls, beams: list[Vec3]) -> list[Vec3]:
        for k, b in enumerate(beams):
            if math.hypot(*b) == 0.0:
                raise ValueError(f"beam {k} has zero length")
        return beams


class VelocimeterCfg(Model):
    name: str = "velocimeter"
    rate_hz: PositiveFloat = 5.0
    max_altitude_m: PositiveFloat = 4_000.0  # valid below this height above the terrain
    max_speed_mps: PositiveFloat = 200.0  # valid below this surface-relative speed
    noise_sigma_mps: NonNegFloat = 0.02


class StarTrackerCfg(Model):
    name: str = "star_tracker"
    rate_hz: PositiveFloat = 5.0
    noise_sigma_arcsec: NonNegFloat = 10.0


class Sensors(Model):
    imu: ImuCfg = ImuCfg()
    altimeter: AltimeterCfg | None = AltimeterCfg()
    velocimeter: VelocimeterCfg | None = None
    star_tracker: StarTrackerCfg = StarTrackerCfg()


class FaultCfg(Model):
    """One REFERENCE §6 fault (see touchdown.sensors.faults for each kind's fields)."""

    kind: Literal[FAULT_KINDS]  # type: ignore[valid-type]
    target: str = Field(min_length=1)
    start_time_s: NonNegFloat | None = None
    start_altitude_m: Finite | None = None
    start_phase: Literal[PHASES] | None = None  # type: ignore[valid-type]
    duration_s: Annotated[float, Field(strict=True, gt=0.0)] | Literal["inf"] = math.inf  # inf: for ever
    value: Finite | list[Finite] | None = None
    rate_per_s: Finite | list[Finite] | None = None
    delay_s: PositiveFloat | None = None
    below_m: PositiveFloat | None = None
    reference: Literal[LATE_ACQUISITION_REFERENCES] = "altitude"  # type: ignore[valid-type]

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
    """EKF settings and the measurement-gating policy (docs/navigation.md)."""

    gating: Literal["latch", "robust", "none"] = "robust"
    gate_sigma: PositiveFloat = 5.0  # reject when |innovation| > gate_sigma · sqrt(S)
    latch_count: Annotated[int, Field(ge=1)] = 3  # latch: consecutive rejections before abandoning
    robust_window_s: PositiveFloat = 2.0  # robust: rejected readings self-consistent this long → re-admit
    robust_consistency_m: PositiveFloat = 60.0  # robust: spread (1σ) of those readings' innovations
    onboard_map: Literal["flat", "dem"] = "dem"  # the FSW's terrain knowledge
    map_height_m: Finite | None = None  # flat map height above the sphere (None: the DEM height at the site)
    initial_position_sigma_m: NonNegFloat = 200.0  # knowledge at the start (ground tracking), per axis
    initial_velocity_sigma_mps: NonNegFloat = 0.2
    initial_position_error_m: Vec3 = (0.0, 0.0, 0.0)  # a known error of that state: east, north, up [m]
    terrain_sigma_m: NonNegFloat = 30.0  # prior 1σ of the map error under the vehicle
    terrain_rw_m2_per_m: NonNegFloat = 0.5  # map-error variance growth per metre flown [m²/m]
    accel_noise_mps2: PositiveFloat = 3e-3  # process noise (unmodelled IMU bias and errors)
    altimeter_sigma_m: PositiveFloat = 5.0  # the filter's range noise 1σ (incl. map roughness)
    altimeter_sigma_fraction: NonNegFloat = 2e-3
    velocimeter_sigma_mps: PositiveFloat = 0.2
    velocimeter_sigma_fraction: NonNegFloat = 2e-3  # speed-proportional part [fraction of |v|]
    calibrate_accel_in_coast: Bool = True  # accelerometer bias = mean output in free fall before ignition


class ApolloPhase(Model):
    law: Literal["apollo"]
    targets: Literal[APOLLO_TARGET_SETS]  # type: ignore[valid-type]
    t_go_end_s: PositiveFloat | None = None  # override of the target set's phase end


class VerticalPhase(Model):
    law: Literal["vertical"]
    vertical_rate_mps: Finite = -1.0  # up positive
    schedule_altitude_m: list[Finite] = Field(default_factory=list)
    schedule_vertical_rate_mps: list[Finite] = Field(default_factory=list)
    tau_vertical_s: PositiveFloat = 2.0
    tau_horizontal_s: PositiveFloat = 4.0
    max_tilt_deg: Annotated[float, Field(strict=True, ge=0.0, lt=90.0)] = 30.0  # from the local vertical

    @model_validator(mode="after")
    def _schedule(self) -> VerticalPhase:
        if len(self.schedule_altitude_m) != len(self.schedule_vertical_rate_mps):
            raise ValueError("schedule_altitude_m and schedule_vertical_rate_mps need the same length")
        return self


class GravityTurnPhase(Model):
    law: Literal["gravity_turn"]
    target_altitude_m: Finite = 30.0


class PoweredBrakingPhase(Model):
    """Full-thrust braking that pitches up to null the horizontal speed at a gate (powered_braking.py)."""

    law: Literal["powered_braking"]
    gate_altitude_m: NonNegFloat = 2000.0  # above the ground below
    gate_vertical_rate_mps: Finite = 0.0  # up positive
    complete_speed_mps: PositiveFloat = 2.0  # horizontal speed that ends the phase
    t_go_end_s: PositiveFloat = 5.0


PhaseLaw = Annotated[
    ApolloPhase | VerticalPhase | GravityTurnPhase | PoweredBrakingPhase, Field(discriminator="law")
]


class Guidance(Model):
    braking: PhaseLaw
    approach: PhaseLaw | None = None
    terminal: PhaseLaw = VerticalPhase(law="vertical")


class EngineCutoff(Model):
    """Shut ``engines`` off (for good) once the estimated altitude is below ``altitude_m``."""

    engines: list[str] = Field(min_length=1)
    altitude_m: NonNegFloat


class Sequencer(Model):
    ignition_time_s: NonNegFloat = 0.0  # coast → braking
    terminal_altitude_m: NonNegFloat = 0.0  # approach → terminal also below this estimated altitude
    cutoffs: list[EngineCutoff] = Field(default_factory=list)


class Control(Model):
    bandwidth_rad_s: PositiveFloat = 1.0
    damping: PositiveFloat = 0.8
    max_rate_deg_s: PositiveFloat = 10.0
    max_tilt_deg: Annotated[float, Field(strict=True, gt=0.0, le=180.0)] = (
        180.0  # thrust-axis cone about local up
    )


class Fsw(Model):
    rate_hz: PositiveFloat = 10.0
    navigation: Navigation = Navigation()
    guidance: Guidance
    sequencer: Sequencer = Sequencer()
    control: Control = Control()


class Sim(Model):
    dt_s: PositiveFloat = 0.05
    t_max_s: PositiveFloat = 3_600.0
    record_period_s: PositiveFloat = 1.0
    gravity: Literal["point_mass", "j2"] = "point_mass"


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

    field: str = Field(min_length=1)  # dotted scenario path, as `--set` takes it: "faults.0.below_m"
    dist: Literal[DISTRIBUTIONS] | None = None  # type: ignore[valid-type]
    unit: str | None = None
    mean: Finite | None = None
    sigma: NonNegFloat | None = None
    low: Finite | None = None
    high: Finite | None = None
    median: PositiveFloat | None = None
    sigma_log: NonNegFloat | None = None
    values: list[Finite] | None = Field(default=None, min_length=1)
    weights: list[NonNegFloat] | None = None
    probability: Probability | None = None

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

    sigma: tuple[NonNegFloat, NonNegFloat, NonNegFloat, NonNegFloat, NonNegFloat, NonNegFloat] | None = None
    covariance: list[list[Finite]] | None = None

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

    runs: Annotated[int, Field(ge=1, strict=True)] = 1000  # default -n
    sampler: Literal[SAMPLERS] = "random"  # type: ignore[valid-type]
    dispersions: list[Dispersion] = Field(default_factory=list)
    initial_state: InitialDispersion | None = None


class Scenario(Model):
    scenario: ScenarioMeta
    site: Site
    terrain: Terrain = Terrain()
    vehicle: VehicleCfg
    initial: Initial
    sensors: Sensors = Sensors()
    faults: list[FaultCfg] = Field(default_factory=list)
    fsw: Fsw
    sim: Sim = Sim()
    expect: Expect = Expect()
    campaign: CampaignCfg = CampaignCfg()

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able) of the validated scenario, defaults included."""
        return self.model_dump(mode="json")
