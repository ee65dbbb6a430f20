"""Discovery on the simulated trial: the planted prognostic markers rank at the top."""

from __future__ import annotations

import pytest

import biomarkers as bm

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning"),
]


def test_strong_scenario_prognostic_markers_rank_first(tmp_path):
    trial = bm.datasets.simulate_trial(
        tmp_path, n_subjects=100, seed=3, cells_per_sample=0, scenario="strong"
    )
    study = trial.study(cytokines=("luminex_xponent",))
    outcome = bm.clinical.transplant_free_survival(study.clinical, horizon_days=90)
    table = bm.features.build_feature_table(
        study, visits=["D0"], blocks={"cytokines": {}, "flow": {}, "deltas": False}, outcome=outcome
    )
    table = table[table.obs["tfs90"].notna().to_numpy()].copy()
    result = bm.models.discover(
        table, outcome="tfs90", models=("enet",), cv=(5, 2), n_permutations=0, n_bootstraps=100,
        random_state=0,
    )  # fmt: skip
    ranking = result.ranking.set_index("feature")["rank"]
    planted = [
        f for f in trial.truth.features("prognostic", source="luminex") if f in ranking.index
    ]
    null = [f for f in trial.truth.features("null", source="luminex") if f in ranking.index]
    assert len(planted) >= 4
    assert null
    top = set(ranking.nsmallest(8).index)
    assert len(top & set(planted)) >= 3, ranking.nsmallest(8)
    assert ranking[planted].median() < ranking[null].median()
    auroc = result.performance.set_index("metric").loc["auroc"]
    assert auroc["ci_low"] > 0.5
