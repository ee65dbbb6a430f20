from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

N_SUBJECTS, N_FEATURES = 90, 6
NAMES = [
    "cytokine:IL6@D0",
    "cytokine:IL10@D0",
    "cytokine:TNF@D0",
    "composition:CD14_mono@D0",
    "flow:Treg@D0",
    "clinical:meld@D0",
]
UNITS = ["pg/mL", "pg/mL", "pg/mL", "fraction", "%", "points"]


@pytest.fixture
def trial() -> tuple[pd.DataFrame, np.ndarray]:
    """Subjects × features with censored (-inf/+inf) and missing values, and a binary outcome."""
    rng = np.random.default_rng(7)
    X = rng.normal(loc=5.0, size=(N_SUBJECTS, N_FEATURES))
    y = (X[:, 0] - 0.7 * X[:, 2] + rng.normal(size=N_SUBJECTS) > 1.5).astype(int)
    X[rng.random(X.shape) < 0.05] = np.nan
    below = rng.random(X.shape) < 0.06
    below[:, 5] = False  # the clinical score is never censored
    X[below] = -np.inf
    X[7, 1] = np.inf
    df = pd.DataFrame(X, columns=NAMES, index=pd.Index([f"P{i:03d}" for i in range(N_SUBJECTS)]))
    df.index.name = "subject_id"
    return df, y


@pytest.fixture
def clean_trial(trial) -> tuple[pd.DataFrame, np.ndarray]:
    """The same subjects without censored or missing values."""
    df, y = trial
    rng = np.random.default_rng(3)
    filled = df.mask(
        ~np.isfinite(df),
        pd.DataFrame(rng.normal(5.0, size=df.shape), index=df.index, columns=df.columns),
    )
    return filled, y


@pytest.fixture
def to_feature_table():
    """Turn a wide DataFrame into a FeatureTable AnnData (var: modality, unit, lod, ...)."""
    return _feature_table


def _feature_table(df: pd.DataFrame):
    import anndata as ad

    var = pd.DataFrame(
        {
            "modality": [n.split(":")[0] for n in df.columns],
            "entity": [n.split(":")[1].split("@")[0] for n in df.columns],
            "visit": "D0",
            "day": 0,
            "unit": UNITS[: df.shape[1]],
            "kind": "value",
            "lod": [1.0, 1.0, 1.0, np.nan, np.nan, np.nan][: df.shape[1]],
            "uloq": np.nan,
        },
        index=df.columns,
    )
    obs = pd.DataFrame({"arm": "ucMSC+SMT"}, index=df.index.astype(str))
    return ad.AnnData(X=df.to_numpy(), obs=obs, var=var)
