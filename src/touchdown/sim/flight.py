"""Fly a scenario: the truth model, the sensors and the flight software in one closed loop.

This is the harness between truth and belief. At every flight-software tick it

1. turns the truth state into sensor measurements (IMU increments over the last tick from the true
   velocity change less gravity; star tracker, altimeter beams cast against the TRUE terrain, velocimeter
   at their own rates), applies the scenario's faults to them,
2. hands the measurements, and nothing else, to :class:`~touchdown.fsw.flight_software.FlightSoftware`,
3. passes the returned commands through the engine faults to the simulator, and
4. records truth and estimate side by side and logs events with both altitudes.

A run is fixed by (scenario, root seed, run index): every random draw comes from the run's key
(:func:`touchdown.noise.run_keys`), so a trajectory's result does not depend on the batch it flies in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from touchdown.errors import InputError
from touchdown.fsw.flight_software import FlightSoftware, phase_names
from touchdown.moon.constants import G_SURFACE
from touchdown.moon.frames import (
    QUAT_CONJUGATE,
    dcm_to_quat,
    dot,
    enu_basis,
    mci_to_mcmf,
    mcmf_to_llh,
    mcmf_to_mci,
    norm,
    quat_rotate,
    velocity_mci_to_mcmf,
)
from touchdown.moon.terrain.base import Terrain
from touchdown.noise import normal, run_keys, stream_id
from touchdown.scenario import build, schema
from touchdown.sensors.base import Measurement
from touchdown.sensors.faults import FaultInjector, Trigger, validate_targets
from touchdown.sim._kernels import imu_inputs_rows
from touchdown.sim.initial import make_state
from touchdown.sim.simulator import SimResult, Simulator, StepHook
from touchdown.vehicle.commands import Commands
from touchdown.vehicle.dynamics import M, Q, R, V
from touchdown.vehicle.model import Vehicle

Array = NDArray[np.float64]


@dataclass(frozen=True)
class PerRun:
    """Values that differ between the runs of one batch (a campaign's dispersions), one row per run.

    ``initial_offset_enu`` (N, 6) moves the TRUE start: position east, north, up [m] and velocity east,
    north, up [m/s] in the axes at the start point (the ground's uploaded state follows it, with the
    scenario's tracking error). ``propellant_kg`` (N,) replaces the scenario's load (the flight software
    knows each run's load). ``fault_enabled[i]`` (N,) bool: which runs carry fault i; ``fault_params[i]``:
    field → (N,) values of fault i (``touchdown.sensors.faults.PER_RUN_FIELDS``).
    """

    initial_offset_enu: Array | None = None
    propellant_kg: Array | None = None
    fault_enabled: dict[int, NDArray[np.bool_]] = field(default_factory=dict)
    fault_params: dict[int, dict[str, Array]] = field(default_factory=dict)


@dataclass
class FlightResult:
    """What N flights of one scenario did."""

    sim: SimResult
    events: list[
        list[dict]
    ]  # per run: {t_s, name, true_altitude_m, nav_altitude_m, vertical/horizontal speed}
    telemetry: dict[str, Array] = field(default_factory=dict)  # (T, N) arrays at the record period
    terrain_description: str = ""
    map_description: str = ""
    hover_time_s: Array | None = None  # (N,) hover the propellant left buys at touchdown [s]
    upload_error_enu: Array | None = None  # (N, 6) the uploaded state's error at the start, E/N/U [m, m/s]

    @property
    def outcomes(self) -> list[str]:
        return self.sim.outcomes


class Flight:
    """A scenario's truth and flight software for the runs ``run_indices`` of root seed ``seed``."""

    def __init__(
        self,
        sc: schema.Scenario,
        *,
        seed: int = 0,
        run_indices: NDArray[np.int64] | None = None,
        data_dir: str | None = None,
        record: bool = True,
        terrain: Terrain | None = None,
        onboard_map: Terrain | None = None,
        per_run: PerRun | None = None,
    ) -> None:
        """``terrain`` replaces the scenario's true terrain (a test landscape, a user's own DEM), and
        ``onboard_map`` the flight software's map built from it (a campaign reuses both between batches);
        ``per_run``: values that differ between the runs (dispersions)."""
        self.sc = sc
        self.runs = np.arange(1) if run_indices is None else np.asarray(run_indices, dtype=np.int64)
        self.n = n = self.runs.size
        self.per_run = per_run if per_run is not None else PerRun()
        self.keys = run_keys(seed, self.runs)
        self.terrain = terrain if terrain is not None else build.truth_terrain(sc, data_dir)
        self.map = onboard_map if onboard_map is not None else build.onboard_map(sc, self.terrain, data_dir)
        self.gravity = build.gravity_model(sc)
        self.vehicle = build.true_vehicle(sc)
        self.fsw_vehicle = build.believed_vehicle(sc)
        self.imu = build.imu(sc)
        self.altimeter = build.altimeter(sc)
        self.velocimeter = build.velocimeter(sc)
        self.star_tracker = build.star_tracker(sc)
        self.fault_list = build.faults(sc)
        channels = build.sensor_channels(self.imu, self.star_tracker, self.altimeter, self.velocimeter)
        validate_targets(self.fault_list, channels, [e.name for e in self.vehicle.engines])
        pr = self.per_run
        self.faults = FaultInjector(
            self.fault_list,
            n,
            [pr.fault_enabled.get(i) for i in range(len(self.fault_list))],
            [pr.fault_params.get(i) for i in range(len(self.fault_list))],
        )
        self._thrust_faults = any(f.kind == "thrust_loss" for f in self.fault_list)
        lat, lon = build.site_rad(sc)
        self.site = (lat, lon)
        self.dt_fsw = 1.0 / sc.fsw.rate_hz
        self.sim = Simulator(
            self.vehicle,
            self.gravity,
            self.terrain,
            target_lat=lat,
            target_lon=lon,
            dt_s=sc.sim.dt_s,
            command_period_s=self.dt_fsw,
            record_period_s=sc.sim.record_period_s if record else None,
            event_hook=self._sim_event,
        )
        self.fsw = FlightSoftware(
            build.fsw_config(sc, self.fsw_vehicle), self.fsw_vehicle, build.gravity_model(sc), self.map, n
        )
        self.record = record
        self.record_every = max(1, round(sc.sim.record_period_s / self.dt_fsw))
        self._every = {
            "st": max(1, round(sc.fsw.rate_hz / self.star_tracker.params.rate_hz)),
            "alt": 0
            if self.altimeter is None
            else max(1, round(sc.fsw.rate_hz / self.altimeter.params.rate_hz)),
            "vel": 0
            if self.velocimeter is None
            else max(1, round(sc.fsw.rate_hz / self.velocimeter.params.rate_hz)),
        }
        self.events: list[list[dict]] = [[] for _ in range(n)]
        # per fault (F, N): onset logged, end logged
        self._fault_logged = np.zeros((2, len(self.fault_list), n), dtype=bool)
        self.telemetry: dict[str, list[Array]] = {}

    # ------------------------------------------------------------------ truth figures
    def true_altitude(self, t: float | Array, x: Array) -> Array:
        """Height of the centre of mass above the true terrain directly below [m]."""
        return self.sim.com_clearance(t, x)

    def true_speeds(self, t: float | Array, x: Array) -> tuple[Array, Array]:
        """Surface-relative (vertical up, horizontal) speed [m/s]."""
        v = velocity_mci_to_mcmf(x[:, R], x[:, V], t)
        up = mci_to_mcmf(x[:, R], t)
        up = up / norm(up)[:, None]
        vz = dot(v, up)
        return vz, norm(v - vz[:, None] * up)

    def _figures(self, t: Array, runs: NDArray[np.intp], x: Array, name: str) -> list[dict]:
        alt = self.true_altitude(t, x)
        vz, vh = self.true_speeds(t, x)
        nav_alt = self.fsw.altitude_m()[runs]
        if name.startswith("touchdown"):  # kept at the run's last tick in flight, if the batch flew on
            nav_alt = np.where(np.isnan(self._nav_alt[runs]), nav_alt, self._nav_alt[runs])
        lat, lon, _ = mcmf_to_llh(mci_to_mcmf(x[:, R], t))
        tilt = np.degrees(np.arccos(np.clip(dot(self._body_z(t, x), self._up(t, x)), -1.0, 1.0)))
        return [
            {
                "t_s": float(t[i]),
                "name": name,
                "true_altitude_m": float(alt[i]),
                "nav_altitude_m": float(nav_alt[i]),
                "vertical_speed_mps": float(vz[i]),
                "horizontal_speed_mps": float(vh[i]),
                "tilt_deg": float(tilt[i]),
                "lat_deg": float(np.degrees(lat[i])),
                "lon_deg": float(np.degrees(lon[i])),
            }
            for i in range(len(runs))
        ]

    def _log_event(self, name: str, t: Array, runs: NDArray[np.intp], x: Array) -> list[dict]:
        """Append event ``name`` with its figures to each run in ``runs`` (states ``x``, one per run)."""
        figs = self._figures(t, runs, x, name)
        for r, f in zip(runs, figs, strict=True):
            self.events[int(r)].append(f)
        return figs

    def _sim_event(self, name: str, t: Array, runs: NDArray[np.intp], x: Array) -> list[dict]:
        figs = self._log_event(name, np.asarray(t, float), runs, x)
        if name.startswith("touchdown"):
            for f in figs:
                f["true_altitude_m"] = 0.0
        return figs

    # ------------------------------------------------------------------ the loop
    def initial_state(self) -> Array:
        r, v = build.initial_rv(self.sc)
        # attitude: thrust axis (body +z) against the velocity, body x along the radius (pre-braking)
        z = -v / np.linalg.norm(v)
        x_axis = r - np.dot(r, z) * z
        x_axis /= np.linalg.norm(x_axis)
        y_axis = np.cross(z, x_axis)
        q = dcm_to_quat(np.stack((x_axis, y_axis, z), axis=-1))
        pr = self.per_run
        prop = build.propellant_kg(self.sc, self.vehicle) if pr.propellant_kg is None else pr.propellant_kg
        n = self.n
        r_n, v_n = np.broadcast_to(r, (n, 3)), np.broadcast_to(v, (n, 3))
        if pr.initial_offset_enu is not None:  # MCMF = MCI at t = 0
            lat, lon, _ = mcmf_to_llh(r[None, :])
            enu = np.stack(enu_basis(lat, lon), axis=1)[0]  # (3 axes, 3 MCMF)
            d = np.asarray(pr.initial_offset_enu, float)
            r_n = r_n + sum(d[:, k, None] * enu[k] for k in range(3))
            v_n = v_n + sum(d[:, 3 + k, None] * enu[k] for k in range(3))
        x0 = make_state(self.vehicle, r_n, v_n, np.broadcast_to(q, (n, 4)), propellant_kg=prop)
        clearance = self.true_altitude(0.0, x0)
        k = int(np.argmin(clearance))
        if clearance[k] <= 0.0:
            run = "" if n == 1 else f" (run {int(self.runs[k])})"
            raise InputError(
                f"the start{run} is {-clearance[k]:.0f} m below the terrain under it; raise altitude_m",
                where=f"initial ({self.sc.initial.kind})",
            )
        return x0

    def _uploaded_state(self, x0: Array) -> tuple[Array, Array]:
        """The ground's state vector at the start: truth plus tracking error drawn per run, plus the
        scenario's fixed error (``initial_position_error_m``, east/north/up at the start).

        Sets ``upload_error_enu`` (N, 6): that error in east/north/up axes at each run's start
        (position [m], velocity [m/s]), a figure a campaign reports and ranks."""
        nav = self.sc.fsw.navigation
        dr = nav.initial_position_sigma_m * normal(self.keys, stream_id("nav.init.position"), 0, (3,))
        dv = nav.initial_velocity_sigma_mps * normal(self.keys, stream_id("nav.init.velocity"), 0, (3,))
        lat, lon, _ = mcmf_to_llh(mci_to_mcmf(x0[:, R], 0.0))
        enu = np.stack(enu_basis(lat, lon), axis=1)  # (N, 3 axes, 3 MCMF)
        if any(nav.initial_position_error_m):
            fixed = np.einsum("i,kij->kj", np.asarray(nav.initial_position_error_m, float), enu)
            dr = dr + mcmf_to_mci(fixed, 0.0)
        # MCI = MCMF at t = 0
        self.upload_error_enu = np.concatenate(
            (np.einsum("kij,kj->ki", enu, dr), np.einsum("kij,kj->ki", enu, dv)), axis=1
        )
        return x0[:, R] + dr, x0[:, V] + dv

    def run(self, progress: StepHook | None = None) -> FlightResult:
        """Fly the batch to touchdown (or ``sim.t_max_s``). ``progress(t, flying)``: called after every truth
        step with the time reached [s] and the runs still flying."""
        sc = self.sc
        x0 = self.initial_state()
        r_up, v_up = self._uploaded_state(x0)
        self.fsw.start(0.0, r_up, v_up, x0[:, Q], x0[:, M])
        imu_state = self.imu.initial_state(self.keys)
        alt_state = None if self.altimeter is None else self.altimeter.initial_state(self.keys)
        vel_state = None if self.velocimeter is None else self.velocimeter.initial_state(self.keys)
        st_state = self.star_tracker.initial_state(self.keys)
        prev: dict[str, Array | float] = {}
        self._nav_alt = np.full(self.n, np.nan)  # estimated altitude at contact, once a run has landed
        self._flying = np.ones(self.n, dtype=bool)
        names = [e.name for e in self.vehicle.engines]

        def source(t: float, x: Array) -> Commands:
            k = round(t / self.dt_fsw)
            # computed only if a fault asks: the true altitude (x is never written: CommandSource) and the
            # phases of this tick's start
            codes = self.fsw.phase.copy()
            trig = Trigger(t, altitude_m=lambda: self.true_altitude(t, x), phase=lambda: phase_names(codes))
            meas: list[Measurement] = []
            g = self.gravity.acceleration(x[:, R])  # at this tick's truth: the next interval's start too
            if prev:
                f_body, w_body = self._imu_inputs(prev["t"], prev["x"], prev["g"], t, x, g)  # type: ignore[arg-type]
                m = self.imu.measure(
                    imu_state,
                    t,
                    f_body,
                    w_body,
                    noise_scale_accel=self.faults.noise_scale(self.imu.name, trig, "accel"),
                    noise_scale_gyro=self.faults.noise_scale(self.imu.name, trig, "gyro"),
                )
                meas.append(self.faults.apply(m, trig))
            if k % self._every["st"] == 0:
                ns = self.faults.noise_scale(self.star_tracker.name, trig)
                meas.append(
                    self.faults.apply(self.star_tracker.measure(st_state, t, x, noise_scale=ns), trig)
                )
            if self.altimeter is not None and k % self._every["alt"] == 0:
                ns = self.faults.noise_scale(self.altimeter.name, trig)
                m = self.altimeter.measure(alt_state, t, x, self.terrain, noise_scale=ns)
                meas.append(self.faults.apply(m, trig))
            if self.velocimeter is not None and k % self._every["vel"] == 0:
                ns = self.faults.noise_scale(self.velocimeter.name, trig)
                m = self.velocimeter.measure(vel_state, t, x, self.terrain, noise_scale=ns)
                meas.append(self.faults.apply(m, trig))
            self._keep_contact_nav_altitude()
            cmd = self.fsw.step(t, meas)
            throttle, on = self.faults.engine_commands(cmd.throttle, cmd.engine_on, names, trig)
            self._log_fsw_events(t, x)
            self._log_fault_events(t, x)
            if self.record and k % self.record_every == 0:
                self._record(t, x, trig.altitude_m)
            prev["t"], prev["x"], prev["g"] = t, x, g  # the simulator never writes to x (CommandSource)
            scale = self.faults.thrust_scale(names, trig) if self._thrust_faults else None
            return Commands(throttle, on, cmd.torque_body_nm, scale)

        res = self.sim.run(x0, source, t_max_s=sc.sim.t_max_s, on_step=progress)
        for i, ev in enumerate(self.events):
            # a run that touched down stays in its batch while others fly: its flight software keeps
            # ticking, but what it logs after the contact is not part of the flight
            ev[:] = [e for e in ev if e["t_s"] <= res.t_end_s[i]]
            ev.sort(key=lambda e: e["t_s"])
        telemetry = {k: np.stack(v) for k, v in self.telemetry.items()}
        hover = hover_time_s(self.vehicle, res.touchdown.propellant_remaining_kg)
        return FlightResult(
            res,
            self.events,
            telemetry,
            self.terrain.description,
            self.map.description,
            hover,
            self.upload_error_enu,
        )

    def expected_end_s(self) -> float:
        """When the batch's last run in flight expects to touch down [s] (its flight software's estimate:
        :meth:`FlightSoftware.expected_touchdown_s`), NaN while none can tell; for progress reports."""
        return self.fsw.expected_touchdown_s(self.sim.active)

    def _keep_contact_nav_altitude(self) -> None:
        """Before the flight software steps again: keep the estimated altitude of runs that touched down
        since the last tick (its state is still that of their last tick in flight). The rest of a batch
        flies on and the flight software keeps ticking for every row, so touchdown events must not read
        it later."""
        landed = self._flying & ~self.sim.active
        if landed.any():
            self._nav_alt[landed] = self.fsw.altitude_m()[landed]
            self._flying &= ~landed

    def _imu_inputs(
        self, t0: float, x0: Array, g0: Array, t1: float, x1: Array, g1: Array
    ) -> tuple[Array, Array]:
        """Mean specific force and body rate over (t0, t1] from the truth states at both ends and the
        gravitational accelerations there, g0 and g1 (N, 3) [m/s²]."""
        return imu_inputs_rows(x0, g0, x1, g1, t1 - t0, QUAT_CONJUGATE)

    def _log_fsw_events(self, t: float, x: Array) -> None:
        for ev in self.fsw.drain_events():
            runs = np.flatnonzero(ev.runs)
            self._log_event(ev.name, np.full(runs.size, t), runs, x[runs])

    def _log_fault_events(self, t: float, x: Array) -> None:
        """Truth-side events ``fault:<kind>:<target>`` at a fault's onset, ``fault_cleared:…`` at its end."""
        faults = zip(self.fault_list, self.faults.onsets(), self.faults.durations(), strict=True)
        for i, (f, onset, duration) in enumerate(faults):
            started = ~np.isnan(onset)
            ended = started & (t - np.where(started, onset, t) >= duration - 1e-9)
            for j, (prefix, now) in enumerate((("fault", started), ("fault_cleared", ended))):
                runs = np.flatnonzero(now & ~self._fault_logged[j, i])
                if runs.size == 0:
                    continue
                self._fault_logged[j, i, runs] = True
                self._log_event(f"{prefix}:{f.kind}:{f.target}", np.full(runs.size, t), runs, x[runs])

    def _record(self, t: float, x: Array, true_alt: Array) -> None:
        fsw = self.fsw
        vz, vh = self.true_speeds(t, x)
        nvz, nvh = fsw.surface_speeds()
        lat, lon, _ = mcmf_to_llh(mci_to_mcmf(x[:, R], t))
        nlat, nlon, _ = fsw.nav.llh()
        rows = {
            "t_s": np.full(self.n, t),
            "true_altitude_m": true_alt,
            "nav_altitude_m": fsw.altitude_m(),
            "true_vertical_speed_mps": vz,
            "nav_vertical_speed_mps": nvz,
            "true_horizontal_speed_mps": vh,
            "nav_horizontal_speed_mps": nvh,
            "true_lat_deg": np.degrees(lat),
            "true_lon_deg": np.degrees(lon),
            "nav_lat_deg": np.degrees(nlat),
            "nav_lon_deg": np.degrees(nlon),
            "propellant_kg": x[:, M] - self.vehicle.mass.dry_mass_kg,
            "nav_propellant_kg": fsw.mass_kg - self.fsw_vehicle.mass.dry_mass_kg,
            "thrust_fraction": fsw.thrust_fraction,
            "t_go_s": fsw.t_go_s,
            "phase_index": fsw.phase.astype(float),
            "altimeter_height_m": fsw.nav.last_altimeter_height_m,
            "altimeter_accepted": fsw.nav.last_altimeter_accepted.astype(float),
            "map_offset_m": fsw.nav.x[:, 6],
            **{f"nav_site_{a}_m": c for a, c in zip("enu", fsw.site_state()[0].T, strict=True)},
            "tilt_deg": np.degrees(np.arccos(np.clip(dot(self._body_z(t, x), self._up(t, x)), -1.0, 1.0))),
        }
        for name, value in rows.items():
            self.telemetry.setdefault(name, []).append(np.array(value, dtype=float))

    @staticmethod
    def _body_z(t: float, x: Array) -> Array:
        return quat_rotate(x[:, Q], np.broadcast_to([0.0, 0.0, 1.0], (x.shape[0], 3)))

    @staticmethod
    def _up(t: float, x: Array) -> Array:
        return x[:, R] / norm(x[:, R])[:, None]


def hover_time_s(vehicle: Vehicle, propellant_kg: Array) -> Array:
    """Hover time [s] that ``propellant_kg`` (N,) buys at lunar surface gravity with all engines' effective
    exhaust velocity vₑ (total thrust / total flow): t = (vₑ/g) ln((m_dry + m_p)/m_dry). NaN stays NaN."""
    ve = vehicle.effective_exhaust_velocity_mps
    dry = vehicle.mass.dry_mass_kg
    return ve / G_SURFACE * np.log((dry + np.asarray(propellant_kg, float)) / dry)
