from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError, InputFileError, SchemaError
from biomarkers.mechanism import (
    DEResult,
    EnrichmentResult,
    bundled_gene_sets,
    enrichment,
    read_gmt,
)

MODULES = [
    "antigen_presentation", "cytotoxicity", "hgf_met", "il10_stat3", "interferon_response",
    "mdsc_hladr_low", "monocyte_immunosuppressive", "monocyte_inflammatory", "th17",
    "tnf_nfkb", "treg",
]  # fmt: skip


@pytest.fixture(scope="module")
def de():
    """Tidy DE table: interferon genes up in monocytes (D7 vs D0), nothing in T cells."""
    net = bundled_gene_sets()
    rng = np.random.default_rng(0)
    genes = sorted(set(net.target)) + [f"G{i}" for i in range(300)]
    frames = []
    for ct in ("CD14_mono", "T_CD4"):
        for contrast in ("visit: D7 vs D0", "visit: D28 vs D0"):
            stat = rng.normal(size=len(genes))
            if ct == "CD14_mono" and contrast == "visit: D7 vs D0":
                ifn = np.isin(genes, net.query("source == 'interferon_response'").target)
                stat[ifn] += 2.5
            frames.append(
                pd.DataFrame(
                    {
                        "cell_type": ct,
                        "gene": genes,
                        "stat": stat,
                        "log2fc": stat / 3,
                        "contrast": contrast,
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True)
    out.loc[5, "stat"] = np.nan  # genes without a statistic are left out
    return out


def test_matches_decoupler_called_directly(de):
    import decoupler as dc

    res = enrichment(de, method="ulm")
    net = bundled_gene_sets()
    sub = de.query("cell_type == 'CD14_mono' and contrast == 'visit: D7 vs D0'").dropna()
    mat = pd.DataFrame([sub.stat.to_numpy()], index=["x"], columns=sub.gene.to_numpy())
    es, padj = dc.mt.ulm(mat, net, tmin=5)
    got = res.table.query("cell_type == 'CD14_mono' and contrast == 'visit: D7 vs D0'")
    got = got.set_index("source")
    np.testing.assert_allclose(got.loc[es.columns, "score"], es.iloc[0], rtol=1e-10)
    np.testing.assert_allclose(got.loc[es.columns, "q_value"], padj.iloc[0], rtol=1e-10)
    assert got.loc["interferon_response", "n_genes"] == 27


def test_planted_module_recovered_and_null_quiet(de):
    res = enrichment(de)
    hits = res.table.query("q_value <= 0.1")
    assert list(zip(hits.cell_type, hits.contrast, hits.source, strict=True)) == [
        ("CD14_mono", "visit: D7 vs D0", "interferon_response")
    ]
    assert hits.score.iat[0] > 0
    assert len(res.table) == 4 * len(MODULES)


@pytest.mark.parametrize(
    "method",
    [pytest.param("mlm", marks=pytest.mark.slow, id="mlm-numba-compile-15s"), "zscore"],
)
def test_other_methods_pass_through(de, method):
    import decoupler as dc

    res = enrichment(de, method=method, stat="log2fc")
    sub = de.query("cell_type == 'T_CD4' and contrast == 'visit: D28 vs D0'")
    sub = sub[np.isfinite(sub.log2fc)]
    mat = pd.DataFrame([sub.log2fc.to_numpy()], index=["x"], columns=sub.gene.to_numpy())
    es, _ = getattr(dc.mt, method)(mat, bundled_gene_sets(), tmin=5)
    got = res.table.query("cell_type == 'T_CD4' and contrast == 'visit: D28 vs D0'")
    np.testing.assert_allclose(got.set_index("source").loc[es.columns, "score"], es.iloc[0])
    assert (got.method == method).all()


def test_gene_set_inputs_gmt_dict_and_small_sets_skipped(de, tmp_path):
    net = bundled_gene_sets().query("weight > 0")
    gmt = tmp_path / "sets.gmt"
    lines = ["\t".join([s, "desc", *g.target]) for s, g in net.groupby("source")] + [
        "tiny\tdesc\tIRF7\tLY6E"
    ]
    gmt.write_text("\n".join(lines) + "\n")
    from_gmt = enrichment(de, gene_sets=gmt)
    as_dict = {s: list(g.target) for s, g in net.groupby("source")}
    from_dict = enrichment(de, gene_sets=as_dict)
    pd.testing.assert_frame_equal(from_gmt.table, from_dict.table)
    assert set(from_gmt.tables["skipped"].source) == {"tiny"}
    assert "tiny" not in set(from_gmt.table.source)


def test_read_gmt(tmp_path):
    p = tmp_path / "x.gmt"
    p.write_text("SET_A\thttp://x\tG1\tG2\tG2\n\nSET_B\tna\tG3\n")
    net = read_gmt(p)
    assert net.to_dict("list") == {
        "source": ["SET_A", "SET_A", "SET_B"], "target": ["G1", "G2", "G3"],
        "weight": [1.0, 1.0, 1.0],
    }  # fmt: skip
    bad = tmp_path / "bad.gmt"
    bad.write_text("SET_A\tdesc\tG1\nbroken line\n")
    with pytest.raises(InputFileError, match=r"bad\.gmt: line 2 is not GMT"):
        read_gmt(bad)
    with pytest.raises(InputFileError, match="not found"):
        read_gmt(tmp_path / "missing.gmt")


def test_bundled_modules_documented_and_overlap_simulator_genes():
    from pathlib import Path

    import scanpy as sc

    import biomarkers.features as feat

    net = bundled_gene_sets()
    assert sorted(net.source.unique()) == MODULES
    assert set(net.weight) == {1.0, -1.0}
    readme = (Path(feat.__file__).parent / "data" / "README.md").read_text()
    for module in MODULES:
        assert f"`{module}`" in readme
    pbmc = set(sc.datasets.pbmc68k_reduced().raw.var_names)
    present = net[net.target.isin(pbmc)].groupby("source").target.nunique()
    assert (present.drop("hgf_met") >= 5).all()
    assert present["hgf_met"] < 5  # blood barely expresses HGF/MET; documented as skipped


def test_accepts_de_results(de):
    r1 = DEResult(de.query("contrast == 'visit: D7 vs D0'"))
    r2 = DEResult(de.query("contrast == 'visit: D28 vs D0'"))
    both = enrichment([r1, r2])
    assert set(both.table.contrast) == {"visit: D7 vs D0", "visit: D28 vs D0"}
    single = enrichment(r1)
    assert isinstance(single, EnrichmentResult)
    assert len(single.table) == 2 * len(MODULES)


def test_errors(de):
    with pytest.raises(ConfigError, match="method='ora' is not supported"):
        enrichment(de, method="ora")
    with pytest.raises(SchemaError, match="required column 'wald' not found"):
        enrichment(de, stat="wald")
    with pytest.raises(SchemaError, match="gene_sets must be"):
        enrichment(de, gene_sets=42)
