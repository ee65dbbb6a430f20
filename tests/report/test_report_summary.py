"""The summary that opens the report: every sentence follows the numbers by a documented rule."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from biomarkers.report import RULES, summarize, write_report

STUDY = "study: {treated_arm: ucMSC+SMT, control_arm: SMT}\n"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "report.md"


def _comparison(run, lo, hi, estimate=0.065):
    pd.DataFrame(
        {"model": ["enet"] * 3, "comparison": ["baseline", "baseline+markers", "delta"],
         "metric": ["auroc"] * 3, "estimate": [0.62, 0.62 + estimate, estimate],
         "ci_low": [0.5, 0.55, lo], "ci_high": [0.75, 0.8, hi], "n": [60] * 3}
    ).to_csv(run / "comparison.csv", index=False)  # fmt: skip


def _texts(summary, analysis):
    return [f.text for f in summary.answers if f.analysis == analysis]


def test_summary_is_the_first_section_and_states_the_question(fake_run):
    html = write_report(fake_run).read_text()
    ids = re.findall(r'<section id="([^"]+)"', html)
    assert ids[0] == "summary"
    summary = html.split('<section id="summary">')[1].split("</section>")[0]
    assert "Outcome: tfs90 (binary, assessed on day 90)" in summary
    assert "Definition: alive." in summary
    assert "Population: 9 subjects analysed (SMT 5, ucMSC+SMT 4)." in summary


@pytest.mark.parametrize(
    ("lo", "hi", "words", "rule"),
    [
        (-0.007, 0.141, "the interval includes 0: not shown to add value", "added.not_shown"),
        (0.012, 0.141, "the interval excludes 0: the markers add value", "added.shown"),
        (-0.2, -0.01, "the interval lies below 0: the markers make it worse", "added.worse"),
    ],
)
def test_added_value_words_follow_the_interval(fake_run, lo, hi, words, rule):
    (fake_run / "config.yaml").write_text("models: {clinical_baseline: ['clinical:meld@D0']}\n")
    _comparison(fake_run, lo, hi)
    summary = summarize(fake_run)
    (text,) = _texts(summary, "Added value")
    assert text.startswith("the markers add 0.065 AUROC over meld (D0)")
    assert words in text
    assert rule in summary.rules


def _performance(run, lo):
    pd.DataFrame(
        {"model": ["enet"], "metric": ["auroc"], "estimate": [0.71], "ci_low": [lo],
         "ci_high": [0.8], "n": [60]}
    ).to_csv(run / "performance.csv", index=False)  # fmt: skip


def test_discovery_verdict_and_next_step_change_with_the_interval(fake_run):
    _performance(fake_run, 0.6)
    above = summarize(fake_run)
    assert (
        "the interval lies above 0.5 (chance): evidence of discrimination"
        in _texts(above, "Discovery")[0]
    )
    assert "next.validate" in above.rules
    _performance(fake_run, 0.45)
    reaching = summarize(fake_run)
    assert "no evidence of discrimination" in _texts(reaching, "Discovery")[0]
    assert "next.stop" in reaching.rules
    assert "next.validate" not in reaching.rules


def test_overall_treatment_effect_uses_the_null_of_its_scale(fake_run):
    (fake_run / "config.yaml").write_text(STUDY)
    pd.DataFrame(
        {"measure": ["risk_difference", "odds_ratio"], "estimate": [-0.2, 0.6],
         "ci_low": [-0.35, 0.8], "ci_high": [-0.05, 1.3]}
    ).to_csv(fake_run / "treatment_effect.csv", index=False)  # fmt: skip
    diff, ratio = _texts(summarize(fake_run), "Treatment effect")
    assert "risk difference -0.200 (95% CI -0.350 to -0.050)" in diff
    assert "the interval excludes 0: tfs90 is lower under ucMSC+SMT" in diff
    assert "the interval includes 1: no treatment effect shown" in ratio


@pytest.mark.parametrize(("q", "rule"), [(0.04, "predictive.found"), (0.3, "predictive.none")])
def test_predictive_sentence_follows_the_fdr(fake_run, q, rule):
    (fake_run / "config.yaml").write_text(STUDY + "predictive: {enabled: true, fdr: 0.1}\n")
    pd.DataFrame(
        {"marker": ["cytokine:IL6@D0", "flow:Treg@D0"], "interaction": [0.5, 0.1],
         "q_value_interaction": [q, 0.9]}
    ).to_csv(fake_run / "predictive_markers.csv", index=False)  # fmt: skip
    summary = summarize(fake_run)
    (text,) = _texts(summary, "Predictive markers")
    assert rule in summary.rules
    if rule == "predictive.found":
        assert text.startswith("1 of 2 markers modify the effect")
        assert "IL6" in text
    else:
        assert text.startswith("no marker modifies the effect of ucMSC+SMT vs SMT at FDR 0.1")
        assert "next.predictive" in summary.rules


@pytest.mark.parametrize(("p", "words"), [(0.01, "beats random"), (0.098, "is not shown to")])
def test_qini_sentence_follows_its_p_value(fake_run, p, words):
    (fake_run / "uplift.json").write_text(json.dumps({"qini": 0.02, "p_value": p}))
    (text,) = _texts(summarize(fake_run), "Uplift")
    assert f"permutation p = {p:.3f}" in text
    assert words in text


def test_limitations_name_events_per_feature_and_the_budget(fake_run):
    manifest = json.loads((fake_run / "manifest.json").read_text())
    manifest["summary"] = {"n_features": 50}
    (fake_run / "manifest.json").write_text(json.dumps(manifest))
    (fake_run / "sample_size.json").write_text(json.dumps({"parameters": 4}))
    limits = [f.text for f in summarize(fake_run).limitations]
    assert any("per candidate feature (50 features, fewer than 10)" in t for t in limits)
    assert any("supports about 4 candidate parameters; 50 features" in t for t in limits)
    assert any(t.startswith("internal validation only") for t in limits)


def test_every_rule_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    assert [rule for rule in RULES if f"`{rule}`" not in text] == []


def test_predictive_table_is_reduced_and_sorted_by_evidence():
    from biomarkers.report._tables import predictive_table

    pred = pd.DataFrame(
        {"marker": ["a", "b", "c", "d"], "interaction": [0.1, -0.9, 0.5, 0.3],
         "ci_low": [-1, -2, -1, -1], "ci_high": [1, 0.1, 2, 2], "p_interaction": [0.9, 0.2, 0.2, 0.01],
         "q_value_interaction": [0.9, 0.4, 0.4, 0.04], "beta_treated": [1, 1, 1, 1],
         "ci_treated_low": [0, 0, 0, 0], "ci_treated_high": [2, 2, 2, 2], "label": ["neither"] * 4,
         "se_interaction": [1] * 4, "n_events": [10] * 4, "status": ["ok"] * 4,
         "scale": ["log odds ratio per SD"] * 4}
    )  # fmt: skip
    shown = predictive_table(pred, treated="test")
    assert shown["marker"].tolist() == ["d", "b", "c", "a"]  # q, then |interaction|
    assert shown.columns.tolist() == [
        "marker", "interaction (log odds ratio per SD)", "95% CI", "effect under test",
        "95% CI (test)", "p_value", "q_value", "verdict",
    ]  # fmt: skip
    assert shown.loc[0, "95% CI"] == "-1 to 2"


def test_report_links_the_full_predictive_csv(fake_run):
    pd.DataFrame(
        {"marker": ["cytokine:IL6@D0"], "interaction": [0.2], "ci_low": [-0.1], "ci_high": [0.5],
         "p_interaction": [0.3], "q_value_interaction": [0.3], "label": ["neither"]}
    ).to_csv(fake_run / "predictive_markers.csv", index=False)  # fmt: skip
    html = write_report(fake_run).read_text()
    assert "<a href='predictive_markers.csv'>predictive_markers.csv</a>" in html
    assert "q_value_interaction" not in html.split('id="predictive"')[1].split("</section>")[0]


def test_budget_section_follows_the_markers_when_the_run_has_a_budget(fake_run):
    """sample_size_budget.csv (the discover job's Riley budget) gives its own section."""
    ids = re.findall(r'<section id="([^"]+)"', write_report(fake_run).read_text())
    assert "budget" not in ids
    from biomarkers.models import sample_size_budget

    b = sample_size_budget(100, 30, "binary", r2_cs=0.1)
    frame = b.to_frame().assign(n=b.n, events=b.events, r2_cs=b.r2_cs, parameters=b.parameters)
    frame.to_csv(fake_run / "sample_size_budget.csv", index=False)  # as the discover job writes it
    html = write_report(fake_run).read_text()
    ids = re.findall(r'<section id="([^"]+)"', html)
    assert ids.index("budget") > ids.index("markers")
    assert "Riley et al. (2020)" in html


def test_results_without_intervals_are_reported_not_judged(fake_run):
    """A fast run (n_bootstraps: 0) stores estimates without CIs: no verdict words for them."""
    (fake_run / "config.yaml").write_text(STUDY)
    (fake_run / "uplift.json").write_text(
        json.dumps({"qini": 0.01, "ci": [None, None], "p_value": 0.5})
    )
    pd.DataFrame(
        {"measure": ["odds_ratio"], "estimate": [0.8], "ci_low": [None], "ci_high": [None]}
    ).to_csv(fake_run / "treatment_effect.csv", index=False)
    _performance(fake_run, float("nan"))
    summary = summarize(fake_run)
    assert _texts(summary, "Treatment effect") == [
        "odds ratio 0.800 (no interval computed): not judged."
    ]
    assert "not judged" in _texts(summary, "Discovery")[0]
    assert "permutation p = 0.500" in _texts(summary, "Uplift")[0]
    assert "next.validate" not in summary.rules
    assert 'id="summary"' in write_report(fake_run).read_text()


def test_a_c_index_is_judged_against_0_5(fake_run):
    """Survival runs report Harrell's C: chance is 0.5, as for the AUROC (not 0)."""
    pd.DataFrame(
        {"model": ["coxnet"] * 2, "metric": ["harrell_c", "uno_c"], "estimate": [0.55, 0.56],
         "ci_low": [0.45, 0.46], "ci_high": [0.65, 0.66], "n": [60] * 2,
         "verdict": ["no evidence of discrimination", None]}
    ).to_csv(fake_run / "performance.csv", index=False)  # fmt: skip
    text = _texts(summarize(fake_run), "Discovery")[0]
    assert "Harrell's C 0.550" in text
    assert "the interval reaches 0.5 (chance): no evidence of discrimination" in text


def _with_manifest(run, **entries):
    path = run / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **entries}))


def _limits(run):
    return {f.rule: f.text for f in summarize(run).limitations}


def test_a_run_without_a_locked_plan_is_called_exploratory(fake_run):
    limits = _limits(fake_run)
    assert "exploratory" in limits["limit.no_plan"]
    assert "limit.deviations" not in limits
    assert "limit.blinded" not in limits


def test_plan_deviations_and_blinding_are_limitations(fake_run):
    _with_manifest(fake_run, plan={"sha256": "ab" * 32, "n_deviations": 2})
    limits = _limits(fake_run)
    assert limits["limit.deviations"].startswith("2 deviations from the locked analysis plan abab")
    assert "limit.no_plan" not in limits
    _with_manifest(fake_run, plan={"sha256": "ab" * 32, "n_deviations": 0}, blinded=True)
    limits = _limits(fake_run)
    assert "limit.deviations" not in limits
    assert "dummy randomisation" in limits["limit.blinded"]
