"""Outcomes declared in a FeatureTable: the positive class and the kind travel with them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import biomarkers as bm
from biomarkers.clinical import binary_outcome, survival_outcome
from biomarkers.models._metrics import binary_metrics
from biomarkers.study import Study


def _study(n=189, n_dead=35, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"S{i:03d}" for i in range(n)]
    dead = np.zeros(n, bool)
    dead[rng.choice(n, n_dead, replace=False)] = True
    clinical = pd.DataFrame(
        {
            "subject_id": ids,
            "status": np.where(dead, "Dead", "Alive"),
            "time": np.where(dead, rng.integers(5, 300, n), rng.integers(300, 400, n)),
            "age": rng.normal(60, 8, n).round(),
        }
    )
    labs = pd.DataFrame(
        {
            "subject_id": ids,
            "visit": "D0",
            "day": 0,
            "marker": rng.normal(size=n) + 1.5 * dead,
            "noise": rng.normal(size=n),
        }
    )
    return Study(clinical, labs=labs, visits={"D0": 0})


@pytest.fixture(scope="module")
def dead_table():
    study = _study()
    outcome = binary_outcome(study.clinical, column="status", positive="Dead", visits=study.visits)
    return bm.features.build_feature_table(
        study, visits=["D0"], blocks={"clinical": {"labs": ["marker", "noise"]}}, outcome=outcome
    )


def test_feature_table_keeps_outcome_to_dict_whole(dead_table):
    meta = dead_table.uns["outcomes"]["status"]
    assert meta["positive"] == "status = 'Dead'"
    assert meta["description"] == "status"
    assert meta["columns"] == ["status"]


def test_minority_event_is_class_one_everywhere(dead_table):
    res = bm.models.discover(
        dead_table, outcome="status", models=["enet"], cv=(3, 1), n_permutations=0,
        n_bootstraps=0, n_decoys=0,
    )  # fmt: skip
    assert res.settings["positive"] == "status = 'Dead'"
    y = res.oof_predictions.query("model == 'enet'")["y_true"]
    assert int(y.sum()) == 35  # class 1 = the 35 deaths, not the 154 survivors
    # AUPRC of a random score is the prevalence of class 1: 35/189, not 154/189
    rng = np.random.default_rng(1)
    null = [binary_metrics(y.to_numpy(), rng.random(len(y)))["auprc"][0] for _ in range(200)]
    assert np.mean(null) == pytest.approx(35 / 189, abs=0.04)
    auprc = res.performance.set_index("metric").loc["auprc", "estimate"]
    assert auprc > 35 / 189  # the planted marker beats the event prevalence
    panel = res.panel(k=1, min_stability=0, threshold="youden")
    doc = panel.to_dict()
    assert doc["outcome"]["positive"] == "status = 'Dead'"
    assert doc["threshold"]["n_positive"] == 35
    th = doc["threshold"]
    tp, fp = th["counts"]["tp"], th["counts"]["fp"]
    assert th["ppv"]["estimate"] == pytest.approx(tp / (tp + fp))  # PPV = share of deaths
    assert tp + th["counts"]["fn"] == 35
    assert "n = 189, 35 with status = 'Dead'" in panel.card()


def test_survival_outcome_named_in_discover():
    study = _study(n=80, n_dead=40)
    outcome = survival_outcome(
        study.clinical.assign(dead=study.clinical["status"].eq("Dead")),
        event="dead", time="time", name="os",
    )  # fmt: skip
    table = bm.features.build_feature_table(
        study, visits=["D0"], blocks={"clinical": {"labs": ["marker", "noise"]}}, outcome=outcome
    )
    res = bm.models.discover(
        table, outcome="os", models=["enet"], cv=(3, 1), n_permutations=0, n_bootstraps=0,
        n_decoys=0,
    )  # fmt: skip
    assert res.settings["task"] == "survival"
    assert res.settings["positive"] == "dead = 1"
    panel = res.panel(k=2, threshold=None)
    assert panel.to_dict()["population"]["n_events"] == 40  # the card counts the deaths


def test_tfs_survival_outcome_named_in_discover_and_predictive():
    """transplant_free_survival(kind="survival") keeps tfs90 beside event/time_days."""
    import tempfile

    trial = bm.datasets.simulate_trial(tempfile.mkdtemp(), n_subjects=60, cells_per_sample=5)
    study = trial.study()
    outcome = bm.clinical.transplant_free_survival(study.clinical, horizon_days=90, kind="survival")
    table = bm.features.build_feature_table(
        study, visits=["D0"], blocks={"clinical": True}, outcome=outcome
    )
    assert table.uns["outcomes"]["tfs90"]["columns"] == ["event", "time_days"]
    res = bm.models.discover(
        table, outcome="tfs90", models=["enet"], cv=(3, 1), n_permutations=0, n_bootstraps=0,
        n_decoys=0,
    )  # fmt: skip
    assert res.settings["task"] == "survival"
    assert 0 < res.settings["horizon"] < table.obs["time_days"].max()
    perf = res.performance.set_index("metric")["estimate"]
    assert np.isfinite(perf["td_auc"])
    pred = bm.models.predictive(
        table, outcome="tfs90", arm="arm", treated="ucMSC+SMT",
        markers=["clinical:meld@D0"], method=("interaction",),
    )  # fmt: skip
    assert pred.params["kind"] == "survival"
