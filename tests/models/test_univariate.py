from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from biomarkers.models._univariate import cox_score, mann_whitney, spearman, univariate_tests


@pytest.fixture
def X():
    rng = np.random.default_rng(1)
    X = np.round(rng.standard_normal((60, 8)), 1)  # ties on purpose
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:3, 0] = -np.inf  # censored values rank lowest
    return X


def test_mann_whitney_matches_scipy(X):
    y = np.random.default_rng(2).random(60) < 0.4
    auc, p = mann_whitney(X, y)
    for j in range(X.shape[1]):
        ok = ~np.isnan(X[:, j])
        ref = stats.mannwhitneyu(X[ok & y, j], X[ok & ~y, j], method="asymptotic")
        assert auc[j] == pytest.approx(ref.statistic / ((ok & y).sum() * (ok & ~y).sum()))
        assert p[j] == pytest.approx(ref.pvalue)


def test_spearman_matches_scipy(X):
    yc = np.random.default_rng(3).standard_normal(60)
    r, p = spearman(X, yc)
    for j in range(1, X.shape[1]):
        ok = ~np.isnan(X[:, j])
        ref = stats.spearmanr(X[ok, j], yc[ok])
        assert r[j] == pytest.approx(ref.statistic)
        assert p[j] == pytest.approx(ref.pvalue)


def test_cox_score_matches_statsmodels():
    from statsmodels.duration.hazard_regression import PHReg

    rng = np.random.default_rng(4)
    n = 70
    x = rng.standard_normal((n, 3))
    t = np.round(rng.exponential(np.exp(-x[:, 0])) * 10) + 1  # tied times
    e = rng.random(n) < 0.7
    z, _p = cox_score(x, e, t)
    for j in range(3):
        r = stats.rankdata(x[:, j])
        r = (r - r.mean()) / r.std()
        mod = PHReg(t, r[:, None], status=e.astype(int), ties="breslow")
        score = mod.score(np.zeros(1))[0]
        info = -mod.hessian(np.zeros(1))[0, 0]
        assert z[j] == pytest.approx(score / np.sqrt(info), rel=1e-8)
    assert z[0] > 3  # the planted effect: higher x, higher hazard


def test_dispatch_kinds(X):
    y = (np.arange(60) % 2).astype(float)
    assert univariate_tests(X, y, task="binary")[2] == "auroc"
    assert univariate_tests(X, y, task="continuous")[2] == "spearman_r"
