"""bm.pl.risk_based: one panel per scale, groups on top, continuous risk below."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import biomarkers.pl as pl
from biomarkers.exceptions import ConfigError


def _tables():
    groups = pd.DataFrame({
        "group": ["1", "2", "3", "4", "all"],
        "absolute_measure": "risk difference", "absolute": [-0.02, -0.08, -0.15, -0.2, -0.11],
        "absolute_ci_low": [-0.1, -0.2, -0.3, -0.35, -0.18],
        "absolute_ci_high": [0.06, 0.04, 0.0, -0.05, -0.04],
        "relative_measure": "odds ratio", "relative": [0.7, 0.6, 0.55, 0.5, 0.58],
        "relative_ci_low": [0.2, 0.25, 0.3, 0.28, 0.4], "relative_ci_high": [2.4, 1.5, 1.0, 0.9, 0.85],
    })  # fmt: skip
    risk = np.linspace(0.1, 0.8, 20)
    continuous = pd.DataFrame({
        "risk": risk, "absolute": -0.2 * risk, "absolute_ci_low": -0.2 * risk - 0.1,
        "absolute_ci_high": -0.2 * risk + 0.1, "relative": np.full(20, 0.6),
        "relative_ci_low": np.full(20, 0.4), "relative_ci_high": np.full(20, 0.9),
        "absolute_measure": "risk difference", "relative_measure": "odds ratio",
    })  # fmt: skip
    return groups, continuous


def test_both_scales_by_group_and_along_risk():
    groups, continuous = _tables()
    fig = pl.risk_based(groups, continuous)
    (abs_g, rel_g), (abs_c, rel_c) = np.reshape(fig.axes, (2, 2))
    assert abs_g.get_yscale() == "linear"
    assert rel_g.get_yscale() == "log"
    assert abs_g.get_ylabel() == "risk difference"
    assert rel_c.get_ylabel() == "odds ratio"
    assert [t.get_text() for t in abs_g.get_xticklabels()] == ["Q1", "Q2", "Q3", "Q4", "all"]
    # null lines: 0 for the difference, 1 for the ratio
    assert abs_g.lines[-1].get_ydata()[0] == 0.0
    assert rel_g.lines[-1].get_ydata()[0] == 1.0
    assert abs_c.get_xlabel() == "baseline risk"


def test_continuous_outcome_has_no_relative_panel():
    groups, _ = _tables()
    groups = groups.assign(relative=np.nan, relative_measure="")
    fig = pl.risk_based(groups)
    assert len(fig.axes) == 1


def test_a_table_without_effects_is_refused():
    with pytest.raises(ConfigError, match="absolute_ci_low"):
        pl.risk_based(pd.DataFrame({"group": ["1"], "absolute": [0.1]}))


def test_unbounded_ratio_intervals_are_left_out_and_the_figure_saves(tmp_path):
    groups, continuous = _tables()
    groups.loc[0, "relative_ci_high"] = np.inf  # a tiny group: the Wald interval overflows
    continuous.loc[:4, "relative_ci_low"] = 0.0
    fig = pl.risk_based(groups, continuous)
    png, _svg = pl.save_figure(fig, tmp_path / "risk")
    assert png.stat().st_size > 0
