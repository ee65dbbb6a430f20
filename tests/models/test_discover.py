from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import (
    ConfigError,
    DataQualityWarning,
    LeakageError,
    SchemaError,
    SmallSampleWarning,
)
from biomarkers.models import discover
from tests.models.conftest import make_binary

FAST = {"cv": (3, 2), "n_permutations": 5, "n_bootstraps": 50}


@pytest.fixture(scope="module")
def result():
    df = make_binary(n=80, p=30, k=3, seed=0)
    return discover(df, outcome="response", models=["enet", "xgboost"], **FAST)


def test_tables_have_the_contract_columns(result):
    assert list(result.performance.columns) == [
        "model",
        "metric",
        "estimate",
        "ci_low",
        "ci_high",
        "n",
        "interval",
        "verdict",
    ]
    assert set(result.performance["metric"]) == {
        "auroc",
        "auroc_pooled",
        "auprc",
        "balanced_accuracy",
        "brier",
        "calibration_slope",
        "calibration_intercept",
    }
    oof = result.oof_predictions
    assert list(oof.columns[:6]) == ["subject_id", "repeat", "fold", "model", "y_true", "y_pred"]
    # every subject predicted exactly once per repeat and model
    counts = oof.groupby(["model", "repeat"])["subject_id"].agg(["size", "nunique"])
    assert (counts["size"] == 80).all()
    assert (counts["nunique"] == 80).all()
    perf = result.performance
    ok = perf.dropna()
    assert ((ok["ci_low"] <= ok["estimate"]) & (ok["estimate"] <= ok["ci_high"])).all()


def test_signal_is_found_and_ranked(result):
    auroc = result.performance.query("metric == 'auroc'").set_index("model")["estimate"]
    assert auroc["enet"] > 0.8
    for model in ("enet", "xgboost"):
        top = result.ranking[result.ranking["model"] == model].head(3)["feature"]
        assert set(top) == {f"cytokine:A{i}@D0" for i in range(3)}
    informative = result.ranking.query("model == 'enet' and feature == 'cytokine:A0@D0'")
    assert informative["stability"].item() == 1.0
    assert informative["q_value"].item() < 0.05


def test_permutation_p_value_formula(result):
    perm = result.permutation
    null = np.asarray(perm["null"])
    assert perm["metric"] == "auroc"
    assert len(null) == 5
    assert perm["p_value"] == pytest.approx((1 + (null >= perm["observed"]).sum()) / 6)
    assert perm["p_value"] == pytest.approx(1 / 6)  # strong signal beats every permutation


def test_final_models_predict(result):
    df = make_binary(n=80, p=30, k=3, seed=0).drop(columns="response")
    for model in ("enet", "xgboost"):
        proba = result.final_model[model].predict_proba(df.to_numpy())[:, 1]
        assert proba.shape == (80,)
        assert np.all((proba >= 0) & (proba <= 1))


def test_recovery_of_planted_markers():
    # n=100, 5 informative of 200 features: the informative ones rank at the top
    rng = np.random.default_rng(7)
    X = rng.normal(size=(100, 200))
    y = (X[:, :5].sum(1) + 0.5 * rng.normal(size=100) > 0).astype(int)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(200)])
    res = discover(
        df, outcome=pd.Series(y), models=["enet"], cv=(5, 1), n_permutations=0, n_bootstraps=20
    )
    top = res.ranking.head(5)["feature"]
    assert set(top) == {f"f{i}" for i in range(5)}
    assert set(res.select_markers()) >= {f"f{i}" for i in range(5)}


def test_identical_whatever_n_jobs():
    df = make_binary(n=60, p=15, k=2, seed=3)
    kw = {
        "outcome": "response",
        "models": ["enet"],
        "cv": (3, 1),
        "n_permutations": 2,
        "n_bootstraps": 30,
        "random_state": 11,
    }
    a = discover(df, n_jobs=1, **kw)
    b = discover(df, n_jobs=2, **kw)
    pd.testing.assert_frame_equal(a.performance, b.performance)
    pd.testing.assert_frame_equal(a.ranking, b.ranking)
    assert a.permutation == b.permutation
    c = discover(df, n_jobs=1, **{**kw, "random_state": 12})
    assert not c.oof_predictions["y_pred"].equals(a.oof_predictions["y_pred"])


def test_feature_table_input(feature_table):
    res = discover(
        feature_table,
        outcome="response",
        models=["enet"],
        covariates=["meld"],
        cv=(3, 1),
        n_permutations=0,
        n_bootstraps=20,
    )
    assert res.settings["assessed_day"] == 28
    assert "meld" in set(res.ranking["feature"])
    # the forced covariate reaches the model in every outer fit (never screened out)
    assert res.settings["n_features"] == 21


def test_leakage_is_refused(feature_table):
    with pytest.raises(
        LeakageError, match=r"1 feature\(s\) are measured at or after day 7.*A19@D0"
    ):
        discover(feature_table, outcome="early", models=["enet"], cv=(3, 1))
    df = make_binary(n=40, p=4).rename(columns={"cytokine:A3@D0": "cytokine:A3@D28"})
    with pytest.raises(LeakageError, match=r"A3@D28"):
        discover(df, outcome="response", assessed_day=28, cv=(3, 1))


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (np.ones(40), "one class only"),
        (np.full(40, np.nan), "every label is missing"),
    ],
    ids=["one-class", "all-missing"],
)
def test_bad_outcomes(labels, match):
    df = make_binary(n=40, p=4)
    df["response"] = labels
    with pytest.raises(SchemaError, match=match):
        discover(df, outcome="response", cv=(3, 1))


def test_bad_requests():
    df = make_binary(n=40, p=4)
    with pytest.raises(ConfigError, match=r"model 'enett' is not available.*did you mean 'enet'"):
        discover(df, outcome="response", models=["enett"])
    with pytest.raises(ConfigError, match=r"'coxnet' is not available for binary"):
        discover(df, outcome="response", models=["coxnet"])
    with pytest.raises(SchemaError, match=r"outcome column 'respons' not found.*did you mean"):
        discover(df, outcome="respons")
    bad = df.assign(site="A")
    with pytest.raises(SchemaError, match=r"feature column 'site' is not numeric"):
        discover(bad, outcome="response")


def test_missing_labels_are_left_out_with_a_warning():
    df = make_binary(n=60, p=6, k=2)
    df.loc[df.index[:4], "response"] = np.nan
    with pytest.warns(DataQualityWarning, match=r"4 subject"):
        res = discover(
            df, outcome="response", models=["enet"], cv=(3, 1), n_permutations=0, n_bootstraps=10
        )
    assert res.settings["n_subjects"] == 56


def test_tiny_class_uses_fewer_folds():
    df = make_binary(n=40, p=5, k=1)
    df["response"] = 0
    df.loc[df.index[:3], "response"] = 1
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = discover(
            df, outcome="response", models=["enet"], cv=(5, 1), n_permutations=0, n_bootstraps=10
        )
    msgs = [str(w.message) for w in rec if issubclass(w.category, SmallSampleWarning)]
    assert any("using 3 outer folds instead of 5" in m for m in msgs)
    assert res.settings["n_splits"] == 3


def test_survival_outcome():
    df = make_binary(n=80, p=12, k=2, seed=4)
    rng = np.random.default_rng(4)
    lin = df.iloc[:, :2].sum(1).to_numpy()
    df["time"] = np.round(rng.exponential(np.exp(-lin)) * 40) + 1
    df["event"] = (rng.random(80) < 0.75).astype(int)
    df = df.drop(columns="response")
    res = discover(
        df,
        outcome=("event", "time"),
        models=["coxnet", "xgboost_cox"],
        cv=(3, 1),
        n_permutations=2,
        n_bootstraps=20,
    )
    perf = res.performance.set_index(["model", "metric"])["estimate"]
    assert set(res.performance["metric"]) == {"harrell_c", "harrell_c_pooled", "uno_c", "td_auc"}
    assert res.models == ["coxnet", "xgboost_cox"]
    assert perf["coxnet", "harrell_c"] > 0.65
    assert res.permutation["metric"] == "harrell_c"
    assert set(res.ranking.query("model == 'coxnet'").head(2)["feature"]) == {
        "cytokine:A0@D0",
        "cytokine:A1@D0",
    }
    assert {"event", "time"} <= set(res.oof_predictions.columns)


def test_continuous_outcome():
    df = make_binary(n=70, p=10, k=2, seed=5).drop(columns="response")
    rng = np.random.default_rng(5)
    y = pd.Series(df.iloc[:, :2].sum(1).to_numpy() + rng.normal(size=70), index=df.index)
    res = discover(df, outcome=y, models=["enet"], cv=(3, 1), n_permutations=0, n_bootstraps=20)
    r2 = res.performance.set_index("metric").loc["r2", "estimate"]
    assert 0.3 < r2 < 0.9
    assert set(res.ranking.head(2)["feature"]) == {"cytokine:A0@D0", "cytokine:A1@D0"}


def test_clinical_comparator():
    df = make_binary(n=100, p=12, k=3, seed=6, strength=1.0)
    res = discover(
        df,
        outcome="response",
        models=["enet"],
        cv=(5, 2),
        n_permutations=0,
        n_bootstraps=200,
        clinical_baseline=["cytokine:A0@D0"],
    )
    comp = res.comparison.set_index("comparison")
    assert list(comp.index) == ["baseline", "baseline+markers", "delta"]
    assert comp.loc["delta", "estimate"] == pytest.approx(
        comp.loc["baseline+markers", "estimate"] - comp.loc["baseline", "estimate"]
    )
    assert comp.loc["delta", "ci_low"] > 0  # two more informative markers clearly add
    dc = res.decision_curve
    assert {"threshold", "treat_all", "treat_none", "baseline", "baseline+markers"} <= set(dc)
    y = df["response"].to_numpy()
    t = dc["threshold"].iloc[0]
    assert dc["treat_all"].iloc[0] == pytest.approx(y.mean() - (1 - y.mean()) * t / (1 - t))
    assert "clinical_baseline" in set(res.oof_predictions["model"])
