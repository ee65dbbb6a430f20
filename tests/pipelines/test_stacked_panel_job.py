"""The discover job with ``models.fusion: stacking`` exports a stacked panel; the CLI scores it."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning"),
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.SmallSampleWarning"),
]

DATA = """data:
  clinical: trial/clinical.csv
  labs: trial/labs.csv
  samples: trial/samples.csv
  flow: trial/flow.csv
  cytokines:
    cytokines: {path: trial/cytokines_long.csv}
features: {visits: [D0], blocks: {clinical: true, cytokines: true, flow: true}}
"""
DISCOVER = (
    "pipeline: discover\nname: stacked-job\noutput: runs\n" + DATA
    + "outcome: {kind: transplant_free_survival, horizon_days: 90}\n"
    "models: {models: [enet], n_splits: 3, n_repeats: 1, inner_cv: 2, n_permutations: 0,"
    " n_bootstraps: 0, fusion: stacking}\n"
    "predictive: {enabled: false}\n"
    "panel: {purpose: prognosis}\n"
)  # fmt: skip


def test_discover_job_exports_a_stacked_panel_the_cli_scores(tmp_path, monkeypatch):
    from biomarkers.datasets import simulate_trial
    from biomarkers.panel import BiomarkerPanel
    from pipelines.cli import app
    from pipelines.config import load_config
    from pipelines.score import table_from_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trial = simulate_trial(
            tmp_path / "trial", n_subjects=60, seed=2, cells_per_sample=0, tenx_samples=0,
            scenario="strong", missing_assays={"flow": 0.3},
        )  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "discover.yaml").write_text(DISCOVER)
    run = CliRunner().invoke(app, ["run", "discover.yaml", "--quiet"])
    assert run.exit_code == 0, run.output
    path = next((tmp_path / "runs").glob("stacked-job*/**/panel/panel.json"))
    panel = BiomarkerPanel.read(path)
    doc = panel.to_dict()
    assert doc["format_version"] == 2
    assert doc["model"]["type"] == "stacked"
    assert "flow" in doc["model"]["stacked"]["blocks"]

    (tmp_path / "score.yaml").write_text(f"pipeline: score\nname: new\npanel: {path}\n" + DATA)
    out = tmp_path / "scores.csv"
    args = ["score", str(path), "--config", "score.yaml", "--out", str(out), "--quiet"]
    scored = CliRunner().invoke(app, args)
    assert scored.exit_code == 0, scored.output
    cli = pd.read_csv(out, dtype={"subject_id": str}).set_index("subject_id")
    here = panel.score(table_from_config(panel, load_config(tmp_path / "score.yaml")))
    np.testing.assert_allclose(cli.loc[here.index, "score"], here["score"], rtol=0, atol=1e-12)
    no_flow = set(here.index[here["missing_blocks"].map(lambda b: "flow" in b)])
    assert no_flow == set(trial.truth.missing_assays["flow"]["subjects"]) & set(here.index)
    assert no_flow
