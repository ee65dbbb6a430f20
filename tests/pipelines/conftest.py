"""Small simulated trials reshaped into the designs of issue 17 (cohort, three arms)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

#: A discover config fast enough for a test (one model, few folds, no bootstrap).
DISCOVER = """
pipeline: discover
name: {name}
output: runs
data:
  clinical: {clinical}
  labs: trial/labs.csv
  samples: trial/samples.csv
  cytokines:
    cytokines: {{path: trial/cytokines_long.csv}}
outcome: {{kind: transplant_free_survival, horizon_days: 90}}
features: {{visits: [D0], blocks: {{clinical: true, cytokines: true}}}}
models: {{models: [enet], n_splits: 3, n_repeats: 1, inner_cv: 2, n_permutations: 0, n_bootstraps: 0}}
predictive: {{n_permutations: 2, n_bootstraps: 0, method: [interaction, dr_learner], covariates: [age, sex]}}
panel: {{enabled: false}}
"""


@pytest.fixture(scope="module")
def designs(tmp_path_factory) -> Path:
    """``trial/`` (two arms), ``cohort/clinical.csv`` (no arm column), ``three/`` (arms A, B, C)."""
    from biomarkers.datasets import simulate_trial

    root = tmp_path_factory.mktemp("designs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simulate_trial(root / "trial", n_subjects=40, seed=1, cells_per_sample=0, tenx_samples=0)
    clinical = pd.read_csv(root / "trial" / "clinical.csv", dtype={"subject_id": str})
    (root / "cohort").mkdir()
    clinical.drop(columns="arm").to_csv(root / "cohort" / "clinical.csv", index=False)
    (root / "three").mkdir()
    three = clinical.assign(arm=np.array(["A", "B", "C"])[np.arange(len(clinical)) % 3])
    three.to_csv(root / "three" / "clinical.csv", index=False)
    return root


@pytest.fixture
def design_config(designs: Path):
    """``design_config(name, clinical=..., extra=...)``: a fast discover config in ``designs``."""

    def write(name: str, *, clinical: str, extra: str = "") -> Path:
        path = designs / f"{name}.yaml"
        path.write_text(DISCOVER.format(name=name, clinical=clinical) + extra)
        return path

    return write


@pytest.fixture(scope="session")
def cli():
    """``cli(*args)``: ``biomarkers ARGS`` in a fresh interpreter (no pytest warning filters)."""

    def run(*args: str, cwd: Path | None = None, timeout: float = 300):
        return subprocess.run(
            [sys.executable, "-m", "pipelines.cli", *args],
            capture_output=True, text=True, cwd=cwd, timeout=timeout, check=False,
        )  # fmt: skip

    return run
