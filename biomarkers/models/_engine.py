"""Nested, subject-grouped cross-validation machinery shared by discover(), refit() and tests.

Every random choice draws from ``SeedSequence(random_state, spawn_key=key)`` with a key naming
what it is for (outer split of repeat r, fit of (repeat, fold), permutation b, ...), so results do
not depend on the order in which joblib workers run the tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from biomarkers.models._registry import (
    ModelSpec,
    kept_columns,
    make_preprocessing,
    predict_score,
    run_search,
)

__all__ = ["FitConfig", "nested_fit", "outer_fit", "outer_splits", "seed_for", "strata"]

_STREAMS = {
    "outer": 1,
    "fit": 2,
    "perm": 3,
    "perm_split": 4,
    "perm_fit": 5,
    "bootstrap": 6,
    "decoys": 7,
    "final": 8,
    "decoy_rows": 9,
}


def seed_for(random_state: int, stream: str, *key: int) -> int:
    """Deterministic 32-bit seed for ``stream`` and integer ``key`` (order-independent)."""
    ss = np.random.SeedSequence(int(random_state), spawn_key=(_STREAMS[stream], *map(int, key)))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


@dataclass
class FitConfig:
    """What every fold needs to build and tune a pipeline (internal)."""

    task: str
    screen_k: int | None = 500
    keep: tuple = ()
    limits: np.ndarray | None = None
    censor_rule: str = "lod_sqrt2"
    n_inner: int = 3
    decoy_src: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))
    decoys: np.ndarray | None = None  # subjects × decoys, rows permuted once for the whole run


def strata(y, task: str) -> np.ndarray:
    """Labels to stratify folds on: the class, the event indicator, or outcome quintiles."""
    if task == "binary":
        return np.asarray(y).astype(int)
    if task == "survival":
        return np.asarray(y[y.dtype.names[0]]).astype(int)
    y = np.asarray(y, dtype=float)
    edges = np.quantile(y, [0.2, 0.4, 0.6, 0.8])
    return np.searchsorted(edges, y, side="right")


def outer_splits(strat, groups, *, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified, subject-grouped K-fold split (shuffled with ``seed``)."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    dummy = np.zeros((len(strat), 1))
    if len(np.unique(groups)) == len(groups):
        # one row per subject: plain stratified folds are the same split, and much faster
        cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return [(tr, te) for tr, te in cv.split(dummy, strat)]
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in cv.split(dummy, strat, groups)]


def _inner_count(strat_tr, n_inner: int) -> int:
    _, counts = np.unique(strat_tr, return_counts=True)
    return int(max(2, min(n_inner, counts.min()))) if counts.size > 1 else 2


def nested_fit(X, y, groups, spec: ModelSpec, cfg: FitConfig, seed: int, *, limits=None):
    """Tune on inner folds (cached preprocessing per fold), refit on all of ``X``.

    Returns
    -------
    pipeline, best_params, transformed training matrix
    """
    from sklearn.pipeline import Pipeline

    st = strata(y, cfg.task)
    n_inner = _inner_count(st, cfg.n_inner)
    total = None
    cands = None
    for itr, iva in outer_splits(st, groups, n_splits=n_inner, seed=seed):
        pre = make_preprocessing(
            task=cfg.task,
            screen_k=cfg.screen_k,
            keep=cfg.keep,
            limits=limits,
            censor_rule=cfg.censor_rule,
        ).fit(X[itr], y[itr])
        cands, scores = run_search(
            spec, pre.transform(X[itr]), y[itr], pre.transform(X[iva]), y[iva], seed
        )
        scores = np.where(np.isfinite(scores), scores, -np.inf)
        total = scores if total is None else total + scores
    best = cands[int(np.argmax(total))]
    pre = make_preprocessing(
        task=cfg.task,
        screen_k=cfg.screen_k,
        keep=cfg.keep,
        limits=limits,
        censor_rule=cfg.censor_rule,
    ).fit(X, y)
    A = pre.transform(X)
    est = spec.build(best, seed).fit(A, y)
    return Pipeline([*pre.steps, ("model", est)]), best, A


def importance(spec: ModelSpec, est, A) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signed importance, |importance| and a selected mask over the estimator's input columns.

    Linear models: standardised coefficients (the pipeline scales its input). Trees: XGBoost's
    TreeSHAP (``pred_contribs=True``) mean |contribution| on the training fold; random forest:
    impurity importance. Signed importance is NaN where a model has no sign.
    """
    if spec.kind == "linear":
        coef = np.ravel(est.coef_).astype(float)
        return coef, np.abs(coef), coef != 0
    if spec.kind == "svm":
        coef = np.mean([np.ravel(c.estimator.coef_) for c in est.calibrated_classifiers_], axis=0)
        return coef, np.abs(coef), coef != 0
    if spec.kind == "xgboost":
        import xgboost as xgb

        contrib = est.get_booster().predict(xgb.DMatrix(A, nthread=1), pred_contribs=True)[:, :-1]
        mag = np.abs(contrib).mean(0)
        return np.full(mag.shape, np.nan), mag, mag > 0
    imp = np.asarray(est.feature_importances_, dtype=float)
    return np.full(imp.shape, np.nan), imp, imp > 0


def outer_fit(
    X,
    y,
    groups,
    train,
    test,
    spec: ModelSpec,
    cfg: FitConfig,
    seed: int,
    *,
    want_importance: bool = True,
) -> dict:
    """One outer fold: decoys appended, nested tuning on ``train``, predictions on ``test``.

    Decoys are copies of real features whose subject order was permuted once for the whole run,
    so a decoy is a null feature that is *the same* in every fold, exactly like a real feature
    unrelated to the outcome (a decoy re-permuted per fold would be selected less stably than
    real noise and make the stability threshold too lenient).
    """
    src = cfg.decoy_src
    if cfg.decoys is not None and src.size:
        Xtr = np.hstack([X[train], cfg.decoys[train]])
        Xte = np.hstack([X[test], cfg.decoys[test]])
    else:
        Xtr, Xte = X[train], X[test]
    limits = cfg.limits
    if limits is not None and src.size:
        limits = np.concatenate([limits, limits[src]])
    pipe, best, A = nested_fit(Xtr, y[train], groups[train], spec, cfg, seed, limits=limits)
    pred = predict_score(cfg.task, pipe, Xte)
    out = {"test": test, "pred": pred, "params": best}
    if want_importance:
        pre_n = len(pipe.steps) - 1
        cols = kept_columns(pipe[:pre_n])
        signed, mag, sel = importance(spec, pipe.steps[-1][1], A)
        out.update(cols=cols, signed=signed, mag=mag, selected=sel)
    return out


def outer_fit_select(
    X, y, groups, train, test, spec: ModelSpec, cfg_all: FitConfig, seed: int, *, k: int
) -> dict:
    """One outer fold of an honest panel estimate: choose ``k`` markers inside the fold.

    The model is fitted on every candidate with the training subjects only, the ``k`` markers of
    largest importance are kept, and the model is refitted (tuning included) on them before it
    predicts the held-out subjects, so the estimate covers the selection step too.
    """
    full = outer_fit(X, y, groups, train, test, spec, cfg_all, seed)
    order = np.argsort(-np.asarray(full["mag"], dtype=float), kind="stable")
    top = np.asarray(full["cols"])[order][:k]
    limits = None if cfg_all.limits is None else cfg_all.limits[top]
    cfg_k = FitConfig(
        task=cfg_all.task, screen_k=None, keep=(), limits=limits,
        censor_rule=cfg_all.censor_rule, n_inner=cfg_all.n_inner,
    )  # fmt: skip
    res = outer_fit(X[:, top], y, groups, train, test, spec, cfg_k, seed, want_importance=False)
    return {"test": test, "pred": res["pred"]}
