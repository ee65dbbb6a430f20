"""Riley et al. (BMJ 2020) criteria inverted for the number of parameters a cohort supports."""

from __future__ import annotations

import numpy as np
import pytest

import biomarkers as bm
from biomarkers.exceptions import ConfigError
from biomarkers.models._sample_size import r2_cs_from_c_statistic

# Worked binary example of Riley et al. BMJ 2020 (as in the pmsampsize documentation):
# 24 candidate parameters, prevalence 0.174, anticipated Cox-Snell R2 0.288 -> criterion (i)
# n = 623, criterion (ii) n = 662, criterion (iii) n = 221; minimum 662 (max R2_CS 0.603).
PREV, R2, P = 0.174, 0.288, 24


def test_riley_worked_example_inverted():
    at_662 = bm.models.sample_size_budget(662, 662 * PREV, "binary", r2_cs=R2)
    assert at_662.parameters == P
    assert at_662.overall_risk_n == 221
    at_661 = bm.models.sample_size_budget(661, 661 * PREV, "binary", r2_cs=R2)
    assert at_661.parameters == P - 1  # criterion (ii) binds: 662 is the published minimum
    at_623 = bm.models.sample_size_budget(623, 623 * PREV, "binary", r2_cs=R2)
    assert at_623.shrinkage == P
    at_622 = bm.models.sample_size_budget(622, 622 * PREV, "binary", r2_cs=R2)
    assert at_622.shrinkage == P - 1


def test_imprecise_overall_risk_supports_nothing():
    b = bm.models.sample_size_budget(100, 50, r2_cs=0.1)
    assert b.overall_risk_n == 385
    assert not b.risk_precise
    assert b.parameters == 0
    assert "LARGER than the 0" in b.says(5)


def test_continuous_optimism_formula():
    b = bm.models.sample_size_budget(201, None, "continuous", r2_cs=0.2)
    assert b.optimism == int(0.05 * 200 / 0.8)


def test_r2_from_c_statistic_matches_large_simulation():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    n, prev, c = 200_000, 0.3, 0.8
    y = rng.random(n) < prev
    mu = np.sqrt(2) * 0.8416212335729143  # norm.ppf(0.8)
    x = rng.normal(size=n) + mu * y
    fit = LogisticRegression(C=1e6).fit(x[:, None], y)
    p = fit.predict_proba(x[:, None])[:, 1]
    ll = np.sum(np.where(y, np.log(p), np.log1p(-p)))
    ll0 = np.sum(np.where(y, np.log(y.mean()), np.log1p(-y.mean())))
    r2_sim = 1 - np.exp(-2 * (ll - ll0) / n)
    assert r2_cs_from_c_statistic(c, prev) == pytest.approx(r2_sim, abs=0.005)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"r2_cs": 0.2, "c_statistic": 0.7}, "exactly one"),
        ({"r2_cs": 0.8}, "outside"),
        ({"r2_cs": 0.2, "events": 0}, "0 < events < n"),
    ],
)
def test_bad_input_one_line(kwargs, match):
    events = kwargs.pop("events", 30)
    with pytest.raises(ConfigError, match=match):
        bm.models.sample_size_budget(100, events, **kwargs)
