"""Landmark populations: a model on day-L features is for subjects event-free and seen at day L."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import biomarkers as bm
from biomarkers.exceptions import LeakageError
from biomarkers.models import discover, landmark_population

FAST = {"models": ["enet"], "cv": (3, 1), "n_permutations": 0, "n_bootstraps": 20}


def _frame(n=60, seed=0):
    """Subjects × (D0, D7) features; events at days 1..90, some before day 7."""
    rng = np.random.default_rng(seed)
    x0, x7 = rng.normal(size=n), rng.normal(size=n)
    time = np.r_[[3, 5, 7, 6], rng.integers(8, 90, n - 4)].astype(float)
    event = np.r_[[1, 1, 1, 0], (rng.random(n - 4) < 0.5).astype(int)]
    x7[4] = np.nan  # alive, no D7 measurement
    return pd.DataFrame(
        {
            "arm": np.where(np.arange(n) % 2 == 0, "A", "B"),
            "cytokine:IL6@D0": x0,
            "cytokine:IL6@D7": x7,
            "event": event,
            "time_days": time,
        },
        index=[f"S{i:02d}" for i in range(n)],
    )


def test_reasons_and_counts_match_a_hand_count():
    df = _frame()
    mask, report = landmark_population(df, outcome=("event", "time_days"))
    removed = report.attrs["removed"]
    # day 7 counts as "at or before the landmark": events on days 3, 5 and 7
    assert removed == {
        "S00": "event_before_landmark",
        "S01": "event_before_landmark",
        "S02": "event_before_landmark",
        "S03": "censored_before_landmark",
        "S04": "missing_landmark_visit",
    }
    assert mask.tolist() == [i >= 5 for i in range(len(df))]
    rep = report.set_index("arm")
    # arms alternate A, B: S00 S02 S04 in A, S01 S03 in B
    assert rep.loc["A"].tolist() == [30, 2, 0, 1, 27]
    assert rep.loc["B"].tolist() == [30, 1, 1, 0, 28]
    assert rep.loc["all", "n_after"] == len(df) - 5
    assert report.attrs["landmark_day"] == 7


def test_baseline_features_need_no_landmark():
    df = _frame().drop(columns="cytokine:IL6@D7")
    mask, report = landmark_population(df, outcome=("event", "time_days"))
    assert mask.all()
    assert report.attrs["landmark_day"] is None


def test_discover_removes_subjects_and_reports_them(tmp_path):
    df = _frame(n=80).drop(columns="arm")  # discover takes every column of a frame as a feature
    res = discover(df, outcome=("event", "time_days"), models=["coxnet"], cv=(3, 1),
                   n_permutations=0, n_bootstraps=10)  # fmt: skip
    assert res.settings["landmark_day"] == 7
    assert res.settings["n_subjects"] == 75
    assert set(res.oof_predictions["subject_id"]).isdisjoint({"S00", "S01", "S02", "S03", "S04"})
    assert res.landmark.set_index("arm").loc["all", "n_after"] == 75
    assert sorted(res.landmark_removed["subject_id"]) == ["S00", "S01", "S02", "S03", "S04"]
    res.save(tmp_path)
    back = bm.models.DiscoveryResult.load(tmp_path)
    pd.testing.assert_frame_equal(back.landmark, res.landmark)
    assert back.landmark_removed["reason"].tolist() == res.landmark_removed["reason"].tolist()


def test_landmark_none_keeps_everybody():
    df = _frame(n=80).drop(columns="arm")
    res = discover(df, outcome=("event", "time_days"), models=["coxnet"], cv=(3, 1),
                   n_permutations=0, n_bootstraps=10, landmark=None)  # fmt: skip
    assert res.settings["n_subjects"] == 80
    assert res.settings["landmark_day"] is None


def test_time_from_landmark_subtracts_the_landmark_day():
    df = _frame(n=80).drop(columns="arm")
    kw = {"models": ["coxnet"], "cv": (3, 1), "n_permutations": 0, "n_bootstraps": 10}
    origin = discover(df, outcome=("event", "time_days"), **kw)
    moved = discover(df, outcome=("event", "time_days"), landmark_time_from="landmark", **kw)
    assert np.allclose(moved._data.y["time"], origin._data.y["time"] - 7)
    assert moved.settings["landmark_time_from"] == "landmark"


def test_features_after_an_explicit_landmark_are_refused():
    df = _frame()
    with pytest.raises(LeakageError, match=r"known after the landmark day 3.*IL6@D7"):
        discover(df.drop(columns="arm"), outcome=("event", "time_days"), landmark=3, **FAST)


def test_landmark_on_or_after_the_assessment_is_refused(feature_table):
    with pytest.raises(LeakageError, match=r"landmark day 28 is on or after day 28"):
        discover(feature_table, outcome="response", landmark=28, **FAST)


def test_unknown_time_from_is_a_config_error():
    with pytest.raises(bm.exceptions.ConfigError, match="landmark_time_from='start'"):
        discover(
            _frame().drop(columns="arm"),
            outcome=("event", "time_days"),
            landmark_time_from="start",
            **FAST,
        )


# ---------------------------------------------------------------- the simulated trial


@pytest.fixture(scope="module")
def d7_trial(tmp_path_factory):
    trial = bm.datasets.simulate_trial(
        tmp_path_factory.mktemp("lm") / "trial", n_subjects=100, seed=0, cells_per_sample=0
    )
    study = trial.study(cytokines=("luminex_xponent",))
    outcome = bm.clinical.transplant_free_survival(study.clinical, horizon_days=90)
    blocks = {"cytokines": {}, "flow": {}, "deltas": False}
    with pytest.warns(bm.exceptions.BelowDetectionLimitWarning):
        table = bm.features.build_feature_table(
            study, visits=["D0", "D7"], blocks=blocks, outcome=outcome
        )
    return study, table


def _alive_event_free_seen_at(study, day):
    clin = study.clinical
    death = pd.to_numeric(clin["death_day"]).where(clin["death"] == 1, np.inf)
    tx = pd.to_numeric(clin["transplant_day"]).where(clin["transplant"] == 1, np.inf)
    alive = (death > day) & (tx > day) & (pd.to_numeric(clin["last_followup_day"]) > day)
    seen = set(study.samples.loc[study.samples["visit"] == f"D{day}", "subject_id"].astype(str))
    return alive, clin.index.astype(str).isin(seen)


def test_d7_population_is_the_subjects_alive_and_event_free_at_d7(d7_trial):
    study, table = d7_trial
    mask, report = landmark_population(table, outcome="tfs90")
    alive, seen = _alive_event_free_seen_at(study, 7)
    alive = alive.reindex(table.obs_names).to_numpy()
    seen = pd.Series(seen, index=study.clinical.index.astype(str)).reindex(table.obs_names)
    assert np.array_equal(mask, alive & seen.to_numpy())
    removed = report.attrs["removed"]
    events = {s for s, why in removed.items() if why == "event_before_landmark"}
    assert events == set(table.obs_names[~alive])
    assert report.set_index("arm").loc["all", "event_before_landmark"] > 15  # ACLF kills early


# tfs90 is missing for 3 subjects censored before day 90
@pytest.mark.filterwarnings("ignore::biomarkers.exceptions.DataQualityWarning")
def test_discover_reports_the_landmark_auroc_not_the_naive_one(d7_trial):
    _, table = d7_trial
    kw = {"models": ["xgboost"], "cv": (5, 2), "n_permutations": 0, "n_bootstraps": 20}
    naive = discover(table, outcome="tfs90", landmark=None, **kw)
    landmark = discover(table, outcome="tfs90", **kw)  # default: the features' landmark (D7)
    auroc = {
        name: res.performance.set_index("metric").loc["auroc"]
        for name, res in (("naive", naive), ("landmark", landmark))
    }
    # the naive model learns "no D7 sample = died": it looks better than it is
    assert auroc["naive"]["estimate"] > auroc["landmark"]["estimate"] + 0.05
    mask, _ = landmark_population(table, outcome="tfs90")
    labelled = table.obs["tfs90"].notna().to_numpy()
    assert auroc["landmark"]["n"] == int((mask & labelled).sum()) < auroc["naive"]["n"]
    assert landmark.settings["landmark_day"] == 7


def test_a_survival_outcome_reads_its_event_and_time_columns(d7_trial):
    _, table = d7_trial
    surv = table.copy()
    # a survival outcome stored with its label columns first (as transplant_free_survival's
    # table has them): the landmark reads event/time_days by name, not the first two columns
    declared = {"kind": "survival", "columns": ["tfs90", "event", "time_days"]}
    surv.uns["outcomes"] = {"tfs90": {**table.uns["outcomes"]["tfs90"], **declared}}
    mask, report = landmark_population(surv, outcome="tfs90")
    assert np.array_equal(mask, landmark_population(table, outcome="tfs90")[0])
    assert report.attrs["source"] == "outcome columns 'event', 'time_days'"
