"""The discover job with D0 + D7 features: landmark, early response, mediation and the report."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

CONFIG = """
pipeline: discover
name: er
output: runs
data:
  clinical: trial/clinical.csv
  labs: trial/labs.csv
  samples: trial/samples.csv
  cytokines:
    cytokines: {path: trial/cytokines_long.csv}
outcome: {kind: transplant_free_survival, horizon_days: 90}
features: {visits: [D0, D7], blocks: {clinical: true, cytokines: true}}
models: {models: [enet], n_splits: 3, n_repeats: 1, inner_cv: 2, n_permutations: 0, n_bootstraps: 0}
predictive: {n_permutations: 2, n_bootstraps: 0, method: [interaction]}
mediation: {n_bootstraps: 20}
panel: {enabled: false}
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, cli) -> Path:
    from biomarkers.datasets import simulate_trial

    root = tmp_path_factory.mktemp("early")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simulate_trial(root / "trial", n_subjects=60, seed=1, cells_per_sample=0, tenx_samples=0)
    (root / "cfg.yaml").write_text(CONFIG)
    done = cli("run", str(root / "cfg.yaml"), cwd=root)
    assert done.returncode == 0, done.stderr
    return next((root / "runs" / "er").iterdir())


@pytest.mark.slow
def test_early_response_and_mediation_folders_written(run_dir: Path) -> None:
    table = pd.read_csv(run_dir / "early_response" / "early_response.csv")
    assert {"marker", "effect", "q_value_assoc", "label"} <= set(table.columns)
    effects = pd.read_csv(run_dir / "mediation" / "mediation_effects.csv")
    assert {"indirect", "direct", "total"} <= set(effects["effect"])


@pytest.mark.slow
def test_landmark_csv_is_the_discovery_population(run_dir: Path) -> None:
    # predictive writes its own (baseline) landmark table: it must not overwrite the D7 one
    landmark = pd.read_csv(run_dir / "landmark.csv").set_index("arm")
    removed = pd.read_csv(run_dir / "landmark_removed.csv")
    assert landmark.loc["all", "n_before"] - landmark.loc["all", "n_after"] == len(removed) > 0
    assert (run_dir / "predictive_landmark.csv").exists()


@pytest.mark.slow
def test_report_has_the_time_sections(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text()
    assert "Early-response markers" in html
    assert "Mediation" in html
    assert "alive and event-free at day 7" in html
    assert "baseline-only" in html
    assert "what each analysis estimates" in html
