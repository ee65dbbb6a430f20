"""Risk-based analysis (PATH): oracle tests against statsmodels, cross-fitting, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import confint_proportions_2indep

from biomarkers.exceptions import ConfigError, LeakageError, SchemaError
from biomarkers.models import RiskBasedResult, risk_based

Z = stats.norm.ppf(0.975)
SCORE = "clinical:meld@D0"
PER_CELL = 30  # subjects per risk group and arm


def hand_built(kind: str, seed: int = 0) -> pd.DataFrame:
    """Four risk groups with separated score ranges, 30 subjects per arm in each.

    The treatment effect grows with the group (binary: risk 0.1..0.7 in control, halved odds
    in the top groups); the truth of each group is known because the score ranges do not
    overlap, so the quarters of the score are exactly the planted groups.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(4):
        for arm in ("MSC", "SMT"):
            score = 10 + 8 * g + rng.uniform(0, 5, PER_CELL)
            treated = arm == "MSC"
            row = pd.DataFrame({"arm": arm, SCORE: score, "age": rng.normal(55, 8, PER_CELL)})
            if kind == "binary":
                p = 0.1 + 0.2 * g - (0.1 * g if treated else 0)
                row["death"] = (rng.random(PER_CELL) < p).astype(int)
            elif kind == "continuous":
                row["bilirubin_change"] = rng.normal(-0.5 * g * treated + 0.1 * score, 1.0)
            else:
                hazard = 0.005 * (1 + g) * (0.6 if treated and g >= 2 else 1.0)
                t = rng.exponential(1 / hazard, PER_CELL).round()  # ties
                c = rng.uniform(60, 200, PER_CELL).round()
                row["time"], row["event"] = np.minimum(t, c) + 1, (t <= c).astype(int)
            rows.append(row)
    df = pd.concat(rows, ignore_index=True)
    df.index = [f"S{i:03d}" for i in range(len(df))]
    return df


def planted_groups(df: pd.DataFrame) -> np.ndarray:
    return ((df[SCORE] - 10) // 8).astype(int).to_numpy() + 1


def test_binary_groups_and_interaction_match_statsmodels():
    df = hand_built("binary")
    res = risk_based(df, outcome="death", arm="arm", treated="MSC", risk=SCORE)
    truth = planted_groups(df)
    assert (res.subjects["group"].astype(int).to_numpy() == truth).all()
    for g in range(1, 5):
        sub = df[truth == g]
        row = res.groups.set_index("group").loc[str(g)]
        arm = (sub["arm"] == "MSC").astype(float).to_numpy()
        y = sub["death"].to_numpy()
        fit = sm.GLM(y, sm.add_constant(arm), family=sm.families.Binomial()).fit()
        lo, hi = np.exp(fit.conf_int()[1])
        np.testing.assert_allclose(
            [row["relative"], row["relative_ci_low"], row["relative_ci_high"]],
            [np.exp(fit.params[1]), lo, hi], rtol=1e-8,
        )  # fmt: skip
        k1, k0 = int(y[arm == 1].sum()), int(y[arm == 0].sum())
        rd_lo, rd_hi = confint_proportions_2indep(k1, PER_CELL, k0, PER_CELL, method="newcomb")
        np.testing.assert_allclose(
            [row["absolute"], row["absolute_ci_low"], row["absolute_ci_high"]],
            [(k1 - k0) / PER_CELL, rd_lo, rd_hi], rtol=1e-8, atol=1e-12,
        )  # fmt: skip
        assert (row["n_treated"], row["events_treated"], row["events_control"]) == (30, k1, k0)

    arm = (df["arm"] == "MSC").astype(float).to_numpy()
    X = np.column_stack([np.ones(len(df)), arm, df[SCORE], arm * df[SCORE]])
    glm = sm.GLM(df["death"].to_numpy(), X, family=sm.families.Binomial()).fit()
    lpm = sm.OLS(df["death"].to_numpy(), X).fit(cov_type="HC2")
    inter = res.interaction.set_index("scale")
    for scale, ref in (("relative", glm), ("additive", lpm)):
        got = inter.loc[scale]
        np.testing.assert_allclose(
            [got["estimate"], got["se"], got["p_value"]],
            [ref.params[3], ref.bse[3], ref.pvalues[3]], rtol=1e-8,
        )  # fmt: skip
    # along continuous risk: the odds ratio and risk difference at a grid value
    r0 = res.continuous["risk_lp"].iloc[7]
    b = glm.params
    np.testing.assert_allclose(res.continuous["relative"].iloc[7], np.exp(b[1] + b[3] * r0),
                               rtol=1e-8)  # fmt: skip
    pred = glm.predict(np.array([[1, 1, r0, r0], [1, 0, r0, 0]]))
    np.testing.assert_allclose(res.continuous["absolute"].iloc[7], pred[0] - pred[1], rtol=1e-8)


def km_rmst_reference(time, event, tau):
    """RMST and its standard error from statsmodels' Kaplan–Meier table."""
    sf = SurvfuncRight(time, event)
    keep = sf.surv_times <= tau
    t, s = sf.surv_times[keep], sf.surv_prob[keep]
    d, y = sf.n_events[keep], sf.n_risk[keep]
    edges = np.append(t, tau)
    area = s * np.diff(edges)
    rmst = t[0] + area.sum()
    after = np.array([area[j:].sum() for j in range(t.size)])
    ok = y > d  # where the curve drops to 0 the remaining area is 0 too
    return rmst, np.sqrt(np.sum(after[ok] ** 2 * d[ok] / (y[ok] * (y[ok] - d[ok]))))


def test_survival_groups_and_interaction_match_statsmodels():
    df = hand_built("survival")
    res = risk_based(df, outcome=("event", "time"), arm="arm", treated="MSC", risk=SCORE)
    truth = planted_groups(df)
    tau = res.params["horizon"]
    assert tau == min(df.loc[(truth == g) & (df["arm"] == a), "time"].max()
                      for g in range(1, 5) for a in ("MSC", "SMT"))  # fmt: skip
    for g in range(1, 5):
        sub = df[truth == g]
        row = res.groups.set_index("group").loc[str(g)]
        arm = (sub["arm"] == "MSC").astype(float).to_numpy()
        fit = PHReg(sub["time"].to_numpy(), arm[:, None], status=sub["event"].to_numpy(),
                    ties="efron").fit()  # fmt: skip
        b, se = fit.params[0], fit.bse[0]
        np.testing.assert_allclose(
            [row["relative"], row["relative_ci_low"], row["relative_ci_high"]],
            np.exp([b, b - Z * se, b + Z * se]), rtol=1e-8,
        )  # fmt: skip
        r1, s1 = km_rmst_reference(sub["time"][arm == 1], sub["event"][arm == 1], tau)
        r0, s0 = km_rmst_reference(sub["time"][arm == 0], sub["event"][arm == 0], tau)
        sd = np.hypot(s1, s0)
        np.testing.assert_allclose(
            [row["absolute"], row["absolute_ci_low"], row["absolute_ci_high"]],
            [r1 - r0, r1 - r0 - Z * sd, r1 - r0 + Z * sd], rtol=1e-8,
        )  # fmt: skip
    arm = (df["arm"] == "MSC").astype(float).to_numpy()
    X = np.column_stack([arm, df[SCORE], arm * df[SCORE]])
    cox = PHReg(df["time"].to_numpy(), X, status=df["event"].to_numpy(), ties="efron").fit()
    got = res.interaction.set_index("scale").loc["relative"]
    np.testing.assert_allclose([got["estimate"], got["se"], got["p_value"]],
                               [cox.params[2], cox.bse[2], cox.pvalues[2]], rtol=1e-8)  # fmt: skip


def test_continuous_groups_match_statsmodels():
    df = hand_built("continuous")
    res = risk_based(df, outcome="bilirubin_change", arm="arm", treated="MSC", risk="meld")
    assert res.params["risk"] == SCORE  # the short alias found the baseline column
    truth = planted_groups(df)
    for g in range(1, 5):
        sub = df[truth == g]
        arm = (sub["arm"] == "MSC").astype(float).to_numpy()
        fit = sm.OLS(sub["bilirubin_change"].to_numpy(), sm.add_constant(arm)).fit(cov_type="HC2")
        row = res.groups.set_index("group").loc[str(g)]
        np.testing.assert_allclose(
            [row["absolute"], row["absolute_ci_low"], row["absolute_ci_high"]],
            [fit.params[1], *fit.conf_int()[1]], rtol=1e-8,
        )  # fmt: skip
        assert np.isnan(row["relative"])
    assert res.interaction["scale"].tolist() == ["additive"]


def internal_trial(seed=0, n=160):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    arm = np.where(rng.random(n) < 0.5, "MSC", "SMT")
    lin = -0.3 + 1.2 * X[:, 0] - 0.8 * X[:, 1] - 0.7 * (arm == "MSC")
    df = pd.DataFrame(X, columns=[f"cytokine:C{i}@D0" for i in range(4)])
    df["arm"] = arm
    df["death"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    df.index = [f"S{i:03d}" for i in range(n)]
    return df


def test_internal_risk_is_cross_fitted():
    df = internal_trial()
    base = risk_based(df, outcome="death", arm="arm", treated="MSC")
    risk = base.subjects.set_index("subject_id")["risk"]
    changed = df.copy()
    i = "S017"
    changed.loc[i, "death"] = 1 - changed.loc[i, "death"]
    after = risk_based(changed, outcome="death", arm="arm", treated="MSC")
    risk2 = after.subjects.set_index("subject_id")["risk"]
    assert risk2[i] == pytest.approx(risk[i], abs=1e-12)
    # the subject's outcome does reach the models of the other folds
    folds = base.subjects.set_index("subject_id")["fold"]
    others = folds.index[folds != folds[i]]
    assert np.abs(risk2[others] - risk[others]).max() > 1e-6
    assert base.params["predictors"] == [f"cytokine:C{k}@D0" for k in range(4)]
    from sklearn.metrics import roc_auc_score

    disc = base.params["risk_discrimination"]
    assert disc["metric"] == "AUROC"
    auc = roc_auc_score(df.loc[risk.index, "death"], risk)
    assert disc["value"] == pytest.approx(auc, abs=1e-12)


def test_internal_risk_does_not_use_arm():
    df = internal_trial(seed=1)
    base = risk_based(df, outcome="death", arm="arm", treated="MSC")
    shuffled = df.assign(arm=np.random.default_rng(5).permutation(df["arm"].to_numpy()))
    perm = risk_based(shuffled, outcome="death", arm="arm", treated="MSC")
    np.testing.assert_array_equal(perm.subjects["risk"], base.subjects["risk"])
    assert not perm.groups["absolute"].equals(base.groups["absolute"])  # the effects do change


def survival_trial() -> pd.DataFrame:
    df = internal_trial(seed=2)
    rng = np.random.default_rng(2)
    hazard = 0.01 * np.exp(df["cytokine:C0@D0"] - 0.5 * (df["arm"] == "MSC"))
    t, c = rng.exponential(1 / hazard), rng.uniform(30, 150, len(df))
    return df.drop(columns="death").assign(time=np.minimum(t, c).round() + 1, event=(t <= c) * 1)


SURVIVAL = {"outcome": ("event", "time"), "arm": "arm", "treated": "MSC"}


def test_internal_survival_risk_is_cross_fitted():
    df = survival_trial()
    base = risk_based(df, **SURVIVAL)
    assert "elastic-net Cox" in base.params["risk_model"]
    assert base.groups["relative_measure"].iloc[0] == "hazard ratio"
    risk = base.subjects.set_index("subject_id")["risk"]
    # the Cox linear predictor ranks by the planted prognostic marker
    assert stats.spearmanr(risk, df["cytokine:C0@D0"])[0] > 0.5
    changed = df.copy()
    changed.loc["S005", "event"] = 1 - changed.loc["S005", "event"]
    after = risk_based(changed, **SURVIVAL).subjects.set_index("subject_id")["risk"]
    assert after["S005"] == pytest.approx(risk["S005"], abs=1e-12)


@pytest.mark.slow  # starting two joblib workers takes longer than the analysis
def test_internal_risk_is_the_same_for_any_n_jobs():
    df = survival_trial()
    serial = risk_based(df, **SURVIVAL, n_jobs=1)
    parallel = risk_based(df, **SURVIVAL, n_jobs=2)
    np.testing.assert_array_equal(parallel.subjects["risk"], serial.subjects["risk"])
    pd.testing.assert_frame_equal(parallel.groups, serial.groups)


def test_feature_table_score_by_short_name():
    import anndata as ad

    df = hand_built("binary")
    score = df[[SCORE]].to_numpy()
    var = pd.DataFrame({"modality": "clinical", "visit": "D0", "day": 0}, index=[SCORE])
    table = ad.AnnData(score, obs=df[["arm", "death", "age"]], var=var)
    res = risk_based(table, outcome="death", arm="arm", treated="MSC", risk="MELD")
    ref = risk_based(df, outcome="death", arm="arm", treated="MSC", risk=SCORE)
    assert res.params["risk"] == SCORE
    pd.testing.assert_frame_equal(res.groups, ref.groups)


def test_unknown_risk_column():
    df = hand_built("binary")
    with pytest.raises(SchemaError, match=r"risk='mled': no such column.*'internal'"):
        risk_based(df, outcome="death", arm="arm", treated="MSC", risk="mled")


def test_risk_measured_after_treatment_is_refused():
    df = hand_built("binary").rename(columns={SCORE: "clinical:meld@D7"})
    with pytest.raises(LeakageError, match=r"clinical:meld@D7.*after treatment starts"):
        risk_based(df, outcome="death", arm="arm", treated="MSC", risk="meld")


def test_too_many_groups():
    df = hand_built("binary")
    with pytest.raises(ConfigError, match=r"n_groups=30 is too large.*n_groups <= 24"):
        risk_based(df, outcome="death", arm="arm", treated="MSC", risk=SCORE, n_groups=30)


def test_save_load_round_trip(tmp_path):
    df = hand_built("continuous")
    res = risk_based(df, outcome="bilirubin_change", arm="arm", treated="MSC", risk=SCORE)
    written = res.save(tmp_path)
    assert {p.name for p in written} >= {"risk_based.csv", "risk_based.json"}
    back = RiskBasedResult.load(tmp_path)
    pd.testing.assert_frame_equal(back.groups, res.groups)
    pd.testing.assert_frame_equal(back.interaction, res.interaction)
    assert back.params["risk"] == SCORE
    assert "interaction p=" in repr(back)
    assert "<table" in back._repr_html_()
