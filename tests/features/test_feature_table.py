from __future__ import annotations

import numpy as np
import pytest

from biomarkers.exceptions import BelowDetectionLimitWarning, ConfigError, LeakageError
from biomarkers.features import CensoredValueImputer, build_feature_table

from .conftest import make_outcome, make_study

pytestmark = pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning")


def test_names_values_and_var_metadata(study):
    outcome = make_outcome(study.clinical.index)
    ft = build_feature_table(study, visits=["D0", "D7"], outcome=outcome)
    names = set(ft.var_names)
    assert {
        "clinical:meld@D0",
        "cytokine:IL6@D0",
        "cytokine:IL6@D7",
        "flow:Treg@D0",
        "flow:Th17_cells@D0",
        "composition:CD14_mono@D0",
        "cytokine:IL6@D7-D0",
    } <= names
    assert list(ft.obs_names) == list(study.clinical.index)
    assert ft.obs["arm"].tolist() == study.clinical["arm"].tolist()
    assert ft.obs["response"].tolist() == outcome.table["response"].tolist()
    assert ft.uns["outcomes"]["response"] == {
        "kind": "binary",
        "columns": ["response"],
        "assessed_day": 28,
        "definition": "alive and transplant-free at day 28",
    }
    v = ft.var.loc["cytokine:IL6@D7"]
    assert (v["modality"], v["entity"], v["visit"], v["day"], v["kind"]) == (
        "cytokine",
        "IL6",
        "D7",
        7,
        "value",
    )
    assert v["lod"] == pytest.approx(np.log2(1.0 + 1.0))  # lod on the log2(x+1) scale of X
    assert v["unit"] == "log2(pg/mL+1)"
    assert 0 <= v["replicate_cv_median"] <= 0.2
    d = ft.var.loc["cytokine:IL6@D7-D0"]
    assert (d["kind"], d["visit"], d["day"]) == ("delta", "D7-D0", 7)

    # values: cytokine = log2(x + 1) of the sample of that subject × visit
    cyt = study.assays["cytokines"]
    s = "P03"
    row = np.flatnonzero((cyt.obs["subject_id"] == s) & (cyt.obs["visit"] == "D7"))[0]
    got = ft[s, "cytokine:IL10@D7"].X.item()
    assert got == pytest.approx(np.log2(cyt.X[row, 1] + 1))
    delta = ft[s, "cytokine:IL10@D7-D0"].X.item()
    row0 = np.flatnonzero((cyt.obs["subject_id"] == s) & (cyt.obs["visit"] == "D0"))[0]
    assert delta == pytest.approx(np.log2(cyt.X[row, 1] + 1) - np.log2(cyt.X[row0, 1] + 1))
    lab = study.labs.query("subject_id == @s and visit == 'D0'")["meld"].item()
    assert ft[s, "clinical:meld@D0"].X.item() == pytest.approx(lab)


def test_censoring_encoded_and_flagged(study):
    with pytest.warns(BelowDetectionLimitWarning, match="IFNG@D0"):
        ft = build_feature_table(study, visits=["D0", "D7"], blocks=["cytokines", "deltas"])
    X = ft.to_df()
    assert np.isneginf(X["cytokine:IFNG@D7"]).all()
    assert X.loc["P00", "cytokine:IL6@D7"] == np.inf  # sample row 1 = P00 D7, above ULOQ
    assert np.isnan(X.loc["P01", "cytokine:IL10@D0"])  # missing stays NaN
    assert ft.var.loc["cytokine:IFNG@D0", "censored_fraction"] == pytest.approx(5 / 6)
    assert ft.var.loc["cytokine:IFNG@D0", "flag_censored"]
    assert not ft.var.loc["cytokine:IL10@D0", "flag_censored"]
    assert np.isnan(X["cytokine:IFNG@D7-D0"]).all()  # change of a censored value is unknown
    # the imputer consumes the table as is: limits from var["lod"]
    imp = CensoredValueImputer(
        "lod_half", limits=ft.var["lod"].to_numpy(), log2_offset=ft.var["log2_offset"].to_numpy()
    )
    out = imp.fit_transform(ft.X)
    j = list(ft.var_names).index("cytokine:IFNG@D7")
    assert np.allclose(out[:, j], np.log2(3.0 / 2 + 1))  # LOD 3 pg/mL halved, then log2(x + 1)
    assert ft.var.loc["cytokine:IFNG@D7", "log2_offset"] == 1.0
    assert np.isnan(ft.var.loc["cytokine:IFNG@D7-D0", "lod"])


def test_leakage_refused_with_allowed_visits(study):
    outcome = make_outcome(study.clinical.index, assessed_day=7)
    with pytest.raises(LeakageError, match=r"visits D7 \(day 7\).*allowed visits: D0$"):
        build_feature_table(study, visits=["D0", "D7"], outcome=outcome)


def test_single_cell_blocks_from_backed_path(tmp_path):
    study = make_study(cell_path=tmp_path / "cells.h5ad")
    ft = build_feature_table(
        study,
        visits=["D0", "D7"],
        blocks={
            "pseudobulk": {"cell_types": ["CD4_T"], "genes": ["FOXP3", "CD3D"], "min_cells": 5},
            "geneset": {"gene_sets": {"TREG": ["FOXP3", "IL2RA", "CTLA4"]}},
            "composition": {"min_cells": 10},
            "deltas": True,
            "slope": True,
        },
    )
    assert "pseudobulk:CD4_T:FOXP3@D0" in ft.var_names
    assert "geneset:CD4_T:TREG@D7" in ft.var_names
    assert "pseudobulk:CD4_T:FOXP3@D7-D0" in ft.var_names
    assert "composition:B@slope(D0..D7)" in ft.var_names
    assert ft.var.loc["pseudobulk:CD4_T:FOXP3@D0", "cell_type"] == "CD4_T"
    # value = log1p CPM of the subject's pseudobulk sample
    cells = study.singlecell
    m = (cells.obs["sample_id"] == "P02_D0") & (cells.obs["cell_type"] == "CD4_T")
    summed = cells.X[m.to_numpy()].sum(axis=0).astype(float)
    expected = np.log1p(summed[list(cells.var_names).index("FOXP3")] / summed.sum() * 1e6)
    assert ft["P02", "pseudobulk:CD4_T:FOXP3@D0"].X.item() == pytest.approx(expected)
    # composition = CLR within the sample
    counts = cells.obs[cells.obs["sample_id"] == "P02_D0"]["cell_type"].value_counts()
    logc = np.log(counts.reindex(["B", "CD14_mono", "CD4_T"]).to_numpy() + 0.5)
    assert ft["P02", "composition:B@D0"].X.item() == pytest.approx(logc[0] - logc.mean())
    # slope over two visits = delta / 7 days
    d = ft["P02", "composition:B@D7-D0"].X.item() if "composition:B@D7-D0" in ft.var_names else None
    assert ft["P02", "composition:B@slope(D0..D7)"].X.item() == pytest.approx(d / 7)


def test_config_errors(study):
    with pytest.raises(ConfigError, match="unknown block 'cytokine'; did you mean 'cytokines'"):
        build_feature_table(study, visits=["D0"], blocks={"cytokine": {}})
    with pytest.raises(ConfigError, match="visit 'D5' is not a study visit"):
        build_feature_table(study, visits=["D5"])
    with pytest.raises(ConfigError, match="VarianceFilter"):
        build_feature_table(study, visits=["D0"], blocks={"pseudobulk": {"genes": "hvg"}})
    with pytest.raises(ConfigError, match="unknown option 'min_cell'"):
        build_feature_table(study, visits=["D0"], blocks={"composition": {"min_cell": 3}})


@pytest.mark.slow
def test_with_simulated_trial_and_real_study(tmp_path):
    from biomarkers.clinical import transplant_free_survival
    from biomarkers.datasets import simulate_trial
    from biomarkers.study import Study

    simulate_trial(tmp_path, n_subjects=12, cells_per_sample=60, seed=1)
    study = Study.from_files(
        clinical=tmp_path / "clinical.csv",
        labs=tmp_path / "labs.csv",
        samples=tmp_path / "samples.csv",
        singlecell=tmp_path / "singlecell.h5ad",
        cytokines=tmp_path / "cytokines_long.csv",
        flow=tmp_path / "flow.csv",
        backed=True,
    )
    outcome = transplant_free_survival(study.clinical, horizon_days=90)
    blocks = {
        "clinical": {},
        "cytokines": {},
        "composition": {"min_cells": 5},
        "pseudobulk": {"genes": ["LYZ", "CD3D"], "min_cells": 5},
        "deltas": True,
    }
    ft = build_feature_table(study, visits=["D0", "D7"], outcome=outcome, blocks=blocks)
    assert "clinical:meld@D0" in ft.var_names  # computed by biomarkers.clinical.compute_scores
    assert ft.var["modality"].isin(["clinical", "cytokine", "composition", "pseudobulk"]).all()
    assert ft.uns["outcomes"][outcome.name]["assessed_day"] == 90
    ft.write_h5ad(tmp_path / "ft.h5ad")  # uns/var must be serialisable
    with pytest.raises(LeakageError, match=r"allowed visits: D0, D7, D14, D21, D28$"):
        build_feature_table(study, visits=["D0", "D90"], outcome=outcome)
