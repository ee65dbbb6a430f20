"""Mediation: the g-formula against the product of coefficients, sensitivity, planted recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import biomarkers as bm
from biomarkers.exceptions import ConfigError, SchemaError

TREATED = "ucMSC+SMT"


def _linear(n=400, a=0.8, g=0.5, c=0.3, seed=0, binary=False):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n).astype(float)
    age = rng.normal(50, 10, n)
    m = 0.2 + a * t + 0.02 * age + rng.normal(0, 1, n)
    lin = -0.5 + c * t + g * m + 0.01 * age
    y = (
        (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
        if binary
        else lin + rng.normal(0, 1, n)
    )
    return pd.DataFrame(
        {"arm": np.where(t == 1, TREATED, "SMT"), "cytokine:HGF@D7": m, "y": y, "age": age},
        index=[f"S{i:04d}" for i in range(n)],
    )


def test_point_estimate_equals_product_of_coefficients_linear_linear():
    df = _linear()
    res = bm.models.mediation(
        df, outcome="y", mediator="cytokine:HGF@D7", treated=TREATED, covariates=["age"],
        interaction=False, n_bootstraps=0,
    )  # fmt: skip
    t = (df["arm"] == TREATED).astype(float).to_numpy()
    m, y, age = df["cytokine:HGF@D7"].to_numpy(), df["y"].to_numpy(), df["age"].to_numpy()
    a = sm.OLS(m, np.column_stack([np.ones_like(t), t, age])).fit().params[1]
    fit_y = sm.OLS(y, np.column_stack([np.ones_like(t), t, m, age])).fit().params
    est = res.effects.set_index("effect")["estimate"]
    assert abs(est["indirect"] - a * fit_y[2]) < 1e-8
    assert abs(est["direct"] - fit_y[1]) < 1e-8
    assert abs(est["total"] - (a * fit_y[2] + fit_y[1])) < 1e-8


@pytest.mark.parametrize("binary", [False, True], ids=["continuous", "binary"])
def test_sensitivity_is_monotone_in_confounding_strength(binary):
    df = _linear(n=600, binary=binary, seed=1)
    res = bm.models.mediation(
        df, outcome="y", mediator="cytokine:HGF@D7", treated=TREATED, n_bootstraps=0
    )
    sens = res.sensitivity
    assert sens["strength"].iloc[0] == 0
    assert np.all(np.diff(sens["strength"]) > 0)
    assert np.all(np.diff(sens["indirect"]) < 0), sens  # a > 0: confounding explains it away
    estimate = res.effects.set_index("effect").loc["indirect", "estimate"]
    assert sens["indirect"].iloc[0] == pytest.approx(estimate)
    rho = res.rho_explaining_away
    assert 0 < rho < 1
    # at the explaining rho, the indirect effect is 0
    at = bm.models.mediation(
        df, outcome="y", mediator="cytokine:HGF@D7", treated=TREATED, n_bootstraps=0,
        strengths=[rho],
    ).sensitivity["indirect"].iloc[0]  # fmt: skip
    assert abs(at) < 1e-6


def test_result_saves_assumptions_and_population(tmp_path):
    df = _linear(n=200, binary=True)
    df.loc[df.index[:7], "cytokine:HGF@D7"] = np.nan  # not sampled at D7
    res = bm.models.mediation(
        df, outcome="y", mediator="cytokine:HGF@D7", treated=TREATED, n_bootstraps=30,
        random_state=0, kind="natural",
    )  # fmt: skip
    assert "randomised" in res.assumptions
    assert "cross-world" in res.assumptions
    assert sum(res.population["n_by_arm"].values()) == 193
    eff = res.to_frame().set_index("effect")
    assert eff.loc["indirect", "ci_low"] <= eff.loc["indirect", "estimate"]
    assert eff.loc["indirect", "estimate"] <= eff.loc["indirect", "ci_high"]
    names = sorted(p.name for p in res.save(tmp_path))
    assert names == ["mediation.json", "mediation_effects.csv", "mediation_sensitivity.csv"]
    assert "cytokine:HGF@D7" in res._repr_html_()
    again = bm.models.mediation(
        df, outcome="y", mediator="cytokine:HGF@D7", treated=TREATED, n_bootstraps=30,
        random_state=0, kind="natural",
    )  # fmt: skip
    pd.testing.assert_frame_equal(res.effects, again.effects)


def test_bad_arguments_raise_clear_errors():
    df = _linear(n=100)
    with pytest.raises(SchemaError, match="mediator 'cytokine:HGF@D8' not found"):
        bm.models.mediation(df, outcome="y", mediator="cytokine:HGF@D8", treated=TREATED)
    with pytest.raises(ConfigError, match="treated='MSC'"):
        bm.models.mediation(df, outcome="y", mediator="cytokine:HGF@D7", treated="MSC")
    with pytest.raises(ConfigError, match="kind='direct'"):
        bm.models.mediation(
            df, outcome="y", mediator="cytokine:HGF@D7", treated=TREATED, kind="direct"
        )
    surv = df.assign(event=1, time_days=30.0)
    with pytest.raises(SchemaError, match="survival outcome"):
        bm.models.mediation(
            surv, outcome=("event", "time_days"), mediator="cytokine:HGF@D7", treated=TREATED
        )


def _mediation_table(trial) -> pd.DataFrame:
    """Per subject: arm, log HGF and IL-8 (D7 - D0, well means), death by D90 (lost: NaN)."""
    long = pd.read_csv(trial.paths["cytokines_long"], dtype={"value": str}, keep_default_na=False)
    long = long[long["analyte"].isin(["HGF", "IL8"])]
    long = long.assign(
        num=pd.to_numeric(long["value"], errors="coerce"),
        subject_id=long["sample_id"].str.split("-").str[0],
        visit=long["sample_id"].str.split("-").str[1],
    )
    wide = np.log(long.groupby(["subject_id", "analyte", "visit"])["num"].mean()).unstack(
        ["analyte", "visit"]
    )
    clin = pd.read_csv(trial.paths["clinical"], dtype={"subject_id": str}).set_index("subject_id")
    lost = (clin["death"] == 0) & (clin["transplant"] == 0) & (clin["last_followup_day"] < 90)
    out = pd.DataFrame({"arm": clin["arm"], "death90": clin["death"].where(~lost)})
    for a in ("HGF", "IL8"):
        out[f"cytokine:{a}@D7-D0"] = wide[(a, "D7")] - wide[(a, "D0")]
    return out


@pytest.mark.slow
def test_planted_mediator_recovered_and_non_mediator_covers_zero(tmp_path):
    covered, null_covered = 0, 0
    for seed in range(5):
        trial = bm.datasets.simulate_trial(
            tmp_path / str(seed), n_subjects=1500, seed=seed, cells_per_sample=0,
            scenario="mediation", visits=["D0", "D7"], singlecell_visits=(),
        )  # fmt: skip
        planted = trial.truth.mediators[0]["indirect_effect"]["value"]
        assert planted < -0.03
        table = _mediation_table(trial)
        kw = {"outcome": "death90", "treated": TREATED, "n_bootstraps": 200, "random_state": seed}
        res = bm.models.mediation(table, mediator="cytokine:HGF@D7-D0", **kw)
        lo, hi = res.effects.set_index("effect").loc["indirect", ["ci_low", "ci_high"]]
        covered += lo <= planted <= hi
        res0 = bm.models.mediation(table, mediator="cytokine:IL8@D7-D0", **kw)
        lo0, hi0 = res0.effects.set_index("effect").loc["indirect", ["ci_low", "ci_high"]]
        null_covered += lo0 <= 0 <= hi0
    assert covered >= 4
    assert null_covered >= 4
