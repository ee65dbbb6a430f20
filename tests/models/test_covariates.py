"""String/categorical covariates are encoded by the toolkit, not by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import DataQualityWarning
from biomarkers.models import discover, predictive
from biomarkers.models._inputs import covariate_design


def _table(n=90, seed=0):
    import anndata as ad

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    site = rng.choice(["north", "south", "west"], n)
    lin = 1.5 * X[:, 0] + 1.5 * (site == "west")
    obs = pd.DataFrame(
        {
            "y": (lin + rng.logistic(size=n) > 0.5).astype(int),
            "site": site,
            "arm": np.where(np.arange(n) % 2 == 0, "T", "C"),
        },
        index=[f"S{i:03d}" for i in range(n)],
    )
    obs.loc["S003", "site"] = None
    var = pd.DataFrame({"day": 0}, index=[f"lab:x{i}@D0" for i in range(6)])
    return ad.AnnData(X=X, obs=obs, var=var)


def test_covariate_design_one_hot_drops_the_first_level():
    obs = pd.DataFrame(
        {"site": ["b", "a", None, "c"], "age": [1, 2, 3, 4], "num": ["1", "2", None, "4"]}
    )
    design, names = covariate_design(obs, ["site", "age", "num"])
    assert names == ["site_b", "site_c", "age", "num"]
    np.testing.assert_array_equal(design["site_b"].to_numpy(), [1.0, 0.0, np.nan, 0.0])
    np.testing.assert_array_equal(design["num"].to_numpy(), [1.0, 2.0, np.nan, 4.0])


def test_discover_accepts_a_string_covariate():
    table = _table()
    res = discover(
        table, outcome="y", covariates=["site"], models=["enet"], cv=(3, 1),
        n_permutations=0, n_bootstraps=0, n_decoys=0,
    )  # fmt: skip
    feats = set(res.ranking["feature"])
    assert {"site_south", "site_west"} <= feats
    assert "site" not in feats
    top = res.ranking.query("model == 'enet'").set_index("feature")
    # the planted site effect is found through its indicator
    assert top.loc["site_west", "importance"] > top.loc["site_south", "importance"]


def test_predictive_accepts_a_string_covariate():
    table = _table()
    with pytest.warns(DataQualityWarning, match="missing covariates"):
        res = predictive(
            table, outcome="y", arm="arm", treated="T", covariates=["site"],
            markers=["lab:x0@D0"], method=("interaction",),
        )  # fmt: skip
    assert res.params["covariates"] == ["site_south", "site_west"]
    assert res.params["n_treated"] + res.params["n_control"] == 89  # S003 (no site) left out
    assert res.params["positive"] == "y = 1"
