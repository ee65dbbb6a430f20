from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_binary(n=80, p=30, k=3, strength=2.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    lin = strength * X[:, :k].sum(1)
    y = (lin + rng.logistic(size=n) > 0).astype(int)
    cols = [f"cytokine:A{i}@D0" for i in range(p)]
    df = pd.DataFrame(X, columns=cols, index=[f"S{i:03d}" for i in range(n)])
    df["response"] = y
    return df


@pytest.fixture
def binary_frame():
    return make_binary()


@pytest.fixture
def feature_table():
    import anndata as ad

    df = make_binary(n=80, p=20, k=3, seed=1)
    rng = np.random.default_rng(1)
    X = df.drop(columns="response").to_numpy()
    X[rng.random(X.shape) < 0.05] = np.nan
    X[:, 5][X[:, 5] < -1] = -np.inf  # censored below the limit
    var = pd.DataFrame(
        {
            "modality": "cytokine",
            "visit": "D0",
            "day": 0,
            "lod": np.where(np.arange(X.shape[1]) == 5, -1.0, np.nan),
        },
        index=df.columns[:-1],
    )
    var.loc[var.index[-1], ["visit", "day"]] = ["D7", 7]
    obs = pd.DataFrame({"response": df["response"], "meld": rng.normal(25, 5, len(df))})
    obs["time_days"] = rng.exponential(60, len(df)).round() + 1
    obs["event"] = (rng.random(len(df)) < 0.5).astype(int)
    table = ad.AnnData(X=X, obs=obs, var=var)
    table.uns["outcomes"] = {
        "response": {
            "kind": "binary",
            "columns": ["response"],
            "assessed_day": 28,
            "definition": "alive and transplant-free at day 28",
        },
        "early": {"kind": "binary", "columns": ["response"], "assessed_day": 7, "definition": "x"},
    }
    return table
