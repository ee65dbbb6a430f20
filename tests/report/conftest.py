"""A fake run folder with the result files a discovery run writes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def fake_run(tmp_path):
    return _fake_run(tmp_path)


def _fake_run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({
        "format": "biomarkers.run", "format_version": 1, "name": "demo", "status": "complete",
        "seed": 0, "started": "2026-01-01T00:00:00Z", "packages": {"biomarkers": "0.1.0"},
        "inputs": {"data.clinical": {"path": "/x/clinical.csv", "sha256": "ab" * 32, "size": 10}},
    }))  # fmt: skip
    (run / "config.yaml").write_text(
        "pipeline: discover\nmodels: {models: [enet], n_splits: 5, n_repeats: 2, inner_cv: 3, "
        "n_bootstraps: 100, n_permutations: 10}\nfeatures: {visits: [D0], deltas: false}\n"
    )
    (run / "outcome.json").write_text(
        json.dumps({"name": "tfs90", "kind": "binary", "assessed_day": 90, "definition": "alive"})
    )
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    pd.DataFrame(
        {"model": "enet", "repeat": np.repeat([0, 1], 30), "y_true": y, "y_pred": rng.random(60)}
    ).to_csv(run / "oof_predictions.csv", index=False)
    pd.DataFrame(
        {
            "model": ["enet"],
            "metric": ["auroc"],
            "estimate": [0.71],
            "ci_low": [0.6],
            "ci_high": [0.8],
            "n": [60],
        }
    ).to_csv(run / "performance.csv", index=False)
    pd.DataFrame(
        {
            "feature": ["cytokine:IL6@D0", "flow:Treg@D0"],
            "selection_frequency": [0.9, 0.2],
            "importance": [1.0, 0.1],
        }
    ).to_csv(run / "ranking.csv", index=False)
    pd.DataFrame({"arm": ["SMT", "ucMSC+SMT"], "randomised": [5, 5], "analysed": [5, 4]}).to_csv(
        run / "cohort_counts.csv", index=False
    )
    return run
