from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.utils.estimator_checks import parametrize_with_checks

from biomarkers.models import UnivariateScreen


@pytest.fixture
def xy():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 12))
    y = (X[:, 4] + 0.3 * rng.normal(size=50) > 0).astype(int)
    return X, y


def test_binary_statistic_is_welch_t(xy):
    X, y = xy
    sc = UnivariateScreen(k=3).fit(X, y)
    ref = np.abs(stats.ttest_ind(X[y == 1], X[y == 0], equal_var=False).statistic)
    np.testing.assert_allclose(sc.scores_, ref)
    assert sc.get_support().sum() == 3
    assert sc.get_support()[4]


def test_nan_is_ignored_per_column(xy):
    X, y = xy
    X = X.copy()
    X[::7, 0] = np.nan
    sc = UnivariateScreen(k=2).fit(X, y)
    ok = ~np.isnan(X[:, 0])
    ref = stats.ttest_ind(X[ok & (y == 1), 0], X[ok & (y == 0), 0], equal_var=False).statistic
    assert sc.scores_[0] == pytest.approx(abs(ref))


def test_continuous_statistic_is_pearson(xy):
    X, _ = xy
    yc = X[:, 2] * 2 + np.random.default_rng(0).normal(size=len(X))
    sc = UnivariateScreen(k=1, task="continuous").fit(X, yc)
    ref = [abs(stats.pearsonr(X[:, j], yc).statistic) for j in range(X.shape[1])]
    np.testing.assert_allclose(sc.scores_, ref)
    assert np.flatnonzero(sc.get_support()).tolist() == [2]


def test_keep_forces_columns(xy):
    X, y = xy
    sc = UnivariateScreen(k=1, keep=[0, 11]).fit(X, y)
    assert np.flatnonzero(sc.get_support()).tolist() == [0, 4, 11]


def test_bad_task(xy):
    with pytest.raises(ValueError, match=r"task='ordinal'"):
        UnivariateScreen(task="ordinal").fit(*xy)


@parametrize_with_checks([UnivariateScreen(k=2)])
def test_sklearn_contract(estimator, check):
    check(estimator)


def test_dense_path_matches_nan_aware_path_exactly(xy):
    # a matrix without NaN takes the unmasked fast path; one NaN elsewhere forces the masked
    # path for every column, and the untouched columns must score bit-for-bit the same
    X, y = xy
    Xn = X.copy()
    Xn[0, 0] = np.nan
    dense = UnivariateScreen(k=3).fit(X, y).scores_
    masked = UnivariateScreen(k=3).fit(Xn, y).scores_
    np.testing.assert_array_equal(dense[1:], masked[1:])
    assert dense[0] != masked[0]
