"""Truth: contents per scenario, JSON round trip, load_truth errors, feature names resolvable."""

from __future__ import annotations

import json

import anndata as ad
import pandas as pd
import pytest

from biomarkers._names import clean_entity, parse_feature_name
from biomarkers.datasets import Truth, load_truth, simulate_trial
from biomarkers.exceptions import ConfigError, InputFileError


def test_truth_json_round_trip(small_trial):
    data = json.loads(small_trial.paths["truth"].read_text())
    assert data["format"] == "biomarkers.truth"
    assert data["format_version"] == 1
    loaded = load_truth(small_trial.out_dir)
    assert loaded == small_trial.truth
    assert load_truth(small_trial.paths["truth"]) == small_trial.truth
    assert isinstance(loaded, Truth)


def test_truth_lists_planted_effects(small_trial):
    t = small_trial.truth
    assert t.scenario == "default"
    assert "cytokine:IL6@D0" in t.prognostic_features
    assert "flow:CD14_HLADR_low@D0" in t.prognostic_features
    assert "flow:Treg@D0" in t.predictive_features
    assert "pseudobulk:CD14_mono:IL1B@D7" in t.mechanism_features
    assert "composition:Treg@D28" in t.mechanism_features
    assert "cytokine:IL6@D14" in t.mechanism_features
    assert t.treatment_effect["hr_at_mean_latents"] < 1
    assert 0.5 < t.treatment_effect["mean_hr_treated"] < 0.75
    frame = t.to_frame()
    assert set(frame["role"]) == {"prognostic", "predictive", "mechanism", "null"}
    assert "Truth" in t._repr_html_()


@pytest.mark.parametrize(
    ("scenario", "n_prog", "n_pred", "n_mech"),
    [("null", 0, 0, 0), ("no_benefit", 8, 0, 0), ("strong", 8, 4, 20)],
)
def test_scenarios_change_what_is_planted(tmp_path, scenario, n_prog, n_pred, n_mech):
    t = simulate_trial(
        tmp_path, n_subjects=8, seed=0, cells_per_sample=3, scenario=scenario, tenx_samples=0
    ).truth
    assert len(t.prognostic) == n_prog
    assert len(t.predictive) == n_pred
    assert (len(t.mechanism) >= n_mech) if n_mech else (t.mechanism == [])
    if scenario == "null":
        assert t.severity_associated == []
        assert t.treatment_effect["hr_at_mean_latents"] == 1


def test_feature_names_resolve_to_data(small_trial):
    """Every entity named in the truth exists in the file that the toolkit will read it from."""
    long = pd.read_csv(small_trial.paths["cytokines_long"])
    olink = pd.read_csv(small_trial.paths["olink_npx"], sep=";")
    flow = pd.read_csv(small_trial.paths["flow"])
    adata = ad.read_h5ad(small_trial.paths["singlecell"], backed="r")
    # truth names are feature names: entities cleaned by the grammar, as the FeatureTable builds them
    entities = {
        "cytokine": set(long["analyte"]),
        "olink": set(olink["Assay"]),
        "flow": set(flow["population"]),
        "composition": set(adata.obs["cell_type"].cat.categories),
    }
    entities = {m: {clean_entity(e) for e in es} for m, es in entities.items()}
    visits = {"D0", "D7", "D14", "D21", "D28", "D90"}
    t = small_trial.truth
    names = t.prognostic_features + t.predictive_features + t.mechanism_features + t.null_features
    names += t.severity_associated
    for name in names:
        f = parse_feature_name(name)
        assert f.visit in visits, name
        if f.modality == "pseudobulk":
            assert f.cell_type in entities["composition"], name
            assert f.entity in adata.var_names, name
        else:
            assert f.entity in entities[f.modality], name
    adata.file.close()


def test_load_truth_errors(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        load_truth(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputFileError, match="not valid JSON"):
        load_truth(bad)
    bad.write_text(json.dumps({"format": "biomarkers.panel", "format_version": 1}))
    with pytest.raises(InputFileError, match=r"expected 'biomarkers\.truth'"):
        load_truth(bad)
    bad.write_text(json.dumps({"format": "biomarkers.truth", "format_version": 99}))
    with pytest.raises(InputFileError, match="format_version 99"):
        load_truth(bad)


def test_feature_names_for_each_cytokine_source(small_trial):
    t = small_trial.truth
    assert "cytokine:IL6@D0" in t.features("prognostic")
    luminex = t.features("prognostic", source="luminex")
    assert "cytokine:IL-6@D0" in luminex
    assert "flow:CD14_HLADR_low@D0" in luminex
    assert "cytokine:TNF-α@D7" in t.features("mechanism", source="msd")
    everything = t.features()
    assert len(everything) == len(set(everything))
    with pytest.raises(
        ConfigError, match="role='prognosis' is not supported; did you mean 'prognostic'"
    ):
        t.features("prognosis")
    with pytest.raises(
        ConfigError, match="source='xponent' is not supported; use one of: 'bioplex'"
    ):
        t.features(source="xponent")
