"""Statistical honesty on null data (slow): the engine reports chance, the naive approach does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from biomarkers.models import discover

N_SEEDS = 20


def _null_data(seed):
    rng = np.random.default_rng(1000 + seed)
    X = rng.normal(size=(100, 2000))
    y = rng.integers(0, 2, 100)
    return X, y


def _naive_auroc(X, y, seed):
    # the trap: the 20 features most associated with y on *all* subjects, then CV
    t = np.abs(X[y == 1].mean(0) - X[y == 0].mean(0))
    top = np.argsort(-t)[:20]
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    pred = cross_val_predict(LogisticRegression(), X[:, top], y, cv=cv, method="predict_proba")
    return roc_auc_score(y, pred[:, 1])


@pytest.mark.slow
def test_null_calibration_against_naive_selection():
    rows = []
    for seed in range(N_SEEDS):
        X, y = _null_data(seed)
        res = discover(
            pd.DataFrame(X),
            outcome=pd.Series(y),
            models=["enet"],
            cv=(5, 1),
            n_permutations=39,
            n_bootstraps=200,
            n_decoys=0,
            screen_k=200,
            random_state=seed,
            n_jobs=2,
        )
        auc = res.performance.query("metric == 'auroc'").iloc[0]
        rows.append(
            {
                "naive": _naive_auroc(X, y, seed),
                "auroc": auc["estimate"],
                "covers": auc["ci_low"] <= 0.5 <= auc["ci_high"],
                "p": res.permutation["p_value"],
            }
        )
    df = pd.DataFrame(rows)
    assert abs(df["auroc"].mean() - 0.5) <= 0.03
    assert df["covers"].mean() >= 0.90
    assert (df["p"] < 0.05).mean() <= 0.10
    assert df["naive"].mean() > 0.7  # what selection outside the folds would have reported
