"""The flight software's tick kernels (``fsw._kernels``) against the numpy code they replace, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from touchdown.fsw import _kernels as kn
from touchdown.fsw.control import AttitudeControlParams
from touchdown.moon.constants import OMEGA_MOON, R_MOON
from touchdown.moon.frames import (
    cross,
    dot,
    enu_basis,
    mci_to_mcmf,
    mcmf_to_llh,
    mcmf_to_mci,
    norm,
    quat_conjugate,
    quat_normalize,
    quat_rotate,
    rotation_angle,
    velocity_mci_to_mcmf,
)
from touchdown.moon.terrain.kernels import ATAN2
from touchdown.vehicle.presets import PRESETS


def _same(a, b) -> bool:
    return np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


def _clamp_cone_numpy(d, axis, cos_max):
    if cos_max <= -1.0:
        return d
    c = dot(d, axis)
    outside = c < cos_max
    perp = d - c[:, None] * axis
    pn = norm(perp)
    perp = np.where((pn > 1e-12)[:, None], perp / np.maximum(pn, 1e-300)[:, None], 0.0)
    s_max = math.sqrt(max(0.0, 1.0 - cos_max * cos_max))
    clamped = cos_max * axis + s_max * perp
    return np.where(outside[:, None], clamped, d)


def _state(rng, n):
    r = rng.normal(size=(n, 3))
    r *= ((R_MOON + rng.uniform(0.0, 2e4, n)) / np.linalg.norm(r, axis=1))[:, None]
    v = rng.normal(0.0, 800.0, (n, 3))
    return r, v


def test_enu_trig_is_the_sine_and_cosine_of_latitude_and_longitude() -> None:
    """The local basis's sines and cosines straight from the position agree with numpy's sin and cos of the
    atan2 angles to rounding, poles and the antimeridian included."""
    rng = np.random.default_rng(8)
    r, _ = _state(rng, 2000)
    r[:3] = [[0.0, 0.0, R_MOON], [0.0, 0.0, -R_MOON], [-R_MOON, 0.0, 0.0]]
    r[3] = [-R_MOON, -0.0, 1.0]
    for t in (0.0, 431.7):
        theta = rotation_angle(t)
        got = kn.enu_trig_rows(r, float(np.cos(theta)), float(np.sin(theta)))
        lat, lon, _ = mcmf_to_llh(mci_to_mcmf(r, t))
        for a, b in zip(got, (np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)), strict=True):
            assert np.max(np.abs(a - b)) < 4e-16
        assert got[2][0] == 0.0 and got[3][0] == 1.0  # longitude 0 over the pole


@pytest.mark.parametrize("n", [1, 4, 300])
def test_local_state_matches_numpy(n: int) -> None:
    rng = np.random.default_rng(n)
    r, v = _state(rng, n)
    g = -1.62 * r / np.linalg.norm(r, axis=1)[:, None]
    lat, lon = rng.uniform(-1.5, 1.5, n), rng.uniform(-3.1, 3.1, n)
    for t in (0.0, 431.7):
        basis = enu_basis(lat, lon)
        v_mcmf = velocity_mci_to_mcmf(r, v, t)
        g_mcmf = mci_to_mcmf(g, t)
        v_ref = np.stack([dot(v_mcmf, e) for e in basis], axis=-1)
        g_ref = np.stack([dot(g_mcmf, e) for e in basis], axis=-1)
        theta = rotation_angle(t)
        trig = (np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon))
        got = kn.local_state_rows(r, v, g, OMEGA_MOON, float(np.cos(theta)), float(np.sin(theta)), *trig)
        assert _same(got[0], v_ref) and _same(got[1], g_ref)
        for a, b in zip(got[2:], basis, strict=True):
            assert _same(a, b)
        a_local = rng.normal(size=(n, 3))
        rows = np.flatnonzero(rng.uniform(size=n) < 0.6)
        out = np.zeros((n, 3))
        kn.local_to_mcmf(a_local[rows], rows, *basis, out)
        ref = np.zeros((n, 3))
        ref[rows] = np.einsum("ki,kij->kj", a_local[rows], np.stack([e[rows] for e in basis], axis=1))
        assert _same(out, ref)


def _attitude_torque_numpy(q, w, d, axis, inertia, params):
    """``control.attitude.attitude_torque`` in numpy: the pointing error, then the cascaded loops."""
    d_b = quat_rotate(quat_conjugate(q), d)
    e = cross(axis, d_b)
    s = np.sqrt(dot(e, e))
    angle = np.arctan2(s, dot(axis, d_b))
    fallback = np.zeros_like(e)
    fallback[..., 0] = 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where((s > 1e-12)[:, None], e / s[:, None], np.where((angle > 1.0)[:, None], fallback, 0.0))
    theta = u * angle[:, None]
    w_cmd = params.k_att * theta
    mag = np.sqrt(dot(w_cmd, w_cmd))
    w_cmd = w_cmd * np.minimum(1.0, np.radians(params.max_rate_deg_s) / np.maximum(mag, 1e-300))[:, None]
    return inertia * params.k_rate * (w_cmd - w) + cross(w, inertia * w)


@pytest.mark.parametrize("n", [1, 6, 300])
@pytest.mark.parametrize("max_tilt_deg", [180.0, 45.0, 10.0])
def test_control_tick_matches_numpy(n: int, max_tilt_deg: float) -> None:
    rng = np.random.default_rng(n + int(max_tilt_deg))
    r, _ = _state(rng, n)
    a_mcmf = rng.normal(0.0, 2.0, (n, 3))
    a_mcmf[0] = 0.0  # nothing asked: hold vertical
    q = quat_normalize(rng.normal(size=(n, 4)))
    w = rng.normal(0.0, 0.05, (n, 3))
    vehicle = PRESETS["series1"]()
    dry_kg = vehicle.mass.dry_mass_kg
    mass = dry_kg + rng.uniform(-20.0, 1.2, n) * vehicle.mass.propellant_capacity_kg  # some below dry
    coast = rng.uniform(size=n) < 0.3
    axis_b = np.array([0.0, 0.0, 1.0])
    cos_max = math.cos(math.radians(max_tilt_deg))
    s_max = math.sqrt(max(0.0, 1.0 - cos_max * cos_max))
    params = AttitudeControlParams(bandwidth_rad_s=0.7, damping=0.9, max_rate_deg_s=4.0)
    t = 87.3
    if n > 2:  # the thrust axis already on the command, and 180° from it
        a_mcmf[1] = mci_to_mcmf(quat_rotate(q[1:2], axis_b[None]), t)[0]
        a_mcmf[2] = -mci_to_mcmf(quat_rotate(q[2:3], axis_b[None]), t)[0]
    # the numpy code of FlightSoftware._control
    a_mci = mcmf_to_mci(a_mcmf, t)
    a_mag = norm(a_mci)
    d = np.where((a_mag > 0.0)[:, None], a_mci / np.maximum(a_mag, 1e-300)[:, None], 0.0)
    up = r / norm(r)[:, None]
    d = _clamp_cone_numpy(np.where((a_mag > 0.0)[:, None], d, up), up, cos_max)
    axis_mci = quat_rotate(q, np.broadcast_to(axis_b, (n, 3)))
    thrust = np.where(coast, 0.0, mass * np.maximum(dot(a_mci, axis_mci), 0.0))
    inertia = vehicle.mass.inertia(np.maximum(mass - dry_kg, 0.0))
    torque = _attitude_torque_numpy(q, w, d, np.broadcast_to(axis_b, (n, 3)), inertia, params)
    theta = rotation_angle(t)
    m = vehicle.mass
    dry = np.asarray(m.inertia_dry_kgm2, dtype=float)
    span = np.asarray(m.inertia_full_kgm2, dtype=float) - dry
    got_thrust, got_torque = kn.control_rows(
        a_mcmf, float(np.cos(theta)), -float(np.sin(theta)), r, q, w, axis_b, mass, coast, cos_max, s_max,
        dry_kg, max(m.propellant_capacity_kg, 1e-300), dry, span, np.array([1.0, -1.0, -1.0, -1.0]), ATAN2,
        params.k_att, params.k_rate, float(np.radians(params.max_rate_deg_s)),
    )  # fmt: skip
    assert _same(got_thrust, thrust) and _same(got_torque, torque)


@pytest.mark.parametrize("with_approach", [False, True])
@pytest.mark.parametrize("ignite", [False, True])
def test_sequence_matches_numpy(with_approach: bool, ignite: bool) -> None:
    rng = np.random.default_rng(int(with_approach) + 2 * int(ignite))
    n = 400
    coast, braking, approach, terminal = range(4)
    phase = rng.integers(0, 4, n).astype(np.int64)
    complete = rng.uniform(size=n) < 0.3
    altitude = rng.uniform(-50.0, 3000.0, n)
    altitude[:5] = np.nan
    terminal_altitude = 500.0
    after_braking = approach if with_approach else terminal
    # the numpy code of FlightSoftware._sequence
    ign = (phase == coast) & ignite
    want = np.where(ign, braking, phase)
    low = altitude <= terminal_altitude
    want = np.where((phase == braking) & (complete | low), np.where(low, terminal, after_braking), want)
    want = np.where((phase == approach) & (complete | low), terminal, want)
    got, entered = kn.sequence_rows(phase, ignite, complete, altitude, terminal_altitude, after_braking)
    assert np.array_equal(got, want) and got.dtype == want.dtype
    assert [bool(((want == k) & (phase != k)).any()) for k in range(4)] == list(entered)


def test_latch_below_matches_numpy() -> None:
    """The estimated-altitude latches of the tick (nav_altitude_zero, engine cut-offs) as numpy had them."""
    rng = np.random.default_rng(5)
    n = 500
    phase = rng.integers(0, 4, n).astype(np.int64)
    altitude = rng.uniform(-20.0, 40.0, n)
    altitude[:4] = np.nan
    latched = rng.uniform(size=n) < 0.2
    cut = np.zeros((n, 2), bool)
    cut[:, 1] = latched
    want_now = ~latched & (phase != 0) & (altitude <= 10.0)
    want = latched | want_now
    now, some = kn.latch_below(cut[:, 1], phase, altitude, 10.0)  # a column of a matrix, in place
    assert np.array_equal(now, want_now) and some == bool(want_now.any())
    assert np.array_equal(cut[:, 1], want) and not cut[:, 0].any()
    now, some = kn.latch_below(cut[:, 1], phase, altitude, 10.0)
    assert not now.any() and not some
