"""Crater laws and profiles against REFERENCE §2.2."""

from __future__ import annotations

import math

import numpy as np
import pytest

from touchdown.moon.terrain import craters as cr


def test_neukum_one_km_one_gyr_is_a0() -> None:
    assert cr.neukum_cumulative(1.0, 1.0) == pytest.approx(10.0 ** cr.NEUKUM_A[0], rel=1e-3)


def test_chronology_uses_corrected_coefficient() -> None:
    # at 1 Gyr the exponential term is negligible: N(1 km) = 8.17e-4 (not the misprinted 8.38e-4)
    assert cr.chronology_n1(1.0) == pytest.approx(8.17e-4, rel=1e-4)


@pytest.mark.parametrize(("d_m", "expected"), [(10.0, 3200.0), (50.0, 127.0), (100.0, 32.0)])
def test_mare_counts_in_a_2km_box(d_m: float, expected: float) -> None:
    n = float(cr.cumulative_density(d_m, 3.6)) * 4e6
    assert n == pytest.approx(expected, rel=0.03)


def test_equilibrium_below_crossover_production_above() -> None:
    crossover = cr.equilibrium_crossover_m(3.6)
    assert 200.0 < crossover < 240.0  # "near D ≈ 220 m"
    assert cr.cumulative_density(50.0) == pytest.approx(cr.trask_equilibrium(50.0))
    assert cr.cumulative_density(1000.0) == pytest.approx(cr.neukum_cumulative(1.0, 3.6) * 1e-6)


def test_pike_laws() -> None:
    assert cr.pike_simple_depth_m(1000.0) == pytest.approx(196.0)
    assert cr.pike_simple_rim_m(1000.0) == pytest.approx(36.0)
    assert cr.pike_complex_depth_m(87_000.0) == pytest.approx(1044.0 * 87.0**0.301)
    assert cr.pike_complex_rim_m(87_000.0) == pytest.approx(236.0 * 87.0**0.399)


def test_simple_profile_values_continuity_and_taper() -> None:
    radius, d, h, xc = 500.0, 196.0, 36.0, 3.0
    z, _ = cr.simple_profile(np.array([0.0, radius, xc * radius, 5 * radius]), radius, d, h, xc)
    assert z[0] == pytest.approx(-d)
    assert z[1] == pytest.approx(h)
    assert z[2] == 0.0 and z[3] == 0.0
    eps = 1e-7 * radius
    z_in, _ = cr.simple_profile(radius - eps, radius, d, h, xc)
    z_out, _ = cr.simple_profile(radius + eps, radius, d, h, xc)
    assert float(z_in) == pytest.approx(float(z_out), abs=1e-4)
    # C¹ at the cutoff: slope → 0
    z_c, dz_c = cr.simple_profile(xc * radius - eps, radius, d, h, xc)
    assert abs(float(z_c)) < 1e-9 and abs(float(dz_c)) < 1e-9
    # close to Pike's h x⁻³ just outside the rim, and monotone down to the cutoff
    r = np.linspace(radius, xc * radius, 500)
    zo, _ = cr.simple_profile(r, radius, d, h, xc)
    assert np.all(np.diff(zo) <= 0) and np.all(zo >= 0)


def test_profile_derivative_and_max_slope_bound() -> None:
    radius, d, h = 100.0, 20.0, 4.0
    r = np.linspace(0.0, 3.5 * radius, 20001)
    z, dz = cr.simple_profile(r, radius, d, h)
    fd = np.gradient(z, r)
    smooth = np.abs(r - radius) > 2 * (r[1] - r[0])  # the rim crest is a kink
    assert np.max(np.abs(fd - dz)[smooth][5:-5]) < 0.01
    assert np.max(np.abs(dz)) <= cr.simple_max_slope(radius, d, h) * (1 + 1e-12)
    z2, dz2 = cr.complex_profile(r * 400, 43_500.0, 28_500.0, 1300.0, 1500.0, 2.5)
    assert z2[0] == -1300.0
    assert np.max(np.abs(dz2)) <= cr.complex_max_slope(43_500.0, 28_500.0, 1300.0, 1500.0, 2.5)
    assert float(cr.complex_profile(43_500.0, 43_500.0, 28_500.0, 1300.0, 1500.0)[0]) == pytest.approx(1500.0)
    assert math.isclose(
        float(cr.complex_profile(2.5 * 43_500.0, 43_500.0, 28_500.0, 1300.0, 1500.0, 2.5)[0]), 0.0
    )


@pytest.mark.parametrize("cutoff", [3.0, 2.5])
def test_max_slope_between_bounds_the_profile_on_every_interval(cutoff: float) -> None:
    """|dz/dr| sampled densely over [r_lo, r_hi] never exceeds the interval's bound, which is attained."""
    radius, d, h = 50.0, 9.0, 1.8
    rng = np.random.default_rng(11)
    r_lo = rng.uniform(0.0, 3.2 * radius, 400)
    r_lo[:40] = rng.uniform(0.95, 1.05, 40) * radius  # intervals starting at the rim
    r_hi = r_lo + rng.uniform(0.0, 1.0, 400) * rng.choice([0.5, 5.0, 80.0], 400)
    bound = cr.simple_max_slope_between(r_lo, r_hi, radius, d, h, cutoff)
    for lo, hi, b in zip(r_lo, r_hi, bound, strict=True):
        r = np.linspace(lo, hi, 2001)
        steepest = float(np.max(np.abs(cr.simple_profile(r, radius, d, h, cutoff)[1])))
        assert steepest <= b * (1 + 1e-12)
        assert steepest >= b * (1 - 1e-12) or b - steepest < 1e-3 * cr.simple_max_slope(radius, d, h, cutoff)
    whole = cr.simple_max_slope_between(0.0, 10 * radius, radius, d, h, cutoff)
    assert float(whole) == pytest.approx(float(cr.simple_max_slope(radius, d, h, cutoff)), rel=1e-15)
    assert float(cr.simple_max_slope_between(cutoff * radius, 9 * radius, radius, d, h, cutoff)) == 0.0
