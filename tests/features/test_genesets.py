from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import InputFileError
from biomarkers.features import bundled_gene_sets, geneset_scores, read_gmt


def test_read_gmt_roundtrip_and_errors(tmp_path):
    p = tmp_path / "sets.gmt"
    p.write_text("A\tdesc\tG1\tG2\tG1\nB\thttp://x\tG3\n")
    net = read_gmt(p)
    assert net.to_dict("list") == {
        "source": ["A", "A", "B"], "target": ["G1", "G2", "G3"], "weight": [1.0, 1.0, 1.0]
    }  # fmt: skip
    bad = tmp_path / "bad.gmt"
    bad.write_text("A G1 G2\n")
    with pytest.raises(InputFileError, match="line 1 is not GMT: expected 'name<TAB>description"):
        read_gmt(bad)
    dup = tmp_path / "dup.gmt"
    dup.write_text("A\td\tG1\nA\td\tG2\n")
    with pytest.raises(InputFileError, match="line 2: gene set 'A' appears twice"):
        read_gmt(dup)
    with pytest.raises(InputFileError, match="gene-set file not found"):
        read_gmt(tmp_path / "nope.gmt")


def test_bundled_sets():
    net = bundled_gene_sets()
    assert list(net.columns) == ["source", "target", "weight"]
    assert {"treg", "monocyte_inflammatory", "cytotoxicity", "th17"} <= set(net.source)
    assert (net.groupby("source").size() >= 3).all()


def test_one_gene_set_module_serves_features_and_mechanism():
    import biomarkers.features as feat
    import biomarkers.mechanism as mech

    assert mech.read_gmt is feat.read_gmt
    assert mech.bundled_gene_sets is feat.bundled_gene_sets
    # the feature block's earlier sets are all inside the merged collection
    net = bundled_gene_sets()
    members = net.groupby("source").target.apply(set)
    assert {"FOXP3", "IL2RA", "CTLA4", "IKZF2", "TNFRSF18", "TIGIT"} <= members["treg"]
    assert {"IL6", "IL1B", "CCL3", "CCL4", "CXCL2", "HES4", "THBS1", "TNF"} <= members[
        "monocyte_inflammatory"
    ]
    assert {"MERTK", "CD163", "PPARG", "SEMA6B", "IL10", "VCAN"} <= members[
        "monocyte_immunosuppressive"
    ]


def test_scores_accept_a_network_with_negative_weights():
    X = np.array([[10.0, 30.0, 60.0], [60.0, 30.0, 10.0]])
    pdata = ad.AnnData(X, var=pd.DataFrame(index=["A", "B", "C"]))
    net = pd.DataFrame({"source": ["S", "S"], "target": ["A", "C"], "weight": [1.0, -1.0]})
    e = np.log1p(X / X.sum(1, keepdims=True) * 1e6)
    centred = e - e.mean(1, keepdims=True)
    np.testing.assert_allclose(geneset_scores(pdata, net)["S"], (centred[:, 0] - centred[:, 2]) / 2)
    as_dict = geneset_scores(pdata, {"S": ["A", "C"]})["S"]
    np.testing.assert_allclose(as_dict, (centred[:, 0] + centred[:, 2]) / 2)


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
