"""Turn a fitted scikit-learn pipeline into plain data (no pickle) that :mod:`._replay` scores.

The preprocessing is represented as one *input term* per column that the final model sees: the
panel feature it comes from and the ordered element-wise operations that turn the raw value into
that column (censored fills, missing fills, indicators, log, centre, scale). Every supported step
is element-wise per column (or a column selection), so replaying the operations in order
reproduces scikit-learn's arithmetic exactly.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from biomarkers.exceptions import PanelFormatError

__all__ = ["export_estimator"]

_SUPPORTED = (
    "steps CensoredValueImputer, Log2Transformer, SimpleImputer, StandardScaler, RobustScaler, "
    "MinMaxScaler, MaxAbsScaler, FunctionTransformer(np.log/log2/log10/log1p), selectors with "
    "get_support(); final estimators with coef_ (LogisticRegression, ElasticNet, Lasso, "
    "LinearRegression, ElasticNetLogistic, Coxnet, LinearSVC), CalibratedClassifierCV(linear, "
    "sigmoid), XGBClassifier, XGBRegressor, XGBoost survival:cox"
)


def _f(x) -> float | None:
    """JSON-safe float: NaN becomes None (JSON null)."""
    x = float(x)
    return None if np.isnan(x) else x


def _refuse(name: str, step: Any, why: str) -> PanelFormatError:
    msg = (
        f"cannot export pipeline step {name!r} ({type(step).__name__}) to a panel: {why}; "
        f"supported: {_SUPPORTED}"
    )
    return PanelFormatError(msg)


def _op(op: str, value=None) -> dict[str, Any]:
    return (
        {"op": op} if value is None and op.startswith("indicator") else {"op": op, "value": value}
    )


def _per_column(values, n: int, name: str, step: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.shape[0] != n:
        raise _refuse(name, step, f"it has {arr.shape[0]} parameters for {n} input columns")
    return arr


def _is_censored_imputer(step: Any) -> bool:
    return type(step).__name__ == "CensoredValueImputer" and hasattr(step, "lower_fill_")


def _apply_step(name: str, step: Any, terms: list[dict], censoring: dict) -> list[dict]:
    """Return the input terms after ``step`` (terms are dicts ``source``, ``ops``)."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import (
        FunctionTransformer,
        MaxAbsScaler,
        MinMaxScaler,
        RobustScaler,
        StandardScaler,
    )

    n = len(terms)
    if _is_censored_imputer(step):
        lower = _per_column(step.lower_fill_, n, name, step)
        upper = _per_column(step.upper_fill_, n, name, step)
        indicators = [int(j) for j in np.asarray(getattr(step, "indicator_features_", []))]
        limits = None if step.limits is None else np.asarray(step.limits, dtype=float).ravel()
        out = []
        for i, t in enumerate(terms):
            if not t["ops"]:  # a raw feature: record its censoring rule for the card
                censoring[t["source"]] = {
                    "rule": str(step.rule),
                    "limit": None if limits is None else _f(limits[i]),
                    "fill_below": _f(lower[i]),
                    "fill_above": _f(upper[i]),
                }
            ops = [*t["ops"], _op("fill_below", _f(lower[i])), _op("fill_above", _f(upper[i]))]
            out.append({"source": t["source"], "ops": ops})
        for j in indicators:
            out.append(
                {"source": terms[j]["source"], "ops": [*terms[j]["ops"], _op("indicator_below")]}
            )
        return out
    if isinstance(step, SimpleImputer):
        mv = step.missing_values
        if not (isinstance(mv, float) and np.isnan(mv)):
            raise _refuse(name, step, f"missing_values={mv!r}; only NaN is supported")
        try:  # strategy="constant" stores its fill value in an object array
            stats = np.asarray(step.statistics_, dtype=float)
        except (TypeError, ValueError):
            raise _refuse(name, step, "its statistics are not numeric") from None
        stats = _per_column(stats, n, name, step)
        keep = np.ones(n, bool) if step.keep_empty_features else ~np.isnan(stats)
        out = [
            {"source": t["source"], "ops": [*t["ops"], _op("fill_missing", _f(stats[i]))]}
            for i, t in enumerate(terms)
            if keep[i]
        ]
        indicator = getattr(step, "indicator_", None)
        if step.add_indicator and indicator is not None:
            for j in np.asarray(indicator.features_):
                out.append(
                    {
                        "source": terms[j]["source"],
                        "ops": [*terms[j]["ops"], _op("indicator_missing")],
                    }
                )
        return out
    if isinstance(step, StandardScaler | RobustScaler):
        centre = step.mean_ if isinstance(step, StandardScaler) else step.center_
        scale = step.scale_
        out = []
        for i, t in enumerate(terms):
            ops = list(t["ops"])
            if centre is not None:
                ops.append(_op("subtract", float(_per_column(centre, n, name, step)[i])))
            if scale is not None:
                ops.append(_op("divide", float(_per_column(scale, n, name, step)[i])))
            out.append({"source": t["source"], "ops": ops})
        return out
    if isinstance(step, MinMaxScaler):
        if step.clip:
            raise _refuse(name, step, "clip=True is not supported")
        mult, add = _per_column(step.scale_, n, name, step), _per_column(step.min_, n, name, step)
        return [
            {
                "source": t["source"],
                "ops": [*t["ops"], _op("multiply", float(mult[i])), _op("add", float(add[i]))],
            }
            for i, t in enumerate(terms)
        ]
    if isinstance(step, MaxAbsScaler):
        scale = _per_column(step.scale_, n, name, step)
        return [
            {"source": t["source"], "ops": [*t["ops"], _op("divide", float(scale[i]))]}
            for i, t in enumerate(terms)
        ]
    if type(step).__name__ == "Log2Transformer" and hasattr(step, "offset"):
        # biomarkers.features.Log2Transformer: log2(x + offset) of finite values, ±inf/NaN kept
        return [
            {
                "source": t["source"],
                "ops": [*t["ops"], _op("add", float(step.offset)), _op("log_finite", "log2")],
            }
            for t in terms
        ]
    if isinstance(step, FunctionTransformer):
        func = step.func
        if func is None:
            return terms
        allowed = {np.log: "ln", np.log2: "log2", np.log10: "log10", np.log1p: "log1p"}
        if not isinstance(func, np.ufunc) or func not in allowed:
            raise _refuse(name, step, f"func={func!r} is arbitrary code")
        if step.kw_args:
            raise _refuse(name, step, "kw_args are not supported")
        return [
            {"source": t["source"], "ops": [*t["ops"], _op("log", allowed[func])]} for t in terms
        ]
    if hasattr(step, "get_support"):
        mask = np.asarray(step.get_support(), dtype=bool)
        if mask.shape[0] != n:
            raise _refuse(name, step, f"get_support() has {mask.shape[0]} entries for {n} columns")
        return [t for t, m in zip(terms, mask, strict=True) if m]
    raise _refuse(name, step, "it has no plain-data representation")


def _linear(est: Any, n: int, name: str) -> tuple[np.ndarray, float]:
    coef = np.asarray(est.coef_, dtype=float)
    if coef.ndim == 2:
        if coef.shape[0] != 1:
            raise _refuse(name, est, f"it has {coef.shape[0]} outputs/classes; panels need one")
        coef = coef[0]
    intercept = np.asarray(getattr(est, "intercept_", 0.0), dtype=float).ravel()
    if intercept.size == 0:
        intercept = np.zeros(1)
    if intercept.size != 1:
        raise _refuse(name, est, "it has several intercepts")
    if coef.shape[0] != n:
        raise _refuse(name, est, f"it has {coef.shape[0]} coefficients for {n} input columns")
    return coef, float(intercept[0])


def _classes(est: Any, name: str) -> list | None:
    classes = getattr(est, "classes_", None)
    if classes is None:
        return None
    classes = np.asarray(classes).tolist()
    if len(classes) != 2:
        raise _refuse(name, est, f"it has {len(classes)} classes; panels are binary")
    return classes


def _probe_inputs(est: Any, n: int):
    """A small fixed matrix to check that the plain-data model reproduces the estimator."""
    import pandas as pd

    Z = np.random.default_rng(20240).normal(size=(16, n))
    names = getattr(est, "feature_names_in_", None)
    return Z, (pd.DataFrame(Z, columns=list(names)) if names is not None else Z)


def _agrees(est: Any, method: str, Z_est, expected: np.ndarray, *, tol: float) -> bool:
    fn = getattr(est, method, None)
    if fn is None:
        return False
    try:
        got = np.asarray(fn(Z_est), dtype=float)
    except Exception:  # any failure means "cannot verify": refuse to export
        return False
    if method == "predict_proba":
        if got.ndim != 2 or got.shape[1] != 2:
            return False
        got = got[:, 1]
    got = got.ravel()
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=tol, atol=tol))


def _final(name: str, est: Any, n: int) -> dict[str, Any]:
    from scipy.special import expit
    from sklearn.base import is_classifier
    from sklearn.calibration import CalibratedClassifierCV

    from biomarkers.panel._replay import predict

    Z, Z_est = _probe_inputs(est, n)
    if type(est).__module__.startswith("xgboost") or hasattr(est, "booster_"):
        model = _xgboost(name, est, n)
        score, prob = predict(model, Z)
        method = {"probability": "predict_proba", "value": "predict", "margin": "predict"}
        expected = prob if model["output"] == "probability" else score
        if not _agrees(est, method[model["output"]], Z_est, expected, tol=1e-5):
            raise _refuse(name, est, "its predictions could not be reproduced from its JSON model")
        return model
    if isinstance(est, CalibratedClassifierCV):
        classes = _classes(est, name)
        members = []
        for cc in est.calibrated_classifiers_:
            base = cc.estimator
            if not (hasattr(base, "coef_") and hasattr(base, "decision_function")):
                raise _refuse(
                    name,
                    est,
                    f"its base estimator is {type(base).__name__}; only linear classifiers (e.g. "
                    "LinearSVC, LogisticRegression) can be exported; put preprocessing before "
                    "CalibratedClassifierCV",
                )
            if cc.method != "sigmoid":
                raise _refuse(name, est, f"method={cc.method!r}; only 'sigmoid' is exported")
            coef, intercept = _linear(base, n, name)
            cal = cc.calibrators[0]
            members.append(
                {
                    "estimator": type(base).__name__,
                    "intercept": intercept,
                    "coefficients": coef.tolist(),
                    "calibration": {"method": "sigmoid", "a": float(cal.a_), "b": float(cal.b_)},
                }
            )
        model = {
            "type": "calibrated_linear",
            "estimator": f"CalibratedClassifierCV({members[0]['estimator']})",
            "output": "probability",
            "classes": classes,
            "members": members,
        }
        if not _agrees(est, "predict_proba", Z_est, predict(model, Z)[1], tol=1e-9):
            raise _refuse(name, est, "its calibrated probabilities could not be reproduced")
        return model
    if hasattr(est, "coef_"):
        coef, intercept = _linear(est, n, name)
        linear = Z @ coef + intercept
        model = {
            "type": "linear",
            "estimator": type(est).__name__,
            "intercept": intercept,
            "coefficients": coef.tolist(),
        }
        if is_classifier(est):
            model["classes"] = _classes(est, name)
            if _agrees(est, "predict_proba", Z_est, expit(linear), tol=1e-9):
                return {**model, "output": "probability", "link": "logit"}
            if _agrees(est, "decision_function", Z_est, linear, tol=1e-9):
                return {**model, "output": "decision", "link": "identity"}
        elif _agrees(est, "predict", Z_est, linear, tol=1e-9):
            return {**model, "classes": None, "output": "value", "link": "identity"}
        raise _refuse(
            name, est, "its predictions are not the linear function of its coef_ and intercept_"
        )
    raise _refuse(name, est, "it is not a supported final estimator")


def _xgboost(name: str, est: Any, n: int) -> dict[str, Any]:
    from sklearn.base import is_classifier

    booster = est.get_booster() if hasattr(est, "get_booster") else est.booster_
    config = json.loads(booster.save_config())
    kind = config["learner"]["gradient_booster"]["name"]
    if kind not in ("gbtree", "dart"):
        raise _refuse(name, est, f"booster={kind!r}; only tree boosters are exported")
    objective = config["learner"]["objective"]["name"]
    classifier = is_classifier(est)
    if classifier and objective != "binary:logistic":
        raise _refuse(name, est, f"objective={objective!r}; binary:logistic is supported")
    if not classifier and not (objective.startswith("reg:") or objective == "survival:cox"):
        raise _refuse(name, est, f"objective={objective!r}; reg:* or survival:cox is supported")
    if booster.num_features() != n:
        raise _refuse(name, est, f"it has {booster.num_features()} inputs for {n} columns")
    model = json.loads(bytes(booster.save_raw("json")).decode("utf-8"))
    try:
        iteration_range = [0, int(est.best_iteration) + 1]
    except (AttributeError, TypeError):
        iteration_range = [0, 0]
    missing = getattr(est, "missing", np.nan)
    if classifier:
        output = "probability"
    else:
        # survival:cox: the score is the log relative hazard (xgboost's margin)
        output = "margin" if objective == "survival:cox" else "value"
    return {
        "type": "xgboost",
        "estimator": type(est).__name__,
        "output": output,
        "classes": _classes(est, name) if classifier else None,
        "objective": objective,
        "iteration_range": iteration_range,
        "missing": _f(missing),
        "feature_names": booster.feature_names,
        "booster": model,
    }


def _used_xgb_columns(booster_json: dict) -> set[int]:
    used: set[int] = set()
    for tree in booster_json["learner"]["gradient_booster"]["model"]["trees"]:
        left = np.asarray(tree["left_children"])
        split = np.asarray(tree["split_indices"])
        used.update(int(i) for i in np.unique(split[left != -1]))
    return used


def _flatten(estimator: Any) -> list[tuple[str, Any]]:
    from sklearn.pipeline import Pipeline

    if not isinstance(estimator, Pipeline):
        return [(type(estimator).__name__, estimator)]
    out: list[tuple[str, Any]] = []
    for name, step in estimator.steps:
        if step is None or (isinstance(step, str) and step == "passthrough"):
            continue
        out.extend(_flatten(step) if isinstance(step, Pipeline) else [(name, step)])
    return out


def export_estimator(estimator: Any, n_features: int) -> tuple[dict[str, Any], dict[int, dict]]:
    """Export a fitted estimator to plain data.

    Returns
    -------
    model
        The ``model`` block of ``panel.json`` with ``inputs`` whose ``source`` is an index into
        the ``n_features`` raw features (the caller replaces it by the feature name).
    censoring
        Raw feature index → censoring rule block, for features that went through a
        ``CensoredValueImputer``.
    """
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except Exception as err:  # sklearn raises NotFittedError (or TypeError for non-estimators)
        msg = f"cannot export {type(estimator).__name__} to a panel: it is not fitted ({err})"
        raise PanelFormatError(msg) from None
    steps = _flatten(estimator)
    if not steps:
        msg = "cannot export an empty Pipeline to a panel"
        raise PanelFormatError(msg)
    pre, (fname, final) = steps[:-1], steps[-1]
    terms: list[dict] = [{"source": j, "ops": []} for j in range(n_features)]
    censoring: dict[int, dict] = {}
    for name, step in pre:
        terms = _apply_step(name, step, terms, censoring)
    model = _final(fname, final, len(terms))
    if model["type"] == "xgboost":
        used = _used_xgb_columns(model["booster"])
        # a column the booster never splits on is fed as missing: the prediction cannot change
        terms = [t if i in used else {"source": None, "ops": []} for i, t in enumerate(terms)]
    else:
        coefs = (
            [model["coefficients"]]
            if model["type"] == "linear"
            else [m["coefficients"] for m in model["members"]]
        )
        nonzero = np.any(np.asarray(coefs) != 0.0, axis=0)
        if not nonzero.any():
            msg = (
                f"cannot export {type(final).__name__} to a panel: all its coefficients are 0, "
                "so no marker is used; lower the penalty or choose another model"
            )
            raise PanelFormatError(msg)
        terms = [t for t, k in zip(terms, nonzero, strict=True) if k]
        if model["type"] == "linear":
            model["coefficients"] = [
                c for c, k in zip(model["coefficients"], nonzero, strict=True) if k
            ]
        else:
            for m in model["members"]:
                m["coefficients"] = [
                    c for c, k in zip(m["coefficients"], nonzero, strict=True) if k
                ]
    model["pipeline"] = [
        type(step).__name__
        if name == type(step).__name__.lower()
        else f"{name} ({type(step).__name__})"
        for name, step in [*pre, (fname, final)]
    ]
    model["inputs"] = terms
    return model, censoring
