from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.features import CensoredValueImputer

NINF, PINF, NAN = -np.inf, np.inf, np.nan


@pytest.fixture
def X():
    return np.array(
        [
            [NINF, 10.0, 1.0],
            [2.0, PINF, NAN],
            [4.0, 30.0, 3.0],
            [8.0, 20.0, NINF],
        ]
    )


@parametrize_with_checks(
    [
        CensoredValueImputer(),
        CensoredValueImputer("keep"),
        CensoredValueImputer("min", add_indicator=True),
        CensoredValueImputer("lod_half", limits=None, upper="max"),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    ("rule", "col0_fill", "col2_fill"),
    [
        ("keep", 2.0, 1.0),
        ("min", 2.0, 1.0),
        ("lod_sqrt2", 2.0 / np.sqrt(2), 1.0 / np.sqrt(2)),
        ("lod_half", 1.0, 0.5),
        ("lowest_standard", 2.0, 1.0),
    ],
)
def test_rules_learned_limits(X, rule, col0_fill, col2_fill):
    out = CensoredValueImputer(rule).fit_transform(X)
    assert out[0, 0] == pytest.approx(col0_fill)
    assert out[3, 2] == pytest.approx(col2_fill)
    assert out[1, 1] == 30.0  # +inf -> training max
    assert np.isnan(out[1, 2])  # NaN stays missing
    finite = np.isfinite(X)
    np.testing.assert_array_equal(out[finite], X[finite])


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("lod_sqrt2", 1.5 / np.sqrt(2)), ("lod_half", 0.75), ("lowest_standard", 1.5), ("min", 2.0)],
)
def test_given_limits(X, rule, expected):
    imp = CensoredValueImputer(rule, limits=[1.5, 5.0, NAN]).fit(X)
    assert imp.transform(X)[0, 0] == pytest.approx(expected)
    # NaN limit falls back to the training minimum
    if rule == "lowest_standard":
        assert imp.lower_fill_[2] == 1.0


def test_upper_array_and_keep_ignores_it(X):
    out = CensoredValueImputer("lod_half", upper=[NAN, 100.0, NAN]).fit_transform(X)
    assert out[1, 1] == 100.0
    out = CensoredValueImputer("keep", upper=[NAN, 100.0, NAN]).fit_transform(X)
    assert out[1, 1] == 30.0


def test_learned_in_training_fold_only(X):
    imp = CensoredValueImputer("min").fit(X[2:])  # fold without row 1
    test = np.array([[NINF, PINF, NINF]])
    np.testing.assert_allclose(imp.transform(test), [[4.0, 30.0, 3.0]])


def test_indicator_and_names(X):
    df = pd.DataFrame(X, columns=["cytokine:IL6@D0", "cytokine:IL10@D0", "cytokine:TNF@D0"])
    imp = CensoredValueImputer("lod_half", add_indicator=True).fit(df)
    out = imp.transform(df)
    assert out.shape == (4, 5)
    np.testing.assert_array_equal(out[:, 3], [1, 0, 0, 0])
    np.testing.assert_array_equal(out[:, 4], [0, 0, 0, 1])
    assert list(imp.get_feature_names_out()) == [
        "cytokine:IL6@D0",
        "cytokine:IL10@D0",
        "cytokine:TNF@D0",
        "cytokine:IL6@D0_below_limit",
        "cytokine:TNF@D0_below_limit",
    ]


def test_in_pipeline_with_simple_imputer(X):
    pipe = make_pipeline(CensoredValueImputer("lod_half"), SimpleImputer(strategy="median"))
    out = pipe.fit_transform(X)
    assert np.isfinite(out).all()
    assert out[1, 2] == pytest.approx(1.0)  # median of 1.0, 3.0, 0.5


def test_all_censored_column_gives_nan():
    X = np.array([[NINF, 1.0], [NINF, 2.0]])
    out = CensoredValueImputer("lod_half").fit_transform(X)
    assert np.isnan(out[:, 0]).all()


def test_bad_limits_length(X):
    with pytest.raises(SchemaError, match=r"limits has 2 entries but X has 3 col.*var\['lod'\]"):
        CensoredValueImputer(limits=[1.0, 2.0]).fit(X)


def test_bad_rule(X):
    with pytest.raises(
        ConfigError, match=r"rule='lod' is not supported.*use one of: 'keep', 'lod_sqrt2'"
    ):
        CensoredValueImputer("lod").fit(X)


def test_log2_scale_divides_on_concentration_scale():
    lod = np.array([8.0, 8.0])
    X = np.log2(np.array([[1.0, 20.0], [16.0, 1.0], [32.0, 64.0]]) + 1)
    X[0, 0] = X[1, 1] = NINF
    imp = CensoredValueImputer("lod_half", limits=np.log2(lod + 1), log2_offset=[1.0, NAN])
    out = imp.fit_transform(X)
    assert out[0, 0] == pytest.approx(np.log2(8.0 / 2 + 1))  # LOD/2 in pg/mL, then log2(x + 1)
    assert out[1, 1] == pytest.approx(np.log2(9.0) / 2)  # NaN offset: column treated as linear
    with pytest.raises(SchemaError, match="log2_offset has 3 entries but X has 2"):
        CensoredValueImputer("lod_half", log2_offset=[1.0, 1.0, 1.0]).fit(X)
