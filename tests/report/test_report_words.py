"""The report speaks the study's words: its arms, its outcome and its class 1 (issue 17)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from biomarkers.report import write_report

TRIAL_CONFIG = """\
pipeline: discover
name: veterans
study: {treated_arm: test, control_arm: standard, allocation: 0.75}
models: {models: [coxnet], n_splits: 5, n_repeats: 2, inner_cv: 3, n_bootstraps: 100,
         n_permutations: 10}
predictive: {enabled: true, fdr: 0.1, covariates: [age, celltype]}
features: {visits: [D0]}
"""


def _trial(run):
    """Turn the fake run into a two-arm survival trial with its own arm and outcome words."""
    (run / "config.yaml").write_text(TRIAL_CONFIG)
    (run / "outcome.json").write_text(
        json.dumps(
            {"name": "status", "kind": "survival", "assessed_day": 999,
             "definition": "death from any cause", "positive": "status = 1",
             "description": "death"}
        )
    )  # fmt: skip
    pd.DataFrame(
        {"arm": ["standard", "test"], "randomised": [69, 68], "analysed": [69, 68]}
    ).to_csv(run / "cohort_counts.csv", index=False)
    rng = np.random.default_rng(1)
    pd.DataFrame(
        {
            "event": rng.integers(0, 2, 40),
            "time_days": rng.integers(1, 900, 40),
            "arm": ["standard", "test"] * 20,
        }
    ).to_csv(run / "km.csv", index=False)
    pd.DataFrame(
        {
            "marker": ["baseline:karnofsky_score@D0"],
            "interaction": [0.2],
            "ci_low": [-0.1],
            "ci_high": [0.5],
            "p_interaction": [0.3],
            "label": ["prognostic"],
        }
    ).to_csv(run / "predictive_markers.csv", index=False)
    return run


def _effect_csv(run):
    pd.DataFrame(
        {
            "measure": ["hazard_ratio"],
            "estimate": [0.712],
            "ci_low": [0.512],
            "ci_high": [0.912],
            "n_treated": [68],
            "n_control": [69],
            "method": ["Cox proportional hazards"],
        }
    ).to_csv(run / "treatment_effect.csv", index=False)


def _text(html: str) -> str:
    """The report without its embedded images (base64 can spell any word)."""
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)


def _section_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', html)


def test_report_uses_the_studys_arm_and_outcome_words(fake_run):
    html = _text(write_report(_trial(fake_run)).read_text())
    # the simulated trial's words never show up in another trial's report
    for word in ("MSC", "SMT", "ACLF", "Transplant", "transplant", "tfs"):
        assert word not in html, word
    assert "modifies the effect of test compared with standard on death" in html
    assert "Kaplan–Meier by arm: death (event: status = 1)" in html
    assert "Class 1 (the event): status = 1." in html
    assert "test vs standard" in html  # the subtitle under the title
    methods = html.split('id="methods"')[1]
    assert "The outcome was <b>death</b> (survival)" in methods
    assert "randomisation probability 0.75 (study.allocation) of test" in methods
    assert "adjusted for age, celltype" in methods


def test_treatment_effect_section_comes_right_after_the_cohort(fake_run):
    run = _trial(fake_run)
    _effect_csv(run)
    html = write_report(run).read_text()
    ids = _section_ids(html)
    assert ids[: ids.index("performance")] == ["summary", "cohort", "effect", "outcome"]
    effect = html.split('id="effect"')[1].split("</section>")[0]
    assert "Treatment effect on death: test vs standard" in effect
    assert "0.512 – 0.912" in effect  # the CI next to the estimate
    assert "n (test)" in effect
    assert "n (standard)" in effect
    assert "hazard of death (status = 1) under test relative to standard" in effect
    assert "(allocation 0.75)" in effect


def test_no_treatment_effect_section_without_its_file(fake_run):
    html = write_report(_trial(fake_run)).read_text()
    assert 'id="effect"' not in html
    assert "Not in this run" not in html  # an optional section, not a missing one


def test_cohort_report_names_no_arms_and_no_predictive_methods(fake_run):
    run = fake_run
    (run / "config.yaml").write_text(
        "pipeline: discover\nname: breast_cancer\nstudy: {visits: {D0: 0}}\n"
        "predictive: {enabled: true, fdr: 0.1}\n"
    )
    (run / "outcome.json").write_text(
        json.dumps(
            {"name": "metastasis", "kind": "binary", "assessed_day": 1,
             "definition": "distant metastasis", "positive": "metastasis = 1",
             "description": "distant metastasis"}
        )
    )  # fmt: skip
    pd.DataFrame({"randomised": [198], "analysed": [198]}).to_csv(
        run / "cohort_counts.csv", index=False
    )
    html = write_report(run).read_text()
    assert "A cohort without a treatment comparison" in html
    assert "distant metastasis; cohort" in html
    assert "Predictive markers" not in html
    assert "treated vs control" not in html


@pytest.mark.parametrize("n_events", [7, 23])
def test_binary_class_one_is_named_and_counted(fake_run, n_events):
    run = fake_run
    (run / "outcome.json").write_text(
        json.dumps(
            {"name": "aids_or_death", "kind": "binary", "assessed_day": 180,
             "definition": "AIDS or death by day 180", "positive": "aids_or_death = 1 by day 180",
             "description": "AIDS or death by day 180"}
        )
    )  # fmt: skip
    y = np.r_[np.ones(n_events), np.zeros(60 - n_events)]
    pd.DataFrame(
        {"model": "enet", "repeat": 0, "y_true": y, "y_pred": np.linspace(0, 1, 60)}
    ).to_csv(run / "oof_predictions.csv", index=False)
    html = write_report(run).read_text()
    perf = html.split('id="performance"')[1]
    assert (
        "Class 1 is <b>AIDS or death by day 180 (aids_or_death = 1 by day 180)</b>: AUROC, "
        f"AUPRC, sensitivity, PPV and NPV refer to it ({n_events} of 60 subjects)."
    ) in perf


def test_empty_result_file_is_an_empty_section_not_a_warning(fake_run, caplog):
    (fake_run / "decision_curve.csv").write_text("")  # discover without a clinical comparator
    with caplog.at_level("WARNING", logger="biomarkers"):
        html = write_report(fake_run).read_text()
    assert not [r for r in caplog.records if "cannot read" in r.getMessage()]
    assert "Decision curve (net benefit)" in html  # drawn from the out-of-fold predictions


def test_assessment_day_is_said_once(fake_run):
    (fake_run / "outcome.json").write_text(
        json.dumps(
            {"name": "metastasis", "kind": "binary", "assessed_day": 1,
             "definition": "metastasis: 1 when ...; assessed on study day 1"}
        )
    )  # fmt: skip
    html = write_report(fake_run).read_text()
    outcome = html.split('id="outcome"')[1].split("</section>")[0]
    assert outcome.lower().count("assessed on study day 1") == 1


def test_pairwise_comparisons_get_one_section_each_in_their_own_words(fake_run):
    run = _trial(fake_run)
    markers = pd.read_csv(run / "predictive_markers.csv")
    (run / "predictive_markers.csv").unlink()
    for pair in ("A_vs_C", "B_vs_C"):
        (run / "predictive" / pair).mkdir(parents=True)
        markers.to_csv(run / "predictive" / pair / "predictive_markers.csv", index=False)
    html = _text(write_report(run).read_text())
    assert _section_ids(html).count("predictive") == 0
    assert "predictive-A_vs_C" in _section_ids(html)
    assert "Predictive vs prognostic markers: B vs C" in html
    assert "modifies the effect of A compared with C on death" in html
    assert (run / "figures" / "B_vs_C_interactions.png").is_file()


def test_qini_without_permutations_says_n_a(fake_run):
    """``predictive.n_permutations: 0`` stores no Qini p-value; the report says so, not a crash."""
    run = _trial(fake_run)
    curve = {"fraction": [0.0, 0.5, 1.0], "qini": [0.0, 0.1, 0.0]}
    (run / "uplift.json").write_text(json.dumps({"curve": curve, "qini": 0.04, "p_value": None}))
    html = _text(write_report(run).read_text())
    assert "Qini coefficient 0.04, permutation p = n/a." in html
