from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_selection import VarianceThreshold
from sklearn.utils.estimator_checks import parametrize_with_checks

from biomarkers.features import (
    CLRTransformer,
    Log2Transformer,
    MissingnessFilter,
    PseudobulkNormalizer,
    VarianceFilter,
)


@parametrize_with_checks(
    [
        Log2Transformer(),
        Log2Transformer(offset=0.5),
        CLRTransformer(),
        PseudobulkNormalizer(),
        PseudobulkNormalizer("median_ratio"),
        PseudobulkNormalizer("cpm", target_sum=100.0),
        VarianceFilter(),
        VarianceFilter(top_k=2),
        MissingnessFilter(),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_log2_keeps_censoring_and_refuses_negative():
    X = np.array([[0.0, 3.0, -np.inf], [np.nan, np.inf, 1.0]])
    out = Log2Transformer(offset=1.0).fit_transform(X)
    np.testing.assert_array_equal(out[0], [0.0, 2.0, -np.inf])
    assert np.isnan(out[1, 0])
    assert out[1, 1] == np.inf
    with pytest.raises(
        ValueError, match=r"Negative values in data \(value -2.0 at row 0, column 1"
    ):
        Log2Transformer(offset=1.0).fit_transform(np.array([[1.0, -2.0]]))
    with pytest.raises(ValueError, match=r"value 0\.0 at row 0, column 0 has no log with offset=0"):
        Log2Transformer(offset=0).fit_transform(np.array([[0.0, 2.0]]))


def test_clr_matches_definition_and_is_rowwise():
    rng = np.random.default_rng(0)
    X = rng.poisson(5, size=(6, 4)).astype(float)
    out = CLRTransformer(pseudocount=0.5).fit(X[:3]).transform(X)
    logx = np.log(X + 0.5)
    np.testing.assert_allclose(out, logx - logx.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(out.sum(axis=1), 0, atol=1e-12)
    with pytest.raises(ValueError, match="must be finite and > 0"):
        CLRTransformer(pseudocount=0).fit_transform(X * 0)


def test_cpm_and_median_ratio():
    X = np.array([[10.0, 30.0, 60.0], [20.0, 60.0, 120.0], [5.0, 5.0, 10.0]])
    cpm = PseudobulkNormalizer("cpm").fit_transform(X)
    np.testing.assert_allclose(cpm.sum(axis=1), 1e6)
    np.testing.assert_allclose(
        PseudobulkNormalizer().fit_transform(X), np.log1p(X / X.sum(1, keepdims=True) * 1e6)
    )
    # DESeq2 median-of-ratios size factors, computed by hand from the training rows
    norm = PseudobulkNormalizer("median_ratio").fit(X[:2])
    geo = np.exp(np.log(X[:2]).mean(axis=0))
    sf = np.median(X / geo, axis=1)
    sf = sf / np.exp(np.mean(np.log(sf[:2])))  # scaled to geometric mean 1 on the training rows
    np.testing.assert_allclose(norm.transform(X), np.log1p(X / sf[:, None]))
    # zeros are tolerated (DESeq2 "poscounts"): a gene with a zero still has a reference
    Xz = X.copy()
    Xz[0, 0] = 0
    assert np.isfinite(PseudobulkNormalizer("median_ratio").fit_transform(Xz)).all()
    # learned on training rows only: a different fold gives a different reference
    assert not np.allclose(
        norm.log_geomeans_, PseudobulkNormalizer("median_ratio").fit(X).log_geomeans_
    )


def test_variance_filter_matches_sklearn_and_top_k():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 6)) * np.array([0.1, 1, 2, 0.5, 3, 0.0])
    ours = VarianceFilter(threshold=0.2).fit(X)
    ref = VarianceThreshold(threshold=0.2).fit(X)
    # sklearn uses the population variance (ddof=0); ours ddof=1
    np.testing.assert_allclose(ours.variances_ * 29 / 30, ref.variances_)
    assert VarianceFilter(top_k=2).fit(X).get_support().tolist() == [
        False,
        False,
        True,
        False,
        True,
        False,
    ]
    Xn = X.copy()
    Xn[0, 4] = np.nan
    Xn[1, 4] = -np.inf
    v = VarianceFilter().fit(Xn).variances_[4]
    assert v == pytest.approx(np.var(X[2:, 4], ddof=1))


def test_missingness_filter():
    X = np.array([[1.0, np.nan, -np.inf], [2.0, np.nan, 1.0], [3.0, 1.0, 2.0], [4.0, 2.0, 3.0]])
    f = MissingnessFilter(max_missing=0.25).fit(X)
    np.testing.assert_allclose(f.missing_fraction_, [0, 0.5, 0])
    assert f.get_support().tolist() == [True, False, True]
    with pytest.raises(ValueError, match=r"max_missing=2 must be in \[0, 1\]"):
        MissingnessFilter(max_missing=2).fit(X)
