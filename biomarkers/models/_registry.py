"""The closed model registry: named model factories, their search spaces and fast inner searches.

Every entry builds an sklearn :class:`~sklearn.pipeline.Pipeline` whose preprocessing (censored
values, imputation, variance filter, univariate screen, scaling) is refitted inside each training
fold. Configs name entries (``"enet"``, ``"xgboost"``); they never name import paths.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._validation import check_choice, did_you_mean
from biomarkers.exceptions import ConfigError
from biomarkers.models._survival import surv_xgb_label

__all__ = ["available_models"]

TASKS = ("binary", "survival", "continuous")

#: default number of features kept by the in-fold univariate screen
DEFAULT_SCREEN_K = 500


def _grid(**axes) -> list[dict]:
    keys = list(axes)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*axes.values())]


# ---------------------------------------------------------------- preprocessing (fold-refitted)


def make_preprocessing(
    *,
    task: str,
    screen_k: int | None,
    keep=(),
    limits=None,
    censor_rule: str = "lod_sqrt2",
    censored: bool = True,
):
    """Return the preprocessing Pipeline fitted inside every training fold (unfitted).

    ``censored=False`` (the caller checked that no value is ``±inf``) makes the censored-value
    step a passthrough: it is the identity on such data but copies every column of a wide matrix.
    """
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from biomarkers.features import CensoredValueImputer
    from biomarkers.models._screen import UnivariateScreen

    offset = None
    if limits is not None and np.ndim(limits) == 2:  # (LOD, log2 offset) per feature
        limits, offset = limits[:, 0], limits[:, 1]
        if np.isnan(offset).all():
            offset = None
    return Pipeline(
        [
            (
                "censor",
                CensoredValueImputer(censor_rule, limits=limits, log2_offset=offset)
                if censored
                else "passthrough",
            ),
            # the screen is NaN-aware and indexes the input columns (``keep`` names forced
            # covariates); imputing after it touches only the kept columns
            ("screen", UnivariateScreen(screen_k, task=task, keep=keep)),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("variance", VarianceThreshold(0.0)),
            ("scale", StandardScaler()),
        ]
    )


def kept_columns(pre) -> np.ndarray:
    """Indices (into the pipeline's input) of the columns reaching the estimator, in order."""
    screen_idx = np.flatnonzero(pre.named_steps["screen"].get_support())
    return screen_idx[pre.named_steps["variance"].get_support()]


# ---------------------------------------------------------------- scoring helpers


def _cindex(y, risk) -> float:
    from sksurv.metrics import concordance_index_censored

    names = y.dtype.names
    if not y[names[0]].any():
        return 0.5
    return float(concordance_index_censored(y[names[0]].astype(bool), y[names[1]], risk)[0])


# ---------------------------------------------------------------- model entries


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry (internal)."""

    name: str
    task: str
    description: str
    grid: list[dict]
    build: Callable[[dict, int], Any]
    search: Callable[..., tuple[list[dict], np.ndarray]] | None = None
    kind: str = "linear"  # linear | tree | svm | coxnet
    display_grid: dict = field(default_factory=dict)


def _generic_search(spec: ModelSpec, Xtr, ytr, Xva, yva, seed: int):
    scores = []
    for params in spec.grid:
        est = spec.build(params, seed).fit(Xtr, ytr)
        scores.append(_score(spec.task, est, Xva, yva))
    return spec.grid, np.asarray(scores)


def predict_score(task: str, est, X) -> np.ndarray:
    """Probability of class 1 (binary), risk score (survival) or prediction (continuous)."""
    if task == "binary":
        return est.predict_proba(X)[:, 1]
    return np.asarray(est.predict(X), dtype=float)


def _auroc(y, score) -> float:
    from biomarkers.models._metrics import _auroc as weighted_auroc

    y = np.asarray(y, dtype=float)
    return float(weighted_auroc(y, np.asarray(score, dtype=float), np.ones((1, len(y))))[0])


def _score(task: str, est, X, y) -> float:
    pred = predict_score(task, est, X)
    if task == "binary":
        return _auroc(y, pred)
    if task == "survival":
        return _cindex(y, pred)
    return -float(np.mean((y - pred) ** 2))


# -- elastic-net / lasso logistic (numba path) ------------------------------------------------

_ENET_CS = [float(c) for c in np.logspace(-2, 1, 8)]
_LASSO_CS = [float(c) for c in np.logspace(-2, 1.5, 10)]


def _build_enet_logistic(params, seed):
    from biomarkers.models._glmnet import ElasticNetLogistic

    return ElasticNetLogistic(C=params["C"], l1_ratio=params["l1_ratio"])


def _search_enet_logistic(spec, Xtr, ytr, Xva, yva, seed):
    from biomarkers.models._glmnet import logistic_enet_path

    cands, scores = [], []
    for l1 in sorted({g["l1_ratio"] for g in spec.grid}):
        cs = [g["C"] for g in spec.grid if g["l1_ratio"] == l1]
        coefs, icpts = logistic_enet_path(Xtr, ytr, Cs=cs, l1_ratio=l1)
        eta = Xva @ coefs.T + icpts
        for j, c in enumerate(cs):
            cands.append({"C": c, "l1_ratio": l1})
            scores.append(_auroc(yva, eta[:, j]))
    return cands, np.asarray(scores)


# -- xgboost (one fit per grid point gives the whole n_estimators curve) -----------------------

_XGB_MAX_TREES = 200
_XGB_STEPS = list(range(10, _XGB_MAX_TREES + 1, 10))
_XGB_PATIENCE = 25


def _xgb_common(params, seed):
    return {
        "n_estimators": int(params.get("n_estimators", _XGB_MAX_TREES)),
        "max_depth": int(params["max_depth"]),
        "learning_rate": float(params["learning_rate"]),
        "subsample": 0.8,
        "colsample_bytree": 0.5,
        "min_child_weight": 1.0,
        "tree_method": "hist",
        "n_jobs": 1,
        "random_state": int(seed % (2**31)),
        "verbosity": 0,
    }


def _build_xgb_classifier(params, seed):
    from xgboost import XGBClassifier

    return XGBClassifier(**_xgb_common(params, seed), eval_metric="logloss")


def _build_xgb_regressor(params, seed):
    from xgboost import XGBRegressor

    return XGBRegressor(**_xgb_common(params, seed), eval_metric="rmse")


def _build_xgb_cox(params, seed):
    from biomarkers.models._survival import XGBCox

    return XGBCox(**_xgb_common(params, seed))


def _search_xgb(spec, Xtr, ytr, Xva, yva, seed):
    import xgboost as xgb

    # the native API with single-threaded DMatrix construction: the sklearn wrapper builds its
    # matrices with every core, which costs more than the boosting itself at n ~ 100
    if spec.task == "survival":
        obj, metric = "survival:cox", "cox-nloglik"
        ltr, lva = surv_xgb_label(ytr), surv_xgb_label(yva)
    elif spec.task == "binary":
        obj, metric, ltr, lva = "binary:logistic", "auc", ytr, yva
    else:
        obj, metric, ltr, lva = "reg:squarederror", "rmse", ytr, yva
    dtr = xgb.DMatrix(Xtr, label=ltr, nthread=1)
    dva = xgb.DMatrix(Xva, label=lva, nthread=1)
    cands, scores = [], []
    for params in spec.grid:
        c = _xgb_common(params, seed)
        booster_params = {
            "objective": obj,
            "eval_metric": metric,
            "max_depth": c["max_depth"],
            "eta": c["learning_rate"],
            "subsample": c["subsample"],
            "colsample_bytree": c["colsample_bytree"],
            "min_child_weight": c["min_child_weight"],
            "tree_method": "hist",
            "nthread": 1,
            "seed": c["random_state"],
            "verbosity": 0,
        }
        res: dict = {}
        xgb.train(
            booster_params,
            dtr,
            num_boost_round=_XGB_MAX_TREES,
            evals=[(dva, "val")],
            evals_result=res,
            verbose_eval=False,
            early_stopping_rounds=_XGB_PATIENCE,
        )
        curve = np.asarray(res["val"][metric], dtype=float)
        if spec.task == "continuous":
            curve = -(curve**2)
        elif spec.task == "survival":
            curve = -curve  # negative log partial likelihood: lower is better
        # early stopping truncates the curve: later rounds keep the last score seen
        curve = np.concatenate([curve, np.full(_XGB_MAX_TREES - len(curve), curve[-1])])
        for n in _XGB_STEPS:
            cands.append({**params, "n_estimators": n})
            scores.append(float(curve[n - 1]))
    return cands, np.asarray(scores)


# -- random forest, svm --------------------------------------------------------------------------


def _build_rf(params, seed):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=300,
        max_features=params["max_features"],
        min_samples_leaf=params["min_samples_leaf"],
        random_state=int(seed % (2**31)),
        n_jobs=1,
    )


def _build_svm(params, seed):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    return CalibratedClassifierCV(
        LinearSVC(C=params["C"], random_state=int(seed % (2**31)), max_iter=20000),
        cv=3,
        method="sigmoid",
    )


# -- continuous elastic net (sklearn coordinate descent path) ----------------------------------

_RATIOS = [float(r) for r in np.logspace(0, -2.5, 12)]


def _alpha_max(X, y, l1_ratio):
    yc = y - y.mean()
    return float(np.max(np.abs(X.T @ yc)) / (len(y) * max(l1_ratio, 1e-3)))


def _build_enet_reg(params, seed):
    return _RatioElasticNet(ratio=params["ratio"], l1_ratio=params["l1_ratio"])


def _search_enet_reg(spec, Xtr, ytr, Xva, yva, seed):
    from sklearn.linear_model import enet_path

    cands, scores = [], []
    for l1 in sorted({g["l1_ratio"] for g in spec.grid}):
        ratios = [g["ratio"] for g in spec.grid if g["l1_ratio"] == l1]
        amax = _alpha_max(Xtr, ytr, l1)
        ym = ytr.mean()
        alphas = np.asarray(ratios) * amax
        order = np.argsort(-alphas)
        _, coefs, _ = enet_path(Xtr, ytr - ym, l1_ratio=l1, alphas=alphas[order])
        pred = Xva @ coefs + ym
        for j, o in enumerate(order):
            cands.append({"ratio": ratios[o], "l1_ratio": l1})
            scores.append(-float(np.mean((yva - pred[:, j]) ** 2)))
    return cands, np.asarray(scores)


from sklearn.base import BaseEstimator, RegressorMixin  # noqa: E402


class _RatioElasticNet(RegressorMixin, BaseEstimator):
    """ElasticNet whose alpha is a fraction of the data's alpha_max (scale-free grid)."""

    def __init__(self, ratio: float = 0.1, l1_ratio: float = 0.5) -> None:
        self.ratio = ratio
        self.l1_ratio = l1_ratio

    def fit(self, X, y):
        from sklearn.linear_model import ElasticNet

        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        self.alpha_ = self.ratio * _alpha_max(X, y, self.l1_ratio)
        self.model_ = ElasticNet(alpha=self.alpha_, l1_ratio=self.l1_ratio, max_iter=10000)
        self.model_.fit(X, y)
        self.coef_ = self.model_.coef_
        self.intercept_ = self.model_.intercept_
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return self.model_.predict(np.asarray(X, dtype=float))


# -- coxnet --------------------------------------------------------------------------------------


def _build_coxnet(params, seed):
    from biomarkers.models._survival import RatioCoxnet

    return RatioCoxnet(ratio=params["ratio"], l1_ratio=params["l1_ratio"])


def _search_coxnet(spec, Xtr, ytr, Xva, yva, seed):
    from biomarkers.models._survival import RatioCoxnet

    cands, scores = [], []
    for l1 in sorted({g["l1_ratio"] for g in spec.grid}):
        ratios = sorted((g["ratio"] for g in spec.grid if g["l1_ratio"] == l1), reverse=True)
        path = RatioCoxnet(ratio=ratios[-1], l1_ratio=l1, path_ratios=ratios).fit(Xtr, ytr)
        for r in ratios:
            cands.append({"ratio": r, "l1_ratio": l1})
            scores.append(_cindex(yva, path.predict(Xva, ratio=r)))
    return cands, np.asarray(scores)


def _entries() -> dict[tuple[str, str], ModelSpec]:
    xgb_grid = {"max_depth": [2, 3], "learning_rate": [0.05, 0.2]}
    specs = [
        ModelSpec(
            "enet",
            "binary",
            "elastic-net logistic regression (glmnet-style coordinate-descent path)",
            _grid(l1_ratio=[0.2, 0.5, 0.8], C=_ENET_CS),
            _build_enet_logistic,
            _search_enet_logistic,
            "linear",
            {"C": _ENET_CS, "l1_ratio": [0.2, 0.5, 0.8]},
        ),
        ModelSpec(
            "lasso",
            "binary",
            "L1 (lasso) logistic regression (coordinate-descent path)",
            _grid(l1_ratio=[1.0], C=_LASSO_CS),
            _build_enet_logistic,
            _search_enet_logistic,
            "linear",
            {"C": _LASSO_CS},
        ),
        ModelSpec(
            "rf",
            "binary",
            "random forest (300 trees)",
            _grid(max_features=["sqrt", 0.2], min_samples_leaf=[1, 5]),
            _build_rf,
            None,
            "tree",
            {"max_features": ["sqrt", 0.2], "min_samples_leaf": [1, 5]},
        ),
        ModelSpec(
            "xgboost",
            "binary",
            "gradient-boosted trees (XGBoost hist; n_estimators tuned on the inner folds)",
            _grid(**xgb_grid),
            _build_xgb_classifier,
            _search_xgb,
            "xgboost",
            {**xgb_grid, "n_estimators": _XGB_STEPS},
        ),
        ModelSpec(
            "svm",
            "binary",
            "linear SVM with sigmoid (Platt) calibration",
            _grid(C=[0.001, 0.01, 0.1, 1.0]),
            _build_svm,
            None,
            "svm",
            {"C": [0.001, 0.01, 0.1, 1.0]},
        ),
        ModelSpec(
            "coxnet",
            "survival",
            "elastic-net Cox regression (scikit-survival Coxnet path)",
            _grid(l1_ratio=[0.5, 0.9], ratio=_RATIOS),
            _build_coxnet,
            _search_coxnet,
            "linear",
            {"l1_ratio": [0.5, 0.9], "alpha / alpha_max": _RATIOS},
        ),
        ModelSpec(
            "xgboost_cox",
            "survival",
            "gradient-boosted trees with the Cox partial likelihood (survival:cox)",
            _grid(**xgb_grid),
            _build_xgb_cox,
            _search_xgb,
            "xgboost",
            {**xgb_grid, "n_estimators": _XGB_STEPS},
        ),
        ModelSpec(
            "enet",
            "continuous",
            "elastic-net linear regression (coordinate-descent path)",
            _grid(l1_ratio=[0.2, 0.5, 0.8], ratio=_RATIOS),
            _build_enet_reg,
            _search_enet_reg,
            "linear",
            {"l1_ratio": [0.2, 0.5, 0.8], "alpha / alpha_max": _RATIOS},
        ),
        ModelSpec(
            "xgboost",
            "continuous",
            "gradient-boosted regression trees (XGBoost hist)",
            _grid(**xgb_grid),
            _build_xgb_regressor,
            _search_xgb,
            "xgboost",
            {**xgb_grid, "n_estimators": _XGB_STEPS},
        ),
    ]
    return {(s.name, s.task): s for s in specs}


REGISTRY = _entries()


#: generic names that resolve by task (the default ``models=("enet", "xgboost")`` works for all)
ALIASES = {("enet", "survival"): "coxnet", ("xgboost", "survival"): "xgboost_cox"}


def resolve_name(name: str, task: str) -> str:
    """Registry name of ``name`` for an outcome kind (``enet`` → ``coxnet`` for survival)."""
    return ALIASES.get((name, task), name)


def get_spec(name: str, task: str) -> ModelSpec:
    """Look up a model by name for an outcome kind, with a one-line error when it does not exist."""
    spec = REGISTRY.get((name, task))
    if spec is None:
        valid = sorted(n for n, t in REGISTRY if t == task)
        msg = (
            f"model {name!r} is not available for {task} outcomes{did_you_mean(name, valid)}; "
            f"choose from {', '.join(valid)} (see biomarkers.models.available_models())"
        )
        raise ConfigError(msg)
    return spec


def run_search(spec: ModelSpec, Xtr, ytr, Xva, yva, seed: int):
    """Score every candidate hyperparameter set on one inner split (higher is better)."""
    if spec.search is None:
        return _generic_search(spec, Xtr, ytr, Xva, yva, seed)
    return spec.search(spec, Xtr, ytr, Xva, yva, seed)


def available_models(task: str | None = None) -> pd.DataFrame:
    """List the models that :func:`biomarkers.models.discover` accepts.

    Parameters
    ----------
    task
        Restrict to ``"binary"``, ``"survival"`` or ``"continuous"`` outcomes.

    Returns
    -------
    pandas.DataFrame
        One row per (name, task) with ``description`` and the default ``search_space`` (dict of
        hyperparameter → values searched by the inner cross-validation).

    Examples
    --------
    >>> from biomarkers.models import available_models
    >>> sorted(available_models("survival")["name"])
    ['coxnet', 'xgboost_cox']
    """
    if task is not None:
        check_choice("task", task, TASKS)
    rows = [
        {
            "name": s.name,
            "task": s.task,
            "description": s.description,
            "search_space": dict(s.display_grid),
        }
        for s in REGISTRY.values()
        if task is None or s.task == task
    ]
    return pd.DataFrame(rows, columns=["name", "task", "description", "search_space"])
