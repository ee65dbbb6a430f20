"""Study designs in the jobs: a cohort, three arms pooled or pairwise, allocation, covariates."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from biomarkers.exceptions import SchemaError
from pipelines.config import load_config
from pipelines.run import run_job

pytestmark = [
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BiomarkersWarning"),
]


def _manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


def test_a_cohort_runs_end_to_end_through_biomarkers_run(design_config, cli):
    config = design_config("cohort", clinical="cohort/clinical.csv")
    proc = cli("run", str(config), "--quiet")
    assert proc.returncode == 0, proc.stderr
    run_dir = Path(proc.stdout.strip().splitlines()[-1])
    manifest = _manifest(run_dir)
    assert manifest["status"] == "complete"
    reason = "the study is a cohort (no arms to compare)"
    assert manifest["summary"]["predictive"] == {"skipped": reason}
    assert f"predictive steps skipped: {reason}" in (run_dir / "log.txt").read_text()
    assert (run_dir / "performance.csv").is_file()
    assert (run_dir / "report.html").is_file()
    assert not (run_dir / "predictive_markers.csv").exists()
    counts = pd.read_csv(run_dir / "cohort_counts.csv")
    assert counts["arm"].tolist() == ["all"]
    assert counts["randomised"].tolist() == [40]


def test_three_arms_pooled_feed_allocation_and_covariates_to_predictive(design_config):
    config = design_config(
        "three",
        clinical="three/clinical.csv",
        extra="study: {treated: [A, B], control: [C], allocation: 0.6}\n",
    )
    result = run_job(load_config(config), config_dir=config.parent)
    params = json.loads((result.run_dir / "uplift.json").read_text())["params"]
    assert params["propensity"] == 0.6  # the configured allocation, not 0.5
    assert (params["treated"], params["control"]) == ("A+B", "C")
    clinical = pd.read_csv(config.parent / "three" / "clinical.csv")
    pooled = clinical["arm"].isin(["A", "B"]).sum()
    assert params["n_treated"] + params["n_control"] <= len(clinical)
    assert params["n_treated"] > params["n_control"]  # A and B pooled against C alone
    assert params["n_treated"] <= pooled
    assert params["covariates"] == ["age", "sex_M"]  # sex (F/M) one-hot encoded
    assert result.summary["predictive"]["propensity"] == 0.6


def test_the_default_allocation_is_equal_allocation_over_the_compared_arms(design_config):
    config = design_config(
        "three_default", clinical="three/clinical.csv", extra="study: {treated: A, control: C}\n"
    )
    result = run_job(load_config(config), config_dir=config.parent)
    params = json.loads((result.run_dir / "uplift.json").read_text())["params"]
    assert params["propensity"] == 0.5
    assert (params["treated"], params["control"]) == ("A", "C")


def test_three_arms_pairwise_write_one_analysis_per_pair(design_config):
    config = design_config(
        "pairwise",
        clinical="three/clinical.csv",
        extra="study: {treated: [A, B], control: C, comparison: pairwise}\n",
    )
    result = run_job(load_config(config), config_dir=config.parent)
    assert not (result.run_dir / "predictive_markers.csv").exists()
    for pair, treated in (("A_vs_C", "A"), ("B_vs_C", "B")):
        folder = result.run_dir / "predictive" / pair
        params = json.loads((folder / "uplift.json").read_text())["params"]
        assert (params["treated"], params["control"]) == (treated, "C")
        assert f"predictive/{pair}/predictive_markers.csv" in result.outputs
    assert set(result.summary["predictive"]) == {"predictive/A_vs_C", "predictive/B_vs_C"}


def test_three_arms_without_a_comparison_are_refused(design_config):
    from pipelines._steps import load_study

    config = design_config("three_unnamed", clinical="three/clinical.csv")
    with pytest.raises(SchemaError, match=r"3 arms .*name the comparison with treated= and"):
        load_study(load_config(config))


def test_study_arms_are_checked_against_the_clinical_table(design_config):
    from pipelines._steps import load_study

    config = design_config(
        "arms", clinical="trial/clinical.csv", extra="study: {arms: [MSC, SMT]}\n"
    )
    with pytest.raises(SchemaError, match=r"study\.arms lists 'MSC', 'SMT' but the arm column"):
        load_study(load_config(config))


def test_side_labels_pool_arms_and_leave_others_out():
    from biomarkers.study import Study
    from pipelines._steps import side_labels

    clinical = pd.DataFrame(
        {"arm": ["A", "B", "C", "D"]}, index=pd.Index(["s1", "s2", "s3", "s4"], name="subject_id")
    )
    study = Study(clinical, treated=["A", "B"], control=["C"])
    sides = side_labels(study)
    assert sides.iloc[:3].tolist() == ["A+B", "A+B", "C"]
    assert pd.isna(sides.iloc[3])
    assert (sides == "A+B").tolist() == (study.treatment == 1).tolist()


def test_a_generic_table_becomes_features_and_an_input(design_config, designs):
    import numpy as np

    from pipelines._steps import build_outcome, load_study
    from pipelines.config import input_paths
    from pipelines.discover import build_table

    clinical = pd.read_csv(designs / "trial" / "clinical.csv", dtype={"subject_id": str})
    rng = np.random.default_rng(0)
    expression = pd.DataFrame(
        {"subject_id": clinical["subject_id"], "g1": rng.normal(size=len(clinical)),
         "g2": rng.normal(size=len(clinical)), "batch": "x"}
    )  # fmt: skip
    expression.to_csv(designs / "expression.csv", index=False)
    config = design_config("tables", clinical="trial/clinical.csv")
    cfg = load_config(
        config,
        overrides=[
            "data.tables={expression: {path: expression.csv, columns: all, unit: log2}}",
            "features.blocks={clinical: true, expression: true}",
        ],
    )
    assert input_paths(cfg)["data.tables.expression.path"] == designs / "expression.csv"
    study = load_study(cfg)
    table = build_table(cfg, study, build_outcome(cfg, study))
    assert {"expression:g1@D0", "expression:g2@D0"} <= set(table.var_names)
    assert not any("batch" in name for name in table.var_names)  # not numeric: left out
