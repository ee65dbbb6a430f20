from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from biomarkers.models import ElasticNetLogistic
from biomarkers.models._glmnet import logistic_enet_path


def _objective(X, y, w, b, C, l1):
    eta = X @ w + b
    return C * np.sum(np.logaddexp(0, eta) - y * eta) + (1 - l1) / 2 * w @ w + l1 * np.abs(w).sum()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 40))
    y = (X[:, :4].sum(1) + rng.standard_normal(80) > 0).astype(float)
    return X, y


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("C", [0.05, 0.3, 2.0])
def test_matches_sklearn_objective(data, C, l1_ratio):
    X, y = data
    ours = ElasticNetLogistic(C=C, l1_ratio=l1_ratio).fit(X, y)
    solver = "lbfgs" if l1_ratio == 0 else "saga"  # lbfgs is exact and fast for ridge
    ref = LogisticRegression(C=C, l1_ratio=l1_ratio, solver=solver, tol=1e-10, max_iter=50000)
    ref.fit(X, y)
    f_ours = _objective(X, y, ours.coef_[0], ours.intercept_[0], C, l1_ratio)
    f_ref = _objective(X, y, ref.coef_[0], ref.intercept_[0], C, l1_ratio)
    # same convex problem: our optimum is at least as good and the solutions agree
    assert f_ours <= f_ref + 1e-6 * max(1.0, abs(f_ref))
    np.testing.assert_allclose(ours.coef_[0], ref.coef_[0], atol=5e-3)


def test_path_equals_single_fits(data):
    X, y = data
    Cs = [1.0, 0.01, 0.1]
    coefs, icpt = logistic_enet_path(X, y, Cs=Cs, l1_ratio=0.5, tol=1e-9)
    for j, C in enumerate(Cs):
        single = ElasticNetLogistic(C=C, l1_ratio=0.5).fit(X, y)
        np.testing.assert_allclose(coefs[j], single.coef_[0], atol=1e-4)
        np.testing.assert_allclose(icpt[j], single.intercept_[0], atol=1e-4)
    # strongest penalty: every coefficient zero and the intercept is the log-odds of y
    assert not np.any(coefs[1])
    assert icpt[1] == pytest.approx(np.log(y.mean() / (1 - y.mean())), abs=1e-6)


def test_rejects_multiclass():
    with pytest.raises(ValueError, match=r"Only binary classification"):
        ElasticNetLogistic().fit(np.eye(3), [0, 1, 2])


@parametrize_with_checks([ElasticNetLogistic()])
def test_sklearn_contract(estimator, check):
    check(estimator)
