"""Qini (uplift) curve and area of a treatment-benefit score on a randomised two-arm sample."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biomarkers.exceptions import SchemaError

__all__ = ["qini_curve"]


def _points(score: np.ndarray, y: np.ndarray, treated: np.ndarray):
    """Qini curve at the end of each group of tied scores (highest score targeted first)."""
    order = np.argsort(-score, kind="stable")
    s, yy, tt = score[order], y[order], treated[order]
    n = s.size
    ends = np.flatnonzero(np.append(s[1:] != s[:-1], True))  # last index of each tie group
    cum_t = np.cumsum(tt)[ends]
    cum_c = np.cumsum(1 - tt)[ends]
    y_t = np.cumsum(yy * tt)[ends]
    y_c = np.cumsum(yy * (1 - tt))[ends]
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.where(cum_c > 0, y_t - y_c * cum_t / np.where(cum_c > 0, cum_c, 1), y_t)
    k = np.concatenate([[0], ends + 1])
    gain = np.concatenate([[0.0], gain]) / n
    return k, gain, n


def _area(k: np.ndarray, gain: np.ndarray, n: int) -> float:
    frac = k / n
    return float(np.sum((gain[1:] + gain[:-1]) * np.diff(frac)) / 2 - gain[-1] / 2)


def qini_coefficient(score, y, treated) -> float:
    """Area between the Qini curve and the random-targeting line (fractions on the x axis)."""
    k, gain, n = _points(np.asarray(score, float), np.asarray(y, float), np.asarray(treated, int))
    return _area(k, gain, n)


def qini_curve(score, y, treated) -> pd.DataFrame:
    """Qini curve of a predicted treatment benefit on a randomised sample.

    Subjects are targeted in decreasing order of ``score``; after targeting the top ``k`` the
    incremental gain is ``Y_T(k) - Y_C(k) · N_T(k) / N_C(k)`` (Radcliffe 2007), divided here by
    the number of subjects so that the last point is the average treatment effect (up to the
    arms' sizes). Tied scores are targeted together (one point per group of ties).

    Parameters
    ----------
    score
        Predicted treatment benefit per subject (e.g. out-of-fold CATE); higher is targeted first.
    y
        Outcome per subject (binary 0/1, continuous, or survival pseudo-values).
    treated
        1 for subjects randomised to the treated arm, 0 for control.

    Returns
    -------
    DataFrame with columns ``fraction`` (share of subjects targeted), ``n_targeted``,
    ``qini`` (incremental gain per subject) and ``random`` (the random-targeting line). The Qini
    coefficient is the area between ``qini`` and ``random``; see ``df.attrs["qini"]``.

    Examples
    --------
    >>> import numpy as np
    >>> from biomarkers.models._uplift import qini_curve
    >>> curve = qini_curve(np.array([0.3, 0.1, 0.2, 0.0]), np.array([1, 0, 0, 1]),
    ...                    np.array([1, 0, 1, 0]))
    >>> list(curve.columns)
    ['fraction', 'n_targeted', 'qini', 'random']
    """
    score = np.asarray(score, dtype=float)
    y = np.asarray(y, dtype=float)
    treated = np.asarray(treated)
    if not (score.shape == y.shape == treated.shape) or score.ndim != 1:
        msg = (
            f"score, y and treated must be 1-D of the same length, got shapes {score.shape}, "
            f"{y.shape}, {treated.shape}"
        )
        raise SchemaError(msg)
    if not np.all(np.isfinite(score)) or not np.all(np.isfinite(y)):
        msg = "score and y must be finite (drop subjects with a missing prediction or outcome)"
        raise SchemaError(msg)
    if not np.isin(treated, (0, 1)).all():
        msg = "treated must be 0 (control) or 1 (treated) for every subject"
        raise SchemaError(msg)
    k, gain, n = _points(score, y, treated.astype(int))
    frac = k / n
    df = pd.DataFrame({"fraction": frac, "n_targeted": k, "qini": gain, "random": frac * gain[-1]})
    df.attrs["qini"] = _area(k, gain, n)
    return df


def bootstrap_qini(
    score, y, treated, *, n_bootstraps: int, rng: np.random.Generator, level: float = 0.95
) -> tuple[float, float, np.ndarray]:
    """Percentile CI of the Qini coefficient, resampling subjects within each arm."""
    score, y, treated = np.asarray(score, float), np.asarray(y, float), np.asarray(treated, int)
    idx_t, idx_c = np.flatnonzero(treated == 1), np.flatnonzero(treated == 0)
    values = np.empty(n_bootstraps)
    for b in range(n_bootstraps):
        idx = np.concatenate(
            [rng.choice(idx_t, idx_t.size, replace=True), rng.choice(idx_c, idx_c.size)]
        )
        values[b] = qini_coefficient(score[idx], y[idx], treated[idx])
    if n_bootstraps == 0:
        return float("nan"), float("nan"), values
    alpha = (1 - level) / 2
    lo, hi = np.quantile(values, [alpha, 1 - alpha])
    return float(lo), float(hi), values
