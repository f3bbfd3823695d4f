"""Dispersions: each distribution against its closed form, units, samplers, and run independence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from touchdown.campaign.dispersions import (
    INITIAL_COLUMNS,
    field_unit,
    inverse_cdf,
    sample,
    uniforms,
    unit_factor,
)
from touchdown.errors import InputError
from touchdown.scenario.schema import CampaignCfg, Dispersion

U = (np.arange(20_000) + 0.5) / 20_000  # a fine grid of probabilities: the inverse CDF's quantiles


def disp(**kw) -> Dispersion:
    return Dispersion.model_validate({"field": "vehicle.propellant_kg", **kw})


def test_each_distribution_inverts_its_closed_form_cdf():
    cases = [
        (disp(dist="uniform", low=2.0, high=5.0), stats.uniform(2.0, 3.0)),
        (disp(dist="normal", mean=480.0, sigma=5.0), stats.norm(480.0, 5.0)),
        (disp(dist="lognormal", median=3.0, sigma_log=0.4), stats.lognorm(0.4, scale=3.0)),
        (
            disp(dist="truncnormal", mean=1.0, sigma=2.0, low=0.5, high=4.0),
            stats.truncnorm(-0.25, 1.5, loc=1.0, scale=2.0),
        ),
    ]
    for d, ref in cases:
        x = inverse_cdf(d, U)
        np.testing.assert_allclose(ref.cdf(x), U, atol=1e-12, err_msg=d.dist)


def test_choice_follows_its_weights_and_presence_its_probability():
    x = inverse_cdf(disp(dist="choice", values=[1.0, 2.0, 3.0], weights=[1.0, 2.0, 1.0]), U)
    assert [np.mean(x == v) for v in (1.0, 2.0, 3.0)] == [0.25, 0.5, 0.25]
    p = inverse_cdf(Dispersion(field="faults.0", probability=0.3), U)
    assert set(np.unique(p)) == {0.0, 1.0}
    assert p.mean() == pytest.approx(0.3, abs=1e-4)


def test_units_are_read_from_the_field_name_and_converted():
    assert field_unit("faults.0.below_m") == "m"
    assert field_unit("initial.speed_mps") == "m/s"
    assert field_unit("fsw.control.max_rate_deg_s") == "deg/s"
    assert field_unit("vehicle.isp_scale") is None
    d = Dispersion(field="faults.0.below_m", dist="uniform", low=0.3, high=5.0, unit="km")
    assert unit_factor(d) == 1000.0
    assert inverse_cdf(d, np.array([0.0, 1.0])) == pytest.approx([300.0, 5000.0])
    deg = Dispersion(field="site.lat_deg", dist="normal", mean=0.0, sigma=1.0, unit="rad")
    assert unit_factor(deg) == pytest.approx(180.0 / math.pi)


@pytest.mark.parametrize(
    ("field", "unit", "message"),
    [
        ("faults.0.below_m", "kg", "is a mass, but 'faults.0.below_m' is a length"),
        ("vehicle.isp_scale", "m", "declares no unit"),
        ("faults.0.below_m", "furlong", "unit 'furlong' unknown"),
    ],
)
def test_a_unit_that_does_not_fit_the_field_is_an_error(field, unit, message):
    d = Dispersion(field=field, dist="uniform", low=1.0, high=2.0, unit=unit)
    with pytest.raises(InputError, match=message):
        unit_factor(d)


def test_distribution_parameters_are_checked():
    with pytest.raises(ValueError, match="needs 'sigma'"):
        disp(dist="normal", mean=1.0)
    with pytest.raises(ValueError, match="remove 'sigma'"):
        disp(dist="uniform", low=1.0, high=2.0, sigma=1.0)
    with pytest.raises(ValueError, match="low"):
        disp(dist="uniform", low=2.0, high=1.0)


def test_random_sampler_gives_run_k_the_same_values_in_any_subset():
    whole = uniforms("random", 7, 1000, np.arange(1000), 3)
    some = uniforms("random", 7, 1000, np.array([999, 3, 500]), 3)
    assert np.array_equal(some, whole[[999, 3, 500]])
    assert not np.array_equal(uniforms("random", 8, 1000, np.arange(3), 3), whole[:3])


def test_sobol_is_a_sequence_and_lhs_stratifies_each_dimension():
    assert np.array_equal(
        uniforms("sobol", 1, 64, np.arange(16), 2), uniforms("sobol", 1, 16, np.arange(16), 2)
    )
    u = uniforms("lhs", 1, 50, np.arange(50), 4)
    for d in range(4):  # one point in each of the 50 strata
        assert sorted(np.floor(u[:, d] * 50).astype(int)) == list(range(50))


def test_initial_state_covariance_is_reproduced():
    cov = np.diag([100.0, 400.0, 2500.0, 0.04, 0.09, 1.0])
    cov[2, 5] = cov[5, 2] = 0.8 * math.sqrt(2500.0 * 1.0)  # height and sink rate correlated
    cfg = CampaignCfg.model_validate({"initial_state": {"covariance": cov.tolist()}})
    s = sample(cfg, "lhs", 3, 20_000)
    x = np.stack([s.columns[c] for c in INITIAL_COLUMNS], axis=1)
    scale = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))  # compare as correlations: within 0.03
    assert np.all(np.abs(np.cov(x.T) - cov) <= 0.03 * scale)


def test_a_covariance_must_be_symmetric_and_semi_definite():
    bad = np.eye(6).tolist()
    bad[0][1] = 0.5
    with pytest.raises(ValueError, match="symmetric"):
        CampaignCfg.model_validate({"initial_state": {"covariance": bad}})
    neg = np.eye(6)
    neg[0, 1] = neg[1, 0] = 2.0
    with pytest.raises(ValueError, match="semi-definite"):
        CampaignCfg.model_validate({"initial_state": {"covariance": neg.tolist()}})
