"""Train on 70 simulated subjects, export a panel, score the held-out 30 from their raw files."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import biomarkers as bm

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning"),
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.SmallSampleWarning"),
]
FILES = ("clinical", "labs", "samples", "dosing", "cytokines_long", "flow")
BLOCKS = {"cytokines": {}, "flow": {}, "deltas": False}


def _subset(trial, subjects: set[str], out):
    """Write the raw files of ``subjects`` only (the files a site would send for new patients)."""
    out.mkdir()
    samples = pd.read_csv(trial.paths["samples"], dtype=str)
    keep_samples = set(samples.loc[samples["subject_id"].isin(subjects), "sample_id"])
    for name in FILES:
        df = pd.read_csv(trial.paths[name], dtype=str, keep_default_na=False)
        key = "subject_id" if "subject_id" in df else "sample_id"
        df = df[df[key].isin(subjects if key == "subject_id" else keep_samples)]
        df.to_csv(out / trial.paths[name].name, index=False)
    return out


def _study(folder):
    return bm.study.Study.from_files(
        clinical=folder / "clinical.csv", labs=folder / "labs.csv", samples=folder / "samples.csv",
        dosing=folder / "dosing.csv", flow=folder / "flow.csv",
        cytokines={"cytokines": folder / "cytokines_long.csv"},
    )  # fmt: skip


def test_panel_scores_held_out_raw_files_like_in_process(tmp_path):
    trial = bm.datasets.simulate_trial(
        tmp_path / "trial", n_subjects=100, seed=3, cells_per_sample=0, scenario="strong"
    )
    subjects = pd.read_csv(trial.paths["clinical"], dtype=str)["subject_id"].tolist()
    rng = np.random.default_rng(0)
    held_out = set(rng.choice(subjects, size=30, replace=False))
    train_dir = _subset(trial, set(subjects) - held_out, tmp_path / "train")
    new_dir = _subset(trial, held_out, tmp_path / "new")

    study = _study(train_dir)
    outcome = bm.clinical.transplant_free_survival(study.clinical, horizon_days=90)
    table = bm.features.build_feature_table(study, visits=["D0"], blocks=BLOCKS, outcome=outcome)
    table = table[table.obs["tfs90"].notna().to_numpy()].copy()
    result = bm.models.discover(
        table, outcome="tfs90", models=("enet",), cv=(3, 2), inner_cv=3,
        n_permutations=5, n_bootstraps=50, random_state=0,
    )  # fmt: skip
    panel = result.panel(k=5, min_stability=0)  # the top 5 by importance
    panel.write(tmp_path / "panel")
    assert len(panel.features) >= 1

    cfg = tmp_path / "score.yaml"
    cfg.write_text(
        "pipeline: score\nname: new-patients\n"
        f"panel: {tmp_path / 'panel' / 'panel.json'}\n"
        "data:\n  clinical: new/clinical.csv\n  labs: new/labs.csv\n  samples: new/samples.csv\n"
        "  flow: new/flow.csv\n  cytokines:\n    cytokines: {path: new/cytokines_long.csv}\n"
        f"features:\n  blocks: {BLOCKS}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "score", str(tmp_path / "panel" / "panel.json"),
         "--config", str(cfg), "--out", str(tmp_path / "scores.csv"), "--quiet"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    cli = pd.read_csv(tmp_path / "scores.csv", dtype={"subject_id": str}).set_index("subject_id")
    assert set(cli.index) == held_out

    new_table = bm.features.build_feature_table(_study(new_dir), visits=["D0"], blocks=BLOCKS)
    in_process = bm.panel.BiomarkerPanel.read(tmp_path / "panel" / "panel.json").score(new_table)
    np.testing.assert_allclose(
        cli.loc[in_process.index, "probability"], in_process["probability"], rtol=0, atol=1e-12
    )
    # and the exported panel reproduces the refit model it was built from, on the new patients
    features = list(panel.features)
    direct = panel.score(new_table[:, features].to_df())
    np.testing.assert_allclose(direct["probability"], in_process["probability"], atol=1e-12)
