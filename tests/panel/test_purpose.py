"""Panel purpose (issue 21): prognosis, treatment selection, early response; eligibility; card."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import LeakageError, SchemaError
from biomarkers.panel import BiomarkerPanel, benefit_panel, marker_eligibility

OUTCOME = {
    "name": "tfs90",
    "kind": "binary",
    "description": "transplant-free survival at day 90",
    "positive": "alive and transplant-free at day 90",
    "definition": "tfs90: 1 = alive and transplant-free at day 90 after randomisation",
    "assessed_day": 90,
}


def _trial(n=400, seed=0, effect=1.5):
    """Two arms; treatment helps patients with high IL6 (planted), IL10 is prognostic only."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "arm": np.where(rng.random(n) < 0.5, "MSC", "SMT"),
            "cytokine:IL6@D0": rng.normal(size=n),
            "cytokine:IL10@D0": rng.normal(size=n),
            "cytokine:HGF@D7": rng.normal(size=n),
        },
        index=[f"S{i:03d}" for i in range(n)],
    )
    treated = (df["arm"] == "MSC").to_numpy()
    lin = -0.2 + 0.8 * df["cytokine:IL10@D0"] + treated * effect * df["cytokine:IL6@D0"]
    df["alive"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    return df


def test_benefit_panel_scores_the_planted_benefit():
    df = _trial()
    panel = benefit_panel(
        df, outcome="alive", treated="MSC", markers=["cytokine:IL6@D0", "cytokine:IL10@D0"]
    )
    assert panel.purpose == "treatment_selection"
    assert panel.threshold == 0.0
    new = pd.DataFrame(
        {"cytokine:IL6@D0": [-2.0, 0.0, 2.0], "cytokine:IL10@D0": [0.0, 0.0, 0.0]},
        index=["low", "mid", "high"],
    )
    scores = panel.score(new)
    benefit = scores["score"]
    assert benefit["high"] > 1.0 > 0 > -1.0 > benefit["low"]  # planted: log-OR 1.5 per SD
    assert scores.loc["high", "predicted"] == 1  # treat
    assert scores.loc["low", "predicted"] == 0
    # IL10 is prognostic, not predictive: it barely changes the benefit
    coef = dict(zip(panel.features, panel.to_dict()["model"]["coefficients"], strict=True))
    assert abs(coef["cytokine:IL10@D0"]) < 0.3 < coef["cytokine:IL6@D0"]


def test_favourable_lower_flips_the_sign_of_the_benefit():
    df = _trial()
    kw = {"outcome": "alive", "treated": "MSC", "markers": ["cytokine:IL6@D0"]}
    higher = benefit_panel(df, **kw).to_dict()["model"]["coefficients"][0]
    lower = benefit_panel(df, favourable="lower", **kw).to_dict()["model"]["coefficients"][0]
    assert lower == pytest.approx(-higher)


def test_benefit_panel_refuses_on_treatment_markers():
    with pytest.raises(LeakageError, match=r"'cytokine:HGF@D7'.*baseline markers only"):
        benefit_panel(_trial(), outcome="alive", treated="MSC", markers=["cytokine:HGF@D7"])


def test_benefit_panel_picks_baseline_markers_of_the_ranking():
    ranking = pd.DataFrame(
        {
            "marker": ["cytokine:HGF@D7", "cytokine:IL6@D0", "cytokine:IL10@D0"],
            "p_interaction": [1e-6, 1e-4, 0.5],
        }
    )
    panel = benefit_panel(_trial(), outcome="alive", treated="MSC", ranking=ranking, k=1)
    assert panel.features == ["cytokine:IL6@D0"]  # HGF@D7 ranks first but is on treatment


@pytest.mark.parametrize("arms", [["MSC"], ["MSC", "SMT", "other"]], ids=["single_arm", "three"])
def test_benefit_panel_refuses_designs_without_two_arms(arms):
    df = _trial()
    df["arm"] = np.array(arms)[np.arange(len(df)) % len(arms)]
    with pytest.raises(SchemaError, match=r"two randomised arms.*single-arm or cohort"):
        benefit_panel(df, outcome="alive", treated="MSC", markers=["cytokine:IL6@D0"])


def test_marker_eligibility_names_each_reason():
    df = pd.DataFrame(
        {
            "cytokine:IL6@D0": [1.0, 2.0, 3.0, 4.0],
            "cytokine:IFNg@D0": [-np.inf, -np.inf, -np.inf, 1.0],
            "cytokine:IL10@D0": [np.nan, np.nan, np.nan, 1.0],
            "cytokine:IL6@D7-D0": [1.0, 2.0, 3.0, 4.0],
        }
    )
    got = marker_eligibility(df, latest_day=0, max_censored_share=0.5, max_missing_share=0.5)
    assert got["eligible"].tolist() == [True, False, False, False]
    assert got.loc["cytokine:IFNg@D0", "reason"] == "75% censored (> 50%)"
    assert got.loc["cytokine:IL10@D0", "reason"] == "75% missing (> 50%)"
    assert got.loc["cytokine:IL6@D7-D0", "reason"] == "known at day 7, after day 0"
    assert marker_eligibility(df, max_censored_share=0.8, max_missing_share=0.8)["eligible"].all()


def _prognostic(tmp_path=None, **kw):
    rng = np.random.default_rng(1)
    y, s = rng.integers(0, 2, 97), rng.random(97)
    return BiomarkerPanel.from_weights(
        {"cytokine:IL6@D0": 0.5}, intercept=-1.0, threshold="youden", y_true=y, y_score=s,
        outcome=OUTCOME, **kw,
    )  # fmt: skip


def test_purpose_round_trips_and_old_panels_still_load(tmp_path):
    panel = _prognostic(purpose={"kind": "prognosis", "arms": ["ucMSC+SMT", "SMT"]})
    panel.write(tmp_path / "p")
    again = BiomarkerPanel.read(tmp_path / "p")
    assert again.purpose == "prognosis"
    assert again.to_dict()["purpose"]["arms"] == ["ucMSC+SMT", "SMT"]
    old = _prognostic()  # a panel written without a purpose: the version-1 layout
    old.write(tmp_path / "old")
    assert "purpose" not in json.loads((tmp_path / "old" / "panel.json").read_text())
    assert BiomarkerPanel.read(tmp_path / "old").purpose is None
    assert "purpose: not stated" in BiomarkerPanel.read(tmp_path / "old").card()


def test_an_unknown_purpose_is_refused():
    with pytest.raises(Exception, match=r"purpose='diagnosis' is not supported"):
        _prognostic(purpose="diagnosis")


def test_card_states_purpose_outcome_in_words_and_explains_the_flagged_count():
    panel = _prognostic(purpose={"kind": "prognosis", "arms": ["ucMSC+SMT", "SMT"]})
    card = panel.card()
    th = panel.to_dict()["threshold"]
    flagged = th["counts"]["tp"] + th["counts"]["fp"]
    assert "- purpose: Prognosis: predicts the outcome whatever the treatment (fitted on " in card
    assert "ucMSC+SMT and SMT" in card
    assert "tfs90 (binary): tfs90" not in card
    assert (
        "- outcome: transplant-free survival at day 90 (binary outcome 'tfs90'; class 1 = alive "
        "and transplant-free at day 90)" in card
    )
    assert (
        f"- decision: {flagged} of 97 subjects flagged: predicted probability of alive and "
        f"transplant-free at day 90 ≥ threshold {th['value']:.3g} chosen by maximising "
        "Youden's J" in card
    )
    assert "population: arms ucMSC+SMT, SMT" in card
    assert "purpose: Prognosis" in panel.card(html=True)


def test_card_of_a_treatment_selection_panel_states_the_benefit_and_decision():
    panel = benefit_panel(
        _trial(), outcome="alive", treated="MSC", markers=["cytokine:IL6@D0"], min_benefit=0.2
    )
    card = panel.card()
    assert (
        "- purpose: Treatment selection: the score is the predicted benefit of MSC over SMT" in card
    )
    assert "- decision: treat with MSC if the predicted benefit is ≥ 0.2" in card
    assert "baseline markers only" in card
