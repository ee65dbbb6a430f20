from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.mechanism import CompositionResult, composition_change

TREATED, CONTROL = "ucMSC+SMT", "SMT"


@pytest.fixture(scope="module")
def long(make_comp):
    return make_comp(planted={"Treg": 0.8})


@pytest.fixture(scope="module")
def result(long):
    return composition_change(long, transform="clr")


def test_terms_match_statsmodels_fitted_directly(long, result):
    import statsmodels.formula.api as smf

    res = result.proportions.query("cell_type == 'NK'")
    fit = smf.mixedlm(
        "value ~ C(arm, Treatment('SMT')) * C(visit, Treatment('D0'))",
        res,
        groups=res["subject_id"],
    ).fit(reml=True)
    tab = result.table.query("cell_type == 'NK'").set_index(["term", "visit", "arm"])
    arm = "C(arm, Treatment('SMT'))[T.ucMSC+SMT]"
    inter = f"{arm}:C(visit, Treatment('D0'))[T.D28]"
    row = tab.loc[("difference", "D28", f"{TREATED} − {CONTROL}")]
    assert row.effect == pytest.approx(fit.params[inter], rel=1e-6)
    assert row.se == pytest.approx(fit.bse[inter], rel=1e-6)
    assert row.pvalue == pytest.approx(fit.pvalues[inter], rel=1e-6)
    ci = fit.conf_int().loc[inter]
    assert (row.ci_low, row.ci_high) == pytest.approx(tuple(ci), rel=1e-6)
    ctrl = tab.loc[("change", "D7", CONTROL)]
    assert ctrl.effect == pytest.approx(fit.params["C(visit, Treatment('D0'))[T.D7]"], rel=1e-6)
    base = tab.loc[("arm_difference", "D0", f"{TREATED} − {CONTROL}")]
    assert base.pvalue == pytest.approx(fit.pvalues[arm], rel=1e-6)
    # change in the treated arm = visit + interaction, as a linear combination
    names = list(fit.fe_params.index)
    w = np.zeros(len(names))
    w[names.index("C(visit, Treatment('D0'))[T.D7]")] = 1
    w[names.index(f"{arm}:C(visit, Treatment('D0'))[T.D7]")] = 1
    tt = fit.t_test(w[None, :])
    treated = tab.loc[("change", "D7", TREATED)]
    assert treated.effect == pytest.approx(float(np.squeeze(tt.effect)), rel=1e-6)
    assert treated.pvalue == pytest.approx(float(np.squeeze(tt.pvalue)), rel=1e-6)


def test_planted_proportion_increase_recovered(result):
    hits = result.table.query("term == 'difference' and q_value <= 0.1")
    treg = hits.query("cell_type == 'Treg'")
    assert set(treg.visit) == {"D7", "D28"}
    assert (treg.effect > 0.5).all()
    # CLR is relative: raising Treg lowers every other type's share a little (-0.8/6 each)
    others = hits.query("cell_type != 'Treg'")
    assert (others.effect < 0).all()
    assert (others.effect > -0.3).all()


def test_null_data_gives_no_more_findings_than_chance(make_comp):
    null = composition_change(make_comp(seed=1), transform="logit")
    tested = null.table.query("term != 'arm_difference'")
    assert (tested.q_value <= 0.1).sum() <= 0.1 * len(tested)
    assert (tested.pvalue < 0.05).mean() <= 0.15
    assert null.table.converged.all()


@pytest.mark.slow
def test_null_pvalues_are_calibrated(make_comp):
    p = np.concatenate(
        [
            composition_change(make_comp(seed=seed), transform="logit")
            .table.query("term != 'arm_difference'")
            .pvalue.to_numpy()
            for seed in range(30)
        ]
    )
    assert 0.03 < (p < 0.05).mean() < 0.08


def test_transforms_match_definitions(long):
    counts = long.pivot_table(index="sample_id", columns="cell_type", values="count")
    pc = counts + 0.5
    p = pc.div(pc.sum(axis=1), axis=0)
    clr = np.log(p).sub(np.log(p).mean(axis=1), axis=0)
    raw = counts.div(counts.sum(axis=1), axis=0)
    expected = {
        "clr": clr,
        "logit": np.log(p / (1 - p)),
        "asin_sqrt": np.arcsin(np.sqrt(raw)),
    }
    for name, exp in expected.items():
        props = composition_change(long.query("cell_type != 'B' or True"), transform=name)
        got = props.proportions.pivot_table(index="sample_id", columns="cell_type", values="value")
        np.testing.assert_allclose(got.loc[exp.index, exp.columns], exp, rtol=1e-10)


def test_input_forms_agree(long, result):
    # cells AnnData: one obs row per cell
    reps = long["count"].to_numpy()
    obs = long.loc[
        long.index.repeat(reps), ["sample_id", "subject_id", "visit", "arm", "cell_type"]
    ].reset_index(drop=True)
    obs.index = obs.index.astype(str)
    cells = ad.AnnData(obs=obs)
    from_cells = composition_change(cells)
    # pseudobulk AnnData: one obs row per sample x cell type with n_cells
    pb = ad.AnnData(
        obs=long.rename(columns={"count": "n_cells"}).set_axis([f"p{i}" for i in range(len(long))])
    )
    from_pb = composition_change(pb)
    # wide counts + design_table
    wide = long.pivot_table(index="sample_id", columns="cell_type", values="count")
    design = long.drop_duplicates("sample_id").set_index("sample_id")[
        ["subject_id", "visit", "arm"]
    ]
    from_wide = composition_change(wide, design_table=design)
    for other in (from_cells, from_pb, from_wide):
        merged = result.table.merge(other.table, on=["cell_type", "term", "visit", "arm"])
        assert len(merged) == len(result.table)
        np.testing.assert_allclose(merged.effect_x, merged.effect_y, rtol=1e-6)


def test_single_arm_design_reports_changes_only(long):
    res = composition_change(long.query("arm == @TREATED"), design="~ visit")
    assert set(res.table.term) == {"change"}
    assert set(res.table.arm) == {"all"}
    treg = res.table.query("cell_type == 'Treg' and visit == 'D28'")
    assert treg.q_value.iat[0] <= 0.1


def test_covariate_enters_the_model(long):
    rng = np.random.default_rng(0)
    ages = {s: rng.normal(60, 10) for s in long.subject_id.unique()}
    with_age = long.assign(age=long.subject_id.map(ages))
    res = composition_change(with_age, design="~ arm * visit + age")
    assert len(res.table) == len(composition_change(long).table)


def test_errors(long):
    with pytest.raises(ConfigError, match="transform='clr2' is not supported; did you mean 'clr'"):
        composition_change(long, transform="clr2")
    with pytest.raises(SchemaError, match="required column 'subject_id' not found"):
        composition_change(long.drop(columns="subject_id"))
    with pytest.raises(SchemaError, match="visit level 'V0' not found"):
        composition_change(long, reference_visit="V0")
    with pytest.raises(SchemaError, match="treated arm 'MSC' not found"):
        composition_change(long, treated_arm="MSC")
    wide = long.pivot_table(index="sample_id", columns="cell_type", values="count")
    with pytest.raises(SchemaError, match="required column 'subject_id' not found"):
        composition_change(wide)


def test_result_saves(result, tmp_path):
    assert isinstance(result, CompositionResult)
    names = sorted(p.name for p in result.save(tmp_path))
    assert names == [
        "composition.csv",
        "composition_counts.csv",
        "composition_params.json",
        "composition_proportions.csv",
        "composition_survivor_aware.csv",
    ]
    back = pd.read_csv(tmp_path / "composition.csv")
    assert list(back.columns) == list(result.table.columns)


def test_per_subject_design_table_supplies_the_arm(long, result):
    clinical = long.drop_duplicates("subject_id").set_index("subject_id")[["arm"]]
    res = composition_change(long.drop(columns="arm"), design_table=clinical)
    pd.testing.assert_frame_equal(res.table, result.table)


def test_features_composition_anndata_input(long, result):
    wide = long.pivot_table(index="sample_id", columns="cell_type", values="count")
    obs = long.drop_duplicates("sample_id").set_index("sample_id")[["subject_id", "visit", "arm"]]
    obs = obs.loc[wide.index].assign(n_cells=wide.sum(axis=1).astype(int))
    comp = ad.AnnData(
        X=wide.to_numpy().astype(np.int64), obs=obs, var=pd.DataFrame(index=wide.columns)
    )
    res = composition_change(comp)
    merged = result.table.merge(res.table, on=["cell_type", "term", "visit", "arm"])
    assert len(merged) == len(result.table)
    np.testing.assert_allclose(merged.effect_x, merged.effect_y, rtol=1e-6)


def test_third_arm_needs_explicit_labels(long):
    extra = long.assign(arm=np.where(long.subject_id == "S00", "other", long.arm))
    with pytest.raises(SchemaError, match=r"must hold exactly 2 arms.*pass treated_arm="):
        composition_change(extra)
    res = composition_change(extra, treated_arm=TREATED, control_arm=CONTROL)
    assert res.table.n_subjects.max() == 23
