"""Frames and quaternions against scipy's Rotation and closed-form geometry.

Convention check: our ``q_a_to_b = [w, x, y, z]`` (scalar first, Hamilton, ``v_b = q ⊗ v_a ⊗ q*``) gives
``C_a_to_b == Rotation.from_quat([x, y, z, w]).as_matrix()`` — scipy is scalar-last and its matrix is the
same active rotation, so only the component order differs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from touchdown.moon import frames as fr
from touchdown.moon.constants import OMEGA_MOON, R_MOON


def _random_quats(rng: np.random.Generator, n: int) -> np.ndarray:
    q = rng.normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=1)[:, None]


def _scipy_xyzw(q_wxyz: np.ndarray) -> np.ndarray:
    return np.concatenate((q_wxyz[..., 1:], q_wxyz[..., :1]), axis=-1)


def _same_rotation(q1: np.ndarray, q2: np.ndarray, tol: float) -> None:
    """q and −q are the same rotation."""
    d = np.minimum(np.linalg.norm(q1 - q2, axis=-1), np.linalg.norm(q1 + q2, axis=-1))
    assert np.max(d) < tol


def test_quat_to_dcm_matches_scipy_scalar_last() -> None:
    rng = np.random.default_rng(10)
    q = _random_quats(rng, 500)
    expected = Rotation.from_quat(_scipy_xyzw(q)).as_matrix()
    np.testing.assert_allclose(fr.quat_to_dcm(q), expected, atol=1e-15)


def test_quat_rotate_matches_dcm_and_scipy() -> None:
    rng = np.random.default_rng(11)
    q = _random_quats(rng, 500)
    v = rng.normal(size=(500, 3)) * 1e3
    vb = fr.quat_rotate(q, v)
    np.testing.assert_allclose(vb, np.einsum("nij,nj->ni", fr.quat_to_dcm(q), v), atol=1e-11)
    np.testing.assert_allclose(vb, Rotation.from_quat(_scipy_xyzw(q)).apply(v), atol=1e-11)
    # and equals the sandwich product q ⊗ [0, v] ⊗ q*
    pure = np.concatenate((np.zeros((500, 1)), v), axis=1)
    sandwich = fr.quat_multiply(fr.quat_multiply(q, pure), fr.quat_conjugate(q))
    np.testing.assert_allclose(sandwich[:, 1:], vb, atol=1e-11)
    np.testing.assert_allclose(sandwich[:, 0], 0.0, atol=1e-11)


def test_axis_angle_is_right_handed() -> None:
    q = fr.quat_from_axis_angle([0.0, 0.0, 1.0], math.pi / 2)
    np.testing.assert_allclose(fr.quat_rotate(q, np.array([1.0, 0.0, 0.0])), [0.0, 1.0, 0.0], atol=1e-15)
    rng = np.random.default_rng(12)
    axis = rng.normal(size=(100, 3))
    angle = rng.uniform(-math.pi, math.pi, 100)
    q = fr.quat_from_axis_angle(axis, angle)
    rotvec = axis / np.linalg.norm(axis, axis=1)[:, None] * angle[:, None]
    np.testing.assert_allclose(fr.quat_to_dcm(q), Rotation.from_rotvec(rotvec).as_matrix(), atol=1e-14)


def test_dcm_to_quat_round_trip_including_near_180_degrees() -> None:
    rng = np.random.default_rng(13)
    q = _random_quats(rng, 300)
    axes = rng.normal(size=(60, 3))
    # rotations within ~1e-9 rad of 180°, exactly 180°, and about each coordinate axis
    angles = np.concatenate((math.pi - rng.uniform(0, 1e-9, 30), np.full(30, math.pi)))
    near_pi = fr.quat_from_axis_angle(axes, angles)
    about_axes = fr.quat_from_axis_angle(np.eye(3), np.full(3, math.pi))
    small = fr.quat_from_axis_angle(axes[:10], np.full(10, 1e-12))
    all_q = np.concatenate((q, near_pi, about_axes, small, fr.quat_identity((1,))))
    back = fr.dcm_to_quat(fr.quat_to_dcm(all_q))
    _same_rotation(back, all_q, 1e-14 * 10)
    np.testing.assert_allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-15)
    assert np.all(back[:, 0] >= 0.0)
    # against scipy's own matrix → quaternion
    sp = Rotation.from_matrix(fr.quat_to_dcm(all_q)).as_quat()
    _same_rotation(back, np.concatenate((sp[:, 3:], sp[:, :3]), axis=1), 1e-13)


def test_composition_order() -> None:
    rng = np.random.default_rng(14)
    q_a_to_b, q_b_to_c = _random_quats(rng, 200), _random_quats(rng, 200)
    v_a = rng.normal(size=(200, 3))
    q_a_to_c = fr.quat_multiply(q_b_to_c, q_a_to_b)
    np.testing.assert_allclose(
        fr.quat_rotate(q_a_to_c, v_a), fr.quat_rotate(q_b_to_c, fr.quat_rotate(q_a_to_b, v_a)), atol=1e-14
    )
    c = fr.quat_to_dcm(q_b_to_c) @ fr.quat_to_dcm(q_a_to_b)
    np.testing.assert_allclose(fr.quat_to_dcm(q_a_to_c), c, atol=1e-14)
    # conjugate is the inverse
    ident = fr.quat_multiply(fr.quat_conjugate(q_a_to_b), q_a_to_b)
    np.testing.assert_allclose(ident, fr.quat_identity((200,)), atol=1e-15)


def test_quat_normalize_unit_and_non_negative_scalar() -> None:
    rng = np.random.default_rng(15)
    q = rng.normal(size=(100, 4)) * 3
    qn = fr.quat_normalize(q)
    np.testing.assert_allclose(np.linalg.norm(qn, axis=1), 1.0, atol=1e-15)
    assert np.all(qn[:, 0] >= 0)
    _same_rotation(qn, q / np.linalg.norm(q, axis=1)[:, None], 1e-15)


def test_llh_round_trip() -> None:
    rng = np.random.default_rng(16)
    lat = rng.uniform(-math.pi / 2 + 1e-6, math.pi / 2 - 1e-6, 1000)
    lon = rng.uniform(-math.pi + 1e-9, math.pi, 1000)
    h = rng.uniform(-9000.0, 200_000.0, 1000)
    r = fr.llh_to_mcmf(lat, lon, h)
    lat2, lon2, h2 = fr.mcmf_to_llh(r)
    np.testing.assert_allclose(lat2, lat, atol=1e-14)
    np.testing.assert_allclose(lon2, lon, atol=1e-14)
    np.testing.assert_allclose(h2, h, atol=1e-8)
    np.testing.assert_allclose(np.linalg.norm(r, axis=1), R_MOON + h, rtol=1e-15)
    # known points: lat 0, lon 90° E is +y; north pole is +z
    np.testing.assert_allclose(fr.llh_to_mcmf(0.0, math.pi / 2, 0.0), [0.0, R_MOON, 0.0], atol=1e-9)
    np.testing.assert_allclose(fr.llh_to_mcmf(math.pi / 2, 0.3, 100.0), [0.0, 0.0, R_MOON + 100], atol=1e-9)


def test_enu_orthonormal_right_handed_and_pointing_the_right_way() -> None:
    rng = np.random.default_rng(17)
    lat = rng.uniform(-1.5, 1.5, 300)
    lon = rng.uniform(-4, 4, 300)
    east, north, up = fr.enu_basis(lat, lon)
    c = fr.dcm_mcmf_to_enu(lat, lon)
    np.testing.assert_allclose(c @ np.swapaxes(c, -1, -2), np.broadcast_to(np.eye(3), c.shape), atol=1e-15)
    np.testing.assert_allclose(np.linalg.det(c), 1.0, atol=1e-14)
    np.testing.assert_allclose(np.cross(east, north), up, atol=1e-15)
    # up is the radial direction; north is d(position)/d(lat), east d/d(lon), normalised
    r = fr.llh_to_mcmf(lat, lon, 0.0)
    np.testing.assert_allclose(up, r / np.linalg.norm(r, axis=1)[:, None], atol=1e-15)
    d = 1e-6
    dn = fr.llh_to_mcmf(lat + d, lon, 0.0) - fr.llh_to_mcmf(lat - d, lon, 0.0)
    de = fr.llh_to_mcmf(lat, lon + d, 0.0) - fr.llh_to_mcmf(lat, lon - d, 0.0)
    np.testing.assert_allclose(north, dn / np.linalg.norm(dn, axis=1)[:, None], atol=1e-8)
    np.testing.assert_allclose(east, de / np.linalg.norm(de, axis=1)[:, None], atol=1e-8)
    # rows of C_mcmf_to_enu: up expressed in enu is (0, 0, 1)
    np.testing.assert_allclose(fr.matvec(c, up), np.broadcast_to([0.0, 0.0, 1.0], up.shape), atol=1e-15)


def test_mci_mcmf_round_trip_and_rotation_sense() -> None:
    rng = np.random.default_rng(18)
    r = rng.normal(size=(200, 3)) * 2e6
    t = rng.uniform(0, 3e6, 200)
    back = fr.mcmf_to_mci(fr.mci_to_mcmf(r, t), t)
    np.testing.assert_allclose(back, r, atol=1e-8)
    np.testing.assert_allclose(fr.mci_to_mcmf(r, 0.0), r, atol=0)
    np.testing.assert_allclose(fr.matvec(fr.dcm_mci_to_mcmf(t), r), fr.mci_to_mcmf(r, t), atol=1e-8)
    # the Moon turns eastward (+z): a Moon-fixed point on +x is at +y in mci after a quarter turn
    quarter = (math.pi / 2) / OMEGA_MOON
    np.testing.assert_allclose(
        fr.mcmf_to_mci(np.array([R_MOON, 0.0, 0.0]), quarter), [0, R_MOON, 0], atol=1e-6
    )
    # matches scipy: C_mci_to_mcmf is a rotation by −θ about z
    th = fr.rotation_angle(t)
    np.testing.assert_allclose(
        fr.dcm_mci_to_mcmf(t), Rotation.from_rotvec(np.outer(-th, [0, 0, 1])).as_matrix(), atol=1e-15
    )


def test_point_fixed_on_the_moon() -> None:
    rng = np.random.default_rng(19)
    lat = rng.uniform(-1.5, 1.5, 100)
    lon = rng.uniform(-3, 3, 100)
    r_mcmf = fr.llh_to_mcmf(lat, lon, 1000.0)
    t = rng.uniform(0, 1e6, 100)
    v_mci = fr.velocity_mcmf_to_mci(r_mcmf, np.zeros_like(r_mcmf), t)
    np.testing.assert_allclose(
        np.linalg.norm(v_mci, axis=1), OMEGA_MOON * (R_MOON + 1000.0) * np.cos(lat), rtol=1e-13
    )
    r_mci = fr.mcmf_to_mci(r_mcmf, t)
    np.testing.assert_allclose(fr.velocity_mci_to_mcmf(r_mci, v_mci, t), 0.0, atol=1e-12)
    # the inertial velocity of a fixed point is eastward
    east_mci = fr.mcmf_to_mci(fr.enu_basis(lat, lon)[0], t)
    np.testing.assert_allclose(
        np.einsum("ni,ni->n", v_mci, east_mci), np.linalg.norm(v_mci, axis=1), rtol=1e-12
    )
    # velocity transform round trip for an arbitrary relative velocity
    v_rel = rng.normal(size=(100, 3)) * 50
    v_in = fr.velocity_mcmf_to_mci(r_mcmf, v_rel, t)
    np.testing.assert_allclose(fr.velocity_mci_to_mcmf(r_mci, v_in, t), v_rel, atol=1e-10)


def test_surface_distance() -> None:
    assert fr.surface_distance(0.0, 0.7, math.pi / 2, 0.7) == pytest.approx(math.pi * R_MOON / 2, rel=1e-15)
    assert fr.surface_distance(0.0, 0.0, 0.0, math.pi) == pytest.approx(math.pi * R_MOON, rel=1e-15)
    assert fr.surface_distance(0.3, 0.2, 0.3, 0.2) == 0.0
    # against the dot-product formula
    rng = np.random.default_rng(20)
    lat1, lat2 = rng.uniform(-1.5, 1.5, (2, 200))
    lon1, lon2 = rng.uniform(-3, 3, (2, 200))
    u1, u2 = fr.llh_to_mcmf(lat1, lon1, 0.0, 1.0), fr.llh_to_mcmf(lat2, lon2, 0.0, 1.0)
    angle = np.arctan2(np.linalg.norm(np.cross(u1, u2), axis=1), np.einsum("ni,ni->n", u1, u2))
    np.testing.assert_allclose(fr.surface_distance(lat1, lon1, lat2, lon2), R_MOON * angle, rtol=1e-9)
    np.testing.assert_allclose(
        fr.wrap_longitude(np.array([-0.5, 7.0])), [2 * math.pi - 0.5, 7.0 - 2 * math.pi]
    )


def test_batch_equals_single_bit_for_bit() -> None:
    rng = np.random.default_rng(21)
    n = 37
    q, p = _random_quats(rng, n), _random_quats(rng, n)
    v = rng.normal(size=(n, 3)) * 1e3
    lat, lon, h = rng.uniform(-1.5, 1.5, n), rng.uniform(-3, 3, n), rng.uniform(0, 1e5, n)
    t = rng.uniform(0, 1e6, n)
    r = fr.llh_to_mcmf(lat, lon, h)
    batch = {
        "quat_multiply": fr.quat_multiply(p, q),
        "quat_rotate": fr.quat_rotate(q, v),
        "quat_to_dcm": fr.quat_to_dcm(q),
        "dcm_to_quat": fr.dcm_to_quat(fr.quat_to_dcm(q)),
        "quat_normalize": fr.quat_normalize(q * 2),
        "axis_angle": fr.quat_from_axis_angle(v, lat),
        "llh_to_mcmf": r,
        "mcmf_to_llh": np.stack(fr.mcmf_to_llh(r), axis=-1),
        "enu": np.stack(fr.enu_basis(lat, lon), axis=-2),
        "mci_to_mcmf": fr.mci_to_mcmf(r, t),
        "mcmf_to_mci": fr.mcmf_to_mci(r, t),
        "dcm_mci_to_mcmf": fr.dcm_mci_to_mcmf(t),
        "v_mcmf_to_mci": fr.velocity_mcmf_to_mci(r, v, t),
        "v_mci_to_mcmf": fr.velocity_mci_to_mcmf(r, v, t),
        "surface_distance": fr.surface_distance(lat, lon, lat[::-1], lon[::-1]),
    }
    for i in range(n):
        j = n - 1 - i
        single = {
            "quat_multiply": fr.quat_multiply(p[i], q[i]),
            "quat_rotate": fr.quat_rotate(q[i], v[i]),
            "quat_to_dcm": fr.quat_to_dcm(q[i]),
            "dcm_to_quat": fr.dcm_to_quat(fr.quat_to_dcm(q[i])),
            "quat_normalize": fr.quat_normalize(q[i] * 2),
            "axis_angle": fr.quat_from_axis_angle(v[i], lat[i]),
            "llh_to_mcmf": fr.llh_to_mcmf(lat[i], lon[i], h[i]),
            "mcmf_to_llh": np.stack(fr.mcmf_to_llh(r[i]), axis=-1),
            "enu": np.stack(fr.enu_basis(lat[i], lon[i]), axis=-2),
            "mci_to_mcmf": fr.mci_to_mcmf(r[i], t[i]),
            "mcmf_to_mci": fr.mcmf_to_mci(r[i], t[i]),
            "dcm_mci_to_mcmf": fr.dcm_mci_to_mcmf(t[i]),
            "v_mcmf_to_mci": fr.velocity_mcmf_to_mci(r[i], v[i], t[i]),
            "v_mci_to_mcmf": fr.velocity_mci_to_mcmf(r[i], v[i], t[i]),
            "surface_distance": fr.surface_distance(lat[i], lon[i], lat[j], lon[j]),
        }
        for name, value in single.items():
            assert value.shape == batch[name][i].shape, name
            assert np.array_equal(value, batch[name][i]), f"{name} differs at index {i}"
