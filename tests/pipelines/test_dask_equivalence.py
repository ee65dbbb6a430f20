"""The same discover config gives identical results locally and on a Dask LocalCluster."""

from __future__ import annotations

import pytest

import biomarkers as bm
from pipelines.config import load_config
from pipelines.run import run_job

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning"),
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.SmallSampleWarning"),
    # distributed's LocalCluster shutdown may leave sockets for the GC
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

CONFIG = """
pipeline: discover
name: eq
seed: 7
output: runs
data:
  clinical: trial/clinical.csv
  labs: trial/labs.csv
  samples: trial/samples.csv
  cytokines:
    cytokines: {{path: trial/luminex_xponent.csv}}
  flow: trial/flow.csv
outcome: {{kind: transplant_free_survival, horizon_days: 90}}
features: {{visits: [D0, D7]}}
models: {{models: [enet, xgboost], n_splits: 3, n_repeats: 2, inner_cv: 2, n_permutations: 4, n_bootstraps: 50}}
predictive: {{enabled: false}}
panel: {{enabled: false}}
backend: {backend}
"""


def test_local_and_dask_backends_give_identical_tables(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bm.datasets.simulate_trial(
        tmp_path / "trial", n_subjects=40, seed=2, cells_per_sample=0, scenario="strong"
    )
    outputs = {}
    for name, backend in {
        "local": "{kind: local, n_jobs: 1}",
        "dask": "{kind: dask, n_jobs: 2}",
    }.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(CONFIG.format(backend=backend))
        result = run_job(load_config(path), config_dir=tmp_path)
        assert result.status == "complete"
        outputs[name] = {
            f: (result.run_dir / f).read_bytes()
            for f in ("performance.csv", "ranking.csv", "oof_predictions.csv")
        }
    for file, local in outputs["local"].items():
        assert outputs["dask"][file] == local, f"{file} differs between the local and Dask backends"
