"""CV-aware intervals of discover() (issue 19): hand computations and the statistics they feed."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student_t
from sklearn.metrics import roc_auc_score

from biomarkers.exceptions import ConfigError
from biomarkers.models import discover
from biomarkers.models._metrics import (
    INTERVALS,
    bbc_interval,
    corrected_t_interval,
    cv_performance,
    nested_cv_interval,
    primary_point,
    verdict,
    within_fold_ranks,
)
from tests.models.conftest import make_binary


def test_corrected_t_is_the_nadeau_bengio_formula():
    est = np.array([[0.6, 0.7, 0.5], [0.55, 0.65, 0.45]])
    # J = 6, mean 0.575, s² = 0.04375 / 5, var = (1/6 + 30/60) s², t with 5 df
    half = student_t.ppf(0.975, 5) * np.sqrt((1 / 6 + 0.5) * 0.04375 / 5)
    m, lo, hi = corrected_t_interval(est, n_train=60, n_test=30)
    assert m == pytest.approx(0.575)
    assert (lo, hi) == pytest.approx((0.575 - half, 0.575 + half))
    assert half == pytest.approx(0.196331, abs=1e-6)


def test_nested_cv_interval_by_hand():
    outer = np.array([[0.6, 0.7, 0.5]])
    inner = np.array([[0.55, 0.6, 0.5]])
    # MSE = mean(0.05², 0.1², 0) - 0.002; Err_NCV = 0.55, Err_CV = 0.6, K = 3
    mse = (0.0025 + 0.01 + 0.0) / 3 - 0.002
    center = 0.55 - (1 + 1 / 3) * (0.55 - 0.6)
    se = np.sqrt(mse) * np.sqrt(2 / 3)  # inside [naive, √K naive], naive = sqrt(0.002 / 3)
    c, lo, hi = nested_cv_interval(outer, inner, np.full((1, 3), 0.002))
    assert c == pytest.approx(center)
    assert (lo, hi) == pytest.approx((center - 1.959964 * se, center + 1.959964 * se), abs=1e-6)


def test_nested_cv_standard_error_is_at_least_the_naive_one():
    outer = np.array([[0.6, 0.7, 0.5]])
    inner = np.array([[0.55, 0.6, 0.5]])
    _, lo, hi = nested_cv_interval(outer, inner, np.full((1, 3), 0.004))
    assert (hi - lo) / 2 == pytest.approx(1.959964 * np.sqrt(0.004 / 3), abs=1e-6)


def _two_folds():
    # two folds, each perfectly ordered, the second fold model calibrated 0.9 higher
    y = np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=float)
    preds = np.array([[0.01, 0.02, 0.03, 0.04, 0.91, 0.92, 0.93, 0.94]])
    te = (np.arange(4), np.arange(4, 8))
    splits = (((te[1], te[0]), (te[0], te[1])),)
    return y, preds, splits


def test_within_fold_ranks_undo_fold_calibration():
    y, preds, splits = _two_folds()
    assert primary_point("binary", y, preds[0]) == pytest.approx(0.75)  # raw pooling: 12/16
    ranked = within_fold_ranks(preds, splits)
    assert primary_point("binary", y, ranked[0]) == pytest.approx(1.0)


def test_bbc_on_perfect_within_fold_order_is_one():
    y, preds, splits = _two_folds()
    y, preds = np.tile(y, 3), np.tile(preds, 3)
    splits = (
        tuple((np.r_[tr, tr + 8, tr + 16], np.r_[te, te + 8, te + 16]) for tr, te in splits[0]),
    )
    m, lo, hi = bbc_interval(
        "binary", y, preds, splits, n_bootstraps=50, rng=np.random.default_rng(0)
    )
    assert (m, lo, hi) == pytest.approx((1.0, 1.0, 1.0))


def _anti_predictions(seed=0):
    rng = np.random.default_rng(seed)
    y = np.tile([0.0, 1.0], 30)
    preds = (0.6 - 0.3 * y + rng.normal(scale=0.15, size=60))[None, :]
    folds = np.arange(60) % 3
    splits = (tuple((np.flatnonzero(folds != f), np.flatnonzero(folds == f)) for f in range(3)),)
    return y, preds, splits


@pytest.mark.parametrize("interval", INTERVALS)
def test_below_chance_is_no_evidence_of_discrimination(interval):
    y, preds, splits = _anti_predictions()
    inner = np.full((1, 3), 0.2)
    t = cv_performance(
        y, preds, splits, task="binary", interval=interval, n_bootstraps=200,
        rng=np.random.default_rng(0), inner=inner,
    )  # fmt: skip
    row = t.set_index("metric").loc["auroc"]
    assert row["ci_high"] < 0.5  # confidently below chance ...
    assert row["verdict"] == "no evidence of discrimination"  # ... is still no evidence
    assert row["interval"] == interval


def test_verdict_needs_the_whole_interval_above_chance():
    assert verdict("auroc", 0.55, 0.7) == "evidence of discrimination"
    assert verdict("auroc", 0.45, 0.7) == "no evidence of discrimination"
    assert verdict("r2", 0.01, 0.2) == "evidence of prediction"


@pytest.fixture(scope="module")
def run():
    df = make_binary(n=90, p=20, k=3, seed=3)
    return discover(
        df, outcome="response", models=["enet"], cv=(3, 2), n_permutations=3,
        n_bootstraps=50, interval="corrected_t",
    )  # fmt: skip


def _fold_aurocs(res):
    oof = res.oof_predictions
    return oof.groupby(["repeat", "fold"]).apply(
        lambda d: roc_auc_score(d["y_true"], d["y_pred"]), include_groups=False
    )


def test_auroc_is_the_mean_of_per_fold_aurocs(run):
    perf = run.performance.set_index("metric")
    assert perf.loc["auroc", "estimate"] == pytest.approx(_fold_aurocs(run).mean())
    assert perf.loc["auroc", "interval"] == "corrected_t"
    assert perf.loc["auroc_pooled", "interval"] == "bootstrap"


def test_permutation_observed_is_the_per_fold_mean_of_repeat_0(run):
    assert run.permutation["observed"] == pytest.approx(_fold_aurocs(run).loc[0].mean())
    assert "per-fold auroc" in run.permutation["statistic"]


def test_unknown_interval_is_refused():
    df = make_binary(n=40, p=5, k=1, seed=1)
    with pytest.raises(ConfigError, match="interval"):
        discover(df, outcome="response", models=["enet"], interval="wald")


def test_calibration_slope_is_finite_with_a_finite_ci_on_noise():
    # a null cohort where cv=(5, 2), n_bootstraps=100 reported a NaN slope with a finite CI
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(100, 200)), columns=[f"f{i}" for i in range(200)])
    y = np.r_[np.zeros(50), np.ones(50)].astype(int)
    rng.shuffle(y)
    from sklearn.exceptions import ConvergenceWarning

    from biomarkers.exceptions import SmallSampleWarning

    with warnings.catch_warnings():
        # 200 noise features for 100 subjects: the lasso path and the sample size both warn
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", SmallSampleWarning)
        res = discover(
            X, outcome=pd.Series(y, index=X.index), models=("enet",), cv=(5, 2),
            n_permutations=0, n_bootstraps=100, interval="bootstrap",
        )  # fmt: skip
    perf = res.performance
    assert np.isfinite(perf.set_index("metric").loc["calibration_slope", "estimate"])
    has_ci = np.isfinite(perf["ci_low"]) & np.isfinite(perf["ci_high"])
    assert np.isfinite(perf.loc[has_ci, "estimate"]).all()


def test_result_verdict_and_summary_name_the_interval(run):
    assert run.verdict in ("evidence of discrimination", "no evidence of discrimination")
    row = run.performance.set_index("metric").loc["auroc"]
    assert run.verdict == row["verdict"]
    assert "95% CI (corrected resampled t, Nadeau & Bengio 2003)" in run._repr_html_()


def test_intervals_stay_inside_the_metric_range():
    y, preds, splits = _anti_predictions()
    preds = -preds  # near-perfect discrimination: a symmetric interval would pass 1
    t = cv_performance(
        y, preds, splits, task="binary", interval="corrected_t", n_bootstraps=10,
        rng=np.random.default_rng(0),
    )  # fmt: skip
    row = t.set_index("metric").loc["auroc"]
    assert row["ci_high"] <= 1.0
    assert row["ci_low"] > 0.5
