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
