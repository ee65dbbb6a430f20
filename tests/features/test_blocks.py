"""The feature-block registry and the default blocks (built from what the study has)."""

from __future__ import annotations

import logging

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import biomarkers as bm
from biomarkers.exceptions import ConfigError
from biomarkers.features import build_feature_table

from .conftest import make_study

pytestmark = pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning")


def _only(study, *names):
    study.assays = {n: study.assays[n] for n in names}
    return study


@pytest.mark.parametrize("kept", ["cytokines", "flow"], ids=["no-flow", "no-cytokines"])
def test_default_blocks_build_on_a_study_without_an_assay(kept):
    study = _only(make_study(), kept)
    ft = build_feature_table(study, visits=["D0", "D7"])
    modality = {"cytokines": "cytokine", "flow": "flow"}[kept]
    assert set(ft.var["modality"]) >= {"clinical", modality, "composition"}
    assert not ({"cytokine", "flow"} - {modality}) & set(ft.var["modality"])


def test_default_blocks_cover_every_loaded_assay_and_pseudobulk():
    study = make_study()
    study.assays["olink"] = study.assays["cytokines"].copy()
    ft = build_feature_table(study, visits=["D0", "D7"])
    modalities = set(ft.var["modality"])
    assert {"clinical", "cytokine", "olink", "flow", "composition", "pseudobulk"} <= modalities
    assert "olink:IL6@D0" in ft.var_names
    assert "pseudobulk:CD14_mono:LYZ@D0" in ft.var_names
    assert "pseudobulk:CD14_mono:LYZ@D7-D0" in ft.var_names  # deltas on by default


def test_another_assay_gets_the_generic_block_with_its_own_modality():
    study = make_study(with_cells=False)
    study.assays["msd"] = study.assays.pop("cytokines")
    ft = build_feature_table(study, visits=["D0"])
    assert "msd:IL6@D0" in ft.var_names
    assert ft.var.loc["msd:IL6@D0", "modality"] == "msd"
    ft = build_feature_table(study, visits=["D0"], blocks={"msd": {"transform": "log2"}})
    assert ft.var.loc["msd:IL6@D0", "unit"] == "log2(pg/mL+1)"


def test_blocks_built_are_logged_and_recorded(caplog):
    study = make_study()
    with caplog.at_level(logging.INFO, logger="biomarkers"):
        ft = build_feature_table(study, visits=["D0", "D7"])
    counts = dict(ft.uns["blocks"])
    assert set(counts) == {"clinical", "cytokines", "flow", "composition", "pseudobulk", "deltas"}
    assert sum(counts.values()) == ft.n_vars
    value = ft.var["kind"] == "value"
    assert counts["flow"] == (value & (ft.var["modality"] == "flow")).sum()
    assert counts["deltas"] == (ft.var["kind"] == "delta").sum()
    assert "features: built blocks" in caplog.text
    assert f"pseudobulk ({counts['pseudobulk']})" in caplog.text


def test_default_block_without_its_data_is_skipped_with_a_log_line(caplog):
    study = make_study(with_cells=False)
    with caplog.at_level(logging.INFO, logger="biomarkers"):
        ft = build_feature_table(study, visits=["D0"])
    assert "composition" not in ft.uns["blocks"]
    assert "pseudobulk" not in ft.uns["blocks"]
    assert "no single-cell data" in caplog.text


def test_explicit_block_whose_assay_is_missing_is_a_clear_error():
    study = _only(make_study(), "cytokines")
    with pytest.raises(
        ConfigError, match=r"features\.flow: the study has no assay 'flow'.*available: cytokines"
    ):
        build_feature_table(study, visits=["D0"], blocks=["flow"])
    with pytest.raises(ConfigError, match=r"features\.olink: the study has no assay 'olink'"):
        build_feature_table(study, visits=["D0"], blocks={"olink": {}})
    with pytest.raises(ConfigError, match=r"features\.pseudobulk: the study has no single-cell"):
        build_feature_table(make_study(with_cells=False), visits=["D0"], blocks=["pseudobulk"])


def test_unknown_block_and_option_suggest_the_closest():
    study = make_study(with_cells=False)
    with pytest.raises(ConfigError, match="unknown block 'olnk'; did you mean 'olink'"):
        build_feature_table(study, visits=["D0"], blocks={"olnk": {}})
    with pytest.raises(ConfigError, match="unknown option 'transfrom'; did you mean 'transform'"):
        build_feature_table(study, visits=["D0"], blocks={"cytokines": {"transfrom": "log2"}})


def test_available_blocks_lists_the_registry():
    from biomarkers.features import available_blocks

    table = available_blocks()
    assert {"name", "description", "needs", "longitudinal", "default", "options"} <= set(table)
    rows = table.set_index("name")
    assert {"clinical", "cytokines", "olink", "flow", "composition", "pseudobulk"} <= set(
        rows.index
    )
    assert {"geneset", "deltas", "slope", "auc"} <= set(rows.index)
    assert rows.loc["pseudobulk", "needs"] == "singlecell"
    assert rows.loc["olink", "needs"] == "olink"
    assert rows.loc["clinical", "needs"] is None
    assert rows.loc["slope", "longitudinal"]
    assert not rows.loc["slope", "default"]
    assert rows.loc["pseudobulk", "default"]
    assert rows.loc["cytokines", "options"]["transform"] == "log2"
    assert all(isinstance(d, str) and d for d in table["description"])


def test_default_gene_filter_is_the_most_variable_genes_per_cell_type():
    import scanpy as sc

    study = make_study()
    blocks = {"pseudobulk": {"n_genes": 3, "cell_types": ["CD4_T"]}}
    ft = build_feature_table(study, visits=["D0"], blocks=blocks)
    assert ft.uns["feature_table"]["params"]["blocks"]["pseudobulk"]["genes"] == "variable"
    pb = bm.features.pseudobulk(study.singlecell, min_cells=10)
    pb = pb[pb.obs["cell_type"] == "CD4_T"]
    X = np.asarray(pb.X, dtype=float)
    cpm = np.log1p(X / X.sum(axis=1, keepdims=True) * 1e6)
    oracle = ad.AnnData(cpm, var=pd.DataFrame(index=pb.var_names))
    sc.pp.highly_variable_genes(oracle, flavor="seurat", n_top_genes=3)
    assert set(ft.var["entity"]) == set(oracle.var_names[oracle.var["highly_variable"]])
    blocks["pseudobulk"]["genes"] = "expressed"
    ft = build_feature_table(study, visits=["D0"], blocks=blocks)
    assert set(ft.var["entity"]) == set(pb.var_names[np.argsort(-cpm.mean(axis=0))[:3]])


@pytest.mark.slow
def test_strong_scenario_olink_and_pseudobulk_markers_are_built_and_ranked(tmp_path):
    trial = bm.datasets.simulate_trial(
        tmp_path, n_subjects=200, seed=3, cells_per_sample=100, scenario="strong", tenx_samples=0
    )
    study = trial.study(backed=True)
    outcome = bm.clinical.transplant_free_survival(study.clinical, horizon_days=90)
    table = bm.features.build_feature_table(study, visits=["D0"], outcome=outcome)
    planted = [
        f
        for f in trial.truth.features("prognostic", source="luminex")
        if f.startswith(("olink:", "pseudobulk:"))
    ]
    assert {"olink:IL6@D0", "pseudobulk:CD14_mono:IL1B@D0"} <= set(planted)
    assert set(planted) <= set(table.var_names)  # the default blocks build every one of them
    table = table[table.obs["tfs90"].notna().to_numpy()].copy()
    result = bm.models.discover(
        table, outcome="tfs90", models=("enet",), cv=(5, 2), n_permutations=0, n_bootstraps=100,
        random_state=0,
    )  # fmt: skip
    top = set(result.ranking.set_index("feature")["rank"].nsmallest(20).index)
    assert top & set(planted), sorted(top)
