"""A stacked panel from a simulated trial with missing flow; the CLI scores new raw files alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import biomarkers as bm

from .test_panel_end_to_end import BLOCKS, _study, _subset

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning"),
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.SmallSampleWarning"),
]


def test_stacked_panel_scores_patients_without_flow_from_the_cli(tmp_path):
    from biomarkers.models._stacked_panel import discovery_stacked_panel

    trial = bm.datasets.simulate_trial(
        tmp_path / "trial", n_subjects=100, seed=3, cells_per_sample=0, scenario="strong",
        missing_assays={"flow": 0.3},
    )  # fmt: skip
    subjects = pd.read_csv(trial.paths["clinical"], dtype=str)["subject_id"].tolist()
    held_out = set(np.random.default_rng(0).choice(subjects, size=30, replace=False))
    train_dir = _subset(trial, set(subjects) - held_out, tmp_path / "train")
    new_dir = _subset(trial, held_out, tmp_path / "new")
    study = _study(train_dir)
    outcome = bm.clinical.transplant_free_survival(study.clinical, horizon_days=90)
    table = bm.features.build_feature_table(study, visits=["D0"], blocks=BLOCKS, outcome=outcome)
    table = table[table.obs["tfs90"].notna().to_numpy()].copy()
    result = bm.models.discover(
        table, outcome="tfs90", models=("enet",), cv=(3, 1), inner_cv=3, n_permutations=0,
        n_bootstraps=0, random_state=0,
    )  # fmt: skip
    panel = discovery_stacked_panel(result, name="stacked e2e")
    assert panel.to_dict()["population"]["n_subjects"] == table.n_obs  # no one dropped
    path = panel.write(tmp_path / "panel")

    cfg = tmp_path / "score.yaml"
    cfg.write_text(
        f"pipeline: score\nname: new-patients\npanel: {path}\n"
        "data:\n  clinical: new/clinical.csv\n  labs: new/labs.csv\n  samples: new/samples.csv\n"
        "  flow: new/flow.csv\n  cytokines:\n    cytokines: {path: new/cytokines_long.csv}\n"
        f"features:\n  blocks: {BLOCKS}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "score", str(path), "--config", str(cfg),
         "--out", str(tmp_path / "scores.csv"), "--quiet"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
        env={**os.environ, "PYTHONPATH": str(Path(bm.__file__).parents[1])},  # this checkout
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    cli = pd.read_csv(tmp_path / "scores.csv", dtype={"subject_id": str}).set_index("subject_id")
    new_table = bm.features.build_feature_table(_study(new_dir), visits=["D0"], blocks=BLOCKS)
    here = bm.panel.BiomarkerPanel.read(path).score(new_table)
    np.testing.assert_allclose(cli.loc[here.index, "score"], here["score"], rtol=0, atol=1e-12)
    no_flow = here["missing_blocks"].map(lambda b: "flow" in b)
    assert no_flow.any()
    assert set(here.index[no_flow]) == held_out & set(
        trial.truth.missing_assays["flow"]["subjects"]
    )
    assert (here.loc[no_flow, "pattern_auroc"].notna()).all()
