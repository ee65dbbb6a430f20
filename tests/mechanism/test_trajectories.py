from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.mechanism import TrajectoryResult, trajectories

TREATED, CONTROL = "ucMSC+SMT", "SMT"
DIFF = f"{TREATED} − {CONTROL}"


@pytest.fixture(scope="module")
def wide(make_cyto):
    return make_cyto()


@pytest.fixture(scope="module")
def result(wide):
    return trajectories(wide, features=["IL6", "IL10", "TNF"], responder_key="response")


def test_arm_differences_match_statsmodels(wide, result):
    import statsmodels.formula.api as smf

    fit = smf.mixedlm(
        "IL6 ~ C(arm, Treatment('SMT')) * C(visit, Treatment('D0')) + age",
        wide,
        groups=wide["subject_id"],
    ).fit(reml=True)
    res = trajectories(wide, features=["IL6"], covariates=["age"])
    tab = res.table.set_index(["term", "visit", "group"])
    names = list(fit.fe_params.index)
    arm = "C(arm, Treatment('SMT'))[T.ucMSC+SMT]"
    for v in ("D0", "D14"):
        w = np.zeros(len(names))
        w[names.index(arm)] = 1
        if v != "D0":
            w[names.index(f"{arm}:C(visit, Treatment('D0'))[T.{v}]")] = 1
        tt = fit.t_test(w[None, :])
        row = tab.loc[("arm_difference", v, DIFF)]
        assert row.effect == pytest.approx(float(np.squeeze(tt.effect)), rel=1e-6)
        assert row.se == pytest.approx(float(np.squeeze(tt.sd)), rel=1e-6)
        assert row.pvalue == pytest.approx(float(np.squeeze(tt.pvalue)), rel=1e-6)
        low, high = np.squeeze(tt.conf_int())
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high), rel=1e-6)
    inter = f"{arm}:C(visit, Treatment('D0'))[T.D28]"
    assert tab.loc[("difference", "D28", DIFF)].effect == pytest.approx(fit.params[inter], rel=1e-6)


def test_planted_decrease_recovered_and_null_features_quiet(result):
    arm = result.table.query("comparison == 'arm' and term == 'difference'")
    il6 = arm.query("feature == 'IL6'")
    assert (il6.q_value <= 0.1).all()
    assert (il6.effect < -0.4).all()
    assert (il6.ci_high < 0).all()
    others = arm.query("feature != 'IL6'")
    # BH at 0.1 with ~12 true discoveries in the family tolerates about one false one
    assert (others.q_value <= 0.1).sum() <= 1


def test_responder_trajectories_within_treated_arm(result, wide):
    resp = result.table.query("comparison == 'responder'")
    assert set(resp.group) >= {"responder", "non-responder", "responder − non-responder"}
    d = resp.query("feature == 'IL6' and term == 'difference' and visit == 'D28'")
    assert d.effect.iat[0] < 0
    n_treated = wide.query("arm == @TREATED").subject_id.nunique()
    assert (resp.n_subjects == n_treated).all()


def test_means_for_plotting(result, wide):
    m = result.means.query("comparison == 'arm' and feature == 'IL10'")
    assert len(m) == 8  # 2 arms x 4 visits
    # without covariates the model-based mean at a visit is close to the raw mean
    raw = wide.groupby(["arm", "visit"]).IL10.mean()
    for _, row in m.iterrows():
        assert row["mean"] == pytest.approx(raw[(row.group, row.visit)], abs=0.05)
        assert row.ci_low < row["mean"] < row.ci_high
    assert (m.n == 15).all()


def _tidy(wide):
    long = wide.melt(id_vars=["subject_id", "visit", "arm"], value_vars=["IL6"], var_name="analyte")
    long["value"] = 2.0 ** long["value"]
    long["sample_id"] = long.subject_id + "_" + long.visit
    long["lod"] = 16.0
    long["uloq"] = np.nan
    low = long["value"] < 16
    long["censor"] = np.where(low, "below", "ok")
    long.loc[low, "value"] = np.nan
    return long


def test_censored_values_replaced_before_fitting(wide):
    tidy = _tidy(wide)
    n_below = int((tidy.censor == "below").sum())
    assert n_below > 5
    design = tidy.drop_duplicates("sample_id").set_index("sample_id")[
        ["subject_id", "visit", "arm"]
    ]
    res = trajectories(
        tidy.drop(columns=["subject_id", "visit", "arm"]), design_table=design, transform="log2"
    )
    assert res.tables["censoring"].n_below.iat[0] == n_below
    # oracle: substitute LOD/sqrt(2) by hand and fit statsmodels directly
    import statsmodels.formula.api as smf

    manual = tidy.assign(value=np.log2(tidy.value.fillna(16 / np.sqrt(2))))
    fit = smf.mixedlm(
        "value ~ C(arm, Treatment('SMT')) * C(visit, Treatment('D0'))",
        manual,
        groups=manual["subject_id"],
    ).fit(reml=True)
    inter = "C(arm, Treatment('SMT'))[T.ucMSC+SMT]:C(visit, Treatment('D0'))[T.D7]"
    row = res.table.query("term == 'difference' and visit == 'D7'")
    assert row.effect.iat[0] == pytest.approx(fit.params[inter], rel=1e-6)
    dropped = trajectories(tidy, transform="log2", censor_rule="drop")
    assert dropped.table.n_obs.iat[0] == len(tidy) - n_below


def test_feature_table_and_assay_anndata_inputs(wide):
    # FeatureTable: subjects x cytokine:IL6@visit with -inf for censored
    piv = wide.pivot(index="subject_id", columns="visit", values="IL6")
    var = pd.DataFrame(
        {"modality": "cytokine", "entity": "IL6", "visit": piv.columns, "kind": "value"},
        index=[f"cytokine:IL6@{v}" for v in piv.columns],
    )
    obs = wide.drop_duplicates("subject_id").set_index("subject_id")[["arm"]]
    x = piv.to_numpy().copy()
    x[0, 0] = -np.inf
    ft = ad.AnnData(X=x, obs=obs.loc[piv.index], var=var)
    res = trajectories(ft, features=["IL6"])
    assert set(res.table.feature) == {"cytokine:IL6"}
    assert res.tables["censoring"].n_below.iat[0] == 1
    # assay AnnData: samples x analytes with layers['censor'] codes
    obs2 = wide[["subject_id", "visit", "arm"]].copy()
    obs2.index = (wide.subject_id + "_" + wide.visit).to_numpy()
    assay = ad.AnnData(
        X=wide[["IL6", "IL10"]].to_numpy(),
        obs=obs2,
        var=pd.DataFrame({"lod": [1.0, 1.0]}, index=["IL6", "IL10"]),
    )
    codes = np.zeros(assay.shape, dtype=np.int8)
    codes[0, 0] = 1
    assay.layers["censor"] = codes
    res2 = trajectories(assay)
    base = trajectories(
        wide.assign(IL6=np.where(np.arange(len(wide)) == 0, 1 / np.sqrt(2), wide.IL6)),
        features=["IL6", "IL10"],
    )
    np.testing.assert_allclose(res2.table.effect, base.table.effect, rtol=1e-6)


def test_errors(wide):
    with pytest.raises(ConfigError, match="censor_rule='lod/2' is not supported"):
        trajectories(wide, censor_rule="lod/2")
    with pytest.raises(SchemaError, match="feature 'IL-6' not found; did you mean 'IL6'"):
        trajectories(wide, features=["IL-6"])
    with pytest.raises(SchemaError, match="required column 'arm' not found"):
        trajectories(wide.drop(columns="arm"))
    tidy = _tidy(wide)
    with pytest.raises(SchemaError, match=r"repeated measurement.*average_replicates"):
        trajectories(pd.concat([tidy, tidy.iloc[:3]]))
    with pytest.raises(SchemaError, match="transform='log2' needs values > 0"):
        trajectories(wide.assign(TNF=-1.0), transform="log2")


def test_result_saves(result, tmp_path):
    assert isinstance(result, TrajectoryResult)
    names = sorted(p.name for p in result.save(tmp_path))
    assert names == [
        "trajectories.csv",
        "trajectories_censoring.csv",
        "trajectories_counts.csv",
        "trajectories_means.csv",
        "trajectories_params.json",
        "trajectories_survivor_aware.csv",
    ]


def test_feature_table_per_cell_type_features_stay_apart(wide):
    # the same gene in two cell types is two features (issue 16: names through the grammar)
    piv = wide.pivot(index="subject_id", columns="visit", values="IL6")
    piv10 = wide.pivot(index="subject_id", columns="visit", values="IL10")
    cols = [(ct, v) for ct in ("CD4_T", "B") for v in piv.columns]
    var = pd.DataFrame(
        {
            "modality": "pseudobulk",
            "entity": "FOXP3",
            "cell_type": [ct for ct, _ in cols],
            "visit": [v for _, v in cols],
            "kind": "value",
        },
        index=[f"pseudobulk:{ct}:FOXP3@{v}" for ct, v in cols],
    )
    obs = wide.drop_duplicates("subject_id").set_index("subject_id")[["arm"]]
    x = np.hstack([piv.to_numpy(), piv10.to_numpy()])
    ft = ad.AnnData(X=x, obs=obs.loc[piv.index], var=var)
    res = trajectories(ft)
    assert set(res.table.feature) == {"pseudobulk:CD4_T:FOXP3", "pseudobulk:B:FOXP3"}
    one = trajectories(ft, features=["CD4_T:FOXP3"])
    assert set(one.table.feature) == {"pseudobulk:CD4_T:FOXP3"}
    alone = trajectories(wide, features=["IL6"]).table
    got = one.table.set_index(["comparison", "term", "visit", "group"])["effect"]
    want = alone.set_index(["comparison", "term", "visit", "group"])["effect"]
    np.testing.assert_allclose(got.loc[want.index], want, rtol=1e-6)
