"""simulate_trial(missing_assays=...): whole assays missing for random subjects, recorded in the truth."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from biomarkers.datasets import simulate_trial
from biomarkers.exceptions import ConfigError


def test_missing_assays_drop_whole_assays_seeded_and_recorded(tmp_path):
    kw = dict(n_subjects=20, cells_per_sample=8, seed=2, singlecell_visits=("D0",), tenx_samples=0)
    full = simulate_trial(tmp_path / "full", **kw)
    part = simulate_trial(tmp_path / "part", **kw, missing_assays={"singlecell": 0.3, "flow": 0.15})
    again = simulate_trial(
        tmp_path / "again", **kw, missing_assays={"singlecell": 0.3, "flow": 0.15}
    )
    miss = {a: v["subjects"] for a, v in part.truth.missing_assays.items()}
    assert {a: len(v) for a, v in miss.items()} == {"flow": 3, "singlecell": 6}
    assert part.truth.missing_assays == again.truth.missing_assays
    truth = json.loads(part.paths["truth"].read_text())
    assert truth["missing_assays"]["flow"]["fraction"] == 0.15
    assert "missing_assays" not in json.loads(full.paths["truth"].read_text())
    samples = pd.read_csv(part.paths["samples"])
    sid = samples.set_index("sample_id")["subject_id"]
    flow = pd.read_csv(part.paths["flow"])
    assert not set(flow["sample_id"].map(sid)) & set(miss["flow"])
    # the other subjects keep exactly the values of the trial without missing assays
    flow_full = pd.read_csv(full.paths["flow"])
    kept = flow_full[~flow_full["sample_id"].map(sid).isin(miss["flow"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, flow)
    import anndata as ad

    obs = ad.read_h5ad(part.paths["singlecell"], backed="r").obs
    subjects = set(obs["sample_id"].astype(str).map(sid))
    assert not subjects & set(miss["singlecell"])
    assert len(subjects) == 20 - 6


def test_missing_assays_bad_input_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match="missing_assays"):
        simulate_trial(tmp_path, n_subjects=8, cells_per_sample=0, missing_assays={"cytof": 0.2})
    with pytest.raises(ConfigError, match="fraction"):
        simulate_trial(tmp_path, n_subjects=8, cells_per_sample=0, missing_assays={"flow": 1.5})
