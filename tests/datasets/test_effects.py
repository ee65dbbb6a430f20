"""Planted effects are visible with simple statistics, and absent in the null scenario."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from biomarkers.datasets import simulate_trial


def _clinical(trial) -> pd.DataFrame:
    c = pd.read_csv(trial.paths["clinical"], dtype={"subject_id": str}).set_index("subject_id")
    d = c["death_day"].fillna(np.inf)
    t = c["transplant_day"].fillna(np.inf)
    c["fail90"] = ((d <= 90) | (t <= 90)).astype(int)
    c["time"] = np.minimum(np.minimum(d, t), c["last_followup_day"]).astype(float)
    c["event"] = ((c["death"] == 1) | (c["transplant"] == 1)).astype(int)
    c["treated"] = (c["arm"] == "ucMSC+SMT").astype(int)
    return c


def _features(trial, visit: str) -> pd.DataFrame:
    """Subjects × (log cytokine, logit flow) at one visit; censored values at the limit / 2."""
    long = pd.read_csv(trial.paths["cytokines_long"], dtype={"value": str}, keep_default_na=False)
    num = pd.to_numeric(long["value"], errors="coerce")
    num = num.where(~long["value"].str.startswith(("<", "OOR <")), long["lod"] / 2)
    num = num.where(~long["value"].str.startswith(">"), long["uloq"])
    long = long.assign(num=num, subject_id=long["sample_id"].str.split("-").str[0])
    long = long[long["sample_id"].str.split("-").str[1] == visit]
    cyto = np.log(long.groupby(["subject_id", "analyte"])["num"].mean().unstack())
    flow = pd.read_csv(trial.paths["flow"])
    flow = flow[flow["sample_id"].str.split("-").str[1] == visit]
    flow = flow.assign(subject_id=flow["sample_id"].str.split("-").str[0])
    f = flow.pivot_table(index="subject_id", columns="population", values="frequency") / 100
    f = np.log(f / (1 - f)).add_prefix("flow_")
    return cyto.join(f, how="outer")


def _pvalues(x: pd.DataFrame, group: pd.Series) -> pd.Series:
    g = group.loc[x.index]
    return pd.Series(
        {
            col: stats.ttest_ind(x.loc[g == 1, col].dropna(), x.loc[g == 0, col].dropna()).pvalue
            for col in x.columns
        }
    )


@pytest.fixture(scope="module")
def strong(tmp_path_factory):
    return simulate_trial(
        tmp_path_factory.mktemp("strong"),
        n_subjects=100,
        seed=11,
        scenario="strong",
        cells_per_sample=0,
    )


def test_prognostic_markers_found_by_t_test_in_strong(strong):
    c = _clinical(strong)
    p = _pvalues(_features(strong, "D0"), c["fail90"])
    assert p["IL6"] < 0.01
    assert p["IL10"] < 1e-4
    assert p["flow_CD14_HLADR_low"] < 1e-3
    # non-survivors have higher IL-6 (direction of the planted effect)
    x = _features(strong, "D0")
    assert (
        x.loc[c.index[c["fail90"] == 1], "IL6"].mean()
        > x.loc[c.index[c["fail90"] == 0], "IL6"].mean()
    )


PLANTED_PROGNOSTIC = ["IL6", "IL8", "IL10", "flow_CD14_HLADR_low"]


def test_prognostic_marker_found_in_default(tmp_path):
    trial = simulate_trial(tmp_path, n_subjects=100, seed=0, cells_per_sample=0)
    p = _pvalues(_features(trial, "D0"), _clinical(trial)["fail90"])
    assert p[PLANTED_PROGNOSTIC].min() < 0.01
    assert (p[PLANTED_PROGNOSTIC] < 0.05).sum() >= 2


def test_mechanism_found_in_strong(strong):
    c = _clinical(strong)
    d28 = _features(strong, "D28")
    p = _pvalues(d28, c["treated"])
    assert p["flow_Treg"] < 1e-4
    assert p["IL6"] < 1e-3
    treated = c.index[c["treated"] == 1].intersection(d28.index)
    control = c.index[c["treated"] == 0].intersection(d28.index)
    assert d28.loc[treated, "flow_Treg"].mean() > d28.loc[control, "flow_Treg"].mean()
    assert d28.loc[treated, "IL10"].mean() > d28.loc[control, "IL10"].mean()
    # no difference at baseline (randomised): the change is on treatment
    assert _pvalues(_features(strong, "D0"), c["treated"])["flow_Treg"] > 0.01


@pytest.mark.slow
def test_predictive_marker_interaction_in_strong(tmp_path):
    """Cox model with arm × baseline Treg interaction: the planted modifier is recovered."""
    from statsmodels.duration.hazard_regression import PHReg

    trial = simulate_trial(tmp_path, n_subjects=300, seed=2, scenario="strong", cells_per_sample=0)
    c = _clinical(trial)
    x = _features(trial, "D0").loc[c.index]
    z = (x["flow_Treg"] - x["flow_Treg"].mean()) / x["flow_Treg"].std()
    design = pd.DataFrame(
        {
            "treated": c["treated"],
            "treg": z,
            "treated_x_treg": c["treated"] * z,
            "aarc": c["aarc_score"],
        }
    )
    fit = PHReg(c["time"].to_numpy(), design.to_numpy(), status=c["event"].to_numpy()).fit()
    coef = dict(zip(design.columns, fit.params, strict=True))
    pval = dict(zip(design.columns, fit.pvalues, strict=True))
    assert coef["treated"] < 0
    assert pval["treated"] < 0.01
    # higher Treg -> less benefit (log-HR rises with Treg in the treated arm only)
    assert coef["treated_x_treg"] > 0
    assert pval["treated_x_treg"] < 0.05
    assert pval["treg"] > 0.05  # Treg is not prognostic in the control arm


@pytest.mark.slow
def test_pseudobulk_gene_change_in_strong(tmp_path):
    trial = simulate_trial(
        tmp_path, n_subjects=24, seed=4, scenario="strong", cells_per_sample=100, tenx_samples=0
    )
    adata = ad.read_h5ad(trial.paths["singlecell"])
    c = _clinical(trial)
    mono = adata[(adata.obs["cell_type"] == "CD14_mono") & (adata.obs["visit"] == "D28")]
    pb = (
        pd.DataFrame(mono.X.toarray(), columns=mono.var_names)
        .groupby(mono.obs["subject_id"].astype(str).to_numpy())
        .sum()
    )
    cpm = np.log1p(pb.div(pb.sum(axis=1), axis=0) * 1e4)
    treated = c.loc[cpm.index, "treated"]
    for gene in ("IL1B", "S100A8"):
        assert cpm.loc[treated == 1, gene].mean() < cpm.loc[treated == 0, gene].mean()
        assert (
            stats.ttest_ind(cpm.loc[treated == 1, gene], cpm.loc[treated == 0, gene]).pvalue < 0.01
        )
    # composition: Treg fraction up on treatment at D28
    d28 = adata.obs[adata.obs["visit"] == "D28"]
    frac = (d28["cell_type"] == "Treg").groupby(d28["subject_id"].astype(str), observed=True).mean()
    tr = c.loc[frac.index, "treated"]
    assert frac[tr == 1].mean() > 1.5 * frac[tr == 0].mean()


@pytest.mark.slow
def test_null_scenario_biomarkers_carry_no_outcome_information(tmp_path):
    """Over three seeds: about 5 % of tests significant at 0.05, nothing strong."""
    prognostic, mechanism = [], []
    for seed in (0, 1, 2):
        trial = simulate_trial(
            tmp_path / str(seed), n_subjects=100, seed=seed, scenario="null", cells_per_sample=0
        )
        c = _clinical(trial)
        prognostic.append(_pvalues(_features(trial, "D0"), c["fail90"]))
        mechanism.append(_pvalues(_features(trial, "D28"), c["treated"]))
    p = pd.concat(prognostic)
    assert (p < 0.05).mean() < 0.15  # 72 tests; the truly planted scenarios give > 0.3
    assert p.min() > 1e-4
    m = pd.concat(mechanism)
    assert (m < 0.05).mean() < 0.15
    assert m.min() > 1e-4
    assert trial.truth.prognostic == []
    assert trial.truth.mechanism == []


@pytest.mark.slow
def test_no_benefit_keeps_prognosis_without_treatment_effect(tmp_path):
    trial = simulate_trial(
        tmp_path, n_subjects=100, seed=11, scenario="no_benefit", cells_per_sample=0
    )
    c = _clinical(trial)
    assert _pvalues(_features(trial, "D0"), c["fail90"])[PLANTED_PROGNOSTIC].min() < 1e-3
    assert _pvalues(_features(trial, "D28"), c["treated"])["flow_Treg"] > 0.01
    assert trial.truth.predictive == []
