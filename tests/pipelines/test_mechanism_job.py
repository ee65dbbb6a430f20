"""The mechanism job reads the cells once and writes what its results' ``save`` returns."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = [
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning"),
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.SmallSampleWarning"),
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.DataQualityWarning"),
]


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    from biomarkers.datasets import simulate_trial

    out = tmp_path_factory.mktemp("trial")
    return simulate_trial(out, n_subjects=12, cells_per_sample=60, seed=3, tenx_samples=0)


def _config(trial, out):
    from pipelines.config import parse_config

    paths = trial.paths
    data = {
        "pipeline": "mechanism",
        "name": "mech",
        "output": str(out),
        "data": {k: str(paths[k]) for k in ("clinical", "labs", "samples", "singlecell")},
        "mechanism": {
            "cell_type": ["CD14_mono"], "enrichment": False, "trajectories": False,
            "links": False, "min_cells": 3,
        },
    }  # fmt: skip
    return parse_config(data, base_dir=out)


def _counting(monkeypatch, module, name):
    calls = []
    real = getattr(module, name)

    def counted(source, *args, **kwargs):
        calls.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_mechanism_job_streams_the_cells_once(trial, tmp_path, monkeypatch):
    import biomarkers.features._composition as comp_mod
    import biomarkers.features._pseudobulk as pb_mod
    from biomarkers.features import composition
    from pipelines._steps import load_study
    from pipelines.mechanism import mechanism_steps
    from pipelines.run import RunFolder

    cfg = _config(trial, tmp_path)
    study = load_study(cfg)
    source = study.singlecell_path
    expected = composition(source, tidy=True)  # the per-cell count, before patching
    reads_pb = _counting(monkeypatch, pb_mod, "obs_columns")
    reads_comp = _counting(monkeypatch, comp_mod, "obs_columns")
    run = RunFolder.create(tmp_path / "runs", name="mech", config={}, inputs={}, seed=0)
    found = mechanism_steps(cfg, study, None, run)

    assert len(reads_pb) == 1  # pseudobulk read obs and streamed X once
    assert reads_comp == []  # composition counted from the pseudobulk's n_cells
    assert "composition_significant" in found
    written = pd.read_csv(run.path / "mechanism" / "composition.csv", dtype={"sample_id": str})
    got = written[expected.columns].sort_values(["sample_id", "cell_type"], ignore_index=True)
    want = expected.sort_values(["sample_id", "cell_type"], ignore_index=True)
    want["sample_id"] = want["sample_id"].astype(str)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_categorical=False)


def test_composition_from_pseudobulk_equals_composition_from_cells(trial):
    import numpy as np

    from biomarkers.features import composition, pseudobulk

    path = trial.paths["singlecell"]
    from_cells = composition(path)
    from_pb = composition(pseudobulk(path))
    assert list(from_pb.obs_names) == list(from_cells.obs_names)
    assert list(from_pb.var_names) == list(from_cells.var_names)
    np.testing.assert_array_equal(from_pb.X, from_cells.X)
    np.testing.assert_allclose(from_pb.layers["clr"], from_cells.layers["clr"])
    pd.testing.assert_frame_equal(from_pb.obs, from_cells.obs)


def test_composition_refuses_a_filtered_pseudobulk(trial):
    from biomarkers.features import composition, pseudobulk

    with pytest.raises(ValueError, match=r"min_cells=5.*build it with min_cells=0"):
        composition(pseudobulk(trial.paths["singlecell"], min_cells=5))


@pytest.mark.parametrize(("kind", "expected"), [("local", {}), ("dask", {"backend": "dask"})])
def test_the_config_backend_decides_where_the_pseudobulk_runs(
    trial, tmp_path, monkeypatch, kind, expected
):
    from contextlib import contextmanager

    import biomarkers.features as features
    import pipelines.mechanism as job

    clusters, calls = [], []
    real = features.pseudobulk

    @contextmanager
    def fake_backend(backend):
        clusters.append(backend)
        yield "client"

    def recording(source, **kwargs):
        calls.append(kwargs)
        return real(source)  # the real work stays local: no cluster in unit tests

    monkeypatch.setattr(job, "parallel_backend", fake_backend)
    monkeypatch.setattr(features, "pseudobulk", recording)
    cfg = _config(trial, tmp_path)
    cfg.backend.kind, cfg.backend.scheduler = kind, "tcp://h:8786"
    job._pseudobulk(cfg, trial.paths["singlecell"])
    if kind == "dask":
        assert calls == [{"backend": "dask", "client": "client"}]
        assert clusters == [{"kind": "dask", "n_jobs": 1, "scheduler": "tcp://h:8786"}]
    else:
        assert calls == [expected]
        assert clusters == []


def test_mechanism_job_runs_on_a_cohort_with_visit_contrasts_only(trial, tmp_path):
    from pipelines._steps import load_study
    from pipelines.mechanism import mechanism_steps
    from pipelines.run import RunFolder

    clinical = pd.read_csv(trial.paths["clinical"], dtype={"subject_id": str})
    clinical.drop(columns="arm").to_csv(tmp_path / "clinical.csv", index=False)
    cfg = _config(trial, tmp_path)
    cfg.data.clinical = tmp_path / "clinical.csv"
    cfg.data.cytokines = {"cytokines": {"path": trial.paths["cytokines_long"]}}
    cfg.mechanism.trajectories = True
    study = load_study(cfg)
    assert study.study_design == "cohort"
    run = RunFolder.create(tmp_path / "runs", name="mech", config={}, inputs={}, seed=0)
    found = mechanism_steps(cfg, study, None, run)

    de = pd.read_csv(run.path / "mechanism" / "de.csv")
    assert set(de["contrast"]) == {"visit: D7 vs D0", "visit: D28 vs D0"}
    change = pd.read_csv(run.path / "mechanism" / "composition_change.csv")
    assert set(change["term"]) == {"change"}  # no arm terms in a cohort
    assert found["trajectories"] == "skipped: the study is a cohort (no arms to compare)"
    assert not (run.path / "mechanism" / "trajectories_cytokines.csv").exists()
