"""The discover job writes the added value of each assay, its decision curves and the cost frontier."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

CONFIG = """
pipeline: discover
name: value
output: runs
data:
  clinical: trial/clinical.csv
  labs: trial/labs.csv
  samples: trial/samples.csv
  cytokines:
    cytokines: {path: trial/cytokines_long.csv}
  flow: trial/flow.csv
outcome: {kind: transplant_free_survival, horizon_days: 90, label: binary}
features: {visits: [D0], blocks: {clinical: true, cytokines: true, flow: true}}
models: {models: [enet], n_splits: 3, n_repeats: 1, inner_cv: 2, n_permutations: 0, n_bootstraps: 30,
         instability_bootstraps: 0}
predictive: {enabled: false}
early_response: {enabled: false}
mediation: {enabled: false}
panel: {k: 4, budget: 100, currency: EUR}
assay_costs: {clinical: 0, cytokine: 120, flow: 80}
"""


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> Path:
    from biomarkers.datasets import simulate_trial

    root = tmp_path_factory.mktemp("value")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simulate_trial(root / "trial", n_subjects=60, seed=1, cells_per_sample=0, tenx_samples=0)
    return root


@pytest.fixture(scope="module")
def run_dir(trial: Path, cli) -> Path:
    (trial / "cfg.yaml").write_text(CONFIG)
    done = cli("run", str(trial / "cfg.yaml"), cwd=trial)
    assert done.returncode == 0, done.stderr
    return next((trial / "runs" / "value").iterdir())


@pytest.mark.slow
def test_job_writes_added_value_decision_curves_and_frontier(run_dir: Path) -> None:
    value = pd.read_csv(run_dir / "added_value.csv")
    assert value["candidate"].iloc[0] == "clinical"
    assert {"clinical+cytokine", "clinical+flow", "all-flow"} <= set(value["candidate"])
    curves = pd.read_csv(run_dir / "decision_curves.csv")
    assert {"threshold", "clinical", "clinical+all"} <= set(curves.columns)
    front = pd.read_csv(run_dir / "cost_frontier.csv")
    assert front["recommended"].sum() == 1
    assert (front["budget"] == 100).all()
    assert front.loc[front["recommended"], "cost"].iloc[0] <= 100
    assert (run_dir / "figures" / "cost_frontier.png").exists()
    card = (run_dir / "panel" / "panel_card.md").read_text()
    assert "Assays a new patient needs" in card
    assert "total per patient:" in card
    doc = json.loads((run_dir / "panel" / "panel.json").read_text())
    assert doc["provenance"]["assay_costs"]["costs"]["flow"] == 80
    assert "seed" in doc["provenance"]
    html = (run_dir / "report.html").read_text()
    assert "Added value of each assay" in html


@pytest.mark.slow
def test_unknown_assay_cost_fails_before_fitting(trial: Path, cli) -> None:
    (trial / "bad.yaml").write_text(
        CONFIG.replace("flow: 80", "flw: 80").replace("name: value", "name: bad")
    )
    done = cli("run", str(trial / "bad.yaml"), cwd=trial)
    assert done.returncode == 2
    assert "'flw' is not an assay" in done.stderr
    assert "valid assays: clinical, cytokine, flow" in done.stderr
    assert "Traceback" not in done.stderr
