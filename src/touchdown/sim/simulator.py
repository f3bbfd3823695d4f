"""The batch simulation loop: fixed-step RK4 over N trajectories, commands held between ticks,
events located within the step.

Events handled here are the ones the truth model owns:

``propellant_exhausted``  the tanks run dry: the instant is located within the step, the mass is set
                          to the dry mass exactly and thrust stops from that instant on;
``touchdown``             first contact of any footpad or body point with the terrain, located within the
                          step; the trajectory stops there and is judged (``sim.touchdown``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from touchdown.moon.constants import R_MOON
from touchdown.moon.frames import mci_to_mcmf, mcmf_to_llh, norm, quat_rotate, rotation_angle
from touchdown.moon.terrain.base import Terrain
from touchdown.moon.terrain.kernels import ATAN2
from touchdown.sim._kernels import NO_GRID, NO_TABLE, low_rows, screen_rows
from touchdown.sim.events import locate_crossing
from touchdown.sim.touchdown import IN_FLIGHT, OUTCOMES, TouchdownReport, judge_touchdown
from touchdown.vehicle.commands import Commands
from touchdown.vehicle.dynamics import ETA0, M, Q, R, RigidBodyDynamics, V
from touchdown.vehicle.model import Vehicle

Array = NDArray[np.float64]
CommandSource = Callable[[float, Array], Commands]
"""Called at each flight-software tick with (t [s], x): x is the (N, n) truth state at t (rows of
trajectories that already touched down are frozen). It returns the commands held until the next tick.
The simulator never writes to an x it has handed over, so a source may keep it without a copy. Only the
truth-side harness (sensor models, ``sim.flight``) may look at x; flight software gets measurements."""

CONTACT_TOL_M = 1e-6  # clearance at which a located contact is accepted [m]
PROPELLANT_TOL_KG = 1e-12  # mass residual at which a located exhaustion is accepted [kg]

#: Bands of equal sin(latitude) over which the ground screen bounds the terrain's height (a DEM's).
TERRAIN_TOP_BANDS = 4096


EventHook = Callable[[str, Array, NDArray[np.intp], Array], list[dict]]
"""Called as hook(name, t (k,), runs (k,), x (k, n)) when the truth model logs an event; returns one dict of
figures per event (stored in ``EventLog.figures``)."""

StepHook = Callable[[float, int], None]
"""Called as hook(t [s], flying) after every truth step: the time reached and how many trajectories of the
batch are still flying (progress reports; it must not touch the state)."""


@dataclass
class EventLog:
    """Events of all trajectories, in the order they happened within each trajectory.

    ``figures`` holds, per event, the dict an :data:`EventHook` (or the caller of ``add``) attached to it.
    """

    t_s: list[float] = field(default_factory=list)
    run: list[int] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)

    def add(self, t: Array, runs: NDArray[np.intp], name: str, figures: list[dict] | None = None) -> None:
        t, runs = np.atleast_1d(t), np.atleast_1d(runs)
        self.t_s.extend(float(v) for v in t)
        self.run.extend(int(v) for v in runs)
        self.name.extend([name] * runs.size)
        self.figures.extend(figures if figures is not None else [{} for _ in range(runs.size)])

    def for_run(self, k: int) -> list[tuple[float, str]]:
        """(t, name) of the events of trajectory k."""
        return [(t, n) for t, r, n in zip(self.t_s, self.run, self.name, strict=True) if r == k]


@dataclass
class SimResult:
    """What a batch of trajectories did."""

    t_end_s: Array  # (N,) time each trajectory ended (contact time, or the end of the run)
    x_end: Array  # (N, n) truth state at t_end
    touchdown: TouchdownReport  # (N,) figures; NaN and ``in_flight`` where no contact happened
    events: EventLog
    history_t_s: Array | None = None  # (T,) recording times
    history_x: Array | None = None  # (T, N, n) truth states (frozen after touchdown)

    @property
    def outcomes(self) -> list[str]:
        return self.touchdown.outcome_names()


class Simulator:
    """Flies N trajectories of one vehicle over one terrain in one gravity field.

    ``dt_s`` is the integration step; ``command_period_s`` (a multiple of it) the flight-software
    tick at which the command source is called; ``record_period_s`` the decimation of the recorded
    history (None: no history).
    """

    def __init__(
        self,
        vehicle: Vehicle,
        gravity,
        terrain: Terrain,
        *,
        target_lat: float,
        target_lon: float,
        dt_s: float = 0.01,
        command_period_s: float | None = None,
        record_period_s: float | None = None,
        event_hook: EventHook | None = None,
    ) -> None:
        self.vehicle = vehicle
        self.event_hook = event_hook
        self.terrain = terrain
        self.dynamics = RigidBodyDynamics(vehicle, gravity)
        self.target_lat = float(target_lat)
        self.target_lon = float(target_lon)
        self.dt = float(dt_s)
        self.cmd_every = _multiple(command_period_s, self.dt, "command_period_s")
        self.rec_every = (
            None if record_period_s is None else _multiple(record_period_s, self.dt, "record_period_s")
        )
        self.contact_points = vehicle.gear.contact_points_body_m
        self.reach_m = float(np.max(np.linalg.norm(self.contact_points, axis=1)))
        # terrain rise over the vehicle's reach assumed in the near-ground pre-check (capped: a DEM's
        # max_slope bound can be loose, e.g. LDEM_4's polar rows)
        self.slope_allowance = min(float(getattr(terrain, "max_slope", 2.0)), 2.0)
        self.dry_mass = vehicle.mass.dry_mass_kg
        # highest point of the terrain [m] when it knows one (skips ground checks high above it): per band of
        # latitude where the terrain offers it (a DEM), else one bound
        self.max_terrain_m = float(getattr(terrain, "max_height_m", math.inf))
        by_sine = getattr(terrain, "max_height_by_sine", None)
        top = by_sine(TERRAIN_TOP_BANDS) if by_sine is not None else np.array([self.max_terrain_m])
        self.terrain_top_m = np.ascontiguousarray(top, dtype=np.float64)
        # and per block of the grid where the terrain offers it (a DEM): the screen then flags a row only
        # near the ground below it, not near the highest mountain of its latitude band
        blocks = getattr(terrain, "max_height_blocks", None)
        self.top_blocks = (NO_TABLE, 1, NO_GRID) if blocks is None else blocks

    # ---------------------------------------------------------------------------------------------
    def clearance(self, t: float | Array, x: Array) -> tuple[Array, NDArray[np.intp]]:
        """Lowest height above the terrain of any contact point [m], and which point it is."""
        n, k = x.shape[0], self.contact_points.shape[0]
        q = np.repeat(x[:, None, Q], k, axis=1)
        p_mci = x[:, None, R] + quat_rotate(q, np.broadcast_to(self.contact_points, (n, k, 3)))
        tt = np.asarray(t, dtype=float)
        p_mcmf = mci_to_mcmf(p_mci, tt[:, None] if tt.ndim else tt)
        lat, lon, h = mcmf_to_llh(p_mcmf)
        c = h - self.terrain.height(lat, lon)
        j = np.argmin(c, axis=1)
        return np.take_along_axis(c, j[:, None], axis=1)[:, 0], j

    def com_clearance(self, t: float | Array, x: Array) -> Array:
        """Height of the centre of mass above the terrain directly below it [m]."""
        lat, lon, h = mcmf_to_llh(mci_to_mcmf(x[:, R], t))
        return h - self.terrain.height(lat, lon)

    def _near_ground(self, t: Array, x: Array, margin: Array) -> NDArray[np.bool_]:
        """``com_clearance(t, x) < margin`` (N,); rows higher than ``margin`` above the terrain's highest
        point in their latitude band (with 1 m to spare for rounding) are answered without a terrain query."""
        if not np.isfinite(self.max_terrain_m):
            return self.com_clearance(t, x) < margin
        theta = np.broadcast_to(rotation_angle(t), margin.shape)
        low = low_rows(
            x, margin, self.terrain_top_m, R_MOON, *self.top_blocks, np.cos(theta), np.sin(theta), ATAN2
        )
        maybe = np.flatnonzero(low)
        near = np.zeros(x.shape[0], dtype=bool)
        if maybe.size:
            near[maybe] = self.com_clearance(t[maybe], x[maybe]) < margin[maybe]
        return near

    def _step(self, t: float | Array, x: Array, cmd: Commands, prop_ok: NDArray[np.bool_], h) -> Array:
        """One RK4 step (attitude renormalised), commands held: ``RigidBodyDynamics.step``."""
        return self.dynamics.step(t, x, cmd, prop_ok, h)

    def _mass_margin_at(self, t0: Array, x0: Array, cmd: Commands, prop_ok: NDArray[np.bool_], h: Array):
        """g(θ) = propellant left after a fraction θ of each trajectory's segment [kg]."""

        def g(theta: Array, jj: NDArray[np.intp]) -> Array:
            x = self._step(t0[jj], x0[jj], cmd.take(jj), prop_ok[jj], theta * h[jj])
            return x[:, M] - self.dry_mass

        return g

    def _clearance_at(self, t0: Array, x0: Array, cmd: Commands, prop_ok: NDArray[np.bool_], h: Array):
        """g(θ) = lowest contact-point clearance after a fraction θ of each segment [m]."""

        def g(theta: Array, jj: NDArray[np.intp]) -> Array:
            hh = theta * h[jj]
            return self.clearance(t0[jj] + hh, self._step(t0[jj], x0[jj], cmd.take(jj), prop_ok[jj], hh))[0]

        return g

    # ---------------------------------------------------------------------------------------------
    def run(
        self,
        x0: Array,
        command_source: CommandSource,
        *,
        t0_s: float = 0.0,
        t_max_s: float,
        on_step: StepHook | None = None,
    ) -> SimResult:
        """Fly the trajectories whose initial truth states are the rows of ``x0`` until each touches
        down or ``t_max_s`` is reached. ``on_step(t, flying)``, when given, is called after every step with
        the time reached [s] and the number of trajectories still flying (progress reports)."""
        x = np.array(x0, dtype=float, copy=True)
        n = x.shape[0]
        dt = self.dt
        prop_ok = x[:, M] > self.dry_mass
        active = np.ones(n, dtype=bool)
        self.active = active  # which trajectories are still flying (the command source may look)
        t_end = np.full(n, np.nan)
        contact_pt = np.zeros(n, dtype=np.intp)
        events = EventLog()
        hist_t: list[float] = []
        hist_x: list[Array] = []
        n_steps = int(np.ceil((t_max_s - t0_s) / dt - 1e-9))
        cmd = command_source(t0_s, x)
        idx = np.arange(n)  # the active trajectories, and their commands (all of cmd while all fly)
        cmd_active = cmd
        k = 0
        while k < n_steps and idx.size:
            t = t0_s + k * dt
            if self.rec_every is not None and k % self.rec_every == 0:
                hist_t.append(t)
                hist_x.append(x.copy())
            if k % self.cmd_every == 0 and k > 0:
                cmd = command_source(t, x)
                cmd_active = cmd if idx.size == n else cmd.take(idx)
            # a new array each step, never the one the command source was handed (it may keep that one)
            if idx.size == n:
                x, landed, t_contact, which = self._advance(t, x, cmd_active, prop_ok, idx, events)
            else:
                x_new, landed, t_contact, which = self._advance(t, x[idx], cmd_active, prop_ok, idx, events)
                x = x.copy()
                x[idx] = x_new
            if landed is not None and landed.any():
                runs = idx[landed]
                active[runs] = False
                t_end[runs] = t_contact[landed]
                contact_pt[runs] = which[landed]
                idx = np.flatnonzero(active)
                cmd_active = cmd.take(idx)
            k += 1
            if on_step is not None:
                on_step(t0_s + k * dt, idx.size)
        t_stop = t0_s + k * dt
        if self.rec_every is not None and (not hist_t or hist_t[-1] != t_stop):
            hist_t.append(t_stop)
            hist_x.append(x.copy())
        t_end[active] = t_stop

        report = _empty_report(n)
        done = np.flatnonzero(~active)
        if done.size:
            sub = judge_touchdown(
                self.vehicle,
                self.terrain,
                self.target_lat,
                self.target_lon,
                t_end[done],
                x[done],
                contact_pt[done],
            )
            for name, arr in sub.__dict__.items():
                getattr(report, name)[done] = arr
            for o in np.unique(sub.outcome):
                sel = sub.outcome == o
                self._log(events, f"touchdown:{OUTCOMES[o]}", t_end[done][sel], done[sel], x[done][sel])
        return SimResult(
            t_end_s=t_end,
            x_end=x,
            touchdown=report,
            events=events,
            history_t_s=np.array(hist_t) if self.rec_every is not None else None,
            history_x=np.stack(hist_x) if self.rec_every is not None else None,
        )

    def _log(self, events: EventLog, name: str, t: Array, runs: NDArray[np.intp], x: Array) -> None:
        figures = None if self.event_hook is None else self.event_hook(name, t, runs, x)
        events.add(t, runs, name, figures)

    def _advance(
        self,
        t: float,
        x: Array,
        cmd: Commands,
        prop_ok_all: NDArray[np.bool_],
        idx: NDArray[np.intp],
        events: EventLog,
    ) -> tuple[Array, NDArray[np.bool_] | None, Array | None, NDArray[np.intp] | None]:
        """Advance the active trajectories ``idx`` by one step, splitting it at events: the new states, and
        which rows touched down, when and with which contact point (None: no row needed a closer look)."""
        m = x.shape[0]
        hs = np.full(m, self.dt)
        p = prop_ok_all[idx]
        x1 = self._step(t, x, cmd, p, self.dt)
        if not screen_rows(
            x1, p, hs, self.dry_mass, self.reach_m * (1.0 + self.slope_allowance), self.terrain_top_m,
            R_MOON, np.empty(m, dtype=bool), *self.top_blocks, *_cos_sin(t + self.dt), ATAN2,
        ):  # fmt: skip
            return x1, None, None, None  # nothing happened within the step (the common case)

        out = np.empty_like(x)
        landed = np.zeros(m, dtype=bool)
        t_contact = np.full(m, np.nan)
        which = np.zeros(m, dtype=np.intp)
        # a segment per trajectory: start state, start time, length; exhaustion splits a segment in two
        seg = np.arange(m)
        xs = x
        ts = np.full(m, t)
        c = cmd
        while seg.size:
            theta_ex = np.full(seg.size, np.inf)
            ex = p & (x1[:, M] - self.dry_mass <= 0.0)
            if ex.any():
                j = np.flatnonzero(ex)
                theta_ex[j] = locate_crossing(
                    self._mass_margin_at(ts[j], xs[j], c.take(j), p[j], hs[j]),
                    xs[j, M] - self.dry_mass,
                    x1[j, M] - self.dry_mass,
                    g_tol=PROPELLANT_TOL_KG,
                )

            theta_c = np.full(seg.size, np.inf)
            # only trajectories that could reach the ground within this step need the full contact check:
            # a contact point is at most `reach` from the CoM, over ground rising at most `slope` per metre
            speed = norm(x1[:, V])
            margin = self.reach_m * (1.0 + self.slope_allowance) + 2.0 * speed * hs + 1.0
            near = self._near_ground(ts + hs, x1, margin)
            if near.any():
                j = np.flatnonzero(near)
                c1, _ = self.clearance(ts[j] + hs[j], x1[j])
                hit = c1 <= 0.0
                if hit.any():
                    jh = j[hit]
                    c0, _ = self.clearance(ts[jh], xs[jh])
                    theta_c[jh] = locate_crossing(
                        self._clearance_at(ts[jh], xs[jh], c.take(jh), p[jh], hs[jh]),
                        np.maximum(c0, 0.0),
                        c1[hit],
                        g_tol=CONTACT_TOL_M,
                    )

            plain = ~np.isfinite(theta_ex) & ~np.isfinite(theta_c)
            out[seg[plain]] = x1[plain]

            touch = np.isfinite(theta_c) & (theta_c <= theta_ex)
            if touch.any():
                j = np.flatnonzero(touch)
                hj = theta_c[j] * hs[j]
                xc = self._step(ts[j], xs[j], c.take(j), p[j], hj)
                _, pt = self.clearance(ts[j] + hj, xc)
                out[seg[j]] = xc
                landed[seg[j]] = True
                t_contact[seg[j]] = ts[j] + hj
                which[seg[j]] = pt

            dry = np.isfinite(theta_ex) & ~touch
            if dry.any():
                j = np.flatnonzero(dry)
                hj = theta_ex[j] * hs[j]
                xe = self._step(ts[j], xs[j], c.take(j), p[j], hj)
                xe[:, M] = self.dry_mass
                xe[:, ETA0:] = 0.0
                prop_ok_all[idx[seg[j]]] = False
                self._log(events, "propellant_exhausted", ts[j] + hj, idx[seg[j]], xe)
                # continue the rest of the step without thrust
                seg, xs, ts, hs = seg[j], xe, ts[j] + hj, hs[j] - hj
                c, p = cmd.take(seg), prop_ok_all[idx[seg]]
                x1 = self._step(ts, xs, c, p, hs)
            else:
                seg = seg[:0]
        return out, landed, t_contact, which


def _cos_sin(t: float) -> tuple[float, float]:
    """(cos, sin) of the Moon's rotation angle at time t [s]."""
    theta = float(rotation_angle(t))
    return math.cos(theta), math.sin(theta)


def _multiple(period: float | None, dt: float, name: str) -> int:
    if period is None:
        return 1
    k = round(period / dt)
    if k < 1 or abs(k * dt - period) > 1e-9 * max(1.0, period):
        from touchdown.errors import InputError

        raise InputError(f"{name} = {period} s must be a whole multiple of the step dt = {dt} s")
    return k


def _empty_report(n: int) -> TouchdownReport:
    nan = np.full(n, np.nan)
    return TouchdownReport(
        *(nan.copy() for _ in range(10)),
        contact_point=np.full(n, -1, dtype=np.intp),
        outcome=np.full(n, IN_FLIGHT, dtype=np.intp),
    )
