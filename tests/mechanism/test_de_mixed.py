from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError
from biomarkers.mechanism import pseudobulk_de
from biomarkers.mechanism._de_mixed import _estimate_lambda, _Reml, mixed_model_de, voom_weights

TREATED, CONTROL = "ucMSC+SMT", "SMT"
BETWEEN = {"design": "~ arm + visit", "contrast": ("arm", TREATED, CONTROL)}
PLANTED = {("CD14_mono", g): (2.0 if g % 2 else -2.0) for g in range(0, 40, 2)}


@pytest.fixture(scope="module")
def pdata(make_pb):
    return make_pb(n_genes=200, cell_types=("CD14_mono",), planted=PLANTED, seed=3)


def _small_case(seed: int = 0, n_genes: int = 6):
    """12 subjects × 3 visits (two missing), arm + age + visit, a subject intercept per gene."""
    rng = np.random.default_rng(seed)
    rows = [(s, v) for s in range(12) for v in range(3) if (s, v) not in {(1, 2), (4, 1)}]
    subj = np.array([s for s, _ in rows])
    visit = np.array([v for _, v in rows])
    age = rng.normal(60, 10, 12)[subj]
    arm = (subj % 2).astype(float)
    x = np.column_stack([np.ones(len(rows)), arm, (age - 60) / 10, visit == 1, visit == 2])
    u = rng.normal(0, 0.8, (12, n_genes))[subj]
    w = rng.uniform(0.3, 3.0, (len(rows), n_genes))
    y = x @ rng.normal(0, 1, (x.shape[1], n_genes)) + u + rng.normal(size=u.shape) / np.sqrt(w)
    return y, w, x, subj


def test_weighted_reml_matches_statsmodels_mixedlm():
    import statsmodels.api as sm

    y, w, x, subj = _small_case()
    reml = _Reml(y, w, x, subj)
    lam = _estimate_lambda(reml, y.shape[1])
    beta, sigma2, xvx, _ = reml.fit(lam, np.arange(y.shape[1]))
    for g in range(y.shape[1]):
        # weights as a rescaling: √w·y = √w·Xβ + √w·u + ε, the subject effect on exog_re = √w
        sw = np.sqrt(w[:, g])
        model = sm.MixedLM(y[:, g] * sw, x * sw[:, None], groups=subj, exog_re=sw[:, None])
        with warnings.catch_warnings():  # statsmodels' own convergence chatter
            warnings.simplefilter("ignore")
            fit = model.fit(reml=True, method="powell")  # lbfgs stops at 0 on some genes
        np.testing.assert_allclose(beta[g], fit.fe_params, rtol=1e-4, atol=1e-5)
        assert sigma2[g] == pytest.approx(fit.scale, rel=1e-3)
        ratio = float(np.asarray(fit.cov_re)[0, 0]) / fit.scale
        assert lam[g] == pytest.approx(ratio, rel=2e-3, abs=1e-4)
        cov = sigma2[g] * np.linalg.inv(xvx[g])
        # statsmodels takes bse_fe from its numerical Hessian: agreement to ~1%
        np.testing.assert_allclose(np.sqrt(np.diag(cov)), fit.bse_fe, rtol=2e-2)
    assert (lam > 0.05).sum() >= 3  # the subject variance is found, not set to zero


def test_unweighted_boundary_case_has_no_subject_variance():
    rng = np.random.default_rng(1)
    subj = np.repeat(np.arange(10), 2)
    x = np.column_stack([np.ones(20), np.tile([0.0, 1.0], 10)])
    y = rng.normal(size=(20, 50))  # no subject effect: λ̂ = 0 for many genes
    lam = _estimate_lambda(_Reml(y, np.ones_like(y), x, subj), 50)
    assert (lam == 0).sum() >= 10
    assert np.all(lam >= 0)


def test_voom_weights_follow_the_mean_variance_trend():
    rng = np.random.default_rng(0)
    mu = rng.lognormal(3, 1.5, 300)
    counts = rng.negative_binomial(10, 10 / (10 + mu[None, :] * np.ones((20, 1))))
    w = voom_weights(counts, np.ones((20, 1)))
    assert w.shape == counts.shape
    low, high = mu < np.quantile(mu, 0.2), mu > np.quantile(mu, 0.8)
    assert np.median(w[:, high]) > 3 * np.median(w[:, low])  # low counts are less precise


def test_mixed_has_the_same_columns_and_finds_the_planted_arm_genes(pdata):
    # MSC vs SMT at D7 (planted there) from both visits: arm + arm:visit[D7] of ~ arm * visit
    res = pseudobulk_de(
        pdata, design="~ arm * visit", contrast=np.array([0.0, 1, 0, 1]), method="mixed"
    ).table
    ref = pseudobulk_de(pdata, contrast=BETWEEN["contrast"], design="~ arm", visit="D7").table
    assert list(res.columns) == list(ref.columns)
    assert res.padj_deseq2.isna().all()
    both = res.set_index("gene").join(ref.set_index("gene"), rsuffix="_ref", how="inner")
    assert len(both) >= 100
    assert np.corrcoef(both.log2fc, both.log2fc_ref)[0, 1] >= 0.9
    planted = {f"G{g}" for _, g in PLANTED}
    found = set(res.gene[res.q_value < 0.1])
    assert len(found & planted) >= 10
    assert len(found - planted) <= 0.2 * len(found)


def test_auto_uses_the_mixed_model_for_a_between_subject_contrast_with_repeats(pdata):
    auto = pseudobulk_de(pdata, **BETWEEN)
    mixed = pseudobulk_de(pdata, method="mixed", **BETWEEN)
    pd.testing.assert_frame_equal(auto.table, mixed.table)
    one_visit = pseudobulk_de(pdata, visit="D7", **BETWEEN).table  # no repeats: pydeseq2
    assert one_visit.padj_deseq2.notna().any()


def test_mixed_interaction_agrees_with_the_subject_block_fit(pdata):
    contrast = (("arm", TREATED, CONTROL), ("visit", "D7", "D0"))
    mixed = pseudobulk_de(pdata, contrast=contrast, method="mixed").table
    block = pseudobulk_de(pdata, contrast=contrast).table
    assert np.corrcoef(mixed.log2fc, block.log2fc)[0, 1] >= 0.95


def test_mixed_refuses_a_subject_term(pdata):
    with pytest.raises(ConfigError, match=r"method='mixed' takes the subject as a random effect"):
        pseudobulk_de(pdata, design="~ subject + visit", contrast=("visit", "D7", "D0"),
                      method="mixed")  # fmt: skip


def test_rank_deficient_design_is_refused():
    _, _, x, subj = _small_case()
    counts = np.random.default_rng(0).poisson(50, (len(subj), 5))
    with pytest.raises(ValueError, match="not of full rank"):
        mixed_model_de(counts, np.column_stack([x, x[:, 1]]), subj, np.r_[0, 1, 0, 0, 0, 0])


@pytest.mark.slow
def test_permuted_arms_are_calibrated(make_pb):
    """Arm labels permuted across subjects (20 times), arm effect over two visits, no planting."""
    null = make_pb(n_subjects=24, n_genes=300, cell_types=("CD14_mono",), seed=12)
    subjects = null.obs.subject_id.unique()
    arms = null.obs.groupby("subject_id").arm.first().loc[subjects].to_numpy()
    rng = np.random.default_rng(0)
    rates = {"between": [], "interaction": []}
    for _ in range(20):
        perm = dict(zip(subjects, rng.permutation(arms), strict=True))
        null.obs["arm"] = null.obs.subject_id.map(perm)
        p = pseudobulk_de(null, method="mixed", **BETWEEN).table.pvalue
        rates["between"].append((p < 0.05).mean())
        p = pseudobulk_de(
            null, method="mixed", contrast=(("arm", TREATED, CONTROL), ("visit", "D7", "D0"))
        ).table.pvalue
        rates["interaction"].append((p < 0.05).mean())
    assert np.mean(rates["between"]) <= 0.065
    assert np.mean(rates["interaction"]) <= 0.065
