"""treatment_effect() against statsmodels / scikit-survival on small examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.clinical import binary_outcome, survival_outcome
from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.models import treatment_effect


def _trial(n=120, seed=0):
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(n) < 0.75, "A", "B")
    dead = rng.random(n) < np.where(arm == "A", 0.2, 0.4)
    time = np.where(dead, rng.exponential(100, n), 365.0) + rng.random(n)  # no ties
    return pd.DataFrame(
        {
            "arm": arm,
            "status": np.where(dead, "Dead", "Alive"),
            "dead": dead.astype(int),
            "days": time,
            "score": rng.normal(10, 2, n) + (arm == "A"),
        },
        index=[f"S{i:03d}" for i in range(n)],
    ).rename_axis("subject_id")


def test_binary_risk_difference_and_odds_ratio_match_statsmodels():
    from statsmodels.stats.contingency_tables import Table2x2
    from statsmodels.stats.proportion import confint_proportions_2indep

    df = _trial()
    out = binary_outcome(df.reset_index(), column="status", positive="Dead")
    te = treatment_effect(df, outcome=out, treated="A").set_index("measure")
    a = df[df.arm == "A"]["dead"]
    b = df[df.arm == "B"]["dead"]
    k1, n1, k0, n0 = int(a.sum()), a.size, int(b.sum()), b.size
    rd = te.loc["risk_difference"]
    assert rd["estimate"] == pytest.approx(k1 / n1 - k0 / n0, abs=1e-12)
    lo, hi = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff")
    np.testing.assert_allclose([rd["ci_low"], rd["ci_high"]], [lo, hi], atol=1e-8)
    assert (rd["events_treated"], rd["n_treated"], rd["events_control"]) == (k1, n1, k0)
    assert rd["positive"] == "status = 'Dead'"
    tab = Table2x2(np.array([[k1, n1 - k1], [k0, n0 - k0]]))
    orow = te.loc["odds_ratio"]
    assert orow["estimate"] == pytest.approx(tab.oddsratio, rel=1e-10)
    np.testing.assert_allclose(
        [orow["ci_low"], orow["ci_high"]], tab.oddsratio_confint(), rtol=1e-8
    )
    assert orow["p_value"] == pytest.approx(tab.oddsratio_pvalue(), rel=1e-8)


def test_continuous_mean_difference_matches_welch():
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    df = _trial()
    te = treatment_effect(df, outcome="score", treated="A", control="B")
    row = te.iloc[0]
    cm = CompareMeans(DescrStatsW(df.score[df.arm == "A"]), DescrStatsW(df.score[df.arm == "B"]))
    np.testing.assert_allclose(
        [row["ci_low"], row["ci_high"]], cm.tconfint_diff(usevar="unequal"), atol=1e-8
    )
    assert row["p_value"] == pytest.approx(cm.ttest_ind(usevar="unequal")[1], rel=1e-8)
    assert row["measure"] == "mean_difference"


def test_survival_hazard_ratio_matches_phreg_and_km_matches_sksurv():
    from sksurv.nonparametric import kaplan_meier_estimator
    from statsmodels.duration.hazard_regression import PHReg

    df = _trial()
    out = survival_outcome(df.reset_index(), event="dead", time="days", name="os")
    te = treatment_effect(df, outcome=out, treated="A", horizon=180).set_index("measure")
    x = (df.arm == "A").astype(float).to_numpy()[:, None]
    fit = PHReg(df.days.to_numpy(), x, status=df.dead.to_numpy(), ties="efron").fit()
    hr = te.loc["hazard_ratio"]
    assert np.log(hr["estimate"]) == pytest.approx(fit.params[0], abs=1e-8)
    lo, hi = np.exp(fit.conf_int()[0])
    np.testing.assert_allclose([hr["ci_low"], hr["ci_high"]], [lo, hi], rtol=1e-6)
    assert hr["p_value"] == pytest.approx(fit.pvalues[0], rel=1e-6)
    km = te.loc["survival_difference_day_180"]
    surv = {}
    for a in ("A", "B"):
        sub = df[df.arm == a]
        t, s = kaplan_meier_estimator(sub.dead.astype(bool), sub.days)
        surv[a] = s[t <= 180][-1]
    assert km["value_treated"] == pytest.approx(surv["A"], abs=1e-12)
    assert km["estimate"] == pytest.approx(surv["A"] - surv["B"], abs=1e-12)


def test_treatment_series_and_errors():
    df = _trial()
    t = pd.Series(np.where(df.arm == "A", 1.0, 0.0), index=df.index)
    t.iloc[:5] = np.nan  # outside the comparison
    te = treatment_effect(df, outcome="dead", treatment=t, treated="A", control="B")
    assert te.loc[0, "n_treated"] + te.loc[0, "n_control"] == len(df) - 5
    with pytest.raises(SchemaError, match="arm 'X' not found"):
        treatment_effect(df, outcome="dead", treated="X")
    with pytest.raises(ConfigError, match="treated="):
        treatment_effect(df, outcome="dead")
