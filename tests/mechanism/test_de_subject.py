from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import digamma, polygamma

from biomarkers.exceptions import ConfigError
from biomarkers.mechanism import pseudobulk_de
from biomarkers.mechanism._de_paired import _trigamma_inverse, squeeze_var
from biomarkers.mechanism._de_subject import subject_blocks

TREATED, CONTROL = "ucMSC+SMT", "SMT"
INTERACTION = (("arm", TREATED, CONTROL), ("visit", "D7", "D0"))
PLANTED = {("CD14_mono", g): (2.0 if g % 2 else -2.0) for g in range(0, 40, 2)}


@pytest.fixture(scope="module")
def pdata(make_pb):
    # 12 subjects × 2 visits × 200 genes, subject effects, 20 planted arm × visit genes
    return make_pb(n_genes=200, cell_types=("CD14_mono",), planted=PLANTED, seed=3)


@pytest.fixture(scope="module")
def both(pdata):
    return {
        m: pseudobulk_de(pdata, contrast=INTERACTION, method=m)
        for m in ("subject_block", "pydeseq2")
    }


def test_subject_block_matches_pydeseq2_on_the_interaction(both):
    block, ref = both["subject_block"].table, both["pydeseq2"].table
    assert list(block.columns) == list(ref.columns)
    assert (block.gene.to_numpy() == ref.gene.to_numpy()).all()
    assert np.corrcoef(block.log2fc, ref.log2fc)[0, 1] >= 0.999
    np.testing.assert_allclose(block.log2fc, ref.log2fc, atol=0.02)
    np.testing.assert_allclose(np.log10(block.pvalue), np.log10(ref.pvalue), atol=0.05)
    np.testing.assert_allclose(block.lfc_se, ref.lfc_se, rtol=0.02)
    assert set(block.gene[block.q_value < 0.1]) == set(ref.gene[ref.q_value < 0.1])
    assert set(block.gene[block.padj_deseq2 < 0.1]) == set(ref.gene[ref.padj_deseq2 < 0.1])
    assert (block.q_value < 0.1).sum() >= 10  # the comparison is not between two empty sets


def test_subject_block_matches_pydeseq2_on_the_paired_change(pdata):
    res = {
        m: pseudobulk_de(pdata, contrast=("visit", "D7", "D0"), arm=TREATED, method=m).table
        for m in ("auto", "pydeseq2")
    }
    assert np.corrcoef(res["auto"].log2fc, res["pydeseq2"].log2fc)[0, 1] >= 0.999
    sig = {m: set(t.gene[t.q_value < 0.1]) for m, t in res.items()}
    assert sig["auto"] == sig["pydeseq2"]
    assert len(sig["auto"]) >= 10


def test_auto_uses_the_subject_block_inference(pdata, both):
    auto = pseudobulk_de(pdata, contrast=INTERACTION)
    pd.testing.assert_frame_equal(auto.table, both["subject_block"].table)
    assert auto.params["method"] == "auto"


def test_paired_moderated_t_is_reported_alongside_and_agrees(both):
    ref = both["pydeseq2"].table
    paired = both["subject_block"].tables["paired_t"]
    assert list(paired.columns) == list(ref.columns)
    assert (paired.gene.to_numpy() == ref.gene.to_numpy()).all()
    assert np.corrcoef(paired.log2fc, ref.log2fc)[0, 1] >= 0.95
    assert paired.padj_deseq2.isna().all()
    planted = {f"G{g}" for _, g in PLANTED}
    assert set(paired.gene[paired.q_value < 0.1]) <= planted | set(ref.gene[ref.q_value < 0.2])


def test_paired_t_as_the_main_method(pdata, both):
    res = pseudobulk_de(pdata, contrast=INTERACTION, method="paired_t")
    pd.testing.assert_frame_equal(res.table, both["subject_block"].tables["paired_t"])
    assert "paired_t" not in res.tables


def test_subject_block_refuses_a_design_without_subject(pdata):
    with pytest.raises(ConfigError, match=r"method='subject_block' needs a design with a subject"):
        pseudobulk_de(
            pdata,
            design="~ arm",
            contrast=("arm", TREATED, CONTROL),
            visit="D7",
            method="subject_block",
        )


def test_between_subject_design_falls_back_to_pydeseq2(pdata):
    kw = {"design": "~ arm", "contrast": ("arm", TREATED, CONTROL), "visit": "D7"}
    auto = pseudobulk_de(pdata, **kw).table
    ref = pseudobulk_de(pdata, method="pydeseq2", **kw).table
    pd.testing.assert_frame_equal(auto, ref)


def test_subject_blocks_finds_the_within_subject_columns():
    subjects = np.repeat(["a", "b", "c"], 2)
    visit = np.tile([0.0, 1.0], 3)
    with_subject = np.column_stack([np.ones(6), subjects == "b", subjects == "c", visit])
    assert subject_blocks(with_subject, subjects).tolist() == [3]
    arm = (subjects == "a").astype(float)
    assert subject_blocks(np.column_stack([np.ones(6), arm, visit]), subjects) is None


def test_three_visits_with_missing_visits_match_pydeseq2(make_pb):
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.default_inference import DefaultInference
    from pydeseq2.ds import DeseqStats

    from biomarkers.mechanism._de_subject import SubjectBlockInference

    pdata = make_pb(n_genes=80, cell_types=("T_CD4",), visits=("D0", "D7", "D28"), seed=5)
    obs = pdata.obs
    keep = ~((obs.subject_id.isin(["S01", "S04"]) & (obs.visit == "D28")) | (
        (obs.subject_id == "S07") & (obs.visit == "D7")
    ))  # fmt: skip
    counts = pd.DataFrame(pdata.X[keep.to_numpy()], index=obs.index[keep], columns=pdata.var_names)
    counts = counts.loc[:, counts.sum() >= 30]
    meta = pd.DataFrame({"subject": obs.subject_id[keep], "visit": obs.visit[keep]})

    def fit(inference):
        dds = DeseqDataSet(
            counts=counts,
            metadata=meta,
            design="~ subject + visit",
            inference=inference,
            quiet=True,
        )
        dds.deseq2()
        stats = DeseqStats(dds, contrast=["visit", "D28", "D0"], inference=inference, quiet=True)
        stats.summary()
        return stats.results_df

    ref = fit(DefaultInference(n_cpus=1))
    block = fit(SubjectBlockInference(meta.subject.to_numpy(), DefaultInference(n_cpus=1)))
    assert np.corrcoef(block.log2FoldChange, ref.log2FoldChange)[0, 1] >= 0.999
    np.testing.assert_allclose(np.log10(block.pvalue), np.log10(ref.pvalue), atol=0.05)


def test_trigamma_inverse_inverts_trigamma():
    x = np.array([1e-3, 0.1, 1.0, 10.0, 1e3])
    np.testing.assert_allclose(polygamma(1, _trigamma_inverse(x)), x, rtol=1e-8)


def test_squeeze_var_recovers_the_prior():
    rng = np.random.default_rng(0)
    d0, s0, df, n = 8.0, 0.3, 4, 20_000
    sigma2 = s0 * d0 / rng.chisquare(d0, n)
    s2 = sigma2 * rng.chisquare(df, n) / df
    post, d0_hat, s0_hat = squeeze_var(s2, df)
    assert d0_hat == pytest.approx(d0, rel=0.15)
    assert s0_hat == pytest.approx(s0, rel=0.05)
    np.testing.assert_allclose(post, (d0_hat * s0_hat + df * s2) / (d0_hat + df))
    equal = squeeze_var(np.full(50, 0.2), df)
    assert equal[1] == np.inf
    # limma's moment estimate: E log s² = log σ² + digamma(df/2) - log(df/2)
    np.testing.assert_allclose(equal[0], 0.2 * np.exp(np.log(df / 2) - digamma(df / 2)))


@pytest.mark.slow
def test_permuted_arms_are_calibrated_and_planted_genes_recovered(make_pb):
    """Null: arm labels permuted across subjects (20 times); power: planted arm × visit genes."""
    planted = {("CD14_mono", g): (1.5 if g % 2 else -1.5) for g in range(20)}
    pdata = make_pb(n_subjects=24, n_genes=300, cell_types=("CD14_mono",), planted=planted, seed=11)
    res = pseudobulk_de(pdata, contrast=INTERACTION).table
    truth = {f"G{g}" for _, g in planted}
    found = set(res.gene[res.q_value < 0.1])
    assert len(found & truth) / len(truth) >= 0.9
    assert len(found - truth) / max(len(found), 1) <= 0.1

    null = make_pb(n_subjects=24, n_genes=300, cell_types=("CD14_mono",), seed=12)
    subjects = null.obs.subject_id.unique()
    arms = null.obs.groupby("subject_id").arm.first().loc[subjects].to_numpy()
    rng = np.random.default_rng(0)
    rates = []
    for _ in range(20):
        perm = dict(zip(subjects, rng.permutation(arms), strict=True))
        null.obs["arm"] = null.obs.subject_id.map(perm)
        p = pseudobulk_de(null, contrast=INTERACTION).table.pvalue.dropna()
        rates.append((p < 0.05).mean())
    assert np.mean(rates) <= 0.065


def test_replicate_count_matches_pydeseq2():
    from pydeseq2.utils import n_or_more_replicates

    from biomarkers.mechanism._de import _n_or_more_replicates

    # design rows repeated 1, 2, 5 and 8 times, shuffled
    rows = np.array([[1.0, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1]]).repeat([1, 2, 5, 8], axis=0)
    rows = rows[np.random.default_rng(0).permutation(len(rows))]
    design = pd.DataFrame(rows, index=[f"s{i}" for i in range(16)], columns=["Intercept", "a", "b"])
    for k in (2, 3, 7):
        expected = n_or_more_replicates(design, k)
        got = _n_or_more_replicates(design, k)
        pd.testing.assert_series_equal(got, expected, check_names=False)
        assert 0 < expected.sum() < len(design)
