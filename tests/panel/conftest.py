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


# --- Phase III cohorts with known shifts (tests of evaluate / drift / update, issue 25) --------
PHASE3_NAMES = ["cytokine:IL6@D0", "cytokine:IL8@D0", "clinical:meld@D0"]
PHASE3_COEF = np.array([0.8, -0.5, 0.4])
PHASE3_INTERCEPT = -0.5


def phase3_cohort(
    n: int, *, seed: int, intercept: float = 0.0, slope: float = 1.0, offset: float = 0.0
) -> pd.DataFrame:
    """Markers ~ N(0, 1) and y from the panel's own model, shifted: logit = a + b * LP.

    ``offset`` is added to IL6 in lot L2 (the second half of the subjects) only, after the
    outcome is drawn: a measurement shift, not a biological one.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 1.0, (n, len(PHASE3_NAMES)))
    lp = PHASE3_INTERCEPT + X @ PHASE3_COEF
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(intercept + slope * lp)))).astype(float)
    lot = np.where(np.arange(n) < n // 2, "L1", "L2")
    X[lot == "L2", 0] += offset
    df = pd.DataFrame(X, columns=PHASE3_NAMES, index=[f"S{i:04d}" for i in range(n)])
    df["y"] = y
    df["arm"] = rng.choice(["SMT", "ucMSC+SMT", "prednisolone+SMT"], n)
    df["assay_lot"] = lot
    return df


@pytest.fixture(scope="session")
def phase3_panel():
    """The true model as a panel, with training summaries (quantiles, SD) of N(0, 1) markers."""
    from scipy import stats

    from biomarkers.panel import BiomarkerPanel

    probs = np.linspace(0.0, 1.0, 21)
    q = stats.norm.ppf(np.clip(probs, 0.001, 0.999)).tolist()
    training = {"min": -3.3, "max": 3.3, "median": 0.0, "n": 400, "sd": 1.0, "quantiles": q}
    meta = {n: {"unit": "pg/mL", "training": dict(training)} for n in PHASE3_NAMES}
    return BiomarkerPanel.from_weights(
        dict(zip(PHASE3_NAMES, PHASE3_COEF.tolist(), strict=True)),
        intercept=PHASE3_INTERCEPT,
        threshold=0.5,
        features_meta=meta,
        population={"n_subjects": 400},
        outcome={"name": "response", "kind": "binary"},
        name="phase II panel",
    )


@pytest.fixture(scope="session")
def cohort():
    """:func:`phase3_cohort`, the generator of cohorts with known shifts."""
    return phase3_cohort
