from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import InputFileError
from biomarkers.features import geneset_scores, load_gene_sets, read_gmt


def test_read_gmt_roundtrip_and_errors(tmp_path):
    p = tmp_path / "sets.gmt"
    p.write_text("A\tdesc\tG1\tG2\tG1\nB\thttp://x\tG3\n")
    assert read_gmt(p) == {"A": ["G1", "G2"], "B": ["G3"]}
    bad = tmp_path / "bad.gmt"
    bad.write_text("A G1 G2\n")
    with pytest.raises(InputFileError, match="line 1: expected 'name<TAB>description<TAB>gene"):
        read_gmt(bad)
    dup = tmp_path / "dup.gmt"
    dup.write_text("A\td\tG1\nA\td\tG2\n")
    with pytest.raises(InputFileError, match="line 2: gene set 'A' appears twice"):
        read_gmt(dup)
    with pytest.raises(InputFileError, match="gene-set file not found"):
        read_gmt(tmp_path / "nope.gmt")


def test_bundled_sets():
    sets = load_gene_sets()
    assert "TREG_PROGRAM" in sets
    assert all(len(g) >= 3 for g in sets.values())


def test_scores_match_hand_computation():
    rng = np.random.default_rng(0)
    X = rng.poisson(20, size=(4, 6)).astype(float)
    pdata = ad.AnnData(
        X, obs=pd.DataFrame(index=list("abcd")), var=pd.DataFrame(index=[f"G{i}" for i in range(6)])
    )
    scores = geneset_scores(pdata, {"S": ["G0", "G2", "missing"], "tiny": ["G1"]})
    assert list(scores.columns) == ["S"]  # 'tiny' has < 2 genes present
    e = np.log1p(X / X.sum(1, keepdims=True) * 1e6)
    np.testing.assert_allclose(scores["S"], e[:, [0, 2]].mean(1) - e.mean(1))
