"""Prediction instability (Riley & Collins 2023): the whole pipeline refitted on bootstraps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import biomarkers as bm


@pytest.fixture(scope="module")
def small_table():
    rng = np.random.default_rng(3)
    n, p = 60, 12
    X = pd.DataFrame(
        rng.normal(size=(n, p)),
        index=[f"s{i}" for i in range(n)],
        columns=[f"f{j}" for j in range(p)],
    )
    y = pd.Series((X["f0"] + rng.normal(size=n) > 0).astype(int), index=X.index)
    return X, y


def test_instability_shapes_and_mape(small_table):
    X, y = small_table
    res = bm.models.prediction_instability(X, outcome=y, n_bootstraps=4, random_state=1, n_jobs=1)
    assert len(res.predictions) == 4 * 60
    assert list(res.per_subject.columns) == ["subject_id", "original", "mape"]
    P = res.predictions.pivot(index="bootstrap", columns="subject_id", values="prediction")
    orig = res.per_subject.set_index("subject_id")["original"]
    expected = (P - orig).abs().mean(axis=0).reindex(orig.index)
    assert np.allclose(res.per_subject.set_index("subject_id")["mape"], expected)
    assert res.mape == pytest.approx(expected.mean())
    assert 0 < res.mape < 1
    assert res.predictions["prediction"].between(0, 1).all()


def test_instability_is_seeded_and_depends_on_resampling(small_table):
    X, y = small_table
    a = bm.models.prediction_instability(X, outcome=y, n_bootstraps=3, random_state=1, n_jobs=1)
    b = bm.models.prediction_instability(X, outcome=y, n_bootstraps=3, random_state=1, n_jobs=1)
    c = bm.models.prediction_instability(X, outcome=y, n_bootstraps=3, random_state=2, n_jobs=1)
    assert a.mape == b.mape
    assert a.mape != c.mape


def test_instability_plot(small_table):
    import matplotlib

    matplotlib.use("Agg")
    X, y = small_table
    res = bm.models.prediction_instability(X, outcome=y, n_bootstraps=2, random_state=1, n_jobs=1)
    fig = bm.pl.instability(res)
    ax = fig.axes[0]
    assert "MAPE" in ax.get_title()
    assert len(ax.collections[0].get_offsets()) == 2 * 60
    import matplotlib.pyplot as plt

    plt.close(fig)
