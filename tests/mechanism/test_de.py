from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.mechanism import DEResult, pseudobulk_de
from biomarkers.mechanism._de import filter_by_expr

TREATED, CONTROL = "ucMSC+SMT", "SMT"
PLANTED = {("CD14_mono", 0): 3.0, ("CD14_mono", 1): 3.0}


@pytest.fixture(scope="module")
def pdata(make_pb):
    return make_pb(planted=PLANTED, n_genes=60)


@pytest.fixture(scope="module")
def paired(pdata):
    # pydeseq2's own inference: these fixtures pin the pass-through of pydeseq2's results
    return pseudobulk_de(pdata, contrast=("visit", "D7", "D0"), arm=TREATED, method="pydeseq2")


@pytest.fixture(scope="module")
def interaction(pdata):
    return pseudobulk_de(
        pdata,
        contrast=(("arm", TREATED, CONTROL), ("visit", "D7", "D0")),
        cell_type="CD14_mono",
        method="pydeseq2",
    )


def _direct(pdata, rows, genes, design, contrast, metadata):
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.default_inference import DefaultInference
    from pydeseq2.ds import DeseqStats

    counts = pd.DataFrame(pdata[rows, genes].X.astype(np.int64), index=rows, columns=list(genes))
    inf = DefaultInference(n_cpus=1)
    dds = DeseqDataSet(counts=counts, metadata=metadata, design=design, inference=inf, quiet=True)
    dds.deseq2()
    ds = DeseqStats(dds, contrast=contrast, inference=inf, quiet=True)
    ds.summary()
    return ds.results_df


def test_paired_contrast_equals_pydeseq2_directly(pdata, paired):
    tab = paired.table.query("cell_type == 'CD14_mono'")
    obs = pdata.obs
    rows = obs.index[(obs.cell_type == "CD14_mono") & (obs.arm == TREATED)]
    meta = pd.DataFrame(
        {"subject": obs.loc[rows, "subject_id"].astype(str), "visit": obs.loc[rows, "visit"]},
        index=rows,
    )
    direct = _direct(pdata, rows, tab.gene, "~ subject + visit", ["visit", "D7", "D0"], meta)
    np.testing.assert_allclose(tab.log2fc, direct.log2FoldChange, rtol=1e-10)
    np.testing.assert_allclose(tab.lfc_se, direct.lfcSE, rtol=1e-10)
    np.testing.assert_allclose(tab.stat, direct.stat, rtol=1e-10)
    np.testing.assert_allclose(tab.pvalue, direct.pvalue, rtol=1e-10)
    np.testing.assert_allclose(tab.padj_deseq2, direct.padj, rtol=1e-10)
    np.testing.assert_allclose(tab.base_mean, direct.baseMean, rtol=1e-10)
    assert (tab.n_samples == len(rows)).all()


def test_interaction_equals_design_matrix_contrast(pdata, interaction):
    tab = interaction.table
    obs = pdata.obs
    rows = obs.index[obs.cell_type == "CD14_mono"]
    sub = obs.loc[rows]
    subjects = sorted(sub.subject_id.unique())
    dm = pd.DataFrame({"Intercept": 1.0}, index=rows)
    for s in subjects[1:]:
        dm[f"s{s}"] = (sub.subject_id == s).astype(float)
    dm["D7"] = (sub.visit == "D7").astype(float)
    dm["armD7"] = dm["D7"] * (sub.arm == TREATED)
    vec = np.zeros(dm.shape[1])
    vec[-1] = 1
    meta = pd.DataFrame({"subject": sub.subject_id}, index=rows)
    direct = _direct(pdata, rows, tab.gene, dm, vec, meta)
    np.testing.assert_allclose(tab.log2fc, direct.log2FoldChange, rtol=1e-10)
    np.testing.assert_allclose(tab.pvalue, direct.pvalue, rtol=1e-10)


def test_planted_genes_recovered_and_null_cell_type_quiet(paired, interaction):
    hits = paired.table.query("q_value <= 0.1")
    assert {"G0", "G1"} <= set(hits.query("cell_type == 'CD14_mono'").gene)
    assert (hits.query("gene in ['G0', 'G1']").log2fc > 1.5).all()
    # T_CD4 has no planted change: at FDR 0.1 expect (almost) nothing
    assert len(hits.query("cell_type == 'T_CD4'")) <= 2
    inter_hits = interaction.table.query("q_value <= 0.1")
    assert {"G0", "G1"} <= set(inter_hits.gene)
    assert len(inter_hits) <= 4


def test_table_columns_and_q_values(paired):
    tab = paired.table
    assert list(tab.columns) == [
        "cell_type", "gene", "log2fc", "lfc_se", "stat", "pvalue", "padj_deseq2",
        "q_value", "q_value_global", "base_mean", "n_samples", "contrast",
    ]  # fmt: skip
    from scipy.stats import false_discovery_control

    for _, g in tab.groupby("cell_type"):
        ok = g.pvalue.notna()
        np.testing.assert_allclose(g.q_value[ok], false_discovery_control(g.pvalue[ok]))
    ok = tab.pvalue.notna()
    np.testing.assert_allclose(tab.q_value_global[ok], false_discovery_control(tab.pvalue[ok]))
    assert tab.contrast.iat[0] == "visit: D7 vs D0 [arm=ucMSC+SMT]"


def test_filter_by_expr_matches_edger_rule():
    rng = np.random.default_rng(1)
    counts = rng.poisson(rng.lognormal(1, 2, 50), size=(6, 50))
    groups = np.array(["a", "a", "a", "b", "b", "b"])
    keep = filter_by_expr(counts, groups, min_counts=10)
    lib = counts.sum(1)
    cutoff = 10 / np.median(lib) * 1e6
    cpm = counts / lib[:, None] * 1e6
    expected = ((cpm >= cutoff).sum(0) >= 3) & (counts.sum(0) >= 15)
    np.testing.assert_array_equal(keep, expected)
    assert 0 < keep.sum() < 50
    # large groups: edgeR relaxes the sample requirement to 10 + 0.7 (n - 10)
    big = np.tile(counts, (4, 1))
    keep_big = filter_by_expr(big, np.repeat(["a", "b"], 12), min_counts=10)
    cpm_big = big / big.sum(1)[:, None] * 1e6
    exp_big = ((cpm_big >= 10 / np.median(big.sum(1)) * 1e6).sum(0) >= 11.4) & (big.sum(0) >= 15)
    np.testing.assert_array_equal(keep_big, exp_big)


def test_dropped_records_samples_genes_and_unpaired_subjects(pdata):
    p = pdata[pdata.obs.cell_type == "CD14_mono"].copy()
    p.obs.loc[p.obs.index[0], "n_cells"] = 3  # S00_D0 too few cells -> S00 unpaired
    p.X[:, 5] = 0  # an unexpressed gene
    res = pseudobulk_de(p, contrast=("visit", "D7", "D0"), arm=TREATED, min_cells=10)
    d = res.dropped
    assert p.obs.index[0] in set(d.query("kind == 'sample'").id)
    assert "S00" in set(d.query("kind == 'subject'").id)
    assert "G5" in set(d.query("kind == 'gene'").id)
    assert "G5" not in set(res.table.gene)
    assert (res.table.n_samples == 10).all()


@pytest.mark.slow  # two more pydeseq2 fits; input-representation check
def test_counts_dataframe_with_design_table(pdata):
    p = pdata[(pdata.obs.cell_type == "T_CD4") & (pdata.obs.visit == "D7")]
    counts = pd.DataFrame(p.X, index=p.obs_names, columns=p.var_names)
    design = p.obs[["arm"]]
    res = pseudobulk_de(
        counts, design="~ arm", contrast=("arm", TREATED, CONTROL), design_table=design
    )
    ref = pseudobulk_de(
        pdata, design="~ arm", contrast=("arm", TREATED, CONTROL), visit="D7", cell_type="T_CD4"
    )
    assert (res.table.cell_type == "all").all()
    np.testing.assert_allclose(res.table.pvalue, ref.table.pvalue)


def test_too_few_samples_skips_cell_type_with_reason(pdata):
    p = pdata[pdata.obs.subject_id.isin(["S00", "S02"]) | (pdata.obs.cell_type == "T_CD4")]
    p = p[~((p.obs.cell_type == "CD14_mono") & (p.obs.subject_id == "S02"))].copy()
    res = pseudobulk_de(p, contrast=("visit", "D7", "D0"), arm=TREATED)
    skipped = res.dropped.query("kind == 'cell_type'")
    assert list(skipped.id) == ["CD14_mono"]
    assert "need ≥ 2" in skipped.reason.iat[0]
    assert set(res.table.cell_type) == {"T_CD4"}


def test_errors_name_the_problem(pdata):
    with pytest.raises(SchemaError, match=r"visit level 'D9' not found.*present: 'D0', 'D7'"):
        pseudobulk_de(pdata, contrast=("visit", "D9", "D0"))
    with pytest.raises(ConfigError, match=r"contrast=.*not understood"):
        pseudobulk_de(pdata, contrast=("visit", "D7"))
    with pytest.raises(ConfigError, match="method='edger' is not supported"):
        pseudobulk_de(pdata, contrast=("visit", "D7", "D0"), method="edger")
    with pytest.raises(SchemaError, match="design '~ subjct \\+ visit' uses 'subjct'"):
        pseudobulk_de(pdata, design="~ subjct + visit", contrast=("visit", "D7", "D0"))
    bad = pdata.copy()
    bad.X = bad.X / 3.0
    with pytest.raises(SchemaError, match="summed raw counts"):
        pseudobulk_de(bad, contrast=("visit", "D7", "D0"))
    no_subject = pdata.copy()
    del no_subject.obs["subject_id"]
    with pytest.raises(SchemaError, match="design column 'subject_id' not found"):
        pseudobulk_de(no_subject, contrast=("visit", "D7", "D0"))


def test_result_object_saves_and_displays(paired, tmp_path):
    assert isinstance(paired, DEResult)
    paths = paired.save(tmp_path)
    names = sorted(p.name for p in paths)
    assert names == [
        "de.csv",
        "de_dropped.csv",
        "de_notes.csv",
        "de_paired_t.csv",
        "de_params.json",
    ]
    back = pd.read_csv(tmp_path / "de.csv")
    assert len(back) == len(paired.table)
    assert "DEResult" in paired._repr_html_()
    frame = paired.to_frame()
    frame.loc[:, "gene"] = "x"
    assert (paired.table.gene != "x").all()


@pytest.mark.slow
def test_null_pvalues_are_calibrated(make_pb):
    null = make_pb(n_genes=200, cell_types=("T_CD4",), n_subjects=16, seed=7)
    res = pseudobulk_de(null, contrast=("visit", "D7", "D0"))
    p = res.table.pvalue.dropna()
    assert 0.01 < (p < 0.05).mean() < 0.10
    assert (res.table.q_value <= 0.1).sum() <= 2


@pytest.mark.slow  # two more pydeseq2 fits; input-representation check
def test_sparse_float32_counts_and_categorical_obs_give_same_result(pdata, paired):
    import scipy.sparse as sp

    p = pdata.copy()
    p.X = sp.csr_matrix(p.X.astype(np.float32))
    for col in ("subject_id", "visit", "arm", "cell_type"):
        p.obs[col] = p.obs[col].astype("category")
    res = pseudobulk_de(
        p, contrast=("visit", "D7", "D0"), arm=TREATED, cell_type="T_CD4", method="pydeseq2"
    )
    ref = paired.table.query("cell_type == 'T_CD4'").reset_index(drop=True)
    # q_value_global differs by design: here only one cell type is in the family
    pd.testing.assert_frame_equal(
        res.table.drop(columns="q_value_global"), ref.drop(columns="q_value_global")
    )


def test_pydeseq2_fallback_warnings_become_notes(make_pb, caplog):
    flat = make_pb(n_genes=40, cell_types=("NK",), trend=False, seed=4)
    with caplog.at_level("WARNING", logger="biomarkers"):
        res = pseudobulk_de(flat, contrast=("visit", "D7", "D0"))
    assert res.notes.message.str.contains("dispersion trend").any()
    assert (res.notes.cell_type == "NK").all()
    assert "pydeseq2: The dispersion trend" in caplog.text


def test_rank_deficient_design_is_skipped_with_reason(make_pb):
    from biomarkers.exceptions import SmallSampleWarning

    p = make_pb(n_genes=30, cell_types=("NK",))
    p = p[p.obs.visit == "D0"].copy()
    p.obs["batch"] = p.obs["arm"]  # batch confounded with arm
    with pytest.warns(SmallSampleWarning, match="no cell type could be tested"):
        res = pseudobulk_de(p, design="~ arm + batch", contrast=np.array([0.0, 1.0, 0.0]))
    assert res.table.empty
    assert res.dropped.query("kind == 'cell_type'").reason.str.startswith("pydeseq2:").all()


def test_default_contrasts_are_paired_change_and_interaction(pdata, paired, interaction):
    res = pseudobulk_de(pdata, cell_type="CD14_mono", method="pydeseq2")
    labels = list(dict.fromkeys(res.table.contrast))
    assert labels == [
        "visit: D7 vs D0 [arm=ucMSC+SMT]",
        "arm×visit: (D7 vs D0) ucMSC+SMT vs SMT",
    ]
    inter = res.table[res.table.contrast == labels[1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(inter, interaction.table)
    mine = res.table[res.table.contrast == labels[0]].reset_index(drop=True)
    ref = paired.table.query("cell_type == 'CD14_mono'").reset_index(drop=True)
    cols = ["gene", "log2fc", "pvalue", "q_value"]
    pd.testing.assert_frame_equal(mine[cols], ref[cols])


def test_contrast_list_parsing():
    from biomarkers.mechanism._de import _contrast_specs

    obs = pd.DataFrame({"arm": [TREATED, CONTROL], "visit": ["D0", "D7"]})
    defaults = {"design": "~ subject + visit", "arm": None, "visit": None}
    specs = _contrast_specs(
        obs,
        contrast=None,
        contrasts=[
            {"contrast": ["visit", "D7", "D0"], "arm": TREATED},
            {"contrast": [["arm", TREATED, CONTROL], ["visit", "D7", "D0"]]},
        ],
        defaults=defaults, treated_arm=None, control_arm=None, reference_visit="D0",
    )  # fmt: skip
    assert specs[0]["arm"] == TREATED
    assert specs[1]["contrast"] == (("arm", TREATED, CONTROL), ("visit", "D7", "D0"))
    with pytest.raises(ConfigError, match="unknown key 'arms'; did you mean 'arm'"):
        _contrast_specs(
            obs,
            contrast=None,
            contrasts=[{"contrast": ["visit", "D7", "D0"], "arms": TREATED}],
            defaults=defaults,
            treated_arm=None,
            control_arm=None,
            reference_visit="D0",
        )
    with pytest.raises(ConfigError, match="not both"):
        _contrast_specs(
            obs,
            contrast=("visit", "D7", "D0"),
            contrasts=[],
            defaults=defaults,
            treated_arm=None,
            control_arm=None,
            reference_visit="D0",
        )
