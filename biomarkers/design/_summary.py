"""Per grid point summaries of a power study, with Monte-Carlo intervals."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from biomarkers._stats import wilson_interval

__all__ = ["METRICS", "summarise"]

#: metric -> (description, analysis); the order of power.csv.
METRICS: dict[str, tuple[str, str]] = {
    "p_auroc_ci_above_0.5": ("P(lower CI bound of the discovery AUROC > 0.5)", "discover"),
    "auroc_mean": ("mean cross-validated AUROC", "discover"),
    "auroc_ci_width": ("mean width of the AUROC's 95 % CI", "discover"),
    "prognostic_recall_top_k": ("recall of planted prognostic markers in the top k", "discover"),
    "p_predictive_call": ("P(a planted predictive marker is called at the FDR)", "predictive"),
    "predictive_false_call_rate": ("P(at least one false predictive call)", "predictive"),
    "pd_recall": ("recall of planted pharmacodynamic markers (early response)", "early_response"),
    "pd_false_call_rate": ("P(at least one false pharmacodynamic call)", "early_response"),
    "treatment_power": (
        "P(treatment effect on the primary outcome significant)",
        "treatment_effect",
    ),
}


def _mean_interval(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and its normal-approximation 95 % Monte-Carlo interval."""
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    m = float(np.mean(x))
    if len(x) < 2:
        return m, math.nan, math.nan
    half = 1.959963984540054 * float(np.std(x, ddof=1)) / math.sqrt(len(x))
    return m, m - half, m + half


def _row(metric, kind, values: np.ndarray) -> dict:
    values = values[~np.isnan(values)]
    n = len(values)
    if kind == "proportion":
        k = int(values.sum())
        lo, hi = wilson_interval(k, n)
        est = k / n if n else math.nan
        return {"metric": metric, "estimate": est, "mc_low": lo, "mc_high": hi, "k": k, "n": n,
                "interval": "wilson"}  # fmt: skip
    est, lo, hi = _mean_interval(values)
    return {"metric": metric, "estimate": est, "mc_low": lo, "mc_high": hi, "k": None, "n": n,
            "interval": "normal"}  # fmt: skip


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_numeric(df[name], errors="coerce") if name in df else pd.Series(np.nan, df.index)


def _ratio(num: pd.Series, den: pd.Series) -> np.ndarray:
    den = den.where(den > 0)
    return (num / den).to_numpy(dtype=float)


def _indicator(cond: pd.Series, valid: pd.Series) -> np.ndarray:
    return np.where(valid.notna(), cond.astype(float), np.nan)


def _metrics(df: pd.DataFrame, *, alpha: float) -> list[tuple[str, str, np.ndarray]]:
    low, high = _col(df, "auroc_ci_low"), _col(df, "auroc_ci_high")
    called, planted = _col(df, "predictive_called_planted"), _col(df, "predictive_planted")
    false = _col(df, "predictive_false_calls")
    p_te = _col(df, "treatment_p")
    spec: list[tuple[str, str, Callable[[], np.ndarray]]] = [
        ("p_auroc_ci_above_0.5", "proportion", lambda: _indicator(low > 0.5, low)),
        ("auroc_mean", "mean", lambda: _col(df, "auroc").to_numpy(dtype=float)),
        ("auroc_ci_width", "mean", lambda: (high - low).to_numpy(dtype=float)),
        ("prognostic_recall_top_k", "mean",
         lambda: _ratio(_col(df, "prognostic_in_top_k"), _col(df, "prognostic_planted"))),
        ("p_predictive_call", "proportion",
         lambda: _indicator(called > 0, called.where(planted > 0))),
        ("predictive_false_call_rate", "proportion", lambda: _indicator(false > 0, false)),
        ("pd_recall", "mean", lambda: _ratio(_col(df, "pd_called_planted"), _col(df, "pd_planted"))),
        ("pd_false_call_rate", "proportion",
         lambda: _indicator(_col(df, "pd_false_calls") > 0, _col(df, "pd_false_calls"))),
        ("treatment_power", "proportion", lambda: _indicator(p_te < alpha, p_te)),
    ]  # fmt: skip
    out = [(m, kind, f()) for m, kind, f in spec]
    cell_types = sorted(c.split(":", 1)[1] for c in df.columns if c.startswith("de_planted:"))
    for ct in cell_types:
        true, hit, calls = (
            _col(df, f"de_{w}:{ct}") for w in ("planted", "called_planted", "calls")
        )
        if (true > 0).any():
            out.append((f"de_recall:{ct}", "mean", _ratio(hit, true)))
        out.append((f"de_fdp:{ct}", "mean", np.where(calls > 0, _ratio(calls - hit, calls), 0.0)))
    return out


def summarise(records: pd.DataFrame, grid_keys: list[str], *, alpha: float = 0.05) -> pd.DataFrame:
    """One row per grid point × metric, with its Monte-Carlo interval.

    Columns ``point_id, <grid keys>, metric, estimate, mc_low, mc_high, k, n, interval,
    failed, description``.

    Proportions (P(...)) carry Wilson intervals of ``k`` of ``n`` replicates; means carry a normal
    interval (mean ± 1.96 SD / √n). ``n`` counts the replicates where the metric is defined (for
    a recall: where something was planted) and ``failed`` those where its analysis raised.
    """
    rows = []
    for pid, df in records.groupby("point_id", sort=False):
        first = df.iloc[0]
        keys = {k: first[k] for k in grid_keys}
        for metric, kind, values in _metrics(df, alpha=alpha):
            if np.isnan(values).all():
                continue
            row = _row(metric, kind, values)
            analysis = METRICS.get(metric, ("", "mechanism"))[1]
            err = f"error:{analysis}"
            row["failed"] = int(df[err].notna().sum()) if err in df else 0
            row["description"] = METRICS[metric][0] if metric in METRICS else _de_words(metric)
            rows.append({"point_id": pid, **keys, **row})
    return pd.DataFrame(rows)


def _de_words(metric: str) -> str:
    kind, ct = metric.split(":", 1)
    what = "recall" if kind == "de_recall" else "false discovery proportion"
    return f"{what} of planted DE genes in {ct} (mechanism)"
