"""End to end on the simulated trial: the planted mechanism effects are recovered."""

from __future__ import annotations

import pandas as pd
import pytest

import biomarkers.mechanism as mech

pytestmark = [
    pytest.mark.slow,
    # the cytokine reader warns (by design) that IFNg/IL17A are mostly below the LOD
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning"),
]


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    from biomarkers.datasets import simulate_trial

    out = tmp_path_factory.mktemp("trial")
    return simulate_trial(
        out, n_subjects=24, cells_per_sample=300, scenario="strong", seed=1, tenx_samples=0
    )


@pytest.fixture(scope="module")
def cells(trial):
    import anndata as ad

    cells = ad.read_h5ad(trial.paths["singlecell"])
    clinical = pd.read_csv(trial.paths["clinical"], dtype={"subject_id": str})
    return cells, clinical.set_index("subject_id")[["arm"]]


def _planted(trial, modality):
    return [m for m in trial.truth.mechanism if m["modality"] == modality]


def test_pseudobulk_de_and_enrichment_recover_planted_genes(trial, cells):
    from biomarkers.features import pseudobulk

    adata, clinical = cells
    pb = pseudobulk(adata)
    planted = _planted(trial, "pseudobulk")
    cell_types = sorted({m["cell_type"] for m in planted} & {"CD14_mono", "Treg"})
    de = mech.pseudobulk_de(
        pb, contrast=("visit", "D28", "D0"), arm="ucMSC+SMT", cell_type=cell_types,
        design_table=clinical,
    )  # fmt: skip
    hits = de.table.query("q_value <= 0.1")
    for m in planted:
        if m["cell_type"] in cell_types:
            row = hits[(hits.cell_type == m["cell_type"]) & (hits.gene == m["entity"])]
            assert len(row) == 1, m
            assert (row.log2fc.iat[0] > 0) == (m["direction"] == "up")
    expected = {(m["cell_type"], m["entity"]) for m in planted}
    assert len(set(zip(hits.cell_type, hits.gene, strict=True)) - expected) <= 2
    # only 5 of the treg module's 14 genes exist among the 765 simulated genes, and the
    # expression filter can drop one for the few Treg cells: allow modules of 3 genes here
    enr = mech.enrichment(de, tmin=3).table.set_index(["cell_type", "source"])
    assert enr.loc[("CD14_mono", "monocyte_inflammatory"), "score"] < 0
    assert enr.loc[("CD14_mono", "monocyte_inflammatory"), "q_value"] <= 0.1
    assert enr.loc[("Treg", "treg"), "score"] > 0
    assert enr.loc[("Treg", "treg"), "q_value"] <= 0.1


def test_composition_change_recovers_planted_proportions(trial, cells):
    adata, clinical = cells
    res = mech.composition_change(adata, design_table=clinical)
    diff = res.table.query("term == 'difference' and visit == 'D28'").set_index("cell_type")
    for m in _planted(trial, "composition"):
        assert diff.loc[m["entity"], "q_value"] <= 0.1, m
        assert (diff.loc[m["entity"], "effect"] > 0) == (m["direction"] == "up")


def test_trajectories_recover_planted_cytokines(trial):
    import biomarkers.io as bio

    tidy = bio.average_replicates(bio.read_cytokines(trial.paths["cytokines_long"]))
    samples = pd.read_csv(trial.paths["samples"], dtype=str).set_index("sample_id")
    clinical = pd.read_csv(trial.paths["clinical"], dtype={"subject_id": str})
    samples["arm"] = samples.subject_id.map(clinical.set_index("subject_id").arm)
    res = mech.trajectories(tidy, design_table=samples, transform="log2")
    diff = res.table.query("term == 'difference' and visit == 'D28'").set_index("feature")
    planted = {m["entity"]: m["direction"] for m in _planted(trial, "cytokine")}
    for entity, direction in planted.items():
        assert diff.loc[entity, "q_value"] <= 0.1, entity
        assert (diff.loc[entity, "effect"] > 0) == (direction == "up")
    null = diff.drop(index=list(planted))
    assert (null.q_value <= 0.1).sum() <= 1
