"""The simulator's planted time truth: early events, response roles, the mediator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.datasets import load_truth, simulate_trial
from biomarkers.datasets._scenarios import SCENARIOS
from biomarkers.datasets._sim_clinical import _death_times, planted_indirect_effect


def test_early_events_count_who_left_before_each_visit(small_trial):
    truth = small_trial.truth
    c = pd.read_csv(small_trial.paths["clinical"], dtype={"subject_id": str})
    d7 = truth.early_events["landmarks"]["D7"]
    assert d7["day"] == 7
    for arm in (truth.treated_arm, truth.control_arm):
        sub = c[c["arm"] == arm]
        died = int((sub["death_day"] <= 7).sum())
        assert d7[arm]["n"] == len(sub)
        assert d7[arm]["died"] == died
        assert d7[arm]["at_risk"] == len(sub) - died - d7[arm]["transplanted"] - d7[arm]["lost"]
    labs = pd.read_csv(small_trial.paths["labs"], dtype={"subject_id": str})
    # everyone at risk at D7 except those who died on the D7 visit window had a D7 visit
    n_at_risk = sum(d7[a]["at_risk"] for a in (truth.treated_arm, truth.control_arm))
    assert n_at_risk - (labs["visit"] == "D7").sum() in (0, 1, 2)
    assert "Weibull" in truth.early_events["rule"]
    assert list(truth.early_events["landmarks"]) == ["D7", "D14", "D21", "D28", "D90"]


def test_about_a_quarter_dies_before_d7_in_the_default_trial(tmp_path):
    trial = simulate_trial(tmp_path, n_subjects=400, seed=1, cells_per_sample=0)
    d7 = trial.truth.early_events["landmarks"]["D7"]
    died = sum(d7[a]["died"] for a in ("ucMSC+SMT", "SMT"))
    assert 0.15 < died / 400 < 0.35


def test_response_roles_in_the_default_truth(small_trial):
    truth = small_trial.truth
    assert truth.baseline_predictive == truth.predictive_features
    assert {"flow:Treg@D0", "cytokine:IL6@D0"} <= set(truth.baseline_predictive)
    assert all(f.endswith("@D0") for f in truth.baseline_predictive)
    assert all(not f.endswith("@D0") for f in truth.pharmacodynamic)
    assert "cytokine:IL6@D7" in truth.pharmacodynamic
    assert set(truth.pharmacodynamic) == set(truth.mechanism_features)
    assert truth.mediators == []
    assert truth.features("mediator") == []


def test_mediation_scenario_plants_an_hgf_mediator(tmp_path):
    trial = simulate_trial(
        tmp_path, n_subjects=300, seed=0, cells_per_sample=0, scenario="mediation",
        visits=["D0", "D7"], singlecell_visits=(),
    )  # fmt: skip
    (med,) = trial.truth.mediators
    assert med["analyte"] == "HGF"
    assert med["features"] == ["cytokine:HGF@D7", "olink:HGF@D7"]
    assert med["indirect_effect"]["scale"] == "risk difference"
    assert -0.15 < med["indirect_effect"]["value"] < -0.02
    assert "cytokine:HGF@D7" not in trial.truth.pharmacodynamic
    assert trial.truth.features("mediator") == med["features"]
    assert load_truth(trial.out_dir).mediators == trial.truth.mediators
    # the treated arm's D7 HGF rises by about the planted log effect
    long = pd.read_csv(trial.paths["cytokines_long"], dtype={"value": str})
    long = long[long["analyte"] == "HGF"].assign(
        num=lambda d: pd.to_numeric(d["value"], errors="coerce"),
        subject_id=lambda d: d["sample_id"].str.split("-").str[0],
        visit=lambda d: d["sample_id"].str.split("-").str[1],
    )
    logc = np.log(long.groupby(["subject_id", "visit"])["num"].mean()).unstack()
    change = (logc["D7"] - logc["D0"]).dropna()
    arm = pd.read_csv(trial.paths["clinical"], dtype={"subject_id": str}).set_index("subject_id")
    arm = arm["arm"].reindex(change.index)
    diff = change[arm == "ucMSC+SMT"].mean() - change[arm == "SMT"].mean()
    assert diff == pytest.approx(med["effect_on_mediator"], abs=0.3)


def test_death_times_unchanged_without_a_mediator_and_later_with_a_protective_one():
    rng = np.random.default_rng(0)
    e, lh = rng.exponential(1.0, 500), rng.normal(0, 1, 500)
    plain = 28.0 * (e / np.exp(lh)) ** (1 / 0.3)
    np.testing.assert_array_equal(_death_times(e, lh, np.zeros(500)), plain)
    later = _death_times(e, lh, np.full(500, -0.5))
    early = plain <= 7
    np.testing.assert_allclose(later[early], plain[early])
    assert np.all(later[~early] > plain[~early])


def test_planted_indirect_effect_matches_monte_carlo():
    scen = SCENARIOS["mediation"]
    n = 4000
    rng = np.random.default_rng(5)
    latent = pd.DataFrame(
        {
            "treated": np.ones(n, dtype=bool),
            "log_h28": rng.normal(-0.7, 0.6, n),
            "t_death": np.full(n, 30.0),  # alive at D7
            "t_tx": np.where(rng.random(n) < 0.05, 40.0, np.inf),
        }
    )
    planted = planted_indirect_effect(latent, scen)
    # Monte Carlo of the same contrast: draw r under each arm and a death time from the model
    reps = 50
    lh = np.repeat(latent["log_h28"].to_numpy(), reps)
    tx = np.repeat(latent["t_tx"].to_numpy(), reps)
    risks = []
    for mean in (scen.med_effect, 0.0):
        r = mean + scen.med_sd * rng.normal(0, 1, lh.size)
        h7 = np.exp(lh) * (7 / 28) ** 0.3
        e = h7 + rng.exponential(1.0, lh.size)  # alive at D7: cumulative hazard beyond h7
        t = _death_times(e, lh, scen.med_log_hr * r)
        risks.append(np.mean((t <= 90) & (t < tx)))
    assert planted == pytest.approx(risks[0] - risks[1], abs=0.006)
