"""Riley et al. (BMJ 2020) minimum sample sizes and the two-arm interaction power approximation.

Riley RD, Ensor J, Snell KIE, et al. Calculating the sample size required for developing a
clinical prediction model. BMJ 2020;368:m441.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import biomarkers as bm
from biomarkers._stats import wilson_interval
from biomarkers.exceptions import ConfigError


def test_binary_worked_example_bmj_2020():
    # BMJ 2020 binary example: 24 candidate parameters, outcome proportion 0.174, anticipated
    # Cox-Snell R2 0.288 -> criterion (i) 623, (ii) 662, (iii) 221; minimum 662 (115 events)
    res = bm.design.sample_size("binary", parameters=24, r2_cs=0.288, prevalence=0.174)
    assert res.criteria == {"shrinkage": 623, "optimism": 662, "overall_risk": 221}
    assert res.n == 662
    assert round(res.events) == 115
    assert round(res.details["max_r2"], 3) == 0.603


def test_survival_worked_example_bmj_2020():
    # BMJ 2020 time-to-event example (recurrent venous thromboembolism): 30 candidate
    # parameters, Cox-Snell R2 0.051, 0.065 events per person-year, risk at 2 years, mean
    # follow-up 2.07 years -> 5143 participants and 692 events (23 events per parameter)
    res = bm.design.sample_size(
        "survival", parameters=30, r2_cs=0.051, rate=0.065, timepoint=2, mean_followup=2.07
    )
    assert res.n == 5143
    assert res.criteria["shrinkage"] == 5143
    assert round(res.events) == 692
    assert res.events_per_parameter == pytest.approx(23.07, abs=0.01)
    assert res.details["risk_precise"] == 1.0  # the 2-year risk 0.122 is estimated within ±0.05


def test_continuous_criteria_match_the_authors_pmsampsize():
    # continuous outcome, the reference values of the authors' pmsampsize (R package, test 2.1):
    # adjusted R2 0.2, 25 parameters, mean 1.9, SD 0.6 -> criteria 918, 401, 259 (= 234 + p);
    # final 918
    res = bm.design.sample_size("continuous", parameters=25, r2_cs=0.2, intercept=1.9, sd=0.6)
    assert res.criteria["shrinkage"] == 918
    assert res.criteria["optimism"] == 401
    assert res.criteria["residual_variance"] == 259
    assert res.n == 918
    # the residual-variance criterion is 234 + p whatever p (margin of error 10 %)
    res50 = bm.design.sample_size("continuous", parameters=50, r2_cs=0.2)
    assert res50.criteria == {"shrinkage": 1924, "optimism": 801, "residual_variance": 284}


def test_forward_and_inverse_criteria_agree():
    # the budget of sample_size_budget at the minimum n is the number of parameters asked for
    res = bm.design.sample_size("binary", parameters=10, r2_cs=0.2, prevalence=0.3)
    budget = bm.models.sample_size_budget(res.n, res.n * 0.3, "binary", r2_cs=0.2)
    assert budget.parameters == 10
    lower = bm.models.sample_size_budget(res.n - 2, (res.n - 2) * 0.3, "binary", r2_cs=0.2)
    assert lower.parameters == 9


def test_c_statistic_input_and_frame():
    res = bm.design.sample_size("binary", parameters=8, c_statistic=0.75, prevalence=0.4)
    frame = res.to_frame()
    assert list(frame["criterion"]) == ["shrinkage", "optimism", "overall_risk", "final"]
    assert frame["n"].iloc[-1] == res.n == max(res.criteria.values())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"outcome_kind": "ordinal", "parameters": 5, "r2_cs": 0.1}, "outcome_kind='ordinal'"),
        ({"outcome_kind": "binary", "parameters": 5, "r2_cs": 0.1}, "prevalence=None"),
        (
            {"outcome_kind": "binary", "parameters": 0, "r2_cs": 0.1, "prevalence": 0.2},
            "parameters=0",
        ),
        ({"outcome_kind": "binary", "parameters": 5, "r2_cs": 0.7, "prevalence": 0.2}, "r2_cs=0.7"),
        ({"outcome_kind": "survival", "parameters": 5, "r2_cs": 0.1}, "rate=None"),
        ({"outcome_kind": "survival", "parameters": 5, "c_statistic": 0.7}, "binary outcomes only"),
    ],
)
def test_bad_inputs_name_the_argument(kwargs, match):
    kind = kwargs.pop("outcome_kind")
    with pytest.raises(ConfigError, match=match):
        bm.design.sample_size(kind, **kwargs)


def test_interaction_power_classic_events_formula():
    # Schoenfeld-type: D = (z_{0.975} + z_{0.8})^2 / (beta^2 pi (1 - pi) sigma^2); 1:1,
    # log-HR interaction 0.5 per SD -> 4 x 7.849 / 0.25 = 125.6 -> 126 events
    res = bm.design.interaction_power(0.5, events=126)
    assert res.required == 126
    assert res.power == pytest.approx(0.80, abs=0.005)
    assert bm.design.interaction_power(0.5, events=126, allocation=2 / 3).power < res.power
    assert bm.design.interaction_power(0.0, events=126).power == pytest.approx(0.05)
    # a marker read with correlation 0.7 needs 1 / 0.49 times the events
    assert bm.design.interaction_power(0.5, events=126, marker_correlation=0.7).required == 257


def test_interaction_power_matches_a_simulated_linear_model():
    # continuous outcome: the approximation against the empirical power of OLS (oracle)
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    n, beta, hits = 200, 0.4, 0
    for _ in range(300):
        t = rng.integers(0, 2, n)
        x = rng.normal(size=n)
        y = 0.3 * t + 0.5 * x + beta * t * x + rng.normal(size=n)
        X = sm.add_constant(np.column_stack([t, x, t * x]))
        hits += sm.OLS(y, X).fit().pvalues[3] < 0.05
    analytic = bm.design.interaction_power(beta, n=n, outcome_kind="continuous", residual_sd=1.0)
    lo, hi = wilson_interval(int(hits), 300)
    assert lo - 0.03 <= analytic.power <= hi + 0.03
    z = stats.norm.ppf(0.975)
    assert analytic.se == pytest.approx(1 / math.sqrt(n * 0.25))
    assert analytic.power == pytest.approx(stats.norm.cdf(beta / analytic.se - z), abs=1e-3)
