from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.models import heterogeneity_test, predictive
from biomarkers.models._heterogeneity import _corrected_t, sequential_cross_fit
from biomarkers.models._pred_result import PredictiveResult


def _trial(n, *, modifier, seed=0, binary=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    arm = (rng.random(n) < 0.5).astype(int)
    lin = X[:, 0] + arm * (0.5 + modifier * X[:, 1])
    if binary:
        return X, (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int), arm
    return X, lin + rng.normal(size=n), arm


def test_corrected_t_matches_nadeau_bengio():
    est = np.array([[0.1, -0.05, 0.2, 0.0, 0.05], [0.15, 0.1, -0.1, 0.05, 0.0]])
    mean, se, lo, hi, p = _corrected_t(est, n_train=80, n_test=20, level=0.95)
    J = est.size
    se_ref = np.sqrt((1 / J + 20 / 80) * est.var(ddof=1))
    assert mean == pytest.approx(est.mean())
    assert se == pytest.approx(se_ref)
    assert p == pytest.approx(stats.t.sf(est.mean() / se_ref, J - 1))
    assert (lo, hi) == pytest.approx(
        est.mean() + np.array([-1, 1]) * stats.t.ppf(0.975, J - 1) * se_ref
    )


def test_detects_planted_modifier_and_not_a_constant_effect():
    planted = heterogeneity_test(*_trial(600, modifier=1.0), kind="continuous", n_repeats=2)
    assert planted["p_value"].iloc[0] < 0.01
    assert planted["difference"].iloc[0] > 0
    assert planted["loss_heterogeneous"].iloc[0] < planted["loss_constant"].iloc[0]
    null = heterogeneity_test(*_trial(600, modifier=0.0), kind="continuous", n_repeats=2)
    # extra interaction terms only add variance without a modifier
    assert null["difference"].iloc[0] < planted["difference"].iloc[0]
    assert null["p_value"].iloc[0] > 0.05
    row = planted.iloc[0]
    assert row["ci_low"] <= row["difference"] <= row["ci_high"]
    assert (row["loss"], row["n_repeats"], row["n_folds"]) == ("squared_error", 2, 5)


def test_binary_uses_log_loss():
    res = heterogeneity_test(*_trial(300, modifier=1.5, binary=True), n_repeats=2)
    assert res["loss"].iloc[0] == "log_loss"
    assert 0 < res["loss_constant"].iloc[0] < np.log(2) + 0.1


def test_same_answer_whatever_n_jobs():
    X, y, arm = _trial(150, modifier=0.5)
    one = heterogeneity_test(X, y, arm, kind="continuous", n_repeats=3, random_state=7, n_jobs=1)
    # threads instead of processes: the repeats still run out of order, without process start-up
    with joblib.parallel_config(backend="threading"):
        two = heterogeneity_test(
            X, y, arm, kind="continuous", n_repeats=3, random_state=7, n_jobs=2
        )
    pd.testing.assert_frame_equal(one, two)
    other = heterogeneity_test(X, y, arm, kind="continuous", n_repeats=3, random_state=8)
    assert other["difference"].iloc[0] != one["difference"].iloc[0]


def test_sequential_scores_see_only_earlier_folds():
    """Fold k's CATE and DR scores do not move when a later fold's (or its own) outcome does."""
    X, y, arm = _trial(100, modifier=1.0)
    folds = np.repeat(np.arange(4), 25)
    kw = {"binary": False, "learner": "linear", "propensity": 0.5, "seed": 3}
    kw["methods"] = ("t_learner", "dr_learner")
    before = sequential_cross_fit(X, y, arm, folds, **kw)
    assert np.isnan(before["cate_dr"][folds == 0]).all()
    assert np.isfinite(before["cate_dr"][folds > 0]).all()
    y2 = y.copy()
    y2[60] += 30.0  # a subject of fold 2
    after = sequential_cross_fit(X, y2, arm, folds, **kw)
    for key in ("cate_t", "cate_dr"):
        assert np.array_equal(after[key][folds <= 2], before[key][folds <= 2], equal_nan=True)
        assert not np.allclose(after[key][folds == 3], before[key][folds == 3])
    same = folds == 1
    assert np.array_equal(after["phi"][same], before["phi"][same])


def test_bad_input_names_the_problem():
    X, y, arm = _trial(40, modifier=0.0)
    with pytest.raises(ConfigError, match="kind"):
        heterogeneity_test(X, y, arm, kind="survival")
    with pytest.raises(ConfigError, match="n_repeats"):
        heterogeneity_test(X, y, arm, kind="continuous", n_repeats=0)
    with pytest.raises(SchemaError, match="subjects × features"):
        heterogeneity_test(X[:10], y, arm, kind="continuous")


def test_predictive_reports_and_reloads_the_tables(tmp_path):
    X, y, arm = _trial(160, modifier=1.0)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"], index=[f"s{i}" for i in range(160)])
    df["arm"] = np.where(arm == 1, "T", "C")
    df["y"] = y
    res = predictive(df, outcome="y", arm="arm", treated="T", method=("dr_learner",),
                     n_bootstraps=50, n_permutations=0)  # fmt: skip
    assert list(res.rate["target"]) == ["AUTOC", "QINI"]
    assert set(res.rate["learner"]) == set(res.toc["learner"]) == {"dr_learner"}
    assert list(res.benefit_calibration["kind"]) == ["group"] * 4 + ["intercept", "slope"]
    # sequential cross-fitting: fold 0 only trains, the other folds are scored
    scored = int((res.cate["fold"] > 0).sum())
    assert (res.rate["n"] == scored).all()
    assert res.benefit_calibration.query("kind == 'slope'")["n"].iloc[0] == scored
    assert len(res.heterogeneity_test) == 1
    res.save(tmp_path)
    back = PredictiveResult.load(tmp_path)
    for attr in ("rate", "toc", "benefit_calibration", "heterogeneity_test"):
        pd.testing.assert_frame_equal(getattr(back, attr), getattr(res, attr), check_dtype=False)


@pytest.mark.slow
def test_null_and_planted_rejection_rates():
    """Reduced benchmarks/heterogeneity.py: 20 null seeds at 3:1, 10 planted seeds."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "benchmarks" / "heterogeneity.py"
    spec = importlib.util.spec_from_file_location("bench_heterogeneity", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    null = bench.summarise(bench.run(20, ["null_continuous_3to1"], n_bootstraps=100))
    # at most 3 of 20 (the Wilson interval of 3/20 still holds 0.05)
    assert (null["rejected"] <= 3).all(), null
    planted = bench.summarise(bench.run(10, ["planted_continuous_n1000"], n_bootstraps=100))
    assert (planted["rate"] >= 0.8).all(), planted


def test_sequential_dr_scores_come_from_an_additive_model_of_earlier_folds():
    """phi of fold k = AIPW score with an outcome ~ arm + markers model of folds < k."""
    from biomarkers.models._cv import seed_for
    from biomarkers.models._heterogeneity import additive_dr_scores

    X, y, arm = _trial(100, modifier=1.0)
    folds = np.repeat(np.arange(4), 25)
    seq = sequential_cross_fit(X, y, arm, folds, binary=False, learner="linear",
                               propensity=0.5, methods=("t_learner",), seed=3)  # fmt: skip
    tr, te = folds < 2, folds == 2
    phi = additive_dr_scores(X[tr], y[tr], arm[tr], X[te], y[te], arm[te], binary=False,
                             learner="linear", propensity=0.5,
                             seed=seed_for(3, "hte_score", 2))  # fmt: skip
    assert np.allclose(seq["phi"][te], phi, rtol=0, atol=1e-12)
    # and it is not the AIPW score built on the T-learner's arm models
    from biomarkers.models._pred_cate import cross_fit

    cf = cross_fit(X[folds <= 2], y[folds <= 2], arm[folds <= 2], (folds[folds <= 2] == 2).astype(int),
                   binary=False, learner="linear", propensity=0.5, methods=("t_learner",),
                   seed=seed_for(3, "hte_sequential", 2))  # fmt: skip
    assert not np.allclose(cf["phi"][folds[folds <= 2] == 2], phi)
