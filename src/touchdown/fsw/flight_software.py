"""The lander's flight software: sequencer, navigation, guidance and control, one tick at a time.

``FlightSoftware.step(t, measurements)`` is the only entry point in flight: it takes what the sensors
delivered this tick (after faults) and returns the actuator commands. It never sees the truth state
(ARCHITECTURE rule 1); its vehicle, gravity model and onboard map are its own beliefs.

Phases (per trajectory, switched on the flight software's own estimates, each switch an event)::

    coast     engines off, attitude already slewed to the braking law's thrust direction
    braking   from ``ignition_time_s``; guidance: the scenario's braking law
    approach  when the braking law reports complete (optional phase)
    terminal  when the previous law is complete, or the estimated altitude ≤ ``terminal_altitude_m``;
              runs until the truth model reports contact (touchdown is not sensed by the software: a
              lander whose estimate is wrong keeps descending, as HAKUTO-R M1 did, REFERENCE §3.2)

Events: each phase switch (``phase:<name>``), each sensor's first valid / rejected / abandoned / re-admitted
reading (``<sensor>_<what>``), each engine cut-off (``engine_cutoff:<label>``), and ``nav_altitude_zero``
the first time the estimated altitude reaches 0 m (the software believes it is on the ground; the truth
model decides whether it is).

Control: the commanded thrust acceleration (site frame) sets the thrust direction (clamped to a cone of
``max_tilt_deg`` about the local vertical) for the attitude loop; the thrust demand is the estimated mass
times its component along the current thrust axis, allocated onto the engines. Engine cut-offs (Series 1
shuts its 400 N engine just before touchdown, REFERENCE §3.1) disable engines for good below an estimated
altitude. Propellant is gauged by integrating the commanded flow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from touchdown.fsw import _kernels
from touchdown.fsw.control.attitude import AttitudeControlParams
from touchdown.fsw.control.throttle import ThrottleAllocator
from touchdown.fsw.guidance.base import GuidanceLaw
from touchdown.fsw.navigation.ekf import NavigationFilter, NavParams
from touchdown.fsw.navigation.onboard_map import OnboardMap
from touchdown.moon.constants import OMEGA_MOON
from touchdown.moon.frames import (
    QUAT_CONJUGATE,
    dcm_mcmf_to_enu,
    dot,
    llh_to_mcmf,
    mci_to_mcmf,
    norm,
    rotation_angle,
    velocity_mci_to_mcmf,
)
from touchdown.moon.terrain.kernels import ATAN2
from touchdown.sensors.base import (
    AltimeterMeasurement,
    ImuMeasurement,
    Measurement,
    StarTrackerMeasurement,
    VelocimeterMeasurement,
)
from touchdown.vehicle.commands import Commands
from touchdown.vehicle.model import Vehicle

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]

PHASES = ("coast", "braking", "approach", "terminal")
_THRUST_AXIS_BODY = np.array([0.0, 0.0, 1.0])  # every engine thrusts along body +z
COAST, BRAKING, APPROACH, TERMINAL = range(4)


def phase_names(codes: NDArray[np.int64]) -> NDArray[np.str_]:
    """Phase names (N,) of phase codes (N,) (indices into :data:`PHASES`)."""
    return np.asarray(PHASES)[codes]


@dataclass(frozen=True)
class EngineCutoff:
    """Disable ``engines`` (indices) for good once the estimated altitude ≤ ``altitude_m`` [m]."""

    engines: tuple[int, ...]
    altitude_m: float
    label: str = ""


@dataclass(frozen=True)
class FswConfig:
    """Everything the flight software is configured with before flight (no truth)."""

    site_lat_rad: float
    site_lon_rad: float
    braking: GuidanceLaw
    terminal: GuidanceLaw
    approach: GuidanceLaw | None = None
    ignition_time_s: float = 0.0
    terminal_altitude_m: float = 0.0
    cutoffs: tuple[EngineCutoff, ...] = ()
    attitude: AttitudeControlParams = field(default_factory=AttitudeControlParams)
    max_tilt_deg: float = 180.0
    navigation: NavParams = field(default_factory=NavParams)


@dataclass
class FswEvent:
    """Something the flight software did at ``t_s`` on the trajectories in ``runs`` (N,) mask."""

    t_s: float
    name: str
    runs: Mask


class FlightSoftware:
    """Flight software for N trajectories of one vehicle (see the module docstring)."""

    def __init__(self, config: FswConfig, vehicle: Vehicle, gravity, onboard_map: OnboardMap, n: int) -> None:
        self.cfg = config
        self.vehicle = vehicle
        self.gravity = gravity
        self.map = onboard_map
        self.n = n
        self.nav = NavigationFilter(config.navigation, gravity, onboard_map, n)
        self.allocator = ThrottleAllocator(vehicle)
        self.n_engines = len(vehicle.engines)
        self.laws: dict[int, GuidanceLaw] = {BRAKING: config.braking, TERMINAL: config.terminal}
        if config.approach is not None:
            self.laws[APPROACH] = config.approach
        for law in self.laws.values():
            law.reset(n)
        self.phase = np.full(n, COAST, dtype=np.int64)
        self.enabled = np.ones((n, self.n_engines), bool)
        self.cut = np.zeros((n, len(config.cutoffs)), bool)
        self.believed_down = np.zeros(n, bool)  # the estimated altitude has reached 0 m
        self.mass_kg = np.zeros(n)
        self.commands = Commands.off(n, self.n_engines)
        self.t_s = 0.0
        self.events: list[FswEvent] = []
        self.t_go_s = np.full(n, np.nan)
        self.thrust_fraction = np.zeros(n)
        self.site_east, self.site_north, self.site_up = (
            dcm_mcmf_to_enu(config.site_lat_rad, config.site_lon_rad)[k] for k in range(3)
        )
        self._site_basis = np.stack((self.site_east, self.site_north, self.site_up))  # rows
        self._cos_tilt = math.cos(math.radians(config.max_tilt_deg))
        self._sin_tilt = math.sqrt(max(0.0, 1.0 - self._cos_tilt * self._cos_tilt))
        self._total_max_thrust_n = vehicle.total_max_thrust_n
        # the believed inertia, as MassProperties.inertia: (dry mass, capacity, dry, full − dry)
        m = vehicle.mass
        dry = np.asarray(m.inertia_dry_kgm2, dtype=float)
        span = np.asarray(m.inertia_full_kgm2, dtype=float) - dry
        self._inertia_model = (m.dry_mass_kg, max(m.propellant_capacity_kg, 1e-300), dry, span)
        att = config.attitude
        self._pointing_gains = (att.k_att, att.k_rate, float(np.radians(att.max_rate_deg_s)))

    # ------------------------------------------------------------------ set-up
    def start(self, t_s: float, r_mci: Array, v_mci: Array, q_body_to_mci: Array, mass_kg: Array) -> None:
        """Initial uploaded state and mass (what the ground knows at the start)."""
        self.t_s = float(t_s)
        self.nav.initialize(t_s, r_mci, v_mci, q_body_to_mci)
        self.mass_kg = np.array(np.broadcast_to(mass_kg, (self.n,)), dtype=float)

    # ------------------------------------------------------------------ estimates
    @property
    def phase_names(self) -> NDArray[np.str_]:
        """Each row's phase by name (N,)."""
        return phase_names(self.phase)

    def site_state(self) -> tuple[Array, Array, Array]:
        """Estimated position, velocity and gravity in the site frame (origin on the believed surface)."""
        t = self.nav.t
        cfg = self.cfg
        h_site = self.nav.believed_terrain_m(
            np.full(self.n, cfg.site_lat_rad), np.full(self.n, cfg.site_lon_rad)
        )
        origin = llh_to_mcmf(cfg.site_lat_rad, cfg.site_lon_rad, h_site)
        r_mcmf = mci_to_mcmf(self.nav.r_mci, t)
        v_mcmf = velocity_mci_to_mcmf(self.nav.r_mci, self.nav.v_mci, t)
        g_mcmf = mci_to_mcmf(self.gravity.acceleration(self.nav.r_mci), t)
        basis = (self.site_east, self.site_north, self.site_up)

        def to_site(a: Array) -> Array:
            return np.stack([a @ e for e in basis], axis=-1)

        return to_site(r_mcmf - origin), to_site(v_mcmf), to_site(g_mcmf)

    def altitude_m(self) -> Array:
        """Estimated height above the believed terrain directly below [m]."""
        return self.nav.altitude_m()

    def expected_touchdown_s(self, rows: Mask | None = None) -> float:
        """When the last of ``rows`` (N,) (default: all) expects to touch down [s], by this software's belief.

        A row flying a law that knows its descent time (``descent_time_s``: the vertical descent's schedule)
        takes it from its estimated altitude; a row flying a law with a time to go (the braking laws, to
        their gate) takes that plus the terminal law's descent time from ``terminal_altitude_m``. Rows with
        neither (coasting before ignition) are left out; NaN when no row has an estimate. For progress
        displays: it reads the last tick's state and changes nothing."""
        rows = np.ones(self.n, bool) if rows is None else np.asarray(rows, bool)
        remaining = np.full(self.n, np.nan)
        altitude = None
        terminal = self.laws.get(TERMINAL)
        after_gate = math.nan
        if hasattr(terminal, "descent_time_s") and self.cfg.terminal_altitude_m > 0.0:
            after_gate = float(terminal.descent_time_s(np.array([self.cfg.terminal_altitude_m]))[0])
        for k, law in self.laws.items():
            mine = rows & (self.phase == k)
            if not mine.any():
                continue
            if hasattr(law, "descent_time_s"):
                altitude = self.altitude_m() if altitude is None else altitude
                remaining[mine] = law.descent_time_s(altitude[mine])
            else:
                remaining[mine] = self.t_go_s[mine] + after_gate
        known = remaining[np.isfinite(remaining)]
        return self.t_s + float(known.max()) if known.size else math.nan

    def surface_speeds(self) -> tuple[Array, Array]:
        """Estimated (vertical, horizontal) speed relative to the surface [m/s], vertical up positive."""
        r = self.nav.r_mci
        v = velocity_mci_to_mcmf(r, self.nav.v_mci, self.nav.t)
        up = mci_to_mcmf(r, self.nav.t)
        up = up / norm(up)[:, None]
        vz = dot(v, up)
        return vz, norm(v - vz[:, None] * up)

    # ------------------------------------------------------------------ the tick
    def _event(self, name: str, runs: Mask) -> None:
        if runs.any():
            self.events.append(FswEvent(self.t_s, name, runs.copy()))

    def drain_events(self) -> list[FswEvent]:
        out, self.events = self.events, []
        return out

    def _navigate(self, measurements: Sequence[Measurement]) -> None:
        order = (ImuMeasurement, StarTrackerMeasurement, AltimeterMeasurement, VelocimeterMeasurement)
        for kind in order:
            for m in measurements:
                if not isinstance(m, kind):
                    continue
                if isinstance(m, ImuMeasurement):
                    self.nav.propagate(m, free_fall=self.phase == COAST)
                elif isinstance(m, StarTrackerMeasurement):
                    self.nav.update_attitude(m)
                else:
                    ev = (
                        self.nav.update_altimeter(m)
                        if isinstance(m, AltimeterMeasurement)
                        else self.nav.update_velocimeter(m)
                    )
                    self._event(f"{m.sensor}_first_valid", ev.first_valid)
                    self._event(f"{m.sensor}_rejected", ev.rejected)
                    self._event(f"{m.sensor}_abandoned", ev.abandoned)
                    self._event(f"{m.sensor}_readmitted", ev.readmitted)

    def _sequence(self, t_s: float, complete: Mask, altitude: Array) -> bool:
        """Phase switches of this tick (see the module docstring); True when some row switched."""
        cfg = self.cfg
        old = self.phase
        ignite = t_s >= cfg.ignition_time_s - 1e-9
        after_braking = APPROACH if cfg.approach is not None else TERMINAL
        self.phase, entered = _kernels.sequence_rows(
            old, ignite, complete, altitude, cfg.terminal_altitude_m, after_braking
        )
        if entered[BRAKING]:  # ignition: only coasting rows enter braking
            self.nav.end_accel_calibration(old == COAST)
        for k in (BRAKING, APPROACH, TERMINAL):
            if entered[k]:
                self._event(f"phase:{PHASES[k]}", (self.phase == k) & (old != k))
        return bool(entered.any())

    def local_state(self) -> tuple[Array, Array, Array, tuple[Array, Array, Array]]:
        """Estimated state in the local east-north-up frame below the vehicle: r = (0, 0, altitude above the
        believed terrain), v and g in local axes, and the basis (east, north, up) in MCMF."""
        return self._local_state(self._position_estimate()[2])

    def _position_estimate(self) -> tuple[Array, Array, Array]:
        """Estimated latitude, longitude [rad] and altitude above the believed terrain below [m]."""
        lat, lon, h = self.nav.llh()
        return lat, lon, h - self.nav.believed_terrain_m(lat, lon)

    def _local_state(self, altitude: Array) -> tuple[Array, Array, Array, tuple[Array, Array, Array]]:
        """:meth:`local_state` at this tick's estimate, ``altitude`` (N,) [m] above the believed terrain (the
        basis from the estimated position itself: the sines and cosines of its latitude and longitude
        without the angles)."""
        theta = rotation_angle(self.nav.t)
        cos_t, sin_t = float(np.cos(theta)), float(np.sin(theta))
        r_mci = self.nav.r_mci
        g_mci = self.gravity.acceleration(r_mci)
        v, g, east, north, up = _kernels.local_state_rows(
            r_mci,
            self.nav.v_mci,
            g_mci,
            OMEGA_MOON,
            cos_t,
            sin_t,
            *_kernels.enu_trig_rows(r_mci, cos_t, sin_t),
        )
        r = np.zeros((self.n, 3))
        r[:, 2] = altitude
        return r, v, g, (east, north, up)

    def _guidance(self, t_s: float, frames: dict[str, tuple]) -> tuple[Array, Mask]:
        """Thrust acceleration (N, 3) in MCMF axes and each row's law-complete flag.

        A law works in the site frame unless it has ``frame = "local"`` (the gravity turn and the vertical
        descent fly relative to the ground below, which is what they are about far from the site too).
        ``frames`` holds this tick's estimate (``"llh"``: lat, lon, altitude) and the states computed from
        it, on first use: most ticks fly one kind of law.
        """
        a = np.zeros((self.n, 3))
        complete = np.zeros(self.n, bool)
        t_go = np.full(self.n, np.nan)
        for k, law in self.laws.items():
            rows = self.phase == k
            if k == BRAKING:
                rows = rows | (self.phase == COAST)  # coast: slew to the braking attitude
            idx = np.flatnonzero(rows)
            if idx.size == 0:
                continue
            sel = slice(None) if idx.size == self.n else idx  # every row: views, no gathers
            extra = {}
            if getattr(law, "uses_thrust_capability", False):
                capacity = self.allocator.capacity(self.enabled[sel])
                extra["a_max_mps2"] = capacity / np.maximum(self.mass_kg[sel], 1e-9)
            if getattr(law, "frame", "site") == "local":
                if "local" not in frames:
                    frames["local"] = self._local_state(frames["llh"][2])
                r, v, g, basis = frames["local"]
                if idx.size == self.n:
                    cmd = law.command(t_s, r, v, g, **extra)
                else:
                    cmd = law.command(t_s, r[idx], v[idx], g[idx], **extra)
                _kernels.local_to_mcmf(np.asarray(cmd.a_thrust_site, dtype=float), idx, *basis, a)
            else:
                if "site" not in frames:
                    frames["site"] = self.site_state()
                r, v, g = frames["site"]
                cmd = law.command(t_s, r[idx], v[idx], g[idx], **extra)
                a[sel] = cmd.a_thrust_site @ self._site_basis
            complete[sel] = cmd.complete
            t_go[sel] = cmd.t_go_s
        self.t_go_s = t_go
        return a, complete

    def _control(self, a_mcmf: Array, altitude: Array) -> Commands:
        theta = rotation_angle(self.nav.t)  # MCMF → MCI below, as frames.mcmf_to_mci
        thrust, torque = _kernels.control_rows(
            a_mcmf,
            float(np.cos(theta)),
            -float(np.sin(theta)),
            self.nav.r_mci,
            self.nav.q,
            self.nav.w,
            _THRUST_AXIS_BODY,
            self.mass_kg,
            self.phase == COAST,
            self._cos_tilt,
            self._sin_tilt,
            *self._inertia_model,
            QUAT_CONJUGATE,
            ATAN2,
            *self._pointing_gains,
        )
        for j, c in enumerate(self.cfg.cutoffs):
            now, some = _kernels.latch_below(self.cut[:, j], self.phase, altitude, c.altitude_m)
            for e in c.engines:
                self.enabled[:, e] &= ~self.cut[:, j]
            if some:
                self._event(f"engine_cutoff:{c.label}", now)
        cmd = self.allocator.allocate(thrust, self.enabled)
        cmd.torque_body_nm = torque
        self.thrust_fraction = self.allocator.thrust_of(cmd) / self._total_max_thrust_n
        return cmd

    def step(self, t_s: float, measurements: Sequence[Measurement]) -> Commands:
        """One flight-software tick at ``t_s`` [s]: measurements in, commands out (held to the next tick)."""
        dt = t_s - self.t_s
        if dt > 0.0:  # propellant gauging: commanded flow over the last interval
            self.mass_kg = self.mass_kg - dt * self.allocator.flow_of(self.commands)
        self.t_s = float(t_s)
        self._navigate(measurements)
        frames: dict[str, tuple] = {"llh": self._position_estimate()}
        altitude = frames["llh"][2]
        down, some = _kernels.latch_below(self.believed_down, self.phase, altitude, 0.0)
        if some:
            self._event("nav_altitude_zero", down)
        a_mcmf, complete = self._guidance(t_s, frames)
        if self._sequence(t_s, complete, altitude):  # rows that switched law fly the new one from this tick
            a_mcmf, _ = self._guidance(t_s, frames)  # (same estimate: the frames computed are kept)
        self.commands = self._control(a_mcmf, altitude)
        return self.commands
