"""Gravity models against oracles that share no code with them.

Oracles: the closed-form point mass; the closed-form J2 field; a direct spherical-harmonic summation with
``scipy.special.lpmv`` and explicitly written normalisation; central finite differences of that
independent potential.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import lpmv

from touchdown.errors import DataNotFoundError, InputError
from touchdown.moon.constants import GM_MOON, J2_MOON, R_GRAVITY_REF, R_MOON
from touchdown.moon.gravity import (
    GravityCoefficients,
    GravityModel,
    PointMass,
    SphericalHarmonics,
    UniformGravity,
    ZonalJ2,
    coefficients_from_j2,
    j2_from_coefficients,
    read_shadr,
    write_shadr,
)

# --------------------------------------------------------------------------------------------------
# helpers (independent of the code under test)


def _points(rng: np.random.Generator, n: int, r_lo: float, r_hi: float) -> np.ndarray:
    """Random points with radii in [r_lo, r_hi], plus points at and next to both poles."""
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1)[:, None]
    pts = d * rng.uniform(r_lo, r_hi, n)[:, None]
    extra = []
    for lat_deg in (89.9999, -89.9999, 90.0, -90.0, 89.0, 0.0):
        lat, lon = math.radians(lat_deg), rng.uniform(0, 2 * math.pi)
        rr = rng.uniform(r_lo, r_hi)
        if abs(lat_deg) == 90.0:
            extra.append([0.0, 0.0, math.copysign(rr, lat_deg)])
        else:
            extra.append(
                [rr * math.cos(lat) * math.cos(lon), rr * math.cos(lat) * math.sin(lon), rr * math.sin(lat)]
            )
    return np.vstack((pts, np.array(extra)))


def _direct_potential(r: np.ndarray, gm: float, r_ref: float, c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """U = GM/r Σ (R/r)^n P̄nm(sin φ)(C cos mλ + S sin mλ), P̄nm from scipy's lpmv (which carries the
    Condon–Shortley phase (−1)^m, removed here) and the 4π normalisation written out with factorials.

    lpmv builds the factor cos^m φ as (1 − x²)^(m/2), which loses digits near a pole (at 89.9999° the
    relative error is ~1e-5); that factor is swapped for cos φ = hypot(x, y)/r, exact to rounding."""
    x, y, z = r[:, 0], r[:, 1], r[:, 2]
    rn = np.sqrt(x**2 + y**2 + z**2)
    sin_lat = z / rn
    cos_lat = np.hypot(x, y) / rn
    with np.errstate(invalid="ignore", divide="ignore"):
        fix = np.where(cos_lat > 0, cos_lat / np.sqrt(1.0 - sin_lat * sin_lat), 1.0)
    lon = np.arctan2(y, x)
    total = np.zeros_like(rn)
    for n in range(c.shape[0]):
        for m in range(min(n, c.shape[1] - 1) + 1):
            norm = math.sqrt(
                (1 if m == 0 else 2) * (2 * n + 1) * math.factorial(n - m) / math.factorial(n + m)
            )
            p = norm * (-1) ** m * lpmv(m, n, sin_lat) * fix**m
            total += (r_ref / rn) ** n * p * (c[n, m] * np.cos(m * lon) + s[n, m] * np.sin(m * lon))
    return gm / rn * total


def _central_difference(f, r: np.ndarray, h: float) -> np.ndarray:
    g = np.empty_like(r)
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        g[:, k] = (f(r + e) - f(r - e)) / (2 * h)
    return g


def _random_coefficients(rng: np.random.Generator, deg: int, order: int, c00: float, scale: float):
    c = rng.normal(scale=scale, size=(deg + 1, order + 1))
    s = rng.normal(scale=scale, size=(deg + 1, order + 1))
    n, m = np.indices(c.shape)
    c[m > n] = 0.0
    s[m > n] = 0.0
    s[:, 0] = 0.0
    c[0, 0] = c00
    return c, s


def _rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a - b, axis=-1) / np.linalg.norm(b, axis=-1)


# --------------------------------------------------------------------------------------------------
# point mass, uniform, J2


def test_point_mass_closed_form() -> None:
    rng = np.random.default_rng(1)
    r = _points(rng, 200, 1.7e6, 5e6)
    a = PointMass().acceleration(r)
    rn = np.linalg.norm(r, axis=1)
    expected = -GM_MOON / rn[:, None] ** 2 * (r / rn[:, None])
    assert np.max(_rel(a, expected)) < 1e-14
    np.testing.assert_allclose(PointMass().potential(r), GM_MOON / rn, rtol=1e-15)


def test_surface_gravity_reference_value() -> None:
    # REFERENCE §1: GM/R² = 1.6243 m/s² at 1737.4 km
    a = PointMass().acceleration(np.array([0.0, 1_737_400.0, 0.0]))
    g = float(np.linalg.norm(a))
    assert g == pytest.approx(4902.800066e9 / 1_737_400.0**2, rel=1e-15)
    # REFERENCE §1 prints 1.6243; GM/R² with its own GM and R is 1.624219, i.e. 1.6242 to the printed
    # digits. The printed figure is one unit high in the last digit; we hold it to that unit.
    assert abs(g - 1.6243) <= 1e-4
    assert a[1] < 0  # pointing at the centre


@pytest.mark.parametrize(
    "model",
    [PointMass(), ZonalJ2(), ZonalJ2(j2=0.05), UniformGravity([0.1, -0.2, -1.62])],
    ids=["point-mass", "J2", "J2-0.05", "uniform"],
)
def test_acceleration_is_plus_gradient_of_potential(model: GravityModel) -> None:
    rng = np.random.default_rng(2)
    r = _points(rng, 50, 1.74e6, 3e6)
    fd = _central_difference(model.potential, r, 5.0)
    assert np.max(_rel(model.acceleration(r), fd)) < 1e-7
    assert isinstance(model, GravityModel)


def test_uniform_gravity_is_constant_and_not_body_fixed() -> None:
    g = UniformGravity((0.0, 0.0, -1.62))
    a = g.acceleration(np.zeros((4, 2, 3)))
    assert a.shape == (4, 2, 3)
    assert np.all(a == np.array([0.0, 0.0, -1.62]))
    assert g.body_fixed is False
    with pytest.raises(InputError):
        UniformGravity([1.0, 2.0])


def test_j2_shadr_file_matches_closed_form(tmp_path: Path) -> None:
    """Issue done-when: ZonalJ2 and SphericalHarmonics from a file holding only C̄20 = −J2/√5 agree."""
    path = tmp_path / "j2only.tab"
    c20 = -J2_MOON / math.sqrt(5.0)
    path.write_text(
        f"{R_GRAVITY_REF / 1e3!r}, {GM_MOON / 1e9!r}, 0.0, 2, 2, 1, 0.0, 0.0\n"
        "0, 0, 1.0, 0.0, 0.0, 0.0\n"
        "1, 0, 0.0, 0.0, 0.0, 0.0\n"
        "1, 1, 0.0, 0.0, 0.0, 0.0\n"
        f"2, 0, {c20!r}, 0.0, 0.0, 0.0\n"
        "2, 1, 0.0, 0.0, 0.0, 0.0\n"
        "2, 2, 0.0, 0.0, 0.0, 0.0\n"
    )
    coeffs = read_shadr(path)
    assert j2_from_coefficients(coeffs) == pytest.approx(J2_MOON, rel=1e-15)
    sh = SphericalHarmonics(coeffs)
    j2 = ZonalJ2()
    rng = np.random.default_rng(3)
    r = _points(rng, 2000, 1.737e6, 6e6)
    a_sh, a_j2 = sh.acceleration(r), j2.acceleration(r)
    assert np.max(_rel(a_sh, a_j2)) < 1e-12
    # The J2 part alone (a − point mass) agrees too, so the test sees the perturbation, not just GM.
    a_pm = PointMass().acceleration(r)
    assert np.max(_rel(a_sh - a_pm, a_j2 - a_pm)) < 1e-9
    np.testing.assert_allclose(sh.potential(r), j2.potential(r), rtol=1e-13)
    assert sh.body_fixed is True


def test_coefficients_from_j2_round_trip() -> None:
    coeffs = coefficients_from_j2(2.0e-4, GM_MOON, R_GRAVITY_REF)
    assert coeffs.c[2, 0] == pytest.approx(-2.0e-4 / math.sqrt(5.0), rel=1e-15)
    assert j2_from_coefficients(coeffs) == pytest.approx(2.0e-4, rel=1e-15)
    r = np.array([[1.0e6, 1.2e6, 0.9e6]])
    np.testing.assert_allclose(
        SphericalHarmonics(coeffs).acceleration(r), ZonalJ2(j2=2.0e-4).acceleration(r), rtol=1e-13
    )


# --------------------------------------------------------------------------------------------------
# spherical harmonics vs the independent summation


@pytest.mark.parametrize("c00", [1.0, 0.0], ids=["with-central-term", "harmonics-only"])
def test_spherical_harmonics_against_direct_summation(c00: float) -> None:
    rng = np.random.default_rng(4)
    deg = 20
    c, s = _random_coefficients(rng, deg, deg, c00, 1e-2)
    coeffs = GravityCoefficients(GM_MOON, R_GRAVITY_REF, c, s, deg, deg, "random")
    sh = SphericalHarmonics(coeffs)
    r = _points(rng, 300, R_MOON, 1.6 * R_MOON)

    def oracle(p: np.ndarray) -> np.ndarray:
        return _direct_potential(p, GM_MOON, R_GRAVITY_REF, c, s)

    u = oracle(r)
    np.testing.assert_allclose(sh.potential(r), u, rtol=1e-11, atol=1e-13 * np.max(np.abs(u)))
    a = sh.acceleration(r)
    fd = _central_difference(oracle, r, 2.0)
    assert np.all(np.isfinite(a))
    assert np.max(_rel(a, fd)) < 1e-7


def test_spherical_harmonics_truncated_order_and_degree() -> None:
    """max_order < max_degree (and truncation at construction) against the same oracle."""
    rng = np.random.default_rng(5)
    c, s = _random_coefficients(rng, 12, 12, 0.0, 1e-2)
    coeffs = GravityCoefficients(GM_MOON, R_GRAVITY_REF, c, s, 12, 12, "random")
    sh = SphericalHarmonics(coeffs, max_degree=9, max_order=4)
    ct, st = c[:10, :5], s[:10, :5]
    r = _points(rng, 100, R_MOON, 1.3 * R_MOON)

    def oracle(p: np.ndarray) -> np.ndarray:
        return _direct_potential(p, GM_MOON, R_GRAVITY_REF, ct, st)

    u = oracle(r)
    np.testing.assert_allclose(sh.potential(r), u, rtol=1e-11, atol=1e-13 * np.max(np.abs(u)))
    assert np.max(_rel(sh.acceleration(r), _central_difference(oracle, r, 2.0))) < 1e-7
    with pytest.raises(InputError):
        SphericalHarmonics(coeffs, max_degree=13)


def test_finite_and_continuous_at_the_pole() -> None:
    rng = np.random.default_rng(6)
    c, s = _random_coefficients(rng, 20, 20, 1.0, 1e-2)
    sh = SphericalHarmonics(GravityCoefficients(GM_MOON, R_GRAVITY_REF, c, s, 20, 20, "random"))
    rr = 1.8e6
    lat = math.radians(89.9999)
    near = np.array(
        [[rr * math.cos(lat) * math.cos(0.3), rr * math.cos(lat) * math.sin(0.3), rr * math.sin(lat)]]
    )
    pole = np.array([[0.0, 0.0, rr]])
    a_near, a_pole = sh.acceleration(near), sh.acceleration(pole)
    assert np.all(np.isfinite(a_near)) and np.all(np.isfinite(a_pole))
    # 3 m apart: the field changes by ~(n/r)·3 m relative at most
    assert _rel(a_near, a_pole)[0] < 1e-4
    fd = _central_difference(lambda p: _direct_potential(p, GM_MOON, R_GRAVITY_REF, c, s), near, 0.5)
    assert _rel(a_near, fd)[0] < 1e-7


def test_batch_shapes_and_bit_identical_to_single_points() -> None:
    rng = np.random.default_rng(7)
    c, s = _random_coefficients(rng, 8, 8, 1.0, 1e-3)
    sh = SphericalHarmonics(GravityCoefficients(GM_MOON, R_GRAVITY_REF, c, s, 8, 8, "random"))
    r = _points(rng, 40, R_MOON, 2 * R_MOON)
    a = sh.acceleration(r)
    u = sh.potential(r)
    for i in range(len(r)):
        assert np.array_equal(sh.acceleration(r[i]), a[i])
        assert np.array_equal(sh.potential(r[i]), u[i])
    grid = r[:40].reshape(5, 8, 3)
    assert sh.acceleration(grid).shape == (5, 8, 3)
    assert np.array_equal(sh.acceleration(grid), a[:40].reshape(5, 8, 3))
    assert sh.potential(grid).shape == (5, 8)
    assert sh.acceleration(r[0]).shape == (3,)
    assert sh.potential(r[0]).shape == ()


# --------------------------------------------------------------------------------------------------
# SHADR files


def test_shadr_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    c, s = _random_coefficients(rng, 10, 7, 1.0, 1e-4)
    coeffs = GravityCoefficients(4902.800066e9, 1_738_000.0, c, s, 10, 7, "random")
    path = tmp_path / "field.tab"
    write_shadr(path, coeffs)
    back = read_shadr(path)
    assert (back.max_degree, back.max_order) == (10, 7)
    assert np.array_equal(back.c, c) and np.array_equal(back.s, s)
    assert back.gm == pytest.approx(coeffs.gm, rel=1e-15)
    assert back.r_ref == pytest.approx(coeffs.r_ref, rel=1e-15)
    assert "field.tab" in back.source
    cut = read_shadr(path, max_degree=5, max_order=3)
    assert np.array_equal(cut.c, c[:6, :4]) and np.array_equal(cut.s, s[:6, :4])


def test_shadr_tolerates_spaces_blank_lines_and_missing_low_degrees(tmp_path: Path) -> None:
    path = tmp_path / "loose.tab"
    path.write_text(
        "  1738.0 ,4902.800066,  0.0 ,2, 1 , 1, 0.0, 0.0 ,\n"
        "\n"
        "   2 ,   0 ,  -9.0D-05 , 0.0, 1e-9, 1e-9\n"
        "2,1,  1.5E-09,-2.5E-09,0,0\n"
    )
    coeffs = read_shadr(path)
    assert coeffs.c[0, 0] == 1.0 and coeffs.c[1, 0] == 0.0
    assert coeffs.c[2, 0] == -9.0e-05 and coeffs.s[2, 1] == -2.5e-09
    assert coeffs.gm == pytest.approx(GM_MOON, rel=1e-15)
    assert coeffs.r_ref == 1_738_000.0


_GOOD_HEADER = "1738.0, 4902.800066, 0.0, 2, 2, 1, 0.0, 0.0\n"
_GOOD_ROWS = [
    "1, 0, 0.0, 0.0, 0.0, 0.0\n",
    "1, 1, 0.0, 0.0, 0.0, 0.0\n",
    "2, 0, -9.0e-05, 0.0, 0.0, 0.0\n",
    "2, 1, 0.0, 0.0, 0.0, 0.0\n",
    "2, 2, 3.4e-05, 0.0, 0.0, 0.0\n",
]


def _rows(replace: dict[int, str] | None = None, drop_from: int | None = None) -> str:
    rows = list(_GOOD_ROWS)
    for i, text in (replace or {}).items():
        rows[i] = text
    return _GOOD_HEADER + "".join(rows[:drop_from])


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        ("1738.0, 4902.8, 0.0\n", 1, "header"),
        ("1738.0, GM, 0.0, 2, 2, 1, 0.0, 0.0\n" + "".join(_GOOD_ROWS), 1, "GM"),
        ("1738.0, 4902.8, 0.0, 2, 2, 0, 0.0, 0.0\n" + "".join(_GOOD_ROWS), 1, "normalis"),
        ("1738.0, 4902.8, 0.0, 2.5, 2, 1, 0.0, 0.0\n" + "".join(_GOOD_ROWS), 1, "integer"),
        (_rows({2: "2, 0, abc, 0.0, 0.0, 0.0\n"}), 4, "not a number"),
        (_rows({2: "2, 0, nan, 0.0, 0.0, 0.0\n"}), 4, "finite"),
        (_rows({3: "2, 1, 0.0, 0.0\n"}), 5, "truncated row"),
        (_rows({4: "3, 2, 0.0, 0.0, 0.0, 0.0\n"}), 6, "beyond the header"),
        (_rows({1: "1, 2, 0.0, 0.0, 0.0, 0.0\n"}), 3, "m ≤ n"),
        (_rows({4: "2, 1, 0.0, 0.0, 0.0, 0.0\n"}), 6, "duplicate"),
        (_rows(drop_from=4), 5, "no row for n = 2, m = 2"),
        (_rows({2: "2, 0, -9.0e-05, 0.0, 0.0, 0.0, 7\n"}), 4, "fields"),
    ],
    ids=[
        "short-header",
        "header-non-numeric",
        "unnormalised-flag",
        "fractional-degree",
        "non-numeric-C",
        "nan",
        "truncated-row",
        "degree-beyond-header",
        "m-greater-than-n",
        "duplicate",
        "file-truncated",
        "extra-field",
    ],
)
def test_malformed_shadr_names_file_and_line(tmp_path: Path, text: str, line: int, phrase: str) -> None:
    path = tmp_path / "bad_field.tab"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_shadr(path)
    msg = str(info.value)
    assert "bad_field.tab" in msg
    assert f"line {line}" in msg
    assert phrase in msg
    assert "\n" not in msg


def test_shadr_order_beyond_header(tmp_path: Path) -> None:
    path = tmp_path / "order.tab"
    path.write_text(
        "1738.0, 4902.8, 0.0, 2, 1, 1, 0.0, 0.0\n2, 0, 0.0, 0.0, 0.0, 0.0\n2, 2, 0.0, 0.0, 0.0, 0.0\n"
    )
    with pytest.raises(InputError, match=r"order\.tab, line 3: .*beyond the header"):
        read_shadr(path)


def test_shadr_missing_empty_and_overreaching_requests(tmp_path: Path) -> None:
    missing = tmp_path / "gggrx_1200a_sha.tab"
    with pytest.raises(DataNotFoundError, match=r"gggrx_1200a_sha\.tab"):
        read_shadr(missing)
    empty = tmp_path / "empty.tab"
    empty.write_text("\n\n")
    with pytest.raises(InputError, match=r"empty\.tab"):
        read_shadr(empty)
    good = tmp_path / "good.tab"
    good.write_text(_rows())
    with pytest.raises(InputError, match=r"good\.tab, line 1: requested degree 3"):
        read_shadr(good, max_degree=3)
    binary = tmp_path / "binary.tab"
    binary.write_bytes(_GOOD_HEADER.encode() + b"\xff\xfe\x00\n")
    with pytest.raises(InputError, match=r"binary\.tab, line 2"):
        read_shadr(binary)
