"""The navigation filter's compiled kernels against the numpy formulation they replace, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from touchdown.fsw.navigation import _kernels as kn
from touchdown.moon.constants import GM_MOON, R_MOON

NX = 7
IR, IV, IB = slice(0, 3), slice(3, 6), 6


# ---------------------------------------------------------------- the numpy formulation (before numba)
def _mm(a, b):
    return np.einsum("nik,nkj->nij", a, b)


def _inv3_numpy(s):
    a, b, c = s[:, 0, 0], s[:, 0, 1], s[:, 0, 2]
    d, e, f = s[:, 1, 1], s[:, 1, 2], s[:, 2, 2]
    c00, c01, c02 = d * f - e * e, c * e - b * f, b * e - c * d
    c11, c12, c22 = a * f - c * c, b * c - a * e, a * d - b * b
    det = a * c00 + b * c01 + c * c02
    inv = np.stack(
        (np.stack((c00, c01, c02), -1), np.stack((c01, c11, c12), -1), np.stack((c02, c12, c22), -1)), -2
    )
    return inv / det[:, None, None]


def _propagate_numpy(p, r0, dt, accel_noise, q_map):
    n = p.shape[0]
    f = np.broadcast_to(np.eye(NX), (n, NX, NX)).copy()
    f[:, IR, IV] = np.eye(3) * dt
    s = accel_noise**2
    qm = np.zeros((n, NX, NX))
    eye = np.eye(3)
    qm[:, IR, IR] = eye * (s * dt**3 / 3.0)
    qm[:, IR, IV] = eye * (s * dt**2 / 2.0)
    qm[:, IV, IR] = eye * (s * dt**2 / 2.0)
    qm[:, IV, IV] = eye * (s * dt)
    rn = np.sqrt(r0[:, 0] * r0[:, 0] + r0[:, 1] * r0[:, 1] + r0[:, 2] * r0[:, 2])
    rh = r0 / rn[:, None]
    grad = (GM_MOON / rn**3)[:, None, None] * (3.0 * rh[:, :, None] * rh[:, None, :] - np.eye(3))
    half = 0.5 * grad * dt * dt
    f[:, IR, IR] = eye + half
    f[:, IV, IR] = grad * dt
    f[:, IV, IV] = eye + half
    qm[:, IB, IB] = q_map
    return _mm(_mm(f, p), np.swapaxes(f, 1, 2)) + qm, qm[0]


def _apply_numpy(x, p, h, nu, r_meas, use, radial=None):
    ht = np.swapaxes(h, 1, 2)
    s = _mm(_mm(h, p), ht) + r_meas
    m = h.shape[1]
    s_inv = 1.0 / s if m == 1 else _inv3_numpy(s)
    k = _mm(_mm(p, ht), s_inv)
    if radial is not None:
        k[:, IR, :] = radial[:, :, None] * np.einsum("ni,nim->nm", radial, k[:, IR, :])[:, None, :]
    dx = np.einsum("nim,nm->ni", k, nu)
    ikh = np.eye(NX) - _mm(k, h)
    p_new = _mm(_mm(ikh, p), np.swapaxes(ikh, 1, 2)) + _mm(_mm(k, r_meas), np.swapaxes(k, 1, 2))
    x = np.where(use[:, None], x + dx, x)
    p = np.where(use[:, None, None], 0.5 * (p_new + np.swapaxes(p_new, 1, 2)), p)
    return x, p


# ---------------------------------------------------------------- inputs
def _covariances(rng, n):
    """Symmetric positive covariances with the filter's scales (m, m/s, m), a few with exact zeros."""
    scale = np.array([200.0, 200.0, 200.0, 0.2, 0.2, 0.2, 30.0]) * 10.0 ** rng.uniform(-3, 1, (n, 1))
    a = rng.standard_normal((n, NX, NX)) * scale[:, :, None]
    p = np.einsum("nik,njk->nij", a, a) / NX
    p[: n // 4, IB, :6] = 0.0  # the map offset still uncorrelated (as at the start)
    p[: n // 4, :6, IB] = 0.0
    return p


def _positions(rng, n):
    r = rng.standard_normal((n, 3))
    r /= np.linalg.norm(r, axis=1)[:, None]
    r *= R_MOON + rng.uniform(0.0, 2e5, (n, 1))
    r[0] = (R_MOON + 1e4, 0.0, 0.0)  # exact zeros in the gravity gradient
    return r


def _equal(a, b):
    return np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("n", [1, 5, 200])
def test_propagate_covariance_matches_numpy(n):
    rng = np.random.default_rng(n)
    for dt in (0.1, 0.05, 0.013):
        p = _covariances(rng, n)
        r0 = _positions(rng, n)
        q_map = rng.uniform(0.0, 50.0, n)
        ref, q_const = _propagate_numpy(p, r0, dt, 3e-3, q_map)
        rn = np.sqrt(r0[:, 0] * r0[:, 0] + r0[:, 1] * r0[:, 1] + r0[:, 2] * r0[:, 2])
        got = p.copy()
        kn.propagate_covariance(got, r0, rn, GM_MOON / rn**3, dt, q_const, q_map)
        assert _equal(got, ref)


def test_propagate_covariance_non_finite_rows_as_numpy():
    rng = np.random.default_rng(7)
    p = _covariances(rng, 6)
    p[1, 2, 4] = np.inf
    p[2, 6, 6] = np.nan
    p[3, 0, 0] = -np.inf
    r0 = _positions(rng, 6)
    r0[4] = np.nan
    r0[5] = 0.0  # a division by zero gives inf and NaN, as numpy's
    with np.errstate(invalid="ignore", divide="ignore"):
        ref, q_const = _propagate_numpy(p, r0, 0.1, 3e-3, np.ones(6))
        rn = np.sqrt(r0[:, 0] * r0[:, 0] + r0[:, 1] * r0[:, 1] + r0[:, 2] * r0[:, 2])
        got = p.copy()
        kn.propagate_covariance(got, r0, rn, GM_MOON / rn**3, 0.1, q_const, np.ones(6))
    assert _equal(got, ref)


def _altimeter_h(rng, n):
    r = _positions(rng, n)
    rh = r / np.linalg.norm(r, axis=1)[:, None]
    h = np.zeros((n, 1, NX))
    h[:, 0, IR] = rh
    h[:, 0, IB] = -1.0
    return h


def _velocimeter_h(rng, n):
    c = np.linalg.qr(rng.standard_normal((n, 3, 3)))[0]
    h = np.zeros((n, 3, NX))
    h[:, :, IV] = c
    h[:, :, IR] = rng.standard_normal((n, 3, 3)) * 2.7e-6
    return h


@pytest.mark.parametrize("n", [1, 4, 300])
@pytest.mark.parametrize("kind", ["altimeter", "altimeter_radial", "velocimeter", "velocimeter_radial"])
def test_joseph_update_matches_numpy(n, kind):
    rng = np.random.default_rng(n + len(kind))
    for _ in range(3):
        p = _covariances(rng, n)
        x = np.concatenate(
            (_positions(rng, n), rng.standard_normal((n, 3)) * 1e3, rng.normal(0, 30, (n, 1))), 1
        )
        if kind.startswith("altimeter"):
            h = _altimeter_h(rng, n)
            nu = rng.normal(0.0, 20.0, (n, 1))
            r_meas = rng.uniform(1.0, 400.0, (n, 1, 1))
        else:
            h = _velocimeter_h(rng, n)
            nu = rng.normal(0.0, 0.5, (n, 3))
            r_meas = rng.uniform(0.01, 0.2, n)[:, None, None] * np.eye(3)
        use = rng.uniform(size=n) < 0.7
        radial = h[:, 0, IR] if kind.endswith("radial") else None
        if radial is not None and h.shape[1] == 3:
            radial = np.ascontiguousarray(radial / np.linalg.norm(radial, axis=1)[:, None])
        x_ref, p_ref = _apply_numpy(x, p, h, nu, r_meas, use, radial)
        x_got, p_got = x.copy(), p.copy()
        rad = np.zeros((n, 3)) if radial is None else radial
        kn.joseph_update(x_got, p_got, h, nu, r_meas, use, rad, radial is not None)
        assert _equal(x_got, x_ref)
        assert _equal(p_got, p_ref)


def test_joseph_update_non_finite_rows_as_numpy():
    rng = np.random.default_rng(3)
    n = 5
    p = _covariances(rng, n)
    p[1, 3, 4] = p[1, 4, 3] = np.inf
    p[2, 0, 0] = np.nan
    x = np.zeros((n, NX))
    h = _altimeter_h(rng, n)
    nu = rng.normal(0.0, 20.0, (n, 1))
    nu[3] = np.nan
    r_meas = np.full((n, 1, 1), 25.0)
    p[4], r_meas[4] = 0.0, 0.0  # S = 0: a division by zero
    use = np.ones(n, bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_ref, p_ref = _apply_numpy(x, p, h, nu, r_meas, use, h[:, 0, IR])
        kn.joseph_update(x, p, h, nu, r_meas, use, h[:, 0, IR], True)
    assert _equal(x, x_ref)
    assert _equal(p, p_ref)


BLOCK_SIZES = [1, kn.LANES - 1, kn.LANES, kn.LANES + 1, 127, 128, 129, 1000]


def _bits(a):
    return a.tobytes()


def _rows_to_fly_alone(n):
    """Every row of a small batch; around the block edges and a sample of a large one."""
    if n <= 2 * kn.LANES + 2:
        return np.arange(n)
    edges = np.arange(kn.LANES, n, kn.LANES)
    near = np.concatenate((edges - 1, edges, edges + 1, [0, n - 1], np.arange(0, n, 37)))
    return np.unique(near[(near >= 0) & (near < n)])


def _poison_covariance(rng, p, row, kind):
    """A P outside the blocks' common case: a NaN, +∞ or −∞ entry (kind 0–2), or finite entries whose sum
    overflows (kind 3)."""
    if kind == 3:
        p[row] = rng.uniform(0.5, 1.0, (NX, NX)) * 1e307
    else:
        p[row, rng.integers(NX), rng.integers(NX)] = (np.nan, np.inf, -np.inf)[kind]


@pytest.mark.parametrize("n", BLOCK_SIZES)
def test_propagate_covariance_blocks_mix_fast_and_fallback_rows(n):
    """Rows go through in blocks of LANES; rows with a non-finite P take the per-row code. Both must equal
    the numpy formulation, and a row's bits must not depend on the batch it flies in."""
    rng = np.random.default_rng(300 + n)
    p = _covariances(rng, n)
    r0 = _positions(rng, n)
    q_map = rng.uniform(0.0, 50.0, n)
    odd = np.flatnonzero(rng.uniform(size=n) < 0.15)
    if n > 1 and odd.size == 0:
        odd = np.array([n // 2])
    for k, row in enumerate(odd):
        _poison_covariance(rng, p, row, k % 4)
    dt = 0.1
    rn = np.sqrt(r0[:, 0] * r0[:, 0] + r0[:, 1] * r0[:, 1] + r0[:, 2] * r0[:, 2])
    gm = GM_MOON / rn**3
    with np.errstate(invalid="ignore", over="ignore"):
        ref, q_const = _propagate_numpy(p, r0, dt, 3e-3, q_map)
        got = p.copy()
        kn.propagate_covariance(got, r0, rn, gm, dt, q_const, q_map)
        assert _equal(got, ref)
        for k in _rows_to_fly_alone(n):
            one = p[k : k + 1].copy()
            kn.propagate_covariance(
                one, r0[k : k + 1], rn[k : k + 1], gm[k : k + 1], dt, q_const, q_map[k : k + 1]
            )
            assert _bits(one) == _bits(got[k : k + 1]), k


@pytest.mark.parametrize("radial", [True, False])
@pytest.mark.parametrize("n", BLOCK_SIZES)
def test_joseph_update_blocks_mix_fast_and_fallback_rows(n, radial):
    """Scalar (height) updates go through in blocks of LANES over the rows ``use``; rows outside the common
    case take the per-row code: a non-finite P, finite entries whose sum overflows, an H that is not a height
    measurement's, S = 0 (K not finite). A NaN innovation stays in the blocks. Both must equal the numpy
    formulation, and a row's bits must not depend on the batch it flies in."""
    rng = np.random.default_rng(400 + n + radial)
    p = _covariances(rng, n)
    x = np.concatenate((_positions(rng, n), rng.standard_normal((n, 3)) * 1e3, rng.normal(0, 30, (n, 1))), 1)
    h = _altimeter_h(rng, n)
    nu = rng.normal(0.0, 20.0, (n, 1))
    r_meas = rng.uniform(1.0, 400.0, (n, 1, 1))
    use = rng.uniform(size=n) < 0.8
    use[0] = True
    odd = np.flatnonzero(rng.uniform(size=n) < 0.2)
    if n > 1 and odd.size == 0:
        odd = np.array([n // 2])
    for k, row in enumerate(odd):
        kind = k % 6
        if kind < 4:
            _poison_covariance(rng, p, row, kind)
        elif kind == 4:
            h[row, 0, 3 + rng.integers(3)] = rng.normal()  # not a height measurement
        else:
            p[row], r_meas[row] = 0.0, 0.0  # S = 0
    common = np.setdiff1d(np.arange(n), odd)
    nu[common[::7]] = np.nan  # NaN innovations (where K is finite: NaN × NaN has no defined sign bit)
    rad = np.ascontiguousarray(h[:, 0, IR])
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        x_ref, p_ref = _apply_numpy(x, p, h, nu, r_meas, use, rad if radial else None)
        x_got, p_got = x.copy(), p.copy()
        kn.joseph_update(x_got, p_got, h, nu, r_meas, use, rad, radial)
        assert _equal(x_got, x_ref)
        assert _equal(p_got, p_ref)
        for k in _rows_to_fly_alone(n):
            sl = slice(k, k + 1)
            x1, p1 = x[sl].copy(), p[sl].copy()
            kn.joseph_update(x1, p1, h[sl], nu[sl], r_meas[sl], use[sl], rad[sl], radial)
            assert _bits(x1) == _bits(x_got[sl]) and _bits(p1) == _bits(p_got[sl]), k


@pytest.mark.parametrize("n", [1, 50])
def test_hpht_and_inv3_match_numpy(n):
    rng = np.random.default_rng(11)
    p = _covariances(rng, n)
    for h in (_altimeter_h(rng, n), _velocimeter_h(rng, n)):
        assert _equal(kn.hpht(h, p), _mm(_mm(h, p), np.swapaxes(h, 1, 2)))
    s = _covariances(rng, n)[:, :3, :3] + np.eye(3)
    assert _equal(kn.inv3_sym(s), _inv3_numpy(s))


# ---------------------------------------------------------------- altimeter beam model
def _altimeter_model_numpy(nav, meas, j):
    """NavigationFilter._altimeter_model as numpy code (before the kernels)."""
    from touchdown.moon.frames import dot, mci_to_mcmf, mcmf_to_llh, norm, quat_rotate

    origin = nav.r_mci + quat_rotate(nav.q, np.broadcast_to(meas.beam_origins_body_m[j], (nav.n, 3)))
    u = quat_rotate(nav.q, np.broadcast_to(meas.beam_dirs_body[j], (nav.n, 3)))
    rn = norm(origin)
    rh = origin / rn[:, None]
    c = -dot(u, rh)
    lat0, lon0, h0 = mcmf_to_llh(mci_to_mcmf(origin, nav.t))
    alt0 = h0 - nav.believed_terrain_m(lat0, lon0)
    c_safe = np.maximum(c, 0.2)
    hit = origin + (np.maximum(alt0, 0.0) / c_safe)[:, None] * u
    lat1, lon1, _ = mcmf_to_llh(mci_to_mcmf(hit, nav.t))
    z_hat = rn - R_MOON - nav.believed_terrain_m(lat1, lon1)
    rho = meas.range_m[:, j]
    usable = meas.valid[:, j] & np.isfinite(rho) & (c >= 0.2)
    z = np.where(usable, rho * c, np.nan)
    p = nav.params
    sig = c_safe * np.sqrt(p.altimeter_sigma_m**2 + (p.altimeter_sigma_fraction * np.nan_to_num(rho)) ** 2)
    h = np.zeros((nav.n, 1, NX))
    h[:, 0, IR] = rh
    h[:, 0, IB] = -1.0
    return z, z_hat, h, sig * sig


class _WavyTerrain:
    """A smooth terrain [m] for the onboard map (any function of latitude and longitude will do)."""

    def height(self, lat, lon):
        return 800.0 * np.sin(3.0 * lat) * np.cos(2.0 * lon) - 300.0


@pytest.mark.parametrize("n", [1, 3, 400])
def test_altimeter_model_matches_numpy(n, lola_label):
    """Flat map, a terrain model, and an onboard DEM in memory (``altimeter_model_dem``, one call)."""
    from touchdown.fsw.navigation.ekf import NavigationFilter, NavParams
    from touchdown.fsw.navigation.onboard_map import OnboardMap
    from touchdown.moon.frames import quat_normalize
    from touchdown.moon.gravity import PointMass
    from touchdown.moon.terrain.dem import read_dem
    from touchdown.sensors.base import AltimeterMeasurement

    rng = np.random.default_rng(40 + n)
    dem_map = OnboardMap(read_dem(lola_label))
    assert dem_map.kernel_grid is not None and OnboardMap(_WavyTerrain()).kernel_grid is None
    for onboard in (OnboardMap(None, 120.0), OnboardMap(_WavyTerrain()), dem_map):
        nav = NavigationFilter(NavParams(), PointMass(), onboard, n)
        r = _positions(rng, n)
        low = slice(0, n // 3)  # a third within reach of the ground
        r[low] *= ((R_MOON + rng.uniform(-50.0, 3000.0, n // 3)) / np.linalg.norm(r[low], axis=1))[:, None]
        nav.initialize(rng.uniform(0.0, 900.0), r, rng.normal(0.0, 1e3, (n, 3)), rng.normal(size=(n, 4)))
        nav.x[:, IB] = rng.normal(0.0, 30.0, n)
        nav.q = quat_normalize(rng.normal(size=(n, 4)))
        dirs = np.array([[0.0, 0.0, -1.0], [-0.5, 0.0, -0.866], [1.0, 0.0, 0.0]])
        origins = np.array([[0.0, 0.0, -0.5], [0.3, 0.1, -0.4], [0.0, 0.0, 0.0]])
        rng_m = rng.uniform(0.0, 12_000.0, (n, 3))
        rng_m.flat[::7] = np.nan
        rng_m.flat[3::11] = np.inf
        meas = AltimeterMeasurement("lrf", nav.t, rng_m, rng.uniform(size=(n, 3)) < 0.8, dirs, origins)
        for j in range(3):
            with np.errstate(invalid="ignore", over="ignore"):
                got = nav._altimeter_model(meas, j)
                ref = _altimeter_model_numpy(nav, meas, j)
            for a, b in zip(got, ref, strict=True):
                assert _equal(a, b)


# ---------------------------------------------------------------- strapdown propagation
def _propagate_state_numpy(nav, imu, free_fall):
    """NavigationFilter.propagate's state part as numpy code (before the kernels): (q, w, x, cal_dv, cal_t)
    and the inputs of the covariance step (r1, |r1|, q_map)."""
    from touchdown.fsw.navigation.ekf import quat_from_rotation_vector
    from touchdown.moon.frames import norm, quat_multiply, quat_normalize, quat_rotate, velocity_mci_to_mcmf

    dt = imu.dt_s
    use = free_fall & imu.accel_valid
    cal_dv = nav._cal_dv + np.where(use[:, None], imu.delta_v_body_mps, 0.0)
    cal_t = nav._cal_t + np.where(use, dt, 0.0)
    dv_body = imu.delta_v_body_mps - nav.accel_bias_body * dt
    dth = np.where(imu.gyro_valid[:, None], imu.delta_theta_body_rad, nav.w * dt)
    q_mid = quat_normalize(quat_multiply(nav.q, quat_from_rotation_vector(0.5 * dth)))
    q = quat_normalize(quat_multiply(nav.q, quat_from_rotation_vector(dth)))
    w = dth / dt
    dv = np.where(imu.accel_valid[:, None], quat_rotate(q_mid, dv_body), 0.0)
    x = nav.x.copy()
    r0, v0 = x[:, IR], x[:, IV]
    g0 = nav.gravity.acceleration(r0)
    r1 = r0 + v0 * dt + 0.5 * (dv + g0 * dt) * dt
    g1 = nav.gravity.acceleration(r1)
    v1 = v0 + dv + 0.5 * (g0 + g1) * dt
    v_ground = norm(velocity_mci_to_mcmf(r0, v0, nav.t))
    x[:, IR], x[:, IV] = r1, v1
    return q, w, x, cal_dv, cal_t, norm(r1), nav.params.terrain_rw_m2_per_m * v_ground * dt


@pytest.mark.parametrize("n", [1, 3, 250])
def test_strapdown_matches_numpy(n, monkeypatch):
    from touchdown.fsw.navigation.ekf import NavigationFilter, NavParams
    from touchdown.fsw.navigation.onboard_map import OnboardMap
    from touchdown.moon.frames import quat_normalize
    from touchdown.moon.gravity import PointMass
    from touchdown.sensors.base import ImuMeasurement

    rng = np.random.default_rng(70 + n)
    nav = NavigationFilter(NavParams(), PointMass(), OnboardMap(None, 0.0), n)
    nav.initialize(
        12.5, _positions(rng, n), rng.normal(0.0, 1e3, (n, 3)), quat_normalize(rng.normal(size=(n, 4)))
    )
    nav.accel_bias_body = rng.normal(0.0, 1e-3, (n, 3))
    nav._cal_dv = rng.normal(size=(n, 3))
    nav._cal_t = rng.uniform(0.0, 50.0, n)
    nav.w = rng.normal(0.0, 0.01, (n, 3))
    seen = {}  # the covariance step's inputs
    real = kn.propagate_covariance

    def spy(p, r1, rn, k, dt, q_const, q_map):
        seen.update(r1=r1.copy(), rn=rn.copy(), q_map=q_map.copy())
        real(p, r1, rn, k, dt, q_const, q_map)

    monkeypatch.setattr(kn, "propagate_covariance", spy)
    for step in range(3):
        dtheta = rng.normal(0.0, 1e-3, (n, 3))
        dtheta[0] = 0.0  # no rotation
        dv = rng.normal(0.0, 0.2, (n, 3))
        valid = rng.uniform(size=(2, n)) < 0.8
        imu = ImuMeasurement("imu", nav.t + 0.1, 0.1, dv, dtheta, valid[0], valid[1])
        free_fall = rng.uniform(size=n) < 0.5
        ref = _propagate_state_numpy(nav, imu, free_fall)
        nav.propagate(imu, free_fall=free_fall)
        for got, want in zip((nav.q, nav.w, nav.x, nav._cal_dv, nav._cal_t), ref[:5], strict=True):
            assert _equal(got, want), step
        assert (
            _equal(seen["r1"], ref[2][:, IR]) and _equal(seen["rn"], ref[5]) and _equal(seen["q_map"], ref[6])
        )


def _update_altimeter_numpy(nav, meas):
    """NavigationFilter.update_altimeter as numpy code (before the kernels)."""
    gate = nav.gate(meas.sensor)
    nb = meas.range_m.shape[1]
    models = [nav._altimeter_model(meas, j) for j in range(nb)]
    nu = np.stack([z - zh for z, zh, _, _ in models], axis=1)
    s = np.stack([_mm(_mm(h, nav.P), np.swapaxes(h, 1, 2))[:, 0, 0] + r for _, _, h, r in models], 1)
    present_b = np.isfinite(nu)
    admit = gate.in_gate(np.abs(nu) / np.sqrt(s), present_b)
    present = present_b.any(axis=1)
    count = np.maximum(present_b.sum(axis=1), 1)
    summary = np.where(present_b, nu, 0.0).sum(axis=1) / count
    readmit, events = gate.record(nav.t, present, admit.any(axis=1), summary)
    if readmit.any():
        nav.P[:, IB, IB] += np.where(readmit, summary * summary, 0.0)
        admit = admit | (readmit[:, None] & present_b)
    for j in range(nb):
        use = admit[:, j]
        if use.any():
            z, z_hat, h, r = models[j] if j == 0 else nav._altimeter_model(meas, j)
            nav._apply(h, np.nan_to_num(z - z_hat)[:, None], r[:, None, None], use, radial=h[:, 0, IR])
    z_all = np.stack([m[0] for m in models], axis=1)
    z_mean = np.where(present_b, z_all, 0.0).sum(axis=1) / count
    nav.last_altimeter_height_m = np.where(present, z_mean, np.nan)
    nav.last_altimeter_accepted = admit.any(axis=1)
    return events


@pytest.mark.parametrize("beams", [1, 2, 3])
def test_update_altimeter_matches_numpy(beams):
    import copy

    from touchdown.fsw.navigation.ekf import NavigationFilter, NavParams
    from touchdown.fsw.navigation.gating import GateParams
    from touchdown.fsw.navigation.onboard_map import OnboardMap
    from touchdown.moon.frames import quat_from_axis_angle
    from touchdown.moon.gravity import PointMass
    from touchdown.sensors.base import AltimeterMeasurement

    n = 300
    rng = np.random.default_rng(beams)
    params = NavParams(gate=GateParams(policy="robust", window_s=0.3, consistency=50.0))
    nav = NavigationFilter(params, PointMass(), OnboardMap(_WavyTerrain()), n)
    r = _positions(rng, n)
    r *= ((R_MOON + rng.uniform(100.0, 3000.0, n)) / np.linalg.norm(r, axis=1))[:, None]
    up = r / np.linalg.norm(r, axis=1)[:, None]
    tilt = rng.normal(0.0, 0.1, (n, 3))  # body +z near the local vertical: the beams look down
    axis = np.cross([0.0, 0.0, 1.0], up) + tilt
    q0 = quat_from_axis_angle(axis, np.arccos(up[:, 2]))
    nav.initialize(100.0, r, rng.normal(0.0, 50.0, (n, 3)), q0)
    ref = copy.deepcopy(nav)
    dirs = np.array([[0.0, 0.0, -1.0], [-0.5, 0.0, -0.866], [0.3, 0.3, -0.9]])[:beams]
    origins = np.zeros((beams, 3))
    step = rng.choice([0.0, 0.0, 400.0], n)  # a third see a terrain step the map does not have
    events = 0
    for k in range(8):
        probe = AltimeterMeasurement(
            "lrf", nav.t, np.ones((n, beams)), np.ones((n, beams), bool), dirs, origins
        )
        ranges = np.empty((n, beams))
        for j in range(beams):  # the filter's own prediction, plus the step and noise, as slant ranges
            c, z_hat, _, _ = nav._altimeter_model(probe, j)
            ranges[:, j] = (z_hat + step + rng.normal(0.0, 3.0, n)) / c
        valid = rng.uniform(size=(n, beams)) < 0.9
        meas = AltimeterMeasurement("lrf", nav.t, ranges, valid, dirs, origins)
        ev = nav.update_altimeter(meas)
        ev_ref = _update_altimeter_numpy(ref, meas)
        events += ev.readmitted.sum() + ev.rejected.sum()
        for name in ("first_valid", "rejected", "abandoned", "readmitted"):
            assert np.array_equal(getattr(ev, name), getattr(ev_ref, name)), (k, name)
        for name in ("x", "P", "last_altimeter_height_m", "last_altimeter_accepted"):
            assert _equal(getattr(nav, name), getattr(ref, name)), (k, name)
        nav.t = ref.t = nav.t + 0.1
    assert events > 0 and nav.last_altimeter_accepted.any()


def test_a_tick_without_readings_changes_nothing_as_the_full_update():
    """No valid reading on any row takes a shortcut; it must leave what the full screening leaves (a row
    flagged valid with a NaN reading goes through the full screening and is not present either)."""
    import copy

    from touchdown.fsw.navigation.ekf import NavigationFilter, NavParams
    from touchdown.fsw.navigation.onboard_map import OnboardMap
    from touchdown.moon.frames import quat_normalize
    from touchdown.moon.gravity import PointMass
    from touchdown.sensors.base import AltimeterMeasurement, VelocimeterMeasurement

    n = 50
    rng = np.random.default_rng(5)
    nav = NavigationFilter(NavParams(), PointMass(), OnboardMap(_WavyTerrain()), n)
    nav.initialize(
        3.0, _positions(rng, n), rng.normal(0.0, 50.0, (n, 3)), quat_normalize(rng.normal(size=(n, 4)))
    )
    full = copy.deepcopy(nav)
    dirs, origins = np.array([[0.0, 0.0, -1.0], [-0.5, 0.0, -0.866]]), np.zeros((2, 3))
    invalid = np.zeros((n, 2), bool)
    nan_row = invalid.copy()
    nan_row[7] = True
    ranges = rng.uniform(100.0, 900.0, (n, 2))
    nan_ranges = ranges.copy()
    nan_ranges[7] = np.nan
    events = [
        nav.update_altimeter(AltimeterMeasurement("lrf", 3.0, ranges, invalid, dirs, origins)),
        full.update_altimeter(AltimeterMeasurement("lrf", 3.0, nan_ranges, nan_row, dirs, origins)),
        nav.update_velocimeter(VelocimeterMeasurement("dv", 3.0, rng.normal(size=(n, 3)), invalid[:, 0])),
        full.update_velocimeter(VelocimeterMeasurement("dv", 3.0, np.full((n, 3), np.nan), nan_row[:, 0])),
    ]
    for a, b in (events[:2], events[2:]):
        for name in ("first_valid", "rejected", "abandoned", "readmitted"):
            assert np.array_equal(getattr(a, name), getattr(b, name))
    for name in ("x", "P", "last_altimeter_height_m", "last_altimeter_accepted"):
        assert _equal(getattr(nav, name), getattr(full, name)), name
    for sensor in ("lrf", "dv"):
        for name in ("seen", "abandoned", "count", "streak_t0", "s1", "s2", "n_streak"):
            a, b = getattr(nav.gates[sensor], name), getattr(full.gates[sensor], name)
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), (sensor, name)


# ---------------------------------------------------------------- star-tracker attitude
@pytest.mark.parametrize("n", [1, 7, 300])
def test_update_attitude_matches_numpy(n):
    from touchdown.fsw.navigation.ekf import NavigationFilter, NavParams
    from touchdown.fsw.navigation.onboard_map import OnboardMap
    from touchdown.moon.frames import quat_normalize
    from touchdown.moon.gravity import PointMass
    from touchdown.sensors.base import StarTrackerMeasurement

    rng = np.random.default_rng(90 + n)
    nav = NavigationFilter(NavParams(), PointMass(), OnboardMap(None, 0.0), n)
    nav.q = quat_normalize(rng.normal(size=(n, 4)))
    q_meas = rng.normal(size=(n, 4)) * rng.uniform(0.5, 2.0, (n, 1))  # not unit, either hemisphere
    q_meas[rng.uniform(size=n) < 0.1, 2] = np.nan
    q_meas[rng.uniform(size=n) < 0.05, 0] = np.inf
    valid = rng.uniform(size=n) < 0.8
    # the numpy code of NavigationFilter.update_attitude
    ok = valid & np.all(np.isfinite(q_meas), axis=1)
    q = np.where(ok[:, None], q_meas, nav.q)
    flip = np.sum(q * nav.q, axis=1) < 0.0
    want = quat_normalize(np.where(flip[:, None], -q, q))
    nav.update_attitude(StarTrackerMeasurement("st", 1.0, q_meas, valid))
    assert _equal(nav.q, want)
