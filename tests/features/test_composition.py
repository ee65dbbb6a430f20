from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from biomarkers.exceptions import SchemaError
from biomarkers.features import composition


@pytest.fixture
def obs():
    rng = np.random.default_rng(1)
    n = 400
    return pd.DataFrame(
        {
            "sample_id": rng.choice(["S1", "S2", "S3", "S4"], n),
            "cell_type": pd.Categorical(
                rng.choice(["T", "B", "NK"], n, p=[0.6, 0.3, 0.1]),
                categories=["B", "NK", "T", "DC"],  # DC never observed: still a zero part
            ),
            "subject_id": "P1",
        },
        index=[f"c{i}" for i in range(n)],
    )


def _hand(obs, pseudocount):
    counts = pd.crosstab(obs["sample_id"], obs["cell_type"], dropna=False)
    counts = counts.reindex(columns=["B", "NK", "T", "DC"], fill_value=0)
    prop = counts.div(counts.sum(axis=1), axis=0)
    logc = np.log(counts + pseudocount)
    clr = logc.sub(logc.mean(axis=1), axis=0)
    return counts, prop, clr


@pytest.mark.parametrize("source", ["obs", "anndata", "path"])
def test_matches_hand_computation(obs, source, tmp_path):
    if source == "obs":
        src = obs
    else:
        adata = ad.AnnData(sp.csr_matrix((len(obs), 2), dtype=np.float32), obs=obs)
        src = adata
        if source == "path":
            src = tmp_path / "c.h5ad"
            adata.write_h5ad(src)
    comp = composition(src, pseudocount=0.5)
    counts, prop, clr = _hand(obs, 0.5)
    assert list(comp.var_names) == ["B", "NK", "T", "DC"]
    assert list(comp.obs_names) == list(counts.index)
    np.testing.assert_array_equal(comp.X, counts.to_numpy())
    np.testing.assert_allclose(comp.layers["proportion"], prop.to_numpy())
    np.testing.assert_allclose(comp.layers["clr"], clr.to_numpy())
    np.testing.assert_allclose(comp.layers["clr"].sum(axis=1), 0, atol=1e-12)
    assert comp.obs["n_cells"].tolist() == counts.sum(axis=1).tolist()
    assert (comp.obs["subject_id"] == "P1").all()
    assert comp.uns["composition"]["params"]["pseudocount"] == 0.5


def test_tidy_and_pseudocount(obs):
    tidy = composition(obs, pseudocount=1.0, tidy=True)
    assert list(tidy.columns) == ["sample_id", "cell_type", "count", "proportion", "clr"]
    assert len(tidy) == 4 * 4
    _, _, clr = _hand(obs, 1.0)
    got = tidy.pivot(index="sample_id", columns="cell_type", values="clr")
    np.testing.assert_allclose(got.loc[clr.index, clr.columns], clr)


def test_errors(obs):
    with pytest.raises(ValueError, match="pseudocount=0 must be > 0"):
        composition(obs, pseudocount=0)
    with pytest.raises(
        SchemaError, match="obs column 'celltype' not found; did you mean 'cell_type'"
    ):
        composition(obs, groups_key="celltype")
