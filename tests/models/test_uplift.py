from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from biomarkers.exceptions import SchemaError
from biomarkers.models._pred_cate import (
    _logistic_newton,
    _Prep,
    _RidgeLogisticALO,
    _RidgeLOO,
    calibration_test,
    cross_fit,
    dr_scores,
    make_folds,
    rmst_pseudo_values,
)
from biomarkers.models._pred_cox import cox_efron
from biomarkers.models._uplift import bootstrap_qini, qini_coefficient, qini_curve


# --------------------------------------------------------------------------------------------
# Qini
# --------------------------------------------------------------------------------------------
def _naive_qini(score, y, t):
    """Point-by-point Radcliffe Qini (one subject at a time, no ties)."""
    order = np.argsort(-score)
    n = len(y)
    gains = [0.0]
    for k in range(1, n + 1):
        idx = order[:k]
        nt, nc = t[idx].sum(), (1 - t[idx]).sum()
        yt, yc = (y[idx] * t[idx]).sum(), (y[idx] * (1 - t[idx])).sum()
        gains.append((yt - (yc * nt / nc if nc > 0 else 0.0)) / n)
    gains = np.array(gains)
    frac = np.arange(n + 1) / n
    area = np.sum((gains[1:] + gains[:-1]) / 2 * np.diff(frac)) - gains[-1] / 2
    return frac, gains, area


@pytest.mark.parametrize("outcome", ["binary", "continuous"])
def test_qini_curve_matches_naive_loop(outcome):
    rng = np.random.default_rng(0)
    n = 60
    t = (rng.random(n) < 0.5).astype(int)
    score = rng.normal(size=n)
    y = (rng.random(n) < 0.4).astype(float) if outcome == "binary" else rng.normal(size=n)
    curve = qini_curve(score, y, t)
    frac, gains, area = _naive_qini(score, y, t)
    assert np.allclose(curve["fraction"], frac)
    assert np.allclose(curve["qini"], gains)
    assert np.allclose(curve["random"], frac * gains[-1])
    assert curve.attrs["qini"] == pytest.approx(area)
    assert qini_coefficient(score, y, t) == pytest.approx(area)
    # last point: treated mean minus control mean, scaled by the treated share
    ate = y[t == 1].mean() - y[t == 0].mean()
    assert gains[-1] == pytest.approx(ate * t.sum() / n)


def test_qini_ties_are_targeted_together():
    score = np.array([1.0, 1.0, 0.0, 0.0])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    t = np.array([1, 0, 1, 0])
    curve = qini_curve(score, y, t)
    assert list(curve["n_targeted"]) == [0, 2, 4]
    # order within ties must not matter
    perm = np.array([1, 0, 3, 2])
    assert qini_coefficient(score[perm], y[perm], t[perm]) == pytest.approx(curve.attrs["qini"])


def test_qini_rewards_a_good_ranking():
    rng = np.random.default_rng(1)
    n = 2000
    x = rng.normal(size=n)
    t = (rng.random(n) < 0.5).astype(int)
    y = (rng.random(n) < expit(0.2 + 1.5 * t * x)).astype(float)
    good = qini_coefficient(x, y, t)
    assert good > 0.02
    assert qini_coefficient(-x, y, t) < -0.02
    noise = [qini_coefficient(rng.normal(size=n), y, t) for _ in range(20)]
    assert abs(np.mean(noise)) < 0.01
    lo, hi, values = bootstrap_qini(x, y, t, n_bootstraps=200, rng=np.random.default_rng(2))
    assert lo < good < hi
    assert lo > 0
    assert values.shape == (200,)


def test_qini_bad_input():
    with pytest.raises(SchemaError, match=r"same length"):
        qini_curve([1, 2], [1], [0, 1])
    with pytest.raises(SchemaError, match=r"must be finite"):
        qini_curve([np.nan, 1], [1, 0], [0, 1])
    with pytest.raises(SchemaError, match=r"treated must be 0"):
        qini_curve([1, 2], [1, 0], [0, 2])


# --------------------------------------------------------------------------------------------
# survival pseudo-values, Cox
# --------------------------------------------------------------------------------------------
def _km_rmst(time, event, tau):
    from sksurv.nonparametric import kaplan_meier_estimator

    x, s = kaplan_meier_estimator(event.astype(bool), time)
    keep = x <= tau
    grid = np.concatenate([[0.0], x[keep], [tau]])
    surv = np.concatenate([[1.0], s[keep]])
    return float(np.sum(surv * np.diff(grid)))


def test_rmst_pseudo_values_match_brute_force_jackknife():
    rng = np.random.default_rng(3)
    n = 40
    time = np.round(rng.exponential(30, n), 0) + 1  # ties
    event = (rng.random(n) < 0.7).astype(int)
    tau = 45.0
    pv = rmst_pseudo_values(time, event, tau)
    full = _km_rmst(time, event, tau)
    loo = np.array([_km_rmst(np.delete(time, i), np.delete(event, i), tau) for i in range(n)])
    assert np.allclose(pv, n * full - (n - 1) * loo)
    # no censoring: pseudo-values are the restricted times themselves
    pv_unc = rmst_pseudo_values(time, np.ones(n, int), tau)
    assert np.allclose(pv_unc, np.minimum(time, tau))


def test_cox_efron_matches_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(4)
    n = 150
    X = rng.normal(size=(n, 3))
    t = np.round(rng.exponential(np.exp(-X @ [0.5, -0.3, 0.0])) * 10)  # many ties
    event = (rng.random(n) < 0.8).astype(int)
    params, cov, converged = cox_efron(t, event, X)
    ref = sm.PHReg(t, X, status=event, ties="efron").fit()
    assert converged
    assert np.allclose(params, ref.params, atol=1e-6)
    assert np.allclose(cov, ref.cov_params(), rtol=1e-5, atol=1e-9)


# --------------------------------------------------------------------------------------------
# base learners
# --------------------------------------------------------------------------------------------
def test_prep_learns_censoring_and_imputation_on_training_rows():
    train = np.array([[-np.inf, 1.0], [2.0, np.nan], [4.0, 3.0], [np.inf, 5.0]])
    prep = _Prep().fit(train)
    test = np.array([[-np.inf, np.nan], [np.inf, np.inf]])
    filled = np.array([[2.0, 3.0], [4.0, 5.0]])  # min/max of training; NaN → training median
    expected = (filled - prep.mean_) / prep.sd_
    assert np.allclose(prep.transform(test), expected)
    col0 = np.array([2.0, 2.0, 4.0, 4.0])
    assert prep.mean_[0] == pytest.approx(col0.mean())


def test_ridge_logistic_newton_matches_sklearn():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    Z = rng.normal(size=(200, 4))
    y = (rng.random(200) < expit(Z @ [1.0, -1.0, 0.5, 0.0])).astype(float)
    lam = 3.0
    Zt = np.column_stack([np.ones(200), Z])
    pen = np.array([0.0, 1, 1, 1, 1])
    theta = _logistic_newton(Zt, y, lam, pen, np.zeros(5))
    ref = LogisticRegression(C=1 / lam, tol=1e-10, max_iter=10_000).fit(Z, y)
    assert np.allclose(theta[1:], ref.coef_[0], atol=1e-5)
    assert np.allclose(theta[0], ref.intercept_[0], atol=1e-5)


def test_ridge_logistic_alo_tracks_exact_leave_one_out():
    rng = np.random.default_rng(6)
    n = 120
    X = rng.normal(size=(n, 5))
    y = (rng.random(n) < expit(X[:, 0])).astype(float)
    model = _RidgeLogisticALO().fit(X, y)
    # the chosen penalty gives an exact LOO deviance close to the best on the grid
    Xs = model.prep_.transform(X)
    Zt = np.column_stack([np.ones(n), Xs])
    pen = np.r_[0.0, np.ones(Xs.shape[1])]

    def exact_loo(lam):
        dev = 0.0
        for i in range(n):
            keep = np.arange(n) != i
            th = _logistic_newton(Zt[keep], y[keep], lam, pen, np.zeros(Zt.shape[1]))
            p = expit(Zt[i] @ th)
            dev -= y[i] * np.log(p) + (1 - y[i]) * np.log(1 - p)
        return dev / n

    grid = n * np.logspace(1, -4, 8)
    exact = np.array([exact_loo(lam) for lam in grid])
    chosen = exact[np.argmin(np.abs(grid - model.lambda_))]
    assert chosen <= exact.min() + 0.01
    assert np.all(np.isfinite(model.predict(X)))


def test_ridge_loo_matches_sklearn_ridgecv():
    from sklearn.linear_model import RidgeCV

    rng = np.random.default_rng(7)
    X = rng.normal(size=(80, 6))
    y = X @ [1.0, 0.5, 0, 0, 0, -1.0] + rng.normal(size=80)
    model = _RidgeLOO().fit(X, y)
    Xs = model.prep_.transform(X)
    ref = RidgeCV(alphas=80 * np.logspace(-4, 2, 13)).fit(Xs, y)
    assert model.lambda_ == pytest.approx(ref.alpha_)
    assert np.allclose(model.coef_, ref.coef_)
    assert np.allclose(model.predict(X), ref.predict(Xs))


# --------------------------------------------------------------------------------------------
# cross-fitting, DR scores, calibration test
# --------------------------------------------------------------------------------------------
def _trial(n=300, seed=0, modifier=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    arm = (rng.random(n) < 0.5).astype(int)
    tau = 0.5 + modifier * X[:, 0]
    y = X[:, 1] + arm * tau + rng.normal(size=n)
    return X, arm, y, tau


def test_make_folds_stratify_by_arm_and_outcome():
    rng = np.random.default_rng(8)
    arm = (rng.random(200) < 0.5).astype(int)
    strata = (rng.random(200) < 0.3).astype(int)
    folds = make_folds(arm, strata, 5, 0)
    counts = pd.crosstab(folds, [arm, strata])
    assert (counts.max() - counts.min() <= 1).all()
    with pytest.raises(SchemaError, match=r"n_folds=50"):
        make_folds(arm[:60], strata[:60], 50, 0)


def test_cross_fit_predictions_are_out_of_fold():
    X, arm, y, _ = _trial(200, 1)
    folds = make_folds(arm, np.zeros(200, int), 4, 0)
    kw = {
        "binary": False,
        "learner": "linear",
        "propensity": 0.5,
        "methods": ("t_learner", "dr_learner"),
        "seed": 3,
    }
    a = cross_fit(X, y, arm, folds, **kw)
    y2 = y.copy()
    y2[folds == 0] += 100 * np.random.default_rng(0).normal(size=(folds == 0).sum())
    b = cross_fit(X, y2, arm, folds, **kw)
    held = folds == 0
    # changing fold 0's outcomes cannot change fold 0's own predictions ...
    for key in ("cate_t", "cate_dr", "mu0", "mu1"):
        assert np.allclose(a[key][held], b[key][held])
        # ... but it does change the others'
        assert not np.allclose(a[key][~held], b[key][~held])


def test_dr_scores_unbiased_with_known_propensity():
    rng = np.random.default_rng(9)
    n = 200_000
    arm = (rng.random(n) < 0.3).astype(int)
    x = rng.normal(size=n)
    y = x + arm * (1 + x) + rng.normal(size=n)
    wrong_mu = np.zeros(n)  # even with useless outcome models the mean score is the ATE
    phi = dr_scores(y, arm, wrong_mu, wrong_mu, 0.3)
    assert phi.mean() == pytest.approx(1.0, abs=0.03)
    good = dr_scores(y, arm, x, 2 * x + 1, 0.3)
    assert good.mean() == pytest.approx(1.0, abs=0.01)
    assert good.var() < phi.var()


def test_calibration_slope_near_one_for_true_cate_and_zero_for_noise():
    import statsmodels.api as sm

    X, arm, y, tau = _trial(600, 2)
    phi = dr_scores(y, arm, X[:, 1], X[:, 1] + tau, 0.5)
    res = calibration_test(phi, tau)
    assert res["slope"] == pytest.approx(1.0, abs=0.25)
    assert res["p_slope"] < 1e-6
    ref = sm.OLS(phi, sm.add_constant(tau - tau.mean())).fit(cov_type="HC3")
    assert np.allclose([res["ate"], res["slope"]], ref.params)
    assert np.allclose([res["ate_se"], res["slope_se"]], ref.bse)
    noise = calibration_test(phi, np.random.default_rng(0).normal(size=phi.size))
    assert noise["p_slope"] > 0.01
    const = calibration_test(phi, np.zeros(phi.size))
    assert np.isnan(const["slope"])
    assert const["ate"] == pytest.approx(phi.mean())


def test_learners_recover_cate_on_continuous_outcome():
    X, arm, y, tau = _trial(400, 3)
    folds = make_folds(arm, np.zeros(400, int), 5, 0)
    out = cross_fit(
        X,
        y,
        arm,
        folds,
        binary=False,
        learner="linear",
        propensity=0.5,
        methods=("t_learner", "dr_learner"),
        seed=0,
    )
    for key in ("cate_t", "cate_dr"):
        assert np.corrcoef(out[key], tau)[0, 1] > 0.8
        assert np.mean(out[key]) == pytest.approx(tau.mean(), abs=0.25)
