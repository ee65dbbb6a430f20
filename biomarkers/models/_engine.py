"""Nested, subject-grouped cross-validation fits shared by discover(), refit() and panel().

The folds and seeds come from :mod:`biomarkers.models._cv`; every function here is one task of
its parallel map (a fold, a refit), seeded by its caller.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from biomarkers.models._cv import (
    CVPlan,
    grouped_folds,
    inner_splits,
    parallel_map,
    seed_for,
    strata,
)
from biomarkers.models._metrics import primary_point
from biomarkers.models._registry import (
    ModelSpec,
    kept_columns,
    make_preprocessing,
    predict_score,
    run_search,
)

__all__ = [
    "FitConfig",
    "final_fit",
    "inner_cv_metrics",
    "nested_fit",
    "outer_fit",
    "outer_fit_select",
]


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
    censored: bool = True  # False when the caller's whole matrix has no ±inf (see preprocessing)

    def preprocessing(self, limits=None):
        """The unfitted preprocessing pipeline of every fit (``limits`` of its input columns)."""
        return make_preprocessing(
            task=self.task,
            screen_k=self.screen_k,
            keep=self.keep,
            limits=limits,
            censor_rule=self.censor_rule,
            censored=self.censored,
        )


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
    for itr, iva in grouped_folds(st, groups, n_splits=n_inner, seed=seed):
        # fit_transform passes the (wide) training matrix through each step once, not twice
        pre = cfg.preprocessing(limits)
        A_itr = pre.fit_transform(X[itr], y[itr])
        cands, scores = run_search(spec, A_itr, y[itr], pre.transform(X[iva]), y[iva], seed)
        scores = np.where(np.isfinite(scores), scores, -np.inf)
        total = scores if total is None else total + scores
    best = cands[int(np.argmax(total))]
    pre = cfg.preprocessing(limits)
    A = pre.fit_transform(X, y)
    est = spec.build(best, seed).fit(A, y)
    return Pipeline([*pre.steps, ("model", est)]), best, A


def final_fit(X, y, groups, spec: ModelSpec, cfg: FitConfig, seed: int):
    """Refit on every subject with the same inner search (no decoys).

    Returns
    -------
    pipeline, best_params
    """
    # the returned model keeps the censored-value step: new data may hold ±inf
    cfg = replace(cfg, decoy_src=np.empty(0, dtype=int), decoys=None, censored=True)
    pipe, params, _ = nested_fit(X, y, groups, spec, cfg, seed, limits=cfg.limits)
    return pipe, params


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
    cfg_k = replace(
        cfg_all, screen_k=None, keep=(), limits=limits,
        decoy_src=np.empty(0, dtype=int), decoys=None,
    )  # fmt: skip
    res = outer_fit(X[:, top], y, groups, train, test, spec, cfg_k, seed, want_importance=False)
    return {"test": test, "pred": res["pred"]}


def inner_cv_metrics(
    X, y, groups, plan: CVPlan, spec: ModelSpec, cfg: FitConfig, random_state: int, *,
    n_jobs: int | None, fit: Callable[..., dict] | None = None,
) -> np.ndarray:  # fmt: skip
    """Mean inner-CV primary metric of every outer training set, (repeats, folds).

    The inner CV of the nested-CV interval (Bates, Hastie & Tibshirani 2023): for outer fold
    k of repeat r, the same pipeline (``fit``, default :func:`outer_fit`) is cross-validated
    on the other K − 1 folds (:func:`~biomarkers.models._cv.inner_splits`).
    """
    fit = outer_fit if fit is None else fit
    keys, tasks = [], []
    for r, k, _, _ in plan.folds():
        for j, (tr, te) in enumerate(inner_splits(plan, r, k)):
            keys.append((r, k))
            seed = seed_for(random_state, "ncv_fit", r, k, j)
            tasks.append((fit, X, y, groups, tr, te, spec, cfg, seed))
    fits = parallel_map(_quiet_fit, tasks, n_jobs=n_jobs, description="nested-CV interval")
    vals: dict[tuple[int, int], list[float]] = {}
    for key, res in zip(keys, fits, strict=True):
        vals.setdefault(key, []).append(primary_point(cfg.task, y[res["test"]], res["pred"]))
    out = np.full((plan.n_repeats, plan.n_splits), np.nan)
    for (r, k), v in vals.items():
        fin = [x for x in v if np.isfinite(x)]
        out[r, k] = np.mean(fin) if fin else np.nan
    return out


def _quiet_fit(fit, X, y, groups, train, test, spec, cfg, seed) -> dict:
    from sklearn.exceptions import ConvergenceWarning

    # these auxiliary fits see (K - 2)/K of the subjects and only feed the interval's width;
    # a solver that stops early there is not a problem of the model the user gets
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if fit is outer_fit:
            return fit(X, y, groups, train, test, spec, cfg, seed, want_importance=False)
        return fit(X, y, groups, train, test, spec, cfg, seed)
