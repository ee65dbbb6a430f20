from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from biomarkers.exceptions import SchemaError
from biomarkers.qc import UNASSIGNED, assign_cell_types, load_markers


def _cells(n_per=40, seed=0):
    rng = np.random.default_rng(seed)
    markers = load_markers()
    genes = sorted(set(markers["gene"])) + [f"BG{i}" for i in range(40)]
    truth = ["CD8_T", "B", "CD14_mono", "NK"]
    rows, labels = [], []
    for ct in truth:
        own = markers.loc[(markers.cell_type == ct) & (markers.weight.astype(float) > 0), "gene"]
        for _ in range(n_per):
            x = rng.poisson(0.3, len(genes)).astype(np.float32)
            x[-40:] += rng.poisson(5, 40)
            x[[genes.index(g) for g in own]] += rng.poisson(15, len(own))
            rows.append(x)
            labels.append(ct)
    rows += [
        rng.poisson(5, len(genes)).astype(np.float32) * (np.arange(len(genes)) >= len(genes) - 40)
        for _ in range(10)
    ]
    labels += [UNASSIGNED] * 10
    X = np.vstack(rows)
    obs = pd.DataFrame(index=[f"c{i}" for i in range(len(labels))])
    return ad.AnnData(sp.csr_matrix(X), obs=obs, var=pd.DataFrame(index=genes)), np.array(labels)


def test_recovers_planted_types_and_unassigned():
    adata, truth = _cells()
    scores = assign_cell_types(adata, chunk_size=37)
    got = adata.obs["cell_type"].astype(str).to_numpy()
    # CD8_T shares CD3D with CD4_T; everything else is unambiguous
    assert (got == truth).mean() > 0.9
    assert (got[truth == UNASSIGNED] == UNASSIGNED).all()
    assert set(scores.columns) >= {"CD4_T", "B", "cell_type"}
    assert UNASSIGNED in adata.obs["cell_type"].cat.categories
    assert adata.uns["cell_type"]["params"]["min_score"] == 0.25


def test_custom_markers_and_errors(tmp_path):
    adata, _ = _cells(n_per=5)
    assign_cell_types(adata, markers={"Bcell": ["MS4A1", "CD79A"]}, key_added="lab")
    assert set(adata.obs["lab"].cat.categories) == {"Bcell", UNASSIGNED}
    with pytest.raises(SchemaError, match="no marker gene found in var_names"):
        assign_cell_types(adata, markers={"X": ["NOPE1"]})
    bad = tmp_path / "m.csv"
    bad.write_text("celltype,gene\nB,MS4A1\n")
    with pytest.raises(
        SchemaError, match="required column 'cell_type' not found; did you mean 'celltype'"
    ):
        assign_cell_types(adata, markers=bad)
