"""Stabl noise-injection threshold (Hédou et al. 2024)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import biomarkers as bm
from biomarkers.exceptions import ConfigError


def test_threshold_minimises_fdp_plus():
    real = np.array([1.0, 1.0, 0.9, 0.5, 0.5, 0.2, 0.0])
    art = np.array([0.5, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0])
    out = bm.models.stabl_threshold(real, art, target=0.5)
    # FDP+(t) = (1 + #art>=t * 7/7) / #real>=t: t=1 -> 1/2, 0.9 -> 1/3, 0.5 -> 2/5, 0.2 -> 3/6
    assert out["threshold"] == 0.9
    assert out["estimated_fdp"] == pytest.approx(1 / 3)
    assert out["n_stable"] == 3
    assert out["meets_target"]
    assert not bm.models.stabl_threshold(real, art, target=0.1)["meets_target"]


def test_threshold_needs_artificial_features():
    with pytest.raises(ConfigError, match="n_decoys"):
        bm.models.stabl_threshold([0.5], [], target=0.1)


def test_stabl_select_finds_planted_features():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(120, 40)), columns=[f"f{i}" for i in range(40)])
    y = (X["f0"] + X["f1"] + 0.5 * rng.normal(size=120) > 0).astype(int)
    out = bm.models.stabl_select(X, y, n_subsamples=20, random_state=0)
    assert set(out.loc[out["stable"], "feature"]) == {"f0", "f1"}
    assert out.attrs["stabl"]["n_stable"] == 2


def test_stabl_select_rejects_mismatch():
    X = pd.DataFrame(np.zeros((5, 2)))
    with pytest.raises(ConfigError, match="5 rows and y 4"):
        bm.models.stabl_select(X, [0, 1, 0, 1])


def test_decoy_threshold_marks_nothing_stable_when_no_frequency_meets_target():
    # every decoy is selected in every fit: FDP(1.0) = 3 * 3/3 / 2 = 1.5 > 0.1; the old rule
    # fell back to threshold 1.0 and still called the two always-selected features stable
    real = np.array([1.0, 1.0, 0.5])
    out = bm.models.decoy_threshold(real, np.array([1.0, 1.0, 1.0]), target=0.1)
    assert out["threshold"] == np.inf
    assert out["n_stable"] == 0
    assert not out["meets_target"]
    # FDP(1.0) = 1.5, FDP(0.5) = 3 / 3 = 1.0: the minimiser is kept for panel selection only
    assert out["estimated_fdp"] == pytest.approx(1.0)
    assert out["fdp_minimiser"] == 0.5
    assert not (real >= out["threshold"]).any()


def test_decoy_threshold_stops_at_first_frequency_above_target():
    real = np.array([1.0] * 10 + [0.8] * 10 + [0.6] * 5)
    decoy = np.array([0.8] + [0.0] * 24)
    out = bm.models.decoy_threshold(real, decoy, target=0.1)
    # FDP(1.0) = 0, FDP(0.8) = 1/20 = 0.05, FDP(0.6) = 1/25 = 0.04: all within 0.1
    assert out["threshold"] == 0.6
    assert out["n_stable"] == 25
    decoy[1] = 0.9  # FDP(0.8) = 2/20 = 0.1 still ok; add a third: 3/20 > 0.1 stops at 1.0
    decoy[2] = 0.9
    assert bm.models.decoy_threshold(real, decoy, target=0.1)["threshold"] == 1.0
    out = bm.models.stability_threshold(real, decoy, method="decoy", target=0.1)
    # at t = 1.0 no decoy passes: the decoy estimate is 0, Stabl's FDP+ is (1 + 0) / 10
    assert out["estimated_fdp"] == 0.0
    assert out["fdp_plus"] == pytest.approx(0.1)


def test_stability_threshold_stabl_is_gated_by_target():
    real = np.array([1.0, 1.0, 0.9, 0.5, 0.5, 0.2, 0.0])
    art = np.array([0.5, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0])
    out = bm.models.stability_threshold(real, art, method="stabl", target=0.1)
    # Stabl's FDP+ minimiser (0.9, FDP+ 1/3) is above the target: nothing is stable
    assert out["threshold"] == np.inf
    assert out["fdp_minimiser"] == 0.9
    assert out["n_stable"] == 0
    met = bm.models.stability_threshold(real, art, method="stabl", target=0.5)
    assert met["threshold"] == 0.9
    assert met["method"] == "stabl"


def test_stability_threshold_rejects_unknown_method():
    with pytest.raises(ConfigError, match="stability='knockoff'"):
        bm.models.stability_threshold([0.5], [0.1], method="knockoff")


def _noise_discover(**kwargs):
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(60, 30)), columns=[f"f{i}" for i in range(30)])
    y = pd.Series(np.repeat([0, 1], 30), index=X.index)
    return bm.models.discover(X, outcome=y, models=["enet"], cv=(3, 1), n_permutations=0,
                              n_bootstraps=20, n_jobs=1, **kwargs)  # fmt: skip


@pytest.mark.parametrize("method", ["stabl", "decoy"])
def test_discover_stable_only_within_target(method):
    res = _noise_discover(stability=method)
    thr = res.settings["stability_thresholds"]["enet"]
    assert thr["method"] == method == res.settings["stability"]
    other = ({"stabl", "decoy"} - {method}).pop()
    assert thr["alternatives"][other]["method"] == other
    stable = res.ranking["stable"]
    assert stable.sum() == thr["n_stable"]
    assert stable.any() == thr["meets_target"]
    if not thr["meets_target"]:
        assert thr["threshold"] == np.inf


def test_discover_rejects_unknown_stability():
    with pytest.raises(ConfigError, match="stability="):
        _noise_discover(stability="knockoffs")


def test_panel_selection_falls_back_to_stabl_minimiser():
    gated = {"threshold": np.inf, "fdp_minimiser": 0.8, "estimated_fdp": 0.2, "target": 0.1}
    assert bm.models._stabl.selection_threshold(gated) == 0.8
    assert bm.models._stabl.selection_threshold({"threshold": 0.6, "target": 0.1}) == 0.6
    # as settings.json stores it (inf -> null), e.g. on a DiscoveryResult.load()
    assert bm.models._stabl.selection_threshold({**gated, "threshold": None}) == 0.8
    # no minimiser (no real feature was ever selected): nothing stable stays nothing selected
    assert bm.models._stabl.selection_threshold({"threshold": np.inf, "target": 0.1}) == np.inf
