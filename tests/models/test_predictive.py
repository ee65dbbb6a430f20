from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from scipy.special import expit

from biomarkers._stats import bh_qvalues
from biomarkers.exceptions import (
    ConfigError,
    DataQualityWarning,
    InputFileError,
    LeakageError,
    SchemaError,
    SmallSampleWarning,
)
from biomarkers.models._pred_subgroups import out_of_fold_groups
from biomarkers.models._predictive import PredictiveResult, predictive

TREATED = "ucMSC+SMT"


def simulate(
    n=400,
    kind="binary",
    seed=0,
    *,
    treatment=0.0,
    prognostic=0.0,
    predictive=0.0,
    n_noise=4,
    propensity=0.5,
):
    """Two-arm trial: ``prog`` is prognostic only, ``pred`` modifies the treatment effect."""
    rng = np.random.default_rng(seed)
    arm = (rng.random(n) < propensity).astype(int)
    X = rng.normal(size=(n, 2 + n_noise))
    lin = treatment * arm + prognostic * X[:, 0] + predictive * arm * X[:, 1]
    names = ["prog", "pred", *[f"noise{i}" for i in range(n_noise)]]
    index = pd.Index([f"S{i:04d}" for i in range(n)], name="subject_id")
    df = pd.DataFrame(X, columns=names, index=index)
    df["arm"] = np.where(arm == 1, TREATED, "SMT")
    if kind == "binary":
        df["response"] = (rng.random(n) < expit(-0.2 + lin)).astype(int)
        outcome = "response"
    elif kind == "continuous":
        df["delta_meld"] = lin + rng.normal(size=n)
        outcome = "delta_meld"
    else:  # survival: positive lin = higher hazard
        t = rng.exponential(60 * np.exp(-lin))
        c = rng.uniform(30, 90, n)
        df["time_days"] = np.round(np.minimum(t, c), 1)  # rounding makes ties (Efron)
        df["event"] = (t <= c).astype(int)
        outcome = ("event", "time_days")
    return df, outcome


def run(df, outcome, **kw):
    kw.setdefault("n_bootstraps", 50)
    kw.setdefault("n_permutations", 0)
    return predictive(df, outcome=outcome, arm="arm", treated=TREATED, **kw)


KINDS = ["binary", "continuous", "survival"]


# --------------------------------------------------------------------------------------------
# recovery of planted effects
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_planted_markers_are_labelled(kind):
    exact = 0
    for seed in range(3):
        df, outcome = simulate(400, kind, seed, treatment=0.5, prognostic=0.8, predictive=1.0)
        res = run(df, outcome, method=("interaction",))
        labels = res.markers.set_index("marker")["label"]
        assert labels["pred"] in ("predictive", "both")
        assert labels["prog"] in ("prognostic", "both")
        exact += labels["pred"] == "predictive" and labels["prog"] == "prognostic"
        # arm-specific effects point the right way
        row = res.markers.set_index("marker").loc["pred"]
        assert row["beta_treated"] > 0  # model scale: log OR, mean difference, log HR
        assert abs(row["beta_control"]) < abs(row["beta_treated"])
    assert exact >= 2


@pytest.mark.parametrize("kind", KINDS)
def test_learners_detect_heterogeneity(kind):
    df, outcome = simulate(400, kind, 1, treatment=0.3, prognostic=0.5, predictive=1.5)
    res = run(df, outcome, n_permutations=9)
    het = res.heterogeneity.set_index("learner")
    assert set(het.index) == {"t_learner", "dr_learner"}
    assert (het["p_slope"] < 0.05).all()
    # the out-of-fold CATE follows the planted modifier; for survival a higher ``pred`` raises
    # the hazard under treatment, so the RMST difference falls
    cate = res.cate.set_index("subject_id").loc[df.index]
    sign = -1 if kind == "survival" else 1
    for col in ("cate_t", "cate_dr"):
        assert sign * stats.spearmanr(cate[col], df["pred"]).statistic > 0.5
    assert res.uplift["learner"] == "dr_learner"
    assert res.uplift["qini"] > 0
    assert res.uplift["ci"][0] > 0
    assert res.uplift["p_value"] == pytest.approx(1 / 10)  # above all 9 shuffles


# --------------------------------------------------------------------------------------------
# calibration under the null
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "effects"),
    [
        ("binary", {}),
        pytest.param("continuous", {}, marks=pytest.mark.slow),
        pytest.param("survival", {}, marks=pytest.mark.slow),
        ("survival", {"prognostic": 1.0}),  # no benefit (HR = 1) but a strong prognostic marker
        pytest.param("binary", {"prognostic": 1.0}, marks=pytest.mark.slow),
    ],
    ids=[
        "null-binary",
        "null-continuous",
        "null-survival",
        "no_benefit-survival",
        "no_benefit-bin",
    ],
)
def test_false_predictive_calls_are_rare(kind, effects):
    seeds_with_calls, pvalues = 0, []
    for seed in range(10):
        df, outcome = simulate(200, kind, 100 + seed, n_noise=8, **effects)
        res = run(df, outcome, method=("interaction",))
        seeds_with_calls += int(res.markers["label"].isin(["predictive", "both"]).any())
        pvalues.extend(res.markers["p_interaction"])
    # BH at q = 0.1 under the complete null: P(any call) <= 0.1 per seed;
    # P(Binomial(10, 0.1) >= 4) = 0.013
    assert seeds_with_calls <= 3
    assert stats.kstest(pvalues, "uniform").pvalue > 0.001
    if "prognostic" in effects:
        assert (res.markers.set_index("marker").loc["prog", "label"]) == "prognostic"


@pytest.mark.parametrize(
    ("kind", "effects"),
    [("binary", {}), ("survival", {"prognostic": 1.0})],
    ids=["null-binary", "no_benefit-survival"],
)
def test_qini_permutation_not_significant_without_heterogeneity(kind, effects):
    df, outcome = simulate(200, kind, 7, n_noise=4, **effects)
    res = run(df, outcome, method=("dr_learner",), n_permutations=9)
    assert res.uplift["null"].shape == (9,)
    assert res.uplift["p_value"] > 0.1  # not above all 9 shuffles
    assert res.heterogeneity["p_slope"].iloc[0] > 0.05


@pytest.mark.slow
def test_qini_permutation_pvalues_uniform_under_null():
    p = []
    for seed in range(20):
        df, outcome = simulate(160, "continuous", 500 + seed, n_noise=4)
        res = run(df, outcome, method=("t_learner",), n_bootstraps=0, n_permutations=19)
        p.append(res.uplift["p_value"])
    p = np.array(p)
    assert (p <= 0.05).sum() <= 4  # P(Binomial(20, 0.05) >= 5) = 0.003
    assert 0.3 < p.mean() < 0.7


# --------------------------------------------------------------------------------------------
# oracles: statsmodels fitted directly
# --------------------------------------------------------------------------------------------
def _with_covariates(df, seed):
    rng = np.random.default_rng(seed)
    df = df.copy()
    df["age"] = rng.normal(50, 10, len(df)).round()
    df["sex"] = rng.choice(["F", "M"], len(df))
    return df


@pytest.mark.parametrize("kind", KINDS)
def test_interaction_matches_statsmodels(kind):
    df, outcome = simulate(300, kind, 3, treatment=0.4, prognostic=0.6, predictive=0.7, n_noise=1)
    df = _with_covariates(df, 3)
    df.loc[df.index[:5], "pred"] = np.nan  # complete cases per marker
    res = run(df, outcome, method=("interaction",), covariates=["age", "sex"])
    table = res.markers.set_index("marker")
    for marker in ("prog", "pred", "noise0"):
        d = df.dropna(subset=[marker]).copy()
        d["z"] = (d[marker] - d[marker].mean()) / d[marker].std(ddof=0)
        d["a"] = (d["arm"] == TREATED).astype(float)
        if kind == "binary":
            fit = smf.logit("response ~ a * z + age + C(sex)", d).fit(disp=0)
        elif kind == "continuous":
            fit = smf.ols("delta_meld ~ a * z + age + C(sex)", d).fit()
        else:
            fit = smf.phreg(
                "time_days ~ a * z + age + C(sex)", d, status=d["event"].to_numpy(), ties="efron"
            ).fit()
        names = list(fit.model.exog_names)
        i_int, i_z = names.index("a:z"), names.index("z")
        ci = np.asarray(fit.conf_int())[i_int]
        row = table.loc[marker]
        assert row["n"] == len(d)
        assert np.allclose(row["interaction"], np.asarray(fit.params)[i_int], rtol=1e-5, atol=1e-8)
        assert np.allclose([row["ci_low"], row["ci_high"]], ci, rtol=1e-5, atol=1e-8)
        assert np.allclose(
            row["p_interaction"], np.asarray(fit.pvalues)[i_int], rtol=1e-4, atol=1e-12
        )
        assert np.allclose(row["beta_control"], np.asarray(fit.params)[i_z], rtol=1e-5, atol=1e-8)
        assert np.allclose(row["p_prognostic"], np.asarray(fit.pvalues)[i_z], rtol=1e-4, atol=1e-12)
        contrast = np.zeros(len(names))
        contrast[[i_z, i_int]] = 1
        tt = fit.t_test(contrast)
        assert np.allclose(row["beta_treated"], float(np.squeeze(tt.effect)), rtol=1e-5)
        assert np.allclose(row["p_treated"], float(np.squeeze(tt.pvalue)), rtol=1e-4, atol=1e-12)
        assert row["status"] == "ok"


# --------------------------------------------------------------------------------------------
# subgroups
# --------------------------------------------------------------------------------------------
def test_subgroup_cuts_are_learned_in_training_folds():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    X[0, 0], X[1, 1], X[2, 2] = -np.inf, np.inf, np.nan
    folds = np.arange(50) % 5
    groups, _ = out_of_fold_groups(X, folds)
    for k in range(5):
        train = X[folds != k]
        for j in range(3):
            col = train[:, j]
            finite = col[np.isfinite(col)]
            col = np.where(col == -np.inf, finite.min(), np.where(col == np.inf, finite.max(), col))
            cut = np.nanmedian(col)
            test = X[folds == k, j]
            expected = np.where(np.isnan(test), -1, (test > cut).astype(int))
            assert np.array_equal(groups[folds == k, j], expected)


@pytest.mark.parametrize("kind", KINDS)
def test_subgroup_effects_match_oracles(kind):
    from statsmodels.stats.contingency_tables import Table2x2
    from statsmodels.stats.proportion import confint_proportions_2indep
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    df, outcome = simulate(300, kind, 5, treatment=0.5, predictive=1.5, n_noise=0)
    res = run(df, outcome, method=("interaction",), n_folds=4)
    sub = res.subgroups
    head = ["marker", "subgroup", "n", "effect", "ci_low", "ci_high", "measure"]
    assert list(sub.columns[:7]) == head
    folds = res.cate.set_index("subject_id").loc[df.index, "fold"].to_numpy()
    groups, _ = out_of_fold_groups(df[["prog", "pred"]].to_numpy(), folds)
    for g, name in ((0, "low"), (1, "high")):
        d = df[groups[:, 1] == g]
        t, c = d[d["arm"] == TREATED], d[d["arm"] != TREATED]
        rows = sub[(sub["marker"] == "pred") & (sub["subgroup"] == name)].set_index("measure")
        if kind == "binary":
            a, n1, b, n0 = t["response"].sum(), len(t), c["response"].sum(), len(c)
            lo, hi = confint_proportions_2indep(a, n1, b, n0, method="wald", compare="diff")
            rd = rows.loc["risk difference"]
            assert np.allclose(
                [rd["effect"], rd["ci_low"], rd["ci_high"]], [a / n1 - b / n0, lo, hi]
            )
            tab = Table2x2(np.array([[a, n1 - a], [b, n0 - b]]))
            orow = rows.loc["odds ratio"]
            assert np.allclose(
                [orow["effect"], orow["ci_low"], orow["ci_high"]],
                [tab.oddsratio, *tab.oddsratio_confint()],
            )
        elif kind == "continuous":
            cm = CompareMeans(DescrStatsW(t["delta_meld"]), DescrStatsW(c["delta_meld"]))
            lo, hi = cm.tconfint_diff(usevar="unequal")
            md = rows.loc["mean difference"]
            diff = t["delta_meld"].mean() - c["delta_meld"].mean()
            assert np.allclose([md["effect"], md["ci_low"], md["ci_high"]], [diff, lo, hi])
        else:
            d = d.assign(a=(d["arm"] == TREATED).astype(float))
            fit = smf.phreg("time_days ~ a", d, status=d["event"].to_numpy(), ties="efron").fit()
            hr = rows.loc["hazard ratio"]
            ci = np.exp(np.asarray(fit.conf_int())[0])
            assert np.allclose(
                [hr["effect"], hr["ci_low"], hr["ci_high"]], [np.exp(fit.params[0]), *ci]
            )
        assert rows["n"].iloc[0] == len(d)
    # the planted modifier: treatment works better above the cut
    pred = sub[sub["marker"] == "pred"]
    assert pred["p_difference"].iloc[0] < 0.05


# --------------------------------------------------------------------------------------------
# inputs: AnnData FeatureTable, censored values, bad input
# --------------------------------------------------------------------------------------------
def test_feature_table_with_censored_values_matches_filled_dataframe():
    import anndata as ad

    df, _ = simulate(200, "binary", 2, prognostic=0.8, predictive=1.0, n_noise=1)
    markers = ["prog", "pred", "noise0"]
    X = df[markers].to_numpy().copy()
    X[:6, 0] = -np.inf
    X[6:9, 1] = np.inf
    X[9:12, 2] = np.nan
    obs = df[["arm", "response"]].copy()
    obs.index = obs.index.astype(str)
    names = ["cytokine:IL6@D0", "composition:CD14_mono@D0", "flow:Treg@D0"]
    adata = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=names))
    adata.uns["outcomes"] = {"response": {"kind": "binary", "columns": ["response"]}}
    res = run(adata, "response", n_bootstraps=20, n_folds=4)
    assert list(res.markers["marker"]) == names

    filled = df[["arm", "response"]].copy()
    for j, name in enumerate(names):
        col = X[:, j]
        fin = col[np.isfinite(col)]
        filled[name] = np.where(col == -np.inf, fin.min(), np.where(col == np.inf, fin.max(), col))
    ref = run(filled, "response", method=("interaction",), n_folds=4)
    cols = ["n", "interaction", "ci_low", "ci_high", "p_interaction", "p_prognostic"]
    assert np.allclose(res.markers[cols].to_numpy(float), ref.markers[cols].to_numpy(float))
    assert res.markers.loc[2, "n"] == 197
    assert np.isfinite(res.cate[["cate_t", "cate_dr"]].to_numpy()).all()

    sub = run(adata, "response", markers=[names[1]], method=("interaction",))
    assert list(sub.markers["marker"]) == [names[1]]


def test_feature_table_outcome_from_uns():
    import anndata as ad

    df, outcome = simulate(120, "survival", 3, prognostic=0.8, n_noise=1)
    obs = df[["arm", "event", "time_days"]].copy()
    adata = ad.AnnData(X=df[["prog", "pred", "noise0"]].to_numpy(), obs=obs)
    adata.var_names = ["prog", "pred", "noise0"]
    adata.uns["outcomes"] = {
        "tfs90": {"kind": "survival", "columns": ["event", "time_days"], "assessed_day": 90}
    }
    res = run(adata, "tfs90", method=("interaction",))
    ref = run(df, outcome, method=("interaction",))
    assert res.params["kind"] == "survival"
    assert np.allclose(res.markers["interaction"], ref.markers["interaction"])
    # a feature measured at/after the assessment day is refused
    adata.var["day"] = [0, 0, 90]
    with pytest.raises(LeakageError, match=r"'noise0'.*on or after day 90.*markers="):
        run(adata, "tfs90", method=("interaction",))
    ok = run(adata, "tfs90", method=("interaction",), markers=["prog", "pred"])
    assert len(ok.markers) == 2


def test_separation_is_flagged_not_raised():
    df, outcome = simulate(120, "binary", 4, predictive=1.0, n_noise=1)
    # a marker that perfectly separates response in every subject
    df["separating"] = np.where(df["response"] == 1, 1.0, -1.0) + 0.01 * np.arange(len(df))
    df["constant"] = 1.0
    res = run(df, outcome, method=("interaction",))
    table = res.markers.set_index("marker")
    assert table.loc["separating", "status"] == "separation"
    assert np.isnan(table.loc["separating", ["interaction", "p_interaction"]].astype(float)).all()
    assert table.loc["separating", "label"] == "neither"
    assert table.loc["constant", "status"] == "constant"
    assert table.loc["pred", "status"] == "ok"
    # NaN p-values do not count in the FDR
    ok = table["p_interaction"].notna()
    assert np.allclose(
        table.loc[ok, "q_value_interaction"], bh_qvalues(table.loc[ok, "p_interaction"])
    )


def test_missing_outcomes_are_dropped_and_columns_inferred():
    df, outcome = simulate(150, "continuous", 6, predictive=1.0, n_noise=1)
    df.iloc[:10, df.columns.get_loc("delta_meld")] = np.nan
    df["site"] = "A"  # a non-numeric column is not taken as a marker
    res = run(df.reset_index(), outcome, method=("interaction",))
    assert set(res.markers["marker"]) == {"prog", "pred", "noise0"}
    assert res.params["n_dropped"] == 10
    assert res.markers["n"].max() == 140
    assert res.params["kind"] == "continuous"


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "match"),
    [
        (None, {"arm": "group"}, SchemaError, "required column 'group' not found"),
        (None, {"outcome": "responce"}, SchemaError, "'responce' not found; did you mean"),
        (None, {"outcome": ("event",)}, SchemaError, r"an \(event, time\) pair"),
        (None, {"treated": "ucMSC"}, SchemaError, r"treated arm 'ucMSC' not found.*did you mean"),
        ("three_arms", {}, SchemaError, "exactly two arms, found 3"),
        ("bad_binary", {}, SchemaError, "must hold 0/1"),
        ("duplicate", {}, SchemaError, "appear more than once"),
        (None, {"markers": ["IL6"]}, SchemaError, "required column 'IL6' not found"),
        (None, {"method": ("interaction", "x_learner")}, ConfigError, "did you mean 't_learner'"),
        (None, {"propensity": 1.0}, ConfigError, "strictly between 0 and 1"),
        (None, {"fdr": 0}, ConfigError, r"fdr=0 must be in \(0, 1\]"),
        (None, {"n_folds": 1}, ConfigError, "n_folds=1 must be an integer >= 2"),
        (None, {"n_folds": 200}, SchemaError, "n_folds=200 but one arm has only"),
        (None, {"learner": "forest"}, ConfigError, "learner='forest' is not supported"),
        ("string_marker", {"markers": ["prog", "site"]}, SchemaError, "'site' is not numeric"),
        ("list", {}, SchemaError, "FeatureTable .AnnData. or a pandas DataFrame"),
    ],
)
def test_bad_input_messages(change, kwargs, error, match):
    df, outcome = simulate(60, "binary", 0, n_noise=1)
    df["event"], df["time_days"] = df["response"], 28.0
    if change == "three_arms":
        df.iloc[:5, df.columns.get_loc("arm")] = "placebo"
    elif change == "bad_binary":
        df.iloc[0, df.columns.get_loc("event")] = 2
        outcome = ("event", "time_days")
    elif change == "duplicate":
        df = pd.concat([df, df.iloc[:2]])
    elif change == "string_marker":
        df["site"] = "A"
    elif change == "list":
        df = df.to_numpy().tolist()
    args = {"outcome": outcome, "arm": "arm", "treated": TREATED, "n_permutations": 0} | kwargs
    with pytest.raises(error, match=match):
        predictive(df, **args)


def test_warnings_on_small_or_unbalanced_samples():
    df, outcome = simulate(30, "continuous", 0, n_noise=1)
    with pytest.warns(SmallSampleWarning, match=r"very uncertain"):
        run(df, outcome, method=("interaction",), n_folds=3)
    df, outcome = simulate(300, "continuous", 0, n_noise=1, propensity=0.8)
    with pytest.warns(DataQualityWarning, match=r"propensity=0.5"):
        run(df, outcome, method=("interaction",))


# --------------------------------------------------------------------------------------------
# result object
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def result():
    df, outcome = simulate(200, "binary", 9, treatment=0.5, prognostic=0.5, predictive=1.0)
    return run(df, outcome, n_bootstraps=30, n_permutations=3, random_state=3)


def test_result_tables_and_reprs(result):
    assert isinstance(result, PredictiveResult)
    assert list(result.markers.columns[:12]) == [
        "marker", "n", "beta_control", "beta_treated", "interaction", "ci_low", "ci_high",
        "p_interaction", "q_value_interaction", "p_prognostic", "q_value_prognostic", "label",
    ]  # fmt: skip
    assert list(result.cate.columns[:4]) == ["subject_id", "cate_t", "cate_dr", "fold"]
    assert result.cate["subject_id"].is_unique
    assert set(result.cate["fold"]) == set(range(5))
    assert result.to_frame().equals(result.markers)
    assert result.to_frame() is not result.markers
    html = result._repr_html_()
    assert "PredictiveResult" in html
    assert "Qini" in html
    assert "predictive" in repr(result)
    lo, hi = result.uplift["ci"]
    assert lo <= result.uplift["qini"] <= hi
    curve = result.uplift["curve"]
    assert curve["fraction"].iloc[0] == 0
    assert curve["fraction"].iloc[-1] == 1


def test_save_writes_files(result, tmp_path):
    out = tmp_path / "pred"
    written = result.save(out)
    assert sorted(written) == sorted(out.iterdir())
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "benefit_calibration.csv",
        "cate.csv",
        "heterogeneity.csv",
        "heterogeneity_test.csv",
        "landmark.csv",
        "predictive_markers.csv",
        "rate.csv",
        "subgroups.csv",
        "toc.csv",
        "uplift.json",
    ]
    markers = pd.read_csv(out / "predictive_markers.csv")
    assert list(markers.columns) == list(result.markers.columns)
    assert np.allclose(markers["p_interaction"], result.markers["p_interaction"])
    cate = pd.read_csv(out / "cate.csv", dtype={"subject_id": str})
    assert np.allclose(cate["cate_dr"], result.cate["cate_dr"])
    doc = json.loads((out / "uplift.json").read_text())
    assert doc["format"] == "biomarkers.predictive.uplift"
    assert doc["format_version"] == 1
    assert doc["qini"] == pytest.approx(result.uplift["qini"])
    assert len(doc["curve"]["qini"]) == len(result.uplift["curve"])
    assert doc["params"]["treated"] == TREATED


def test_load_reads_back_what_save_wrote(result, tmp_path):
    result.save(tmp_path / "pred")
    back = PredictiveResult.load(tmp_path / "pred")
    pd.testing.assert_frame_equal(back.markers, result.markers, check_dtype=False)
    pd.testing.assert_frame_equal(back.cate, result.cate, check_dtype=False)
    pd.testing.assert_frame_equal(back.subgroups, result.subgroups, check_dtype=False)
    pd.testing.assert_frame_equal(back.heterogeneity, result.heterogeneity, check_dtype=False)
    pd.testing.assert_frame_equal(back.uplift["curve"], result.uplift["curve"], check_dtype=False)
    for key in ("learner", "qini", "ci", "p_value", "n_bootstraps", "n_permutations"):
        assert back.uplift[key] == result.uplift[key]
    assert np.array_equal(back.uplift["null"], result.uplift["null"])
    assert back.params["treated"] == TREATED
    assert repr(back) == repr(result)


def test_load_refuses_other_folders(tmp_path):
    with pytest.raises(InputFileError, match=r"no uplift.json; not a folder written by"):
        PredictiveResult.load(tmp_path)


def test_results_are_reproducible(result):
    df, outcome = simulate(200, "binary", 9, treatment=0.5, prognostic=0.5, predictive=1.0)
    again = run(df, outcome, n_bootstraps=30, n_permutations=3, random_state=3)
    pd.testing.assert_frame_equal(again.cate, result.cate)
    assert again.uplift["ci"] == result.uplift["ci"]
    assert np.array_equal(again.uplift["null"], result.uplift["null"])
    other = run(df, outcome, n_bootstraps=30, n_permutations=3, random_state=4)
    assert not np.array_equal(other.cate["fold"], result.cate["fold"])


@pytest.mark.slow
def test_n_jobs_does_not_change_results():
    df, outcome = simulate(150, "continuous", 1, predictive=1.0, n_noise=4)
    one = run(df, outcome, n_permutations=4, n_jobs=1)
    two = run(df, outcome, n_permutations=4, n_jobs=2)
    pd.testing.assert_frame_equal(one.markers, two.markers)
    assert np.array_equal(one.uplift["null"], two.uplift["null"])


def test_xgboost_learner_runs():
    df, outcome = simulate(160, "binary", 2, treatment=0.5, predictive=1.5, n_noise=2)
    res = run(df, outcome, method=("t_learner", "dr_learner"), learner="xgboost", n_folds=3)
    assert res.markers.empty
    assert res.cate[["cate_t", "cate_dr"]].notna().all().all()
    assert res.cate["cate_t"].between(-1, 1).all()  # risk differences
    assert stats.spearmanr(res.cate["cate_t"], df["pred"]).statistic > 0.3
