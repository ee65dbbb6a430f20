"""Score a raw feature matrix with the plain-data model of a panel (no pickle, no eval)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from scipy.special import expit, logit

__all__ = ["apply_ops", "load_booster", "model_columns", "predict"]

_LOGS = {"ln": np.log, "log2": np.log2, "log10": np.log10, "log1p": np.log1p}


def _value(v) -> float:
    return np.nan if v is None else float(v)


def apply_ops(x: np.ndarray, ops: list[dict[str, Any]]) -> np.ndarray:
    """Apply a term's element-wise operations, in order, to a float column."""
    x = np.array(x, dtype=np.float64, copy=True)
    with np.errstate(all="ignore"):  # overflow/invalid give inf/NaN, which score() reports
        return _apply(x, ops)


def _apply(x: np.ndarray, ops: list[dict[str, Any]]) -> np.ndarray:
    for step in ops:
        op = step["op"]
        if op == "fill_below":
            x = np.where(np.isneginf(x), _value(step["value"]), x)
        elif op == "fill_above":
            x = np.where(np.isposinf(x), _value(step["value"]), x)
        elif op == "fill_missing":
            x = np.where(np.isnan(x), _value(step["value"]), x)
        elif op == "indicator_below":
            x = np.isneginf(x).astype(np.float64)
        elif op == "indicator_missing":
            x = np.isnan(x).astype(np.float64)
        elif op == "subtract":
            x -= _value(step["value"])
        elif op == "divide":
            x /= _value(step["value"])
        elif op == "multiply":
            x *= _value(step["value"])
        elif op == "add":
            x += _value(step["value"])
        elif op == "log":
            x = _LOGS[step["value"]](x)
        elif op == "log_finite":  # log of finite values; ±inf (censored) and NaN pass through
            finite = np.isfinite(x)
            x[finite] = _LOGS[step["value"]](x[finite])
        else:  # the schema restricts op names; this guards hand-built dicts
            msg = f"unknown panel operation {op!r}"
            raise ValueError(msg)
    return x


def model_columns(model: dict[str, Any], raw: np.ndarray, index: dict[str, int]) -> np.ndarray:
    """Build the matrix the final model sees from the raw features (columns in panel order)."""
    n = raw.shape[0]
    cols = np.empty((n, len(model["inputs"])), dtype=np.float64)
    for k, term in enumerate(model["inputs"]):
        if term["feature"] is None:
            cols[:, k] = np.nan
        else:
            cols[:, k] = apply_ops(raw[:, index[term["feature"]]], term["ops"])
    return cols


def load_booster(model: dict[str, Any]):
    """Rebuild an ``xgboost.Booster`` from the JSON model stored in the panel."""
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(bytearray(json.dumps(model["booster"]).encode("utf-8")))
    return booster


def predict(
    model: dict[str, Any], cols: np.ndarray, *, booster=None
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(score, probability)``; probability is NaN for models without one."""
    with np.errstate(all="ignore"):  # extreme inputs give inf/NaN scores, not warnings
        return _predict(model, cols, booster=booster)


def _predict(
    model: dict[str, Any], cols: np.ndarray, *, booster=None
) -> tuple[np.ndarray, np.ndarray]:
    kind = model["type"]
    nan = np.full(cols.shape[0], np.nan)
    if kind == "linear":
        score = cols @ np.asarray(model["coefficients"], dtype=np.float64) + model["intercept"]
        prob = expit(score) if model["link"] == "logit" else nan
        return score, prob
    if kind == "calibrated_linear":
        acc = np.zeros(cols.shape[0])
        for m in model["members"]:
            d = cols @ np.asarray(m["coefficients"], dtype=np.float64) + m["intercept"]
            cal = m["calibration"]
            acc += expit(-(cal["a"] * d + cal["b"]))
        acc /= len(model["members"])
        return logit(acc), acc
    import xgboost as xgb

    if booster is None:
        booster = load_booster(model)
    dm = xgb.DMatrix(
        cols, missing=_value(model["missing"]), feature_names=model.get("feature_names")
    )
    rng = tuple(model["iteration_range"])
    value = booster.predict(dm, iteration_range=rng).astype(np.float64)
    if model["output"] == "probability":
        margin = booster.predict(dm, output_margin=True, iteration_range=rng).astype(np.float64)
        return margin, value
    if model["output"] == "margin":
        margin = booster.predict(dm, output_margin=True, iteration_range=rng).astype(np.float64)
        return margin, nan
    return value, nan
