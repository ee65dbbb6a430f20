from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import scipy.sparse as sp

from biomarkers.exceptions import SchemaError
from biomarkers.qc import cell_qc


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_metrics_match_scanpy_and_flags(sparse):
    rng = np.random.default_rng(0)
    X = rng.poisson(1.0, size=(50, 30)).astype(np.float32)
    X[0] = 0
    X[1, :3] = 200  # mitochondrial-heavy cell
    var = pd.DataFrame(index=["MT-CO1", "MT-ND1", "MT-ATP6", *[f"G{i}" for i in range(27)]])
    a = ad.AnnData(
        sp.csr_matrix(X) if sparse else X,
        obs=pd.DataFrame(index=[f"c{i}" for i in range(50)]),
        var=var,
    )
    table = cell_qc(a, min_genes=5, max_pct_mt=30)
    ref = a.copy()
    ref.var["mt"] = ref.var_names.str.startswith("MT-")
    sc.pp.calculate_qc_metrics(ref, qc_vars=["mt"], percent_top=None, inplace=True, log1p=False)
    np.testing.assert_allclose(table["pct_counts_mt"], ref.obs["pct_counts_mt"], rtol=1e-5)
    np.testing.assert_array_equal(table["n_genes_by_counts"], ref.obs["n_genes_by_counts"])
    assert table.loc["c0", "reason"] == "fewer than 5 genes"
    assert table.loc["c1", "reason"] == "more than 30% mitochondrial"
    assert not table.loc["c1", "pass"]
    assert a.obs["qc_pass"].sum() == table["pass"].sum()
    assert "mt" not in a.var  # var untouched
    assert a.uns["qc"]["params"]["max_pct_mt"] == 30


def test_bad_layer():
    a = ad.AnnData(np.ones((2, 2), dtype=np.float32), obs=pd.DataFrame(index=["a", "b"]))
    with pytest.raises(SchemaError, match="layer 'count' not found"):
        cell_qc(a, layer="count")
