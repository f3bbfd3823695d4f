"""Sensor and engine faults (REFERENCE §6 vocabulary), batch-wise, with explicit memory.

A :class:`Fault` names a ``kind``, a ``target`` and when it starts and how long it lasts:

* ``target``: a sensor instance name (``"lrf"``: every channel of it), ``"<sensor>.<channel>"``
  (``"imu.gyro"``; channels are listed in each measurement's ``CHANNELS``), or, for engine faults, an engine
  name or ``"all"``.
* start: ``start_time_s`` (t ≥ it), ``start_altitude_m`` (altitude ≤ it; the caller supplies the altitude,
  normally the true height above terrain), ``start_phase`` (the caller's phase name equals it). Every given
  condition must hold; with none, the fault starts at the first evaluation. The onset is latched per
  trajectory the first time the conditions hold (at a tick of the target), and the fault is then active for
  ``duration_s`` (default: for ever). Per-trajectory masks (``enabled``) choose which runs carry a fault,
  and per-trajectory values (``params``: one (N,) array per field of :data:`PER_RUN_FIELDS`) replace a
  fault's scalar, as a campaign's dispersions do.

Sensor kinds (applied in the declared order, each to the output of the previous one)::

    off               invalid (values NaN) while active
    dropout           the same over a finite window (``duration_s`` required)
    stuck             holds the value and validity at onset, or reports ``value`` as valid
    bias              adds ``value`` (scalar or per component; for attitude a rotation vector [rad])
    drift             adds ``rate_per_s · (t − onset)``
    noise_scale       multiplies the sensor's white-noise 1σ by ``value`` (the sensor applies it:
                      pass :meth:`FaultInjector.noise_scale` to its ``measure``)
    spike             adds ``value`` at the first tick after onset only
    delay             reports the measurement of ``delay_s`` earlier (invalid until one exists), time tag
                      unchanged: unannounced latency
    late_acquisition  invalid until ``reference`` first falls to ``below_m``: ``"altitude"`` (the caller's
                      altitude) or ``"range"`` (the channel's own value, per beam)

Engine kinds act on what the engines deliver, not on what the flight software believes it commanded::

    thrust_loss       delivered thrust (and flow) × (1 − value), whatever the throttle, so it bites an
                      on/off engine too: :meth:`FaultInjector.thrust_scale` gives the (N, E) multiplier
                      the truth dynamics apply (``Commands.thrust_scale``)
    fail_to_ignite    a command filter: an engine that is not burning cannot be lit while the fault is
                      active (one already burning keeps burning until it is commanded off)

The functions :func:`apply_sensor_faults` and :func:`apply_engine_faults` are pure in their inputs except for
the explicit :class:`FaultState` they update; :class:`FaultInjector` bundles specs and state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from touchdown.errors import InputError
from touchdown.moon.frames import norm, quat_multiply, quat_normalize
from touchdown.sensors.base import Measurement

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]

SENSOR_FAULT_KINDS = (
    "off",
    "stuck",
    "bias",
    "drift",
    "noise_scale",
    "spike",
    "delay",
    "late_acquisition",
    "dropout",
)
ENGINE_FAULT_KINDS = ("thrust_loss", "fail_to_ignite")
FAULT_KINDS = SENSOR_FAULT_KINDS + ENGINE_FAULT_KINDS
LATE_ACQUISITION_REFERENCES = ("altitude", "range")
_T_EPS = 1e-9  # time comparison tolerance [s]

Value = float | tuple[float, ...]
# fields a campaign may give one value per trajectory (``FaultInjector(params=...)``); ``value`` only where
# the kind takes a scalar
PER_RUN_FIELDS = ("start_time_s", "start_altitude_m", "duration_s", "value", "below_m")


@dataclass(frozen=True)
class Fault:
    """One fault. Fields not used by ``kind`` must stay None (see the module docstring for each kind)."""

    kind: str
    target: str
    start_time_s: float | None = None
    start_altitude_m: float | None = None
    start_phase: str | None = None
    duration_s: float = math.inf
    value: Value | None = None  # bias / spike / stuck value; noise_scale factor; thrust_loss fraction
    rate_per_s: Value | None = None  # drift rate [value units per s]
    delay_s: float | None = None  # delay [s]
    below_m: float | None = None  # late acquisition threshold [m]
    reference: str = "altitude"  # late acquisition: "altitude" or "range"

    def __post_init__(self) -> None:
        where = f"fault '{self.kind}' on '{self.target}'"
        if self.kind not in FAULT_KINDS:
            raise InputError(f"unknown fault kind '{self.kind}'; allowed: {', '.join(FAULT_KINDS)}")
        if not self.target:
            raise InputError("a fault needs a target (sensor, sensor.channel or engine name)", where=where)
        if not self.duration_s > 0.0:
            raise InputError(f"duration_s must be > 0, got {self.duration_s}", where=where)
        need = {
            "bias": "value",
            "spike": "value",
            "noise_scale": "value",
            "thrust_loss": "value",
            "drift": "rate_per_s",
            "delay": "delay_s",
            "late_acquisition": "below_m",
        }.get(self.kind)
        if need is not None and getattr(self, need) is None:
            raise InputError(f"kind '{self.kind}' needs '{need}'", where=where)
        if self.kind in ("noise_scale", "thrust_loss") and not isinstance(self.value, (int, float)):
            raise InputError(f"kind '{self.kind}' needs a number as 'value', got {self.value!r}", where=where)
        if self.kind == "dropout" and not math.isfinite(self.duration_s):
            raise InputError("a dropout needs a finite duration_s (use 'off' for ever)", where=where)
        if self.kind == "noise_scale" and not float(self.value) >= 0.0:  # type: ignore[arg-type]
            raise InputError(f"noise_scale value must be ≥ 0, got {self.value}", where=where)
        if self.kind == "thrust_loss" and not 0.0 <= float(self.value) <= 1.0:  # type: ignore[arg-type]
            raise InputError(f"thrust_loss value is a fraction in [0, 1], got {self.value}", where=where)
        if self.kind == "delay" and not float(self.delay_s) > 0.0:  # type: ignore[arg-type]
            raise InputError(f"delay_s must be > 0, got {self.delay_s}", where=where)
        if self.reference not in LATE_ACQUISITION_REFERENCES:
            raise InputError(
                f"reference '{self.reference}' unknown; allowed: {', '.join(LATE_ACQUISITION_REFERENCES)}",
                where=where,
            )

    @property
    def is_engine_fault(self) -> bool:
        return self.kind in ENGINE_FAULT_KINDS

    @property
    def sensor(self) -> str:
        """Sensor name part of the target."""
        return self.target.split(".", 1)[0]

    @property
    def channel(self) -> str | None:
        """Channel part of the target (None: every channel)."""
        parts = self.target.split(".", 1)
        return parts[1] if len(parts) == 2 else None


class Trigger:
    """What fault start conditions are evaluated on at one tick (supplied by the simulator).

    ``altitude_m`` (N,) [m] (normally true height above terrain), ``phase`` (N,) phase names; None: not
    supplied. Each is given as its value, or as a function of no argument that computes it the first time a
    fault asks (then kept): a tick whose faults ask for neither computes neither (a descent's true altitude
    costs a terrain query a run and tick).
    """

    __slots__ = ("_altitude_m", "_phase", "t_s")

    def __init__(
        self,
        t_s: float,
        altitude_m: Array | Callable[[], Array] | None = None,
        phase: NDArray[np.str_] | Callable[[], NDArray[np.str_]] | None = None,
    ) -> None:
        self.t_s = t_s
        self._altitude_m = altitude_m
        self._phase = phase

    @property
    def altitude_m(self) -> Array | None:
        if callable(self._altitude_m):
            self._altitude_m = self._altitude_m()
        return self._altitude_m

    @property
    def phase(self) -> NDArray[np.str_] | None:
        if callable(self._phase):
            self._phase = self._phase()
        return self._phase


@dataclass
class _ChannelMemory:
    """What one fault remembers about one channel of its sensor."""

    used: Mask | None = None  # (N,) spike fired / stuck value captured
    held_values: Array | None = None  # stuck at current
    held_valid: Mask | None = None
    acquired: Mask | None = None  # late acquisition latch (shape of valid)
    buffer: list[tuple[float, Array, Mask]] = field(default_factory=list)  # delay history (t, values, valid)


@dataclass
class _Memory:
    """Per-fault, per-trajectory memory."""

    enabled: Mask  # (N,)
    onset_s: Array  # (N,) NaN until triggered
    params: dict[str, Array] = field(default_factory=dict)  # per-run values replacing the fault's scalars
    channels: dict[str, _ChannelMemory] = field(default_factory=dict)
    burning: Mask | None = None  # fail_to_ignite: engine_on of the previous output (N, E)


@dataclass
class FaultState:
    """Explicit memory of a list of faults for N trajectories (one :class:`_Memory` per fault)."""

    memory: list[_Memory]

    @classmethod
    def create(
        cls,
        faults: Sequence[Fault],
        n: int,
        enabled: Sequence[ArrayLike | None] | None = None,
        params: Sequence[Mapping[str, ArrayLike] | None] | None = None,
    ) -> FaultState:
        """Fresh state. ``enabled[i]`` (N,) bool: which runs carry fault i (None: all); ``params[i]``:
        field → (N,) values of fault i replacing its scalars (fields of :data:`PER_RUN_FIELDS`)."""
        en = list(enabled) if enabled is not None else [None] * len(faults)
        pa = list(params) if params is not None else [None] * len(faults)
        if len(en) != len(faults) or len(pa) != len(faults):
            raise InputError(f"enabled/params need one entry per fault ({len(faults)})")
        mem = []
        for f, e, p in zip(faults, en, pa, strict=True):
            mask = np.ones(n, bool) if e is None else np.broadcast_to(np.asarray(e, bool), (n,)).copy()
            per_run = {}
            for name, v in (p or {}).items():
                if name not in PER_RUN_FIELDS or (name == "value" and not isinstance(f.value, int | float)):
                    raise InputError(f"fault '{f.kind}' on '{f.target}': '{name}' cannot vary per run")
                per_run[name] = np.broadcast_to(np.asarray(v, float), (n,)).copy()
            mem.append(_Memory(mask, np.full(n, np.nan), per_run))
        return cls(mem)


def small_rotation(theta: Array) -> Array:
    """Unit quaternion (…, 4) of the rotation vector ``theta`` (…, 3) [rad] (exact, not first order)."""
    ang = norm(theta)
    half = 0.5 * ang
    k = np.where(ang > 0.0, np.sin(half) / np.where(ang > 0.0, ang, 1.0), 0.5)
    return np.concatenate((np.cos(half)[..., None], k[..., None] * theta), axis=-1)


# --------------------------------------------------------------------------------------------------
# onset and activity


def _param(f: Fault, m: _Memory, name: str):
    """Fault field ``name``: the per-run (N,) values where given, else the fault's scalar (or None)."""
    return m.params.get(name, getattr(f, name))


def duration(f: Fault, m: _Memory) -> float | Array:
    """How long fault ``f`` lasts once started [s], scalar or (N,)."""
    return _param(f, m, "duration_s")


def _update_onset(f: Fault, m: _Memory, trig: Trigger) -> Mask:
    """Latch onsets whose conditions hold now; return the active mask (N,)."""
    n = m.onset_s.shape[0]
    cond = m.enabled & np.isnan(m.onset_s)
    start_time, start_altitude = _param(f, m, "start_time_s"), _param(f, m, "start_altitude_m")
    if start_time is not None:
        cond &= trig.t_s >= start_time - _T_EPS
    if start_altitude is not None:
        if trig.altitude_m is None:
            raise InputError(
                "an altitude-triggered fault needs the trigger altitude", where=f"fault '{f.kind}'"
            )
        cond &= np.asarray(trig.altitude_m, float) <= start_altitude
    if f.start_phase is not None:
        if trig.phase is None:
            raise InputError("a phase-triggered fault needs the trigger phase", where=f"fault '{f.kind}'")
        cond &= np.broadcast_to(np.asarray(trig.phase) == f.start_phase, (n,))
    m.onset_s[cond] = trig.t_s
    started = ~np.isnan(m.onset_s)
    elapsed = trig.t_s - np.where(started, m.onset_s, trig.t_s)
    return started & (elapsed < duration(f, m) - _T_EPS)


def _rows(mask: Mask, like: np.ndarray) -> Mask:
    """(N,) mask reshaped to broadcast against an (N, …) array."""
    return mask.reshape(mask.shape + (1,) * (like.ndim - 1))


def _add(kind: str, values: Array, delta: Array, active: Mask) -> Array:
    """values + delta where active; for attitude channels delta is a body-axis rotation vector [rad]."""
    if kind == "attitude":
        dq = small_rotation(np.broadcast_to(delta, (*values.shape[:-1], 3)))
        return np.where(_rows(active, values), quat_normalize(quat_multiply(values, dq)), values)
    return np.where(_rows(active, values), values + delta, values)


def _matches(f: Fault, sensor: str, channel: str) -> bool:
    return f.sensor == sensor and (f.channel is None or f.channel == channel)


# --------------------------------------------------------------------------------------------------
# sensors


def noise_scale(
    sensor: str, channel: str | None, faults: Sequence[Fault], trig: Trigger, state: FaultState, n: int
) -> Array:
    """Multiplier (N,) of the white-noise 1σ of ``sensor`` (channel None: a fault on any channel counts)."""
    out = np.ones(n)
    for f, m in zip(faults, state.memory, strict=True):
        if f.kind != "noise_scale" or f.sensor != sensor:
            continue
        if channel is not None and f.channel not in (None, channel):
            continue
        active = _update_onset(f, m, trig)
        out = np.where(active, out * np.asarray(_param(f, m, "value"), float), out)
    return out


def apply_sensor_faults(
    meas: Measurement, faults: Sequence[Fault], trig: Trigger, state: FaultState
) -> Measurement:
    """The measurement the flight software receives: ``meas`` with every fault on its sensor applied in order.

    Updates only ``state``. Faults on other targets and engine faults are ignored. With no fault on its
    sensor but noise_scale (applied by the sensor itself), ``meas`` itself is returned: nothing to copy.
    """
    mine = [f for f in faults if f.sensor == meas.sensor and not f.is_engine_fault]
    for ch in (f.channel for f in mine):
        if ch is not None and ch not in meas.CHANNELS:
            raise InputError(
                f"sensor '{meas.sensor}' has no channel '{ch}'; channels: {', '.join(meas.CHANNELS)}"
            )
    if all(f.kind == "noise_scale" for f in mine):
        return meas
    updates: dict[str, np.ndarray] = {}
    for name, ch in meas.CHANNELS.items():
        values = np.array(getattr(meas, ch.values), dtype=float, copy=True)
        valid = np.array(getattr(meas, ch.valid), dtype=bool, copy=True)
        for f, m in zip(faults, state.memory, strict=True):
            if f.is_engine_fault or f.kind == "noise_scale" or not _matches(f, meas.sensor, name):
                continue
            active = _update_onset(f, m, trig)
            cm = m.channels.setdefault(name, _ChannelMemory())
            values, valid = _apply_one(f, m, cm, ch.kind, trig, values, valid, active)
        updates[ch.values] = values
        updates[ch.valid] = valid
    return replace(meas, **updates)


def _apply_one(
    f: Fault,
    fm: _Memory,
    m: _ChannelMemory,
    kind: str,
    trig: Trigger,
    values: Array,
    valid: Mask,
    active: Mask,
) -> tuple[Array, Mask]:
    """One fault on one channel: returns (values, valid); updates the channel memory ``m``."""
    t = trig.t_s
    onset_s = fm.onset_s
    value = _param(f, fm, "value")
    if isinstance(value, np.ndarray) and value.ndim == 1 and values.ndim > 1:  # per run: one per row
        value = _rows(value, values)
    if m.used is None:
        m.used = np.zeros(active.shape, bool)
    av, ak = _rows(active, values), _rows(active, valid)
    k = f.kind
    if k in ("off", "dropout"):
        return np.where(av, np.nan, values), valid & ~ak
    if k == "bias":
        return _add(kind, values, np.asarray(value, float), active), valid
    if k == "drift":
        dt = np.where(active, t - np.nan_to_num(onset_s), 0.0)
        delta = np.asarray(f.rate_per_s, float) * dt.reshape(dt.shape + (1,) * (values.ndim - 1))
        return _add(kind, values, delta, active), valid
    if k == "spike":
        fire = active & ~m.used
        m.used |= fire
        return _add(kind, values, np.asarray(value, float), fire), valid
    if k == "stuck":
        if m.held_values is None:
            m.held_values = np.full_like(values, np.nan)
            m.held_valid = np.zeros_like(valid)
        grab = active & ~m.used
        m.used |= grab
        if value is None:  # at the current reading
            m.held_values = np.where(_rows(grab, values), values, m.held_values)
            m.held_valid = np.where(_rows(grab, valid), valid, m.held_valid)
            return np.where(av, m.held_values, values), np.where(ak, m.held_valid, valid)
        v = np.broadcast_to(np.asarray(value, float), values.shape)
        return np.where(av, v, values), valid | ak
    if k == "delay":
        m.buffer.append((t, values.copy(), valid.copy()))
        old = [j for j, (tb, _, _) in enumerate(m.buffer) if tb <= t - f.delay_s + _T_EPS]  # type: ignore[operator]
        if not old:
            return np.where(av, np.nan, values), valid & ~ak
        j = old[-1]
        _, v_old, ok_old = m.buffer[j]
        del m.buffer[:j]  # older entries are never needed again
        return np.where(av, v_old, values), np.where(ak, ok_old, valid)
    if k == "late_acquisition":
        below = np.asarray(_param(f, fm, "below_m"), float)
        if m.acquired is None:
            m.acquired = np.zeros_like(valid)
        if f.reference == "range":
            if values.shape != valid.shape:
                raise InputError(f"'range' late acquisition needs one validity per value, not '{f.target}'")
            below = _rows(below, values) if below.ndim == 1 else below
            m.acquired |= ak & valid & (np.nan_to_num(values, nan=np.inf) <= below)
        else:
            if trig.altitude_m is None:
                raise InputError("late acquisition on 'altitude' needs the trigger altitude", where=f.target)
            m.acquired |= ak & _rows(np.asarray(trig.altitude_m, float) <= below, valid)
        blocked = ak & ~m.acquired
        bv = blocked if blocked.shape == values.shape else _rows(blocked, values)
        return np.where(bv, np.nan, values), valid & ~blocked
    raise AssertionError(k)  # engine kinds never reach here


# --------------------------------------------------------------------------------------------------
# engines


def _engine_columns(f: Fault, engine_names: Sequence[str]) -> list[int]:
    if f.target == "all":
        return list(range(len(engine_names)))
    if f.target not in engine_names:
        raise InputError(
            f"fault '{f.kind}' targets unknown engine '{f.target}'; engines: {', '.join(engine_names)}, all"
        )
    return [list(engine_names).index(f.target)]


def thrust_scale(
    engine_names: Sequence[str], faults: Sequence[Fault], trig: Trigger, state: FaultState, n: int
) -> Array:
    """Delivered-thrust multiplier (N, E) of the active ``thrust_loss`` faults (1 − fraction, compounded)."""
    out = np.ones((n, len(engine_names)))
    for f, m in zip(faults, state.memory, strict=True):
        if f.kind != "thrust_loss":
            continue
        active = _update_onset(f, m, trig)
        kept = 1.0 - np.asarray(_param(f, m, "value"), float)
        for e in _engine_columns(f, engine_names):
            out[:, e] = np.where(active, out[:, e] * kept, out[:, e])
    return out


def apply_engine_faults(
    throttle: Array,
    engine_on: Mask,
    engine_names: Sequence[str],
    faults: Sequence[Fault],
    trig: Trigger,
    state: FaultState,
) -> tuple[Array, Mask]:
    """Filtered copies of the commanded ``throttle`` (N, E) and ``engine_on`` (N, E); updates ``state``."""
    u = np.array(throttle, dtype=float, copy=True)
    on = np.array(engine_on, dtype=bool, copy=True)
    for f, m in zip(faults, state.memory, strict=True):
        if not f.is_engine_fault:
            continue
        cols = _engine_columns(f, engine_names)
        active = _update_onset(f, m, trig)
        if f.kind == "thrust_loss":
            continue  # acts on delivered thrust, not on the command: see thrust_scale
        if m.burning is None:  # fail_to_ignite
            m.burning = np.zeros(on.shape, bool)
        for e in cols:
            on[:, e] = np.where(active, on[:, e] & m.burning[:, e], on[:, e])
        m.burning = on.copy()
    return u, on


# --------------------------------------------------------------------------------------------------
# convenience


def validate_targets(
    faults: Sequence[Fault], channels: Mapping[str, Sequence[str]], engine_names: Sequence[str]
) -> None:
    """Raise :class:`InputError` (one line) for a fault whose target the vehicle does not have.

    ``channels``: sensor name → its channel names (``type(measurement).CHANNELS``).
    """
    for f in faults:
        if f.is_engine_fault:
            _engine_columns(f, engine_names)
            continue
        if f.sensor not in channels:
            raise InputError(
                f"fault '{f.kind}' targets unknown sensor '{f.sensor}'; sensors: {', '.join(channels)}"
            )
        if f.channel is not None and f.channel not in channels[f.sensor]:
            raise InputError(
                f"sensor '{f.sensor}' has no channel '{f.channel}'; channels: {', '.join(channels[f.sensor])}"
            )


class FaultInjector:
    """A list of faults and their memory for N trajectories: the object the simulator holds."""

    def __init__(
        self,
        faults: Sequence[Fault],
        n: int,
        enabled: Sequence[ArrayLike | None] | None = None,
        params: Sequence[Mapping[str, ArrayLike] | None] | None = None,
    ) -> None:
        self.faults = tuple(faults)
        self.n = n
        self.state = FaultState.create(self.faults, n, enabled, params)

    def noise_scale(self, sensor: str, trig: Trigger, channel: str | None = None) -> Array:
        """Noise multiplier (N,) to pass to ``sensor.measure(..., noise_scale=...)``."""
        return noise_scale(sensor, channel, self.faults, trig, self.state, self.n)

    def apply(self, meas: Measurement, trig: Trigger) -> Measurement:
        """What the flight software receives (:func:`apply_sensor_faults`)."""
        return apply_sensor_faults(meas, self.faults, trig, self.state)

    def engine_commands(
        self, throttle: Array, engine_on: Mask, engine_names: Sequence[str], trig: Trigger
    ) -> tuple[Array, Mask]:
        """Filtered engine commands (:func:`apply_engine_faults`)."""
        return apply_engine_faults(throttle, engine_on, engine_names, self.faults, trig, self.state)

    def thrust_scale(self, engine_names: Sequence[str], trig: Trigger) -> Array:
        """Delivered-thrust multiplier (N, E) (:func:`thrust_scale`)."""
        return thrust_scale(engine_names, self.faults, trig, self.state, self.n)

    def durations(self) -> list[float | Array]:
        """How long each fault lasts once started [s], scalar or (N,) where it varies per run."""
        return [duration(f, m) for f, m in zip(self.faults, self.state.memory, strict=True)]

    def onsets(self) -> list[Array]:
        """Onset time (N,) [s] of each fault, NaN where it has not started (for event logs)."""
        return [m.onset_s.copy() for m in self.state.memory]
