"""Pre-registration (``biomarkers plan``, ``run --plan``) and blinded dry runs (``run --blinded``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from biomarkers.exceptions import ConfigError, InputFileError, PanelFormatError
from biomarkers.panel import BiomarkerPanel
from pipelines.cli import app
from pipelines.config import load_config
from pipelines.plan import check_plan, read_plan, write_plan
from pipelines.run import read_manifest, run_job

#: Fast settings for the runs below (one model, no instability refits, interaction only).
FAST = [
    "models.instability_bootstraps=0",
    "predictive.method=[interaction]",
    "predictive.n_permutations=0",
    "predictive.prespecified={cytokine:IL6@D0: higher}",
]
runner = CliRunner()


@pytest.fixture
def config(design_config) -> Path:
    return design_config("planned", clinical="trial/clinical.csv", extra="study: {strata: [sex]}\n")


@pytest.fixture
def plan(config, tmp_path) -> Path:
    return write_plan(load_config(config, overrides=FAST), tmp_path / "plan", config_path=config)


def test_plan_records_config_markers_outcome_population_and_software(config, plan):
    doc = json.loads(plan.read_text())
    assert doc["format"] == "biomarkers.plan"
    assert doc["prespecified"] == {"cytokine:IL6@D0": "higher"}
    assert doc["outcome"] == {"kind": "transplant_free_survival", "horizon_days": 90}
    assert doc["population"]["strata"] == ["sex"]
    assert doc["population"]["landmark"] == {"day": "auto", "time_from": "origin"}
    assert doc["config"]["data"]["labs"] == "trial/labs.csv"  # paths as given in the config
    assert doc["config"]["models"]["instability_bootstraps"] == 0
    assert {"python", "biomarkers", "numpy", "pandas", "scikit-learn", "statsmodels"} <= set(
        doc["software"]
    )
    assert read_plan(plan.parent) == doc  # the SHA-256 matches the content
    text = (plan.parent / "analysis_plan.md").read_text()
    assert doc["sha256"] in text
    assert "benefit of treatment larger when the marker is higher" in text


def test_a_plan_is_never_overwritten(config, plan):
    before = plan.read_text()
    with pytest.raises(ConfigError, match="a locked plan is never overwritten"):
        write_plan(load_config(config), plan.parent, config_path=config)
    assert plan.read_text() == before


def test_check_plan_lists_each_changed_key(config, plan):
    assert check_plan(plan, load_config(config, overrides=FAST), config_dir=config.parent) == []
    changed = load_config(
        config, overrides=[*FAST, "predictive.fdr=0.2", "predictive.prespecified={}"]
    )
    found = check_plan(plan, changed, config_dir=config.parent)
    assert [(d.key, d.planned, d.actual, d.kind) for d in found] == [
        ("predictive.fdr", "0.1", "0.2", "analysis"),
        ("predictive.prespecified.cytokine:IL6@D0", '"higher"', "(absent)", "analysis"),
    ]


def test_a_tampered_plan_is_refused_before_any_run(config, plan, tmp_path):
    doc = json.loads(plan.read_text())
    doc["prespecified"]["cytokine:IL6@D0"] = "lower"  # decided after looking at the data
    plan.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="SHA-256 mismatch: the plan was changed after it was"):
        read_plan(plan)
    with pytest.raises(ConfigError, match="SHA-256 mismatch"):
        run_job(load_config(config, overrides=FAST), out=tmp_path / "runs", plan=plan)
    assert not (tmp_path / "runs").exists()
    with pytest.raises(InputFileError, match="analysis plan not found"):
        read_plan(tmp_path / "nowhere.json")


def _weights_panel(purpose: str) -> BiomarkerPanel:
    return BiomarkerPanel.from_weights(
        {"cytokine:IL6@D0": 0.8}, intercept=-1.0, threshold=0.5, purpose=purpose
    )


def test_a_blinded_treatment_selection_panel_cannot_be_written(tmp_path):
    panel = _weights_panel("treatment_selection").mark_blinded()
    assert panel.blinded
    with pytest.raises(PanelFormatError, match="blinded treatment-selection panel is not written"):
        panel.write(tmp_path / "panel")
    assert not (tmp_path / "panel" / "panel.json").exists()


def test_a_blinded_panel_says_so_in_its_file_and_card(tmp_path):
    assert not _weights_panel("prognosis").blinded
    written = _weights_panel("prognosis").mark_blinded().write(tmp_path / "panel")
    assert json.loads(written.read_text())["blinded"] is True
    assert BiomarkerPanel.read(written).blinded  # checksum and schema accept the field
    assert "BLINDED dry run" in (tmp_path / "panel" / "panel_card.md").read_text()


def test_cli_refuses_a_bad_plan_path_with_one_line(config, tmp_path):
    missing = tmp_path / "missing.json"
    result = runner.invoke(app, ["run", str(config), "--plan", str(missing), "--quiet"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: analysis plan not found: {missing}; give the analysis_plan.json (or its "
        "folder) that `biomarkers plan CONFIG` wrote"
    ]


def test_cli_plan_writes_once_and_run_refuses_a_tampered_plan(config, tmp_path):
    out = tmp_path / "locked"
    first = runner.invoke(app, ["plan", str(config), "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert first.output.strip().splitlines()[-1] == str(out / "analysis_plan.json")
    again = runner.invoke(app, ["plan", str(config), "--out", str(out)])
    assert again.exit_code == 2
    assert "a locked plan is never overwritten" in again.output
    doc = json.loads((out / "analysis_plan.json").read_text())
    doc["outcome"]["horizon_days"] = 28
    (out / "analysis_plan.json").write_text(json.dumps(doc))
    result = runner.invoke(app, ["run", str(config), "--plan", str(out), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "SHA-256 mismatch" in result.output


# ---- end-to-end runs ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(designs, tmp_path_factory):
    """A locked plan and three runs: changed config, blinded with the plan, blinded panel."""
    from .conftest import DISCOVER

    config = designs / "e2e.yaml"
    config.write_text(
        DISCOVER.format(name="e2e", clinical="trial/clinical.csv") + "study: {strata: [sex]}\n"
    )
    out = tmp_path_factory.mktemp("plan_runs")
    planned = [*FAST, "panel.enabled=true"]
    plan = write_plan(load_config(config, overrides=planned), out / "plan", config_path=config)
    changed = run_job(
        load_config(config, overrides=[*planned, "predictive.fdr=0.2"]),
        config_dir=designs, out=out, plan=plan,
    )  # fmt: skip
    blinded = run_job(
        load_config(config, overrides=planned),
        config_dir=designs, out=out, plan=plan, blinded=True, blind_seed=5,
    )  # fmt: skip
    selection = run_job(
        load_config(
            config, overrides=[*planned, "panel.purpose=treatment_selection"]
        ),
        config_dir=designs, out=out, blinded=True,
    )  # fmt: skip
    return {"plan": plan, "changed": changed, "blinded": blinded, "selection": selection}


@pytest.mark.slow
def test_the_run_lists_the_deviation_of_a_changed_config(runs):
    folder = runs["changed"].run_dir
    deviations = pd.read_csv(folder / "plan_deviations.csv")
    assert deviations.to_dict("records") == [
        {"key": "predictive.fdr", "planned": 0.1, "actual": 0.2, "kind": "analysis"}
    ]
    plan = json.loads(runs["plan"].read_text())
    manifest = read_manifest(folder)
    assert manifest["plan"]["sha256"] == plan["sha256"]
    assert manifest["plan"]["n_deviations"] == 1
    assert manifest["blinded"] is False
    report = (folder / "report.html").read_text()
    assert f"locked analysis plan SHA-256 <code>{plan['sha256']}</code>" in report
    assert "1 deviation(s) from the plan (1 analysis), all listed" in report
    assert "<td>predictive.fdr</td>" in report


@pytest.mark.slow
def test_a_blinded_run_is_marked_everywhere_and_differs(runs):
    folder = runs["blinded"].run_dir
    assert folder.name.endswith("-blinded")
    manifest = read_manifest(folder)
    assert manifest["blinded"] is True
    assert manifest["blinding"]["seed"] == 5
    assert manifest["blinding"]["strata"] == ["sex"]
    assert "not the trial's allocation" in manifest["blinding"]["arms"]
    # the unchanged config follows the plan; the hash is recorded on blinded data too
    assert pd.read_csv(folder / "plan_deviations.csv").empty
    assert manifest["plan"]["checked_on"] == "blinded data (dry run)"
    report = (folder / "report.html").read_text()
    assert "<title>BLINDED dry run" in report
    assert report.index("BLINDED dry run</b>: the arm labels") < report.index('id="summary"')
    assert "No deviation" in report
    panel = json.loads((folder / "panel" / "panel.json").read_text())
    assert panel["blinded"] is True
    assert "BLINDED dry run" in (folder / "panel" / "panel_card.md").read_text()
    # the arm sizes are kept, the treatment effect is not the unblinded one
    counts = pd.read_csv(folder / "cohort_counts.csv").set_index("arm")["randomised"]
    real = pd.read_csv(runs["changed"].run_dir / "cohort_counts.csv").set_index("arm")
    assert counts.equals(real["randomised"])
    effect = pd.read_csv(folder / "treatment_effect.csv")["estimate"]
    unblinded = pd.read_csv(runs["changed"].run_dir / "treatment_effect.csv")["estimate"]
    assert not effect.equals(unblinded)


@pytest.mark.slow
def test_a_blinded_run_refuses_a_treatment_selection_panel(runs):
    folder = runs["selection"].run_dir
    assert not (folder / "panel" / "panel.json").exists()
    assert "skipped" in runs["selection"].summary["panel"]
    notes = read_manifest(folder)["blinding"]["notes"]
    assert notes == [runs["selection"].summary["panel"]["skipped"]]
    report = (folder / "report.html").read_text()
    assert "no treatment-selection panel exported" in report
    assert "No pre-registered plan" in report
    assert "panel skipped: blinded run" in (folder / "log.txt").read_text()


def test_blinding_and_plans_apply_to_jobs_that_compare_arms(tmp_path):
    from pipelines.config import parse_config

    cfg = parse_config({"pipeline": "simulate", "name": "sim"}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="--blinded applies to the jobs that compare arms"):
        run_job(cfg, out=tmp_path / "runs", blinded=True)
    with pytest.raises(ConfigError, match="a plan check applies to the jobs that compare arms"):
        run_job(cfg, out=tmp_path / "runs", plan=tmp_path / "plan.json")
    assert not (tmp_path / "runs").exists()


def test_report_plan_section_and_blinded_marks(tmp_path):
    from biomarkers.report._plan import blinded_banner, plan_section, report_title

    assert plan_section(tmp_path, {}).text.startswith("No pre-registered plan")
    assert blinded_banner({"blinded": False}) == ""
    assert report_title("biomarkers report: t", {"blinded": False}) == "biomarkers report: t"
    manifest = {
        "blinded": True,
        "blinding": {"seed": 4, "strata": ["sex"], "notes": ["no panel"]},
        "plan": {"sha256": "ab" * 32, "created": "2026-01-01T00:00:00Z", "checked_on": "x"},
    }
    assert report_title("t", manifest) == "BLINDED dry run — t"
    banner = blinded_banner(manifest)
    assert "seed 4, strata: sex" in banner
    assert "no panel." in banner
    pd.DataFrame([{"key": "seed", "planned": "0", "actual": "1", "kind": "analysis"}]).to_csv(
        tmp_path / "plan_deviations.csv", index=False
    )
    section = plan_section(tmp_path, manifest)
    assert "1 deviation(s) from the plan (1 analysis), all listed" in section.text
    assert "<td>seed</td>" in section.tables[0][1]


def test_validate_checks_the_plan_and_counts_deviations(config, plan):
    sets = [arg for s in FAST for arg in ("--set", s)] + ["--set", f"plan={plan}"]
    same = runner.invoke(app, ["validate", str(config), *sets])
    assert same.exit_code == 0, same.output
    assert "SHA-256 verified), no deviation" in same.output
    changed = runner.invoke(app, ["validate", str(config), *sets, "--set", "predictive.fdr=0.2"])
    assert changed.exit_code == 0, changed.output
    assert "1 deviation(s) the run will list: predictive.fdr (analysis)" in changed.output
    doc = json.loads(plan.read_text())
    doc["prespecified"]["cytokine:IL6@D0"] = "lower"
    plan.write_text(json.dumps(doc))
    tampered = runner.invoke(app, ["validate", str(config), *sets])
    assert tampered.exit_code == 2
    assert len(tampered.output.strip().splitlines()) == 1
    assert "SHA-256 mismatch" in tampered.output
