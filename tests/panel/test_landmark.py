"""A panel knows its landmark: panel.json, the card and scoring (issue 18)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import DataQualityWarning, SchemaError
from biomarkers.models import discover
from biomarkers.panel import BiomarkerPanel

D7 = ["cytokine:IL6@D7", "cytokine:IL10@D7"]
COUNTS = [
    {"arm": "A", "n_before": 50, "event_before_landmark": 12, "censored_before_landmark": 0,
     "missing_landmark_visit": 1, "n_after": 37},
    {"arm": "B", "n_before": 50, "event_before_landmark": 12, "censored_before_landmark": 0,
     "missing_landmark_visit": 0, "n_after": 38},
    {"arm": "all", "n_before": 100, "event_before_landmark": 24, "censored_before_landmark": 0,
     "missing_landmark_visit": 1, "n_after": 75},
]  # fmt: skip


def _panel(landmark_day=7.0, features=(*D7, "clinical:meld@D0")):
    population = {"n_subjects": 75, "landmark_day": landmark_day, "time_from": "origin"}
    if landmark_day:
        population.update(landmark_visit=f"D{landmark_day:g}", landmark_counts=COUNTS)
    training = {"min": 0.0, "max": 10.0, "median": 5.0, "n": 75}
    return BiomarkerPanel.from_weights(
        dict.fromkeys(features, 0.5),
        intercept=-1.0,
        features_meta={f: {"training": training} for f in features},
        threshold=0.5,
        population=population,
    )


def _scoring_table():
    """S1, S2 have their D7 visit (S2 lacks one D7 marker); S3, S4 have no D7 value at all."""
    return pd.DataFrame(
        {
            "cytokine:IL6@D7": [1.0, 2.0, np.nan, np.nan],
            "cytokine:IL10@D7": [3.0, np.nan, np.nan, np.nan],
            "clinical:meld@D0": [20.0, 25.0, 30.0, 22.0],
        },
        index=pd.Index(["S1", "S2", "S3", "S4"], name="subject_id"),
    )


def test_the_landmark_block_round_trips_through_panel_json(tmp_path):
    panel = _panel()
    panel.write(tmp_path / "p")
    pop = BiomarkerPanel.read(tmp_path / "p").to_dict()["population"]
    assert pop["landmark_day"] == 7
    assert pop["landmark_visit"] == "D7"
    assert pop["time_from"] == "origin"
    assert pop["landmark_counts"] == COUNTS


def test_a_bad_landmark_block_is_refused_by_the_schema(tmp_path):
    from biomarkers.exceptions import PanelFormatError
    from biomarkers.panel._format import validate_document

    doc = _panel().to_dict()
    doc["population"]["time_from"] = "first_dose"
    with pytest.raises(PanelFormatError, match=r"population.time_from"):
        validate_document(doc, source="panel.json")


def test_the_card_says_whom_a_d7_panel_is_for():
    card = _panel().card()
    expected = (
        "A D7 panel: for patients alive and event-free at D7 (75 of 100 randomised; "
        "24 died or were transplanted before D7, 1 had no D7 visit)"
    )
    assert f"- landmark: {expected}" in card
    assert expected in _panel().card(html=True)


def test_the_card_says_a_baseline_panel_is_for_everybody_with_a_label():
    card = _panel(landmark_day=None, features=("clinical:meld@D0",)).card()
    assert "- landmark: baseline panel: all randomised subjects with a label" in card


def test_a_panel_without_a_landmark_block_says_so():
    panel = BiomarkerPanel.from_weights({"clinical:meld@D0": 0.1}, intercept=0.0)
    assert "- landmark: not recorded in the panel" in panel.card()


def test_a_d7_panel_leaves_subjects_without_their_d7_visit_unscored():
    with pytest.warns(DataQualityWarning, match=r"2 of 4 subject\(s\).*S3.*S4.*no D7 visit"):
        scores = _panel().score(_scoring_table(), allow_missing="impute_training_median")
    assert scores.index.tolist() == ["S1", "S2", "S3", "S4"]
    assert scores["score"].notna().tolist() == [True, True, False, False]
    assert scores["not_in_population"].tolist() == ["", "", "no D7 visit", "no D7 visit"]
    # one D7 marker missing is an imputed value, not a missing visit
    assert scores.loc["S2", "imputed"] == ("cytokine:IL10@D7",)
    assert scores.loc["S3", "imputed"] == ()
    # the scored subjects score as they would alone
    alone = _panel().score(
        _scoring_table().loc[["S1", "S2"]], allow_missing="impute_training_median"
    )
    assert np.allclose(scores.loc[["S1", "S2"], "score"], alone["score"])
    assert alone["not_in_population"].tolist() == ["", ""]


def test_a_d7_panel_refuses_a_table_where_nobody_has_the_d7_visit():
    table = _scoring_table().loc[["S3", "S4"]]
    with pytest.raises(
        SchemaError, match=r"all 2 subject\(s\) \('S3', 'S4'\).*D7 marker.*D7 visit"
    ):
        _panel().score(table, allow_missing="impute_training_median")


def test_a_baseline_panel_imputes_a_missing_marker_as_before():
    panel = _panel(landmark_day=None)
    # S3, S4 miss 2 of 3 markers: above the default max_imputed_share (issue 21), so allow it
    scores = panel.score(
        _scoring_table(), allow_missing="impute_training_median", max_imputed_share=1.0
    )
    assert scores["score"].notna().all()
    assert "not_in_population" not in scores.columns  # the columns of baseline panels as before


# ---------------------------------------------------------------- from discover


def _frame(n=80, seed=0):
    """Subjects × (D0, D7) features; D7 IL6 shortens survival; four subjects leave before day 7, one D7 gap."""
    rng = np.random.default_rng(seed)
    x0, x7 = rng.normal(size=n), rng.normal(size=n)
    later = 8 + 80 / (1 + np.exp(2 * (x7[4:] + 0.5 * x0[4:]))) + rng.integers(0, 5, n - 4)
    time = np.r_[[3, 5, 7, 6], later].astype(float)
    event = np.r_[[1, 1, 1, 0], (rng.random(n - 4) < 0.8).astype(int)]
    x7[4] = np.nan  # alive, no D7 measurement
    return pd.DataFrame(
        {
            "cytokine:IL6@D0": x0,
            "cytokine:IL6@D7": x7,
            "event": event,
            "time_days": time,
        },
        index=[f"S{i:02d}" for i in range(n)],
    )


def test_discover_panel_carries_the_landmark_population(tmp_path):
    # a frame's every column is a feature: no arm column, the counts have one row ("all")
    res = discover(_frame(), outcome=("event", "time_days"), models=["coxnet"], cv=(3, 1),
                   n_permutations=0, n_bootstraps=10)  # fmt: skip
    panel = res.panel(k=2, min_stability=0)
    panel.write(tmp_path / "p")
    pop = BiomarkerPanel.read(tmp_path / "p").to_dict()["population"]
    assert pop["landmark_day"] == 7
    assert pop["landmark_visit"] == "D7"
    assert pop["time_from"] == "origin"
    assert pop["landmark_counts"] == res.landmark.to_dict(orient="records")
    (total,) = pop["landmark_counts"]
    assert (total["arm"], total["n_before"], total["n_after"]) == ("all", 80, 75)
    assert "A D7 panel: for patients alive and event-free at D7 (75 of 80 randomised;" in (
        panel.card()
    )


# ---------------------------------------------------------------- the simulated trial


@pytest.fixture(scope="module")
def d7_panel(tmp_path_factory):
    import biomarkers as bm

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
    with warnings.catch_warnings():  # tfs90 is missing for the subjects censored before day 90
        warnings.simplefilter("ignore", DataQualityWarning)
        res = discover(table, outcome="tfs90", models=["enet"], cv=(3, 1), n_permutations=0,
                       n_bootstraps=10)  # fmt: skip
    return table, res, res.panel(k=5, min_stability=0)


def test_a_d7_panel_of_the_simulated_trial_is_for_patients_alive_at_d7(d7_panel):
    _, res, panel = d7_panel
    pop = panel.to_dict()["population"]
    assert pop["landmark_visit"] == "D7"
    assert pop["landmark_counts"] == res.landmark.to_dict(orient="records")
    assert (
        "- landmark: A D7 panel: for patients alive and event-free at D7 (75 of 100 randomised; "
        "24 died or were transplanted before D7, 1 had no D7 visit)"
    ) in panel.card()


def test_a_d7_panel_scores_only_the_subjects_seen_at_d7(d7_panel):
    table, res, panel = d7_panel
    d7 = [f["name"] for f in panel.to_dict()["features"] if f["visit"] == "D7"]
    assert d7  # the panel has D7 markers
    lacking = table.obs_names[np.isnan(table[:, d7].X).all(axis=1)]
    assert len(lacking) > 0
    with pytest.warns(DataQualityWarning, match=rf"{len(lacking)} of 100 subject\(s\)"):
        scores = panel.score(table, allow_missing="impute_training_median")
    unscored = scores.index[scores["not_in_population"] == "no D7 visit"]
    assert sorted(unscored) == sorted(lacking)
    assert scores.loc[unscored, "score"].isna().all()
    assert scores.drop(index=unscored)["score"].notna().all()
    # the subjects removed at the landmark for a missing visit or an early event lack their D7
    removed = set(res.landmark_removed["subject_id"])
    assert set(lacking) <= removed
