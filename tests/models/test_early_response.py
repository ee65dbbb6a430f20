"""Early-response markers: treatment effect on the marker, its link to outcome, the label."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import biomarkers as bm
from biomarkers.exceptions import ConfigError, SchemaError

TREATED = "ucMSC+SMT"
BLOCKS = {"cytokines": {}, "flow": {}, "deltas": False}
pytestmark = pytest.mark.filterwarnings(
    # IFN-γ and IL-17A are mostly below LOD in the simulated panel, as in ACLF cohorts
    "ignore::biomarkers.exceptions.BelowDetectionLimitWarning"
)


def _frame(n=200, seed=0, pd_effect=1.0, assoc=1.0):
    """Marker A changes with treatment only; marker B's change predicts the outcome only."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    a0, b0 = rng.normal(0, 1, (2, n))
    a7 = a0 + pd_effect * t + rng.normal(0, 0.5, n)
    db = rng.normal(0, 0.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(assoc * 2 * db)))).astype(int)
    df = pd.DataFrame(
        {
            "arm": np.where(t == 1, TREATED, "SMT"),
            "cytokine:A@D0": a0,
            "cytokine:A@D7": a7,
            "cytokine:B@D0": b0,
            "cytokine:B@D7": b0 + db,
            "cytokine:C@D0": rng.normal(0, 1, n),  # baseline only: not an early-response marker
            "y": y,
        },
        index=[f"S{i:03d}" for i in range(n)],
    )
    df.loc[df.index[:10], ["cytokine:A@D7", "cytokine:B@D7"]] = np.nan  # died before D7
    return df


def test_labels_separate_pharmacodynamic_from_response_associated(tmp_path):
    res = bm.models.early_response(_frame(), outcome="y", treated=TREATED)
    tab = res.table.set_index("marker")
    assert list(tab.index) == ["cytokine:A", "cytokine:B"]
    assert tab.loc["cytokine:A", "label"] == "pharmacodynamic"
    assert tab.loc["cytokine:B", "label"] == "response-associated"
    assert tab.loc["cytokine:A", "effect_ci_low"] < 1.0 < tab.loc["cytokine:A", "effect_ci_high"]
    assert tab.loc["cytokine:A", "n_treated"] + tab.loc["cytokine:A", "n_control"] == 190
    assert res.population["n_by_arm"]["treated"] + res.population["n_by_arm"]["control"] == 190
    assert {"q_value_effect", "q_value_assoc", "q_value_assoc_treated"} <= set(tab.columns)
    names = sorted(p.name for p in res.save(tmp_path))
    assert names == ["early_response.csv", "early_response.json"]
    assert "pharmacodynamic" in res._repr_html_()


def test_effect_is_ancova_coefficient():
    import statsmodels.api as sm

    df = _frame(seed=3)
    res = bm.models.early_response(df, outcome="y", treated=TREATED, markers=["cytokine:A"])
    ok = df["cytokine:A@D7"].notna()
    change = (df["cytokine:A@D7"] - df["cytokine:A@D0"])[ok]
    X = sm.add_constant(np.column_stack([(df["arm"] == TREATED)[ok], df["cytokine:A@D0"][ok]]))
    fit = sm.OLS(change.to_numpy(), X.astype(float)).fit()
    assert res.table["effect"].iloc[0] == pytest.approx(fit.params[1], abs=1e-10)
    assert res.table["p_effect"].iloc[0] == pytest.approx(fit.pvalues[1], rel=1e-8)


def test_bad_arguments():
    df = _frame(n=60)
    with pytest.raises(SchemaError, match="marker 'cytokine:C'"):
        bm.models.early_response(df, outcome="y", treated=TREATED, markers=["cytokine:C"])
    with pytest.raises(SchemaError, match=r"no marker has a value at both 'D0' and 'D14'"):
        bm.models.early_response(df, outcome="y", treated=TREATED, visit="D14")
    with pytest.raises(ConfigError, match="treated=None"):
        bm.models.early_response(df, outcome="y")
    with pytest.raises(ConfigError, match="use='delta'"):
        bm.models.early_response(df, outcome="y", treated=TREATED, use="delta")


def _trial_table(tmp_path, *, scenario, n, seed):
    trial = bm.datasets.simulate_trial(
        tmp_path / f"{scenario}{seed}", n_subjects=n, seed=seed, cells_per_sample=0,
        scenario=scenario, visits=["D0", "D7", "D90"], singlecell_visits=(),
    )  # fmt: skip
    study = trial.study(cytokines=("luminex_xponent",))
    outcome = bm.clinical.transplant_free_survival(study.clinical, horizon_days=90, kind="survival")
    table = bm.features.build_feature_table(
        study, visits=["D0", "D7"], blocks=BLOCKS, outcome=outcome
    )
    return trial, table


def test_planted_pharmacodynamic_markers_labelled_on_the_trial(tmp_path):
    trial, table = _trial_table(tmp_path, scenario="strong", n=200, seed=0)
    res = bm.models.early_response(
        table, outcome=("event", "time_days"), treated=TREATED, visit="D7"
    )
    labels = res.table.set_index("feature")["label"]
    pd_feats = [
        f for f in trial.truth.features("pharmacodynamic", source="luminex") if f in labels.index
    ]
    assert len(pd_feats) >= 6
    called = [f for f in pd_feats if labels[f] in {"pharmacodynamic", "both"}]
    assert len(called) >= len(pd_feats) - 1, labels[pd_feats].to_dict()
    assert sum(labels[f] == "pharmacodynamic" for f in pd_feats) >= len(pd_feats) - 2
    # baseline-predictive / prognostic markers with no planted on-treatment change are not
    # called pharmacodynamic, nor are the negative controls
    untouched = {
        f.replace("@D0", "@D7") for f in trial.truth.features("prognostic", source="luminex")
    }
    untouched |= {f.replace("@D0", "@D7") for f in trial.truth.features("null", source="luminex")}
    untouched = sorted((untouched - set(pd_feats)) & set(labels.index))
    assert untouched
    assert not any(labels[f] in {"pharmacodynamic", "both"} for f in untouched), labels[untouched]
    assert res.population["n_by_arm"]["treated"] < 100  # early deaths left out


def test_null_scenario_calls_at_most_one_marker_per_seed(tmp_path):
    for seed in range(5):
        _, table = _trial_table(tmp_path, scenario="null", n=150, seed=seed)
        res = bm.models.early_response(
            table, outcome=("event", "time_days"), treated=TREATED, fdr=0.1
        )
        called = res.table.loc[res.table["label"] != "neither", "feature"].tolist()
        assert len(called) <= 1, called


def test_planted_mediator_is_both_pharmacodynamic_and_response_associated(tmp_path):
    trial, table = _trial_table(tmp_path, scenario="mediation", n=400, seed=0)
    res = bm.models.early_response(
        table, outcome=("event", "time_days"), treated=TREATED, markers=["cytokine:HGF"]
    )
    assert trial.truth.features("mediator", source="luminex")[0] == "cytokine:HGF@D7"
    row = res.table.iloc[0]
    assert row["label"] == "both"
    assert row["effect"] > 0  # the treatment raises HGF
    assert row["assoc"] < 0  # and a larger rise goes with a lower hazard


def test_survival_outcome_without_events_gives_nan_association_not_a_crash():
    # a small trial where no subject at risk at the landmark has the event (seen in power studies)
    df = _frame(n=60, seed=1).drop(columns="y")
    early = df["cytokine:A@D7"].isna()  # the only events: deaths before the D7 sample
    df["event"] = early.astype(int)
    df["time_days"] = np.where(early, 3.0, 90.0)
    res = bm.models.early_response(df, outcome=("event", "time_days"), treated=TREATED)
    tab = res.table.set_index("marker")
    assert tab["assoc"].isna().all()
    assert tab["assoc_treated"].isna().all()
    assert np.isfinite(
        tab.loc["cytokine:A", "effect"]
    )  # the effect on the marker is still estimated
