"""``biomarkers validate`` dry-runs the data path: study, outcome and features, no fitting."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def cells(tmp_path_factory) -> Path:
    """A small simulated trial with single-cell data, and a mechanism config over it."""
    from biomarkers.datasets import simulate_trial

    root = tmp_path_factory.mktemp("cells")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simulate_trial(root / "trial", n_subjects=8, seed=2, cells_per_sample=20, tenx_samples=0)
    return root


def _mechanism_config(root: Path, cell_type: str) -> Path:
    path = root / f"mech_{cell_type}.yaml"
    path.write_text(
        "pipeline: mechanism\nname: m\noutput: runs\n"
        "data: {clinical: trial/clinical.csv, samples: trial/samples.csv, "
        "singlecell: trial/singlecell.h5ad}\n"
        f"mechanism: {{cell_type: [{cell_type}], enrichment: false}}\n"
    )
    return path


def test_validate_fails_on_a_leaking_visit(design_config, cli):
    config = design_config("leak", clinical="trial/clinical.csv")
    proc = cli("validate", str(config), "--set", "features.visits=[D0, D90]")
    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "visits D90 (day 90) are at or after the assessment of outcome 'tfs90'" in lines[0]
    assert "would leak the outcome" in lines[0]


def test_validate_fails_on_an_unknown_cell_type(cells, cli):
    proc = cli("validate", str(_mechanism_config(cells, "CD14_mnoo")))
    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "mechanism.cell_type: cell type 'CD14_mnoo' is not in the single-cell" in lines[0]
    assert "did you mean 'CD14_mono'?" in lines[0]
    assert "available: B, CD14_mono," in lines[0]


def test_validate_fails_on_an_unknown_clinical_baseline_feature(design_config, cli):
    config = design_config("baseline", clinical="trial/clinical.csv")
    proc = cli("validate", str(config), "--set", "models.clinical_baseline=[clinical:mld@D0]")
    assert proc.returncode == 2, proc.stdout
    assert "models.clinical_baseline: 'clinical:mld@D0' is not in the feature table" in proc.stderr
    assert "did you mean 'clinical:meld@D0'?" in proc.stderr


def test_validate_fails_on_a_missing_block(design_config, cli):
    config = design_config("noflow", clinical="trial/clinical.csv")
    proc = cli("validate", str(config), "--set", "features.blocks={flow: {}}")
    assert proc.returncode == 2, proc.stdout
    assert "features.flow: the study has no assay 'flow'" in proc.stderr


def test_validate_summarises_design_outcome_and_blocks(design_config, cli):
    config = design_config(
        "summary", clinical="three/clinical.csv", extra="study: {treated: A, control: [B, C]}\n"
    )
    proc = cli("validate", str(config))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "subjects: 40; design: multi_arm, arms A, B, C; A vs B+C (allocation 0.333)" in out
    assert "outcome: tfs90 (binary); class 1 = " in out
    assert "features: 19 (clinical 7, cytokines 12)" in out
    assert out.strip().splitlines()[-1].endswith("valid discover config (4 input files checked)")


def test_validate_names_a_cohort(design_config, cli):
    proc = cli("validate", str(design_config("vcohort", clinical="cohort/clinical.csv")))
    assert proc.returncode == 0, proc.stderr
    assert "design: cohort; predictive steps skipped" in proc.stdout


def test_validate_accepts_known_cell_types(cells, cli):
    proc = cli("validate", str(_mechanism_config(cells, "CD14_mono")))
    assert proc.returncode == 0, proc.stderr
    assert "design: two_arm" in proc.stdout


def test_validate_prints_the_landmark_population_per_arm(design_config, cli):
    import re

    config = design_config("landmark", clinical="trial/clinical.csv")
    proc = cli("validate", str(config), "--set", "features.visits=[D0, D7]")
    assert proc.returncode == 0, proc.stderr
    found = re.search(r"landmark D7 \(all\): (\d+)/40 \((\d+) events before D7", proc.stdout)
    assert found, proc.stdout
    assert int(found[1]) + int(found[2]) <= 40
    assert "landmark D7 (SMT): " in proc.stdout


def test_validate_baseline_features_have_no_landmark(design_config, cli):
    config = design_config("baseline_landmark", clinical="trial/clinical.csv")
    proc = cli("validate", str(config))
    assert proc.returncode == 0, proc.stderr
    assert "landmark: none (baseline features; every subject analysed)" in proc.stdout
