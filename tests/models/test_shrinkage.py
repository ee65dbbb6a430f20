"""Shrunk interactions: empirical Bayes by hand, horseshoe and ridge seeded, Cox ridge oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError
from biomarkers.models import predictive, shrink_estimates
from biomarkers.models._shrinkage import _cox_ridge

SHRUNK = ["interaction_shrunk", "interaction_shrunk_ci_low", "interaction_shrunk_ci_high"]


def _trial(n=120, n_markers=12, seed=0, survival=False):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"arm": np.where(rng.random(n) < 0.5, "MSC", "SMT")})
    for j in range(n_markers):
        df[f"m{j}"] = rng.normal(size=n)
    lin = -0.3 + 1.2 * (df["arm"] == "MSC") * df["m0"]
    if survival:
        df["time"] = rng.exponential(100 * np.exp(-lin))
        df["event"] = (rng.random(n) < 0.8).astype(int)
    else:
        df["response"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    return df


def test_eb_matches_the_hand_computation_with_equal_standard_errors():
    y = np.array([0.9, 0.1, -0.4, 0.3, 0.0, 1.2, -0.1])
    v = 0.1
    k = y.size
    # Paule–Mandel with equal variances: Q(τ²) = Σ(y - ȳ)²/(v + τ²) = k - 1
    tau2 = max(0.0, y.var(ddof=1) - v)
    mu = y.mean()
    b = (k - 3) / (k - 1) * v / (v + tau2)
    post = y - b * (y - mu)
    sd = np.sqrt(v * (1 - (k - 1) / k * b) + 2 / (k - 3) * b**2 * (y - mu) ** 2)
    out = shrink_estimates(y, np.full(k, np.sqrt(v)), method="eb")
    assert out.attrs["tau2"] == pytest.approx(tau2, abs=1e-8)
    assert out.attrs["mean"] == pytest.approx(mu, abs=1e-8)
    np.testing.assert_allclose(out["shrunk"], post, atol=1e-8)
    np.testing.assert_allclose(out["ci_low"], post - 1.959964 * sd, atol=1e-5)
    np.testing.assert_allclose(out["ci_high"], post + 1.959964 * sd, atol=1e-5)


def test_eb_tau2_solves_the_paule_mandel_equation_with_unequal_errors():
    rng = np.random.default_rng(3)
    s = rng.uniform(0.2, 0.6, size=15)
    y = rng.normal(0.2, 0.5, size=15) + s * rng.standard_normal(15)
    out = shrink_estimates(y, s, method="eb")
    w = 1 / (s**2 + out.attrs["tau2"])
    mu = np.sum(w * y) / w.sum()
    assert out.attrs["mean"] == pytest.approx(mu, abs=1e-6)
    assert np.sum(w * (y - mu) ** 2) == pytest.approx(y.size - 1, rel=1e-4)


def test_eb_pulls_towards_the_mean_as_tau2_goes_to_zero():
    se = np.full(10, 0.5)
    base = np.linspace(-1, 1, 10)
    spread = {}
    for scale in (3.0, 1.0, 0.3):  # smaller spread → smaller τ² → stronger pull
        y = 0.4 + scale * base
        out = shrink_estimates(y, se, method="eb")
        mu = out.attrs["mean"]
        spread[scale] = (out.attrs["tau2"], np.abs(out["shrunk"] - mu).sum() / np.abs(y - mu).sum())
        # every estimate moves towards the mean, none beyond it
        assert np.all(np.abs(out["shrunk"] - mu) <= np.abs(y - mu) + 1e-12)
    assert spread[0.3][0] == 0.0  # homogeneous: τ² = 0
    assert spread[0.3][1] == pytest.approx(2 / 9)  # 1 - B with B = (k-3)/(k-1) at τ² = 0
    assert spread[3.0][1] > spread[1.0][1] > spread[0.3][1]


def test_horseshoe_is_deterministic_for_a_seed_and_keeps_a_strong_signal():
    y = np.r_[3.0, np.random.default_rng(0).normal(0, 0.3, 14)]
    s = np.full(15, 0.3)
    a = shrink_estimates(y, s, method="horseshoe", random_state=7, n_samples=2000)
    b = shrink_estimates(y, s, method="horseshoe", random_state=7, n_samples=2000)
    c = shrink_estimates(y, s, method="horseshoe", random_state=8, n_samples=2000)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["shrunk"], c["shrunk"])
    assert a["shrunk"].iloc[0] > 2.5  # the signal survives
    assert np.abs(a["shrunk"].iloc[1:]).mean() < 0.5 * np.abs(y[1:]).mean()  # nulls shrink
    assert (a["ci_low"] <= a["shrunk"]).all()
    assert (a["shrunk"] <= a["ci_high"]).all()


@pytest.mark.parametrize("method", ["eb", "ridge", "horseshoe"])
def test_predictive_adds_finite_shrunk_columns(method):
    df = _trial()
    kw = {"outcome": "response", "arm": "arm", "treated": "MSC", "method": ["interaction"]}
    res = predictive(df, shrinkage=method, random_state=3, **kw)
    again = predictive(df, shrinkage=method, random_state=3, **kw)
    pd.testing.assert_frame_equal(res.markers, again.markers)
    vals = res.markers[SHRUNK].to_numpy(float)
    assert np.isfinite(vals).all()
    assert (vals[:, 1] <= vals[:, 2]).all()
    assert res.params["shrinkage_method"] == method
    # the shrunk family is closer to zero than the raw one
    assert np.abs(vals[:, 0]).sum() < np.abs(res.markers["interaction"]).sum()


def test_ridge_and_horseshoe_on_survival_outcomes():
    df = _trial(survival=True)
    kw = {"outcome": ("event", "time"), "arm": "arm", "treated": "MSC", "method": ["interaction"]}
    for method in ("ridge", "horseshoe"):
        res = predictive(df, shrinkage=method, **kw)
        m = res.markers.set_index("marker")
        assert np.isfinite(m[SHRUNK].to_numpy(float)).all()
        # the planted modifier keeps the largest shrunk interaction
        assert m["interaction_shrunk"].abs().idxmax() == "m0"


def test_horseshoe_falls_back_to_eb_with_few_markers_and_says_so():
    res = predictive(
        _trial(n_markers=5), outcome="response", arm="arm", treated="MSC",
        method=["interaction"], shrinkage="horseshoe",
    )  # fmt: skip
    assert res.params["shrinkage_method"] == "eb"
    assert "eb used" in res.params["shrinkage_note"]


def test_cox_ridge_with_no_penalty_matches_statsmodels_breslow():
    from statsmodels.duration.hazard_regression import PHReg

    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 3))
    time = np.round(rng.exponential(np.exp(-X @ [0.5, -0.3, 0.0])), 1)  # ties
    event = (rng.random(80) < 0.7).astype(int)
    ref = PHReg(time, X, status=event, ties="breslow").fit()
    np.testing.assert_allclose(_cox_ridge(X, time, event, 0.0), ref.params, atol=1e-6)


def test_bad_shrinkage_is_one_clear_error():
    with pytest.raises(ConfigError, match="shrinkage"):
        predictive(_trial(), outcome="response", arm="arm", treated="MSC", shrinkage="lasso")
    with pytest.raises(ConfigError, match="at least 4"):
        shrink_estimates([0.1, 0.2], [0.1, 0.1], method="eb")


def test_newton_ridge_logistic_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression

    from biomarkers.models._shrinkage import _logit_ridge

    rng = np.random.default_rng(2)
    X = rng.normal(size=(90, 6))
    y = (rng.random(90) < 1 / (1 + np.exp(-X[:, 0]))).astype(float)
    ref = LogisticRegression(C=1 / 3.0, tol=1e-10, max_iter=10_000).fit(X, y)
    beta = _logit_ridge(X, y, 3.0)
    np.testing.assert_allclose(beta, np.r_[ref.intercept_, ref.coef_[0]], atol=1e-6)


def test_ridge_falls_back_to_eb_beyond_its_marker_cap(monkeypatch):
    import biomarkers.models._shrinkage as shrinkage

    monkeypatch.setattr(shrinkage, "MAX_RIDGE", 5)
    res = predictive(_trial(), outcome="response", arm="arm", treated="MSC",
                     method=["interaction"], shrinkage="ridge")  # fmt: skip
    assert res.params["shrinkage_method"] == "eb"
    assert "ridge takes <= 5 markers" in res.params["shrinkage_note"]
