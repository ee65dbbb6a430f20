"""The statistics vocabulary (``biomarkers._stats``) against scipy / statsmodels oracles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from biomarkers._stats import (
    DECISION_THRESHOLDS,
    bh_qvalues,
    decision_curve_table,
    net_benefit,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bh_qvalues_match_scipy_and_statsmodels(seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(size=40) ** 3, [0.0, 1.0, 0.5, 0.5]])  # ties and bounds
    q = bh_qvalues(p)
    np.testing.assert_allclose(q, stats.false_discovery_control(p, method="bh"))
    np.testing.assert_allclose(q, multipletests(p, method="fdr_bh")[1])


def test_bh_qvalues_leaves_nan_out_of_the_family_and_keeps_shape():
    p = np.array([[0.01, np.nan], [0.04, 0.03]])
    q = bh_qvalues(p)
    assert q.shape == p.shape
    assert np.isnan(q[0, 1])
    finite = np.array([0.01, 0.04, 0.03])
    np.testing.assert_allclose(q[np.isfinite(p)], multipletests(finite, method="fdr_bh")[1])
    assert np.isnan(bh_qvalues([np.nan, np.inf])).all()
    assert bh_qvalues([]).shape == (0,)


def test_bh_qvalues_accepts_a_series():
    q = bh_qvalues(pd.Series([0.2, 0.01]))
    np.testing.assert_allclose(q, [0.2, 0.02])


def _nb_by_hand(y, p, t):
    n = len(y)
    tp = sum(1 for yi, pi in zip(y, p, strict=True) if pi >= t and yi == 1)
    fp = sum(1 for yi, pi in zip(y, p, strict=True) if pi >= t and yi == 0)
    return tp / n - fp / n * t / (1 - t)


def test_net_benefit_matches_the_vickers_formula_and_averages_repeats():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 50)
    P = rng.uniform(size=(3, 50))
    thresholds = [0.1, 0.25, 0.5]
    want = [np.mean([_nb_by_hand(y, pr, t) for pr in P]) for t in thresholds]
    np.testing.assert_allclose(net_benefit(y, P, thresholds), want)
    np.testing.assert_allclose(
        net_benefit(y, P[0], thresholds), [_nb_by_hand(y, P[0], t) for t in thresholds]
    )


def test_decision_curve_table_layout_and_reference_strategies():
    y = np.array([1, 0, 1, 1, 0])
    table = decision_curve_table(y, {"m": [0.9, 0.2, 0.7, 0.4, 0.6]})
    assert list(table.columns) == ["threshold", "treat_all", "treat_none", "m"]
    np.testing.assert_allclose(table["threshold"], DECISION_THRESHOLDS)
    w = table["threshold"] / (1 - table["threshold"])
    np.testing.assert_allclose(table["treat_all"], 0.6 - 0.4 * w)
    # treat-all is the net benefit of predicting 1 for everyone
    np.testing.assert_allclose(table["treat_all"], net_benefit(y, np.ones(5)))
    assert (table["treat_none"] == 0).all()


def test_default_thresholds_are_those_discover_stores():
    import inspect

    from biomarkers.models import discover

    default = inspect.signature(discover).parameters["decision_thresholds"].default
    assert tuple(default) == DECISION_THRESHOLDS
    assert DECISION_THRESHOLDS[0] == 0.05
    assert DECISION_THRESHOLDS[-1] == 0.6
