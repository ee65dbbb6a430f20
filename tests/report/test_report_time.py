"""The report's time sections (issue 18): landmark, early response, mediation, survivor-aware."""

from __future__ import annotations

import json

import pandas as pd

from biomarkers.report import write_report


def _landmark(run):
    pd.DataFrame(
        {
            "arm": ["MSC", "SMT", "all"],
            "n_before": [50, 50, 100],
            "event_before_landmark": [10, 14, 24],
            "censored_before_landmark": [0, 0, 0],
            "missing_landmark_visit": [1, 0, 1],
            "n_after": [39, 36, 75],
        }
    ).to_csv(run / "landmark.csv", index=False)
    (run / "settings.json").write_text(json.dumps({"landmark_day": 7.0}))


def _early(run):
    folder = run / "early_response"
    folder.mkdir()
    pd.DataFrame(
        {
            "marker": ["cytokine:IL6", "cytokine:HGF"],
            "effect": [-0.1, 0.9],
            "effect_ci_low": [-0.4, 0.5],
            "effect_ci_high": [0.2, 1.3],
            "q_value_effect": [0.8, 0.001],
            "assoc": [0.05, 0.7],
            "assoc_ci_low": [-0.2, 0.3],
            "assoc_ci_high": [0.3, 1.1],
            "q_value_assoc": [0.9, 0.01],
            "label": ["neither", "both"],
            "n_treated": [39, 39],
            "n_control": [36, 36],
        }
    ).to_csv(folder / "early_response.csv", index=False)
    meta = {"population": {"landmark_day": 7.0, "visit": "D7", "n_by_arm": {"treated": 39}}}
    (folder / "early_response.json").write_text(json.dumps(meta))


def _mediation(run):
    folder = run / "mediation"
    folder.mkdir()
    pd.DataFrame(
        {
            "effect": ["indirect", "direct", "total", "proportion_mediated"],
            "kind": "interventional",
            "estimate": [0.05, 0.1, 0.15, 0.33],
            "ci_low": [0.01, -0.02, 0.03, 0.05],
            "ci_high": [0.09, 0.2, 0.27, 0.9],
            "scale": "risk difference",
        }
    ).to_csv(folder / "mediation_effects.csv", index=False)
    pd.DataFrame({"strength": [0, 0.1], "rho": [0, -0.1], "indirect": [0.05, 0.02]}).to_csv(
        folder / "mediation_sensitivity.csv", index=False
    )
    meta = {
        "rho_explaining_away": -0.23,
        "population": {"landmark_day": 7.0, "n_by_arm": {"treated": 39, "control": 36}},
        "assumptions": "Treatment is randomised; the mediator is not.",
        "params": {"mediator": "cytokine:HGF@D7", "kind": "interventional"},
    }
    (folder / "mediation.json").write_text(json.dumps(meta))


def test_performance_names_the_landmark_population(fake_run):
    _landmark(fake_run)
    html = write_report(fake_run).read_text()
    assert "Analysed: subjects alive and event-free at day 7" in html
    assert (
        "MSC 39, SMT 36; removed: 24 event before the landmark, 1 without the landmark visit"
        in html
    )


def test_no_landmark_sentence_without_a_landmark(fake_run):
    html = write_report(fake_run).read_text()
    assert "alive and event-free at day" not in html


def test_early_response_section_sorted_by_evidence(fake_run):
    _early(fake_run)
    html = write_report(fake_run).read_text()
    section = html[html.index('id="early-response"') :]
    assert "Early-response markers" in section
    assert section.index("cytokine:HGF") < section.index("cytokine:IL6")
    assert "alive and event-free at day 7.0" in section


def test_mediation_block_has_effects_sensitivity_and_assumptions(fake_run):
    _mediation(fake_run)
    html = write_report(fake_run).read_text()
    section = html[html.index('id="mediation"') :]
    assert "proportion_mediated" in section
    assert "correlating the errors by ρ = -0.23 would explain the indirect effect away" in section
    assert "Treatment is randomised; the mediator is not." in section
    assert "treated 39, control 36" in section


def test_survivor_aware_tables_in_the_mechanism_section(fake_run):
    mech = fake_run / "mechanism"
    mech.mkdir()
    pd.DataFrame(
        {"feature": ["IL6"], "visit": ["D28"], "estimate": [0.3], "estimate_ipw": [0.2]}
    ).to_csv(mech / "trajectories_cytokines_survivor_aware.csv", index=False)
    pd.DataFrame({"arm": ["MSC"], "visit": ["D28"], "n": [30]}).to_csv(
        mech / "trajectories_cytokines_counts.csv", index=False
    )
    html = write_report(fake_run).read_text()
    assert "trajectories cytokines: survivor-only estimate beside the estimate weighted" in html
    assert "estimate_ipw" in html
    assert "trajectories cytokines: subjects per arm and visit" in html


def test_methods_point_to_the_estimands(fake_run):
    html = write_report(fake_run).read_text()
    assert "what each analysis estimates, in whom and from when" in html
    assert "docs/estimands.md" in html
