from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import biomarkers.pl as pl
from biomarkers.exceptions import ConfigError
from biomarkers.models import benefit_calibration, rank_average_treatment_effect


@pytest.fixture
def tables():
    rng = np.random.default_rng(0)
    cate = rng.normal(size=120)
    phi = cate + rng.normal(size=120)
    arm = np.arange(120) % 2
    calib = pd.concat(
        [benefit_calibration(cate + s, phi, arm, y=phi).assign(learner=k)
         for k, s in (("t_learner", 1.0), ("dr_learner", 0.0))]
    )  # fmt: skip
    _, toc = rank_average_treatment_effect(cate, phi, n_bootstraps=20)
    return calib, toc.assign(learner="dr_learner")


def test_benefit_calibration_draws_the_groups_of_the_chosen_learner(tables):
    calib, _ = tables
    fig = pl.benefit_calibration(calib, learner="t_learner")
    assert isinstance(fig, Figure)
    points = fig.axes[0].containers[0].lines[0].get_xydata()
    want = calib.query("learner == 't_learner' and kind == 'group'")
    assert np.allclose(points, want[["predicted", "observed"]].to_numpy())
    default = pl.benefit_calibration(calib).axes[0].containers[0].lines[0].get_xydata()
    dr = calib.query("learner == 'dr_learner' and kind == 'group'")
    assert np.allclose(default, dr[["predicted", "observed"]].to_numpy())
    assert "slope" in fig.axes[0].get_legend().get_texts()[-1].get_text()


def test_toc_draws_the_curve_and_refuses_an_unknown_learner(tables):
    _, toc = tables
    fig = pl.toc(toc)
    line = fig.axes[0].get_lines()[0]
    assert np.allclose(line.get_xdata(), toc["share"])
    assert np.allclose(line.get_ydata(), toc["toc"])
    with pytest.raises(ConfigError, match="learner"):
        pl.toc(toc, learner="x_learner")
