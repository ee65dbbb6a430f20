from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.models import rank_average_treatment_effect
from biomarkers.models._pred_cate import cross_fit, make_folds


def _rate_by_definition(priority, phi):
    """AUTOC and Qini as sums over the ranked subjects, written out longhand (no ties)."""
    order = sorted(range(len(phi)), key=lambda i: -priority[i])
    n, ate = len(phi), sum(phi) / len(phi)
    toc = [sum(phi[j] for j in order[: i + 1]) / (i + 1) - ate for i in range(n)]
    return sum(toc) / n, sum((i + 1) / n * t for i, t in enumerate(toc)) / n


def test_hand_example():
    # mean DR score 1; top-1, 2, 3, 4 means 3, 2, 4/3, 1 → TOC 2, 1, 1/3, 0
    rate, toc = rank_average_treatment_effect(
        [4, 3, 2, 1], [3, 1, 0, 0], n_bootstraps=0, q_grid=[0.25, 0.5, 0.75, 1.0]
    )
    est = rate.set_index("target")["estimate"]
    assert est["AUTOC"] == pytest.approx((2 + 1 + 1 / 3 + 0) / 4)
    assert est["QINI"] == pytest.approx((0.25 * 2 + 0.5 * 1 + 0.75 / 3) / 4)
    assert np.allclose(toc["toc"], [2, 1, 1 / 3, 0])


def test_matches_the_definition_on_random_scores():
    rng = np.random.default_rng(3)
    priority, phi = rng.normal(size=37), rng.normal(size=37)
    rate, _ = rank_average_treatment_effect(priority, phi, n_bootstraps=0)
    autoc, qini = _rate_by_definition(list(priority), list(phi))
    assert rate["estimate"].to_numpy() == pytest.approx([autoc, qini])


def test_ties_average_the_dr_scores():
    # two tie groups with the same mean DR score: no subject can be ranked ahead → RATE 0
    rate, toc = rank_average_treatment_effect([1, 1, 0, 0], [2, 0, 1, 1], n_bootstraps=0)
    assert np.allclose(rate["estimate"], 0)
    assert np.allclose(toc["toc"], 0)


def test_folds_are_ranked_separately_and_averaged_by_size():
    rng = np.random.default_rng(0)
    priority, phi = rng.normal(size=30), rng.normal(size=30)
    folds = np.r_[np.zeros(10, int), np.ones(20, int)]
    rate, _ = rank_average_treatment_effect(priority, phi, folds, n_bootstraps=0)
    a, _ = rank_average_treatment_effect(priority[:10], phi[:10], n_bootstraps=0)
    b, _ = rank_average_treatment_effect(priority[10:], phi[10:], n_bootstraps=0)
    expected = (10 * a["estimate"] + 20 * b["estimate"]) / 30
    assert np.allclose(rate["estimate"], expected)
    # shifting one fold's priorities by a constant changes nothing: rankings stay within folds
    shifted = priority + 100 * folds
    same, _ = rank_average_treatment_effect(shifted, phi, folds, n_bootstraps=0)
    assert np.allclose(same["estimate"], rate["estimate"])


def test_bootstrap_se_tracks_the_sampling_sd():
    # priority unrelated to the DR scores: the spread of the estimate over fresh samples is
    # what the bootstrap SE of one sample should estimate
    rng = np.random.default_rng(11)
    est, se = [], []
    for r in range(40):
        priority, phi = rng.normal(size=120), rng.normal(size=120)
        rate, _ = rank_average_treatment_effect(
            priority, phi, target="AUTOC", n_bootstraps=60, random_state=r
        )
        est.append(rate["estimate"].iloc[0])
        se.append(rate["se"].iloc[0])
    assert np.mean(se) == pytest.approx(np.std(est, ddof=1), rel=0.3)


def test_detects_a_priority_that_finds_the_benefit():
    rng = np.random.default_rng(5)
    x = rng.normal(size=400)
    phi = x + rng.normal(size=400)
    rate, toc = rank_average_treatment_effect(x, phi, np.arange(400) % 5, n_bootstraps=200)
    assert (rate["p_value"] < 0.001).all()
    assert (rate["ci_low"] > 0).all()
    assert toc["toc"].iloc[0] > toc["toc"].iloc[-1] == pytest.approx(0)
    assert (toc["ci_low"] <= toc["toc"]).all()
    assert (toc["toc"] <= toc["ci_high"]).all()


def test_same_seed_same_answer():
    rng = np.random.default_rng(1)
    priority, phi = rng.normal(size=50), rng.normal(size=50)
    a = rank_average_treatment_effect(priority, phi, n_bootstraps=50, random_state=4)
    b = rank_average_treatment_effect(priority, phi, n_bootstraps=50, random_state=4)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])


def test_priority_does_not_see_the_subjects_own_outcome():
    """Cross-fitting leak check: changing a subject's outcome leaves its priority unchanged."""
    rng = np.random.default_rng(2)
    n = 120
    X = rng.normal(size=(n, 4))
    arm = (rng.random(n) < 0.5).astype(int)
    y = X[:, 0] + arm * X[:, 1] + rng.normal(size=n)
    folds = make_folds(arm, np.zeros(n, int), 5, seed=0)
    kw = {"binary": False, "learner": "linear", "propensity": 0.5, "seed": 1}
    kw["methods"] = ("t_learner", "dr_learner")
    before = cross_fit(X, y, arm, folds, **kw)
    y2 = y.copy()
    y2[7] += 25.0
    after = cross_fit(X, y2, arm, folds, **kw)
    for key in ("cate_t", "cate_dr", "mu0", "mu1"):
        assert after[key][7] == before[key][7]
    for key in ("cate_t", "cate_dr"):
        assert not np.allclose(after[key], before[key])  # the other folds' models did move
    same_fold = (folds == folds[7]) & (np.arange(n) != 7)
    assert np.array_equal(after["phi"][same_fold], before["phi"][same_fold])


def test_bad_input_names_the_problem():
    with pytest.raises(SchemaError, match="same length"):
        rank_average_treatment_effect([1, 2, 3], [1, 2])
    with pytest.raises(SchemaError, match="finite"):
        rank_average_treatment_effect([1, np.nan], [1, 2])
    with pytest.raises(ConfigError, match="target"):
        rank_average_treatment_effect([1, 2], [1, 2], target="AUC")
    with pytest.raises(ConfigError, match="n_bootstraps"):
        rank_average_treatment_effect([1, 2], [1, 2], n_bootstraps=-1)


def test_conditional_se_is_the_ranked_linear_combination_by_hand():
    # given the ranking the AUTOC is sum_i c_i phi_i; its variance uses each arm's variance
    rng = np.random.default_rng(21)
    priority, phi = rng.normal(size=12), rng.normal(size=12)
    arm = np.r_[np.ones(8), np.zeros(4)].astype(int)
    rate, _ = rank_average_treatment_effect(priority, phi, arm=arm, n_bootstraps=0)
    order = np.argsort(-priority)
    n = 12
    c = np.array([sum(1 / q for q in range(i, n + 1)) / n - 1 / n for i in range(1, n + 1)])
    assert c @ phi[order] == pytest.approx(rate["estimate"].iloc[0], abs=1e-12)
    v = np.where(arm == 1, phi[arm == 1].var(ddof=1), phi[arm == 0].var(ddof=1))[order]
    assert rate["se_conditional"].iloc[0] == pytest.approx(np.sqrt(c**2 @ v), rel=1e-12)
    assert rate["se"].iloc[0] == rate["se_conditional"].iloc[0]  # no half-samples


def test_se_is_the_larger_of_half_sampling_and_conditional():
    rng = np.random.default_rng(22)
    priority, phi = rng.normal(size=60), rng.standard_t(3, size=60)
    rate, _ = rank_average_treatment_effect(priority, phi, np.arange(60) % 3, n_bootstraps=50)
    both = rate[["se_half_sampling", "se_conditional"]].max(axis=1)
    assert np.allclose(rate["se"], both, rtol=0, atol=0)
    with pytest.raises(SchemaError, match="arm"):
        rank_average_treatment_effect(priority, phi, arm=[1, 0])
