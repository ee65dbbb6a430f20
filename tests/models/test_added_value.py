"""added_value(): paired added value of each assay over the clinical scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError
from biomarkers.models import added_value
from biomarkers.models._added_value import (
    evaluate_candidates,
    paired_delta,
    prepare_blocks,
)
from biomarkers.models._cv import discovery_plan

from ._value_data import make_assays


@pytest.fixture(scope="module")
def result():
    return added_value(
        make_assays(), outcome="response", cv=(5, 1), n_bootstraps=200, landmark=None
    )


def test_candidates_and_references(result) -> None:
    t = result.table.set_index("candidate")
    assert list(t.index) == [
        "clinical", "clinical+cytokine", "clinical+flow", "clinical+olink", "clinical+all",
        "all-cytokine", "all-flow", "all-olink",
    ]  # fmt: skip
    assert t.loc["clinical+olink", "reference"] == "clinical"
    assert t.loc["all-olink", "reference"] == "clinical+all"
    assert np.isnan(t.loc["clinical", "delta"])
    assert t.loc["clinical", "n_features"] == 2
    assert (t["ci_low"] <= t["estimate"]).all()
    assert (t["estimate"] <= t["ci_high"]).all()


def test_noise_block_covers_zero_and_planted_blocks_rank_above(result) -> None:
    t = result.table.set_index("candidate")
    noise = t.loc["clinical+olink"]
    assert noise["delta_ci_low"] < 0 < noise["delta_ci_high"]
    for planted in ("clinical+cytokine", "clinical+flow"):
        assert t.loc[planted, "delta_ci_low"] > 0
        assert t.loc[planted, "delta"] > noise["delta"]
    # leaving a planted assay out costs performance; leaving the noise out does not
    assert t.loc["all-cytokine", "delta_ci_high"] < 0
    assert t.loc["all-olink", "delta_ci_low"] < 0 < t.loc["all-olink", "delta_ci_high"]


def test_decision_curves_have_every_candidate(result) -> None:
    dc = result.decision_curves
    assert {"threshold", "treat_all", "treat_none", "clinical", "clinical+all"} <= set(dc.columns)
    # the planted assays add net benefit at a mid threshold
    mid = dc.loc[(dc["threshold"] - 0.3).abs().idxmin()]
    assert mid["clinical+all"] > mid["clinical"]


@pytest.mark.parametrize("interval", ["bbc", "corrected_t", "bootstrap"])
def test_a_candidate_against_itself_differs_by_exactly_zero(interval) -> None:
    data, blocks, clin = prepare_blocks(
        make_assays(n=60), outcome="response", blocks=None, clinical="clinical", landmark=None
    )
    cols = clin + blocks["cytokine"]
    plan = discovery_plan(data.y, data.groups, task=data.task, outcome_name="response",
                          n_splits=3, n_repeats=1, random_state=3)  # fmt: skip
    kw = {"model": "enet", "plan": plan, "interval": interval, "n_bootstraps": 50,
          "inner_cv": 2, "screen_k": None, "random_state": 3, "n_jobs": 1}  # fmt: skip
    alone = evaluate_candidates(data, {"a": cols}, **kw)
    # in another call, after another candidate: the same folds, seeds and bootstrap indices
    cands = evaluate_candidates(data, {"other": clin + blocks["flow"], "b": cols}, **kw)
    np.testing.assert_array_equal(alone.oof["a"], cands.oof["b"])
    np.testing.assert_array_equal(alone.idx, cands.idx)
    cands.oof["a"] = alone.oof["a"]
    assert paired_delta(cands, "a", "b") == (0.0, 0.0, 0.0)
    _, lo, hi = paired_delta(cands, "b", "other")  # a real difference has a real interval
    assert lo < hi


def test_unknown_interval_and_missing_clinical_block_are_config_errors() -> None:
    df = make_assays(n=40)
    with pytest.raises(ConfigError, match="interval"):
        added_value(df, outcome="response", interval="nested_cv")
    with pytest.raises(ConfigError, match="no feature of block 'labs'"):
        added_value(df, outcome="response", clinical="labs")


@pytest.mark.slow
def test_same_table_whatever_n_jobs() -> None:
    df = make_assays(n=60)
    kw = {"outcome": "response", "cv": (3, 1), "n_bootstraps": 30, "inner_cv": 2, "landmark": None}
    one = added_value(df, n_jobs=1, **kw).table
    two = added_value(df, n_jobs=2, **kw).table
    pd.testing.assert_frame_equal(one, two)


def test_survival_outcome_uses_harrells_c_without_decision_curves() -> None:
    df = make_assays(n=120).drop(columns="response")
    rng = np.random.default_rng(1)
    df["time"] = rng.exponential(100 * np.exp(-1.5 * df["cytokine:C0@D0"]))
    df["event"] = (rng.random(120) < 0.8).astype(int)
    res = added_value(df, outcome=("event", "time"), cv=(3, 1), n_bootstraps=30, inner_cv=2,
                      landmark=None)  # fmt: skip
    t = res.table.set_index("candidate")
    assert set(t["metric"]) == {"harrell_c"}
    assert t.loc["clinical+cytokine", "delta_ci_low"] > 0
    assert t.loc["clinical+olink", "delta_ci_low"] < 0 < t.loc["clinical+olink", "delta_ci_high"]
    assert res.decision_curves.empty
