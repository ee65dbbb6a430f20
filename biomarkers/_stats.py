"""The toolkit's statistics vocabulary: multiple testing (q-values) and net benefit.

Every table that carries a multiplicity-adjusted p-value names its column ``q_value`` (or
``q_value_<what>`` when a table holds several, e.g. ``q_value_interaction``) and fills it with
:func:`bh_qvalues`. Decision curves are computed by :func:`decision_curve_table` only: ``discover``
stores its table and :func:`biomarkers.pl.decision_curve` draws that table (or, given raw
out-of-fold predictions, calls the same function on the same default thresholds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "DECISION_THRESHOLDS",
    "Q_VALUE",
    "bh_qvalues",
    "decision_curve_table",
    "net_benefit",
    "wilson_interval",
]

Q_VALUE = "q_value"
"""Name of the q-value column in every table the toolkit writes."""

DECISION_THRESHOLDS: tuple[float, ...] = tuple(
    float(t) for t in np.round(np.arange(0.05, 0.65, 0.05), 2)
)
"""Default risk thresholds of a decision curve (0.05, 0.10, …, 0.60)."""


def bh_qvalues(p: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    """Benjamini–Hochberg q-values; NaN p-values stay NaN and do not count as tests.

    Parameters
    ----------
    p
        P-values (any shape); non-finite entries are left out of the family.

    Returns
    -------
    numpy.ndarray
        Float array of the shape of ``p``: ``min(1, min_{j >= i} p_(j) m / j)`` for the ``m``
        finite p-values, NaN elsewhere (as :func:`scipy.stats.false_discovery_control` and
        statsmodels' ``multipletests(method="fdr_bh")``).

    Examples
    --------
    >>> bh_qvalues([0.01, 0.04, float("nan"), 0.03]).round(3)
    array([0.03, 0.04,  nan, 0.04])
    """
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv, kind="mergesort")
    ranked = pv[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    q[ok] = out
    return q


def net_benefit(
    y_true: Sequence[float] | np.ndarray,
    y_pred: Sequence[float] | np.ndarray,
    thresholds: Sequence[float] | np.ndarray = DECISION_THRESHOLDS,
) -> np.ndarray:
    """Net benefit of treating when the predicted risk is at least each threshold.

    ``NB(t) = TP/n - FP/n * t / (1 - t)`` (Vickers & Elkin, *Med Decis Making* 2006;26:565).

    Parameters
    ----------
    y_true
        Binary outcome (1 = event / class 1), length ``n``.
    y_pred
        Predicted probabilities, shape ``(n,)`` or ``(repeats, n)``; with repeats the net benefit
        is the mean over repeats.
    thresholds
        Risk thresholds in (0, 1).

    Returns
    -------
    numpy.ndarray
        Net benefit at each threshold.

    Examples
    --------
    >>> net_benefit([1, 0, 1, 0], [0.9, 0.6, 0.4, 0.1], [0.5]).round(3)
    array([0.])
    """
    y = np.asarray(y_true, dtype=float)
    P = np.atleast_2d(np.asarray(y_pred, dtype=float))
    t = np.asarray(thresholds, dtype=float)
    treat = P[:, None, :] >= t[None, :, None]  # repeats × thresholds × subjects
    tp = (treat & (y == 1)).mean(axis=2)
    fp = (treat & (y == 0)).mean(axis=2)
    return (tp - fp * (t / (1 - t))).mean(axis=0)


def decision_curve_table(
    y_true: Sequence[float] | np.ndarray,
    predictions: Mapping[str, Sequence[float] | np.ndarray],
    thresholds: Sequence[float] | np.ndarray = DECISION_THRESHOLDS,
) -> pd.DataFrame:
    """Decision-curve table: net benefit of each prediction beside treat-all and treat-none.

    Parameters
    ----------
    y_true
        Binary outcome, length ``n``.
    predictions
        Label → predicted probabilities (``(n,)`` or ``(repeats, n)``, see :func:`net_benefit`).
    thresholds
        Risk thresholds in (0, 1).

    Returns
    -------
    pandas.DataFrame
        One row per threshold: ``threshold, treat_all, treat_none`` and one column per label.

    Examples
    --------
    >>> decision_curve_table([1, 0, 1, 0], {"m": [0.9, 0.6, 0.4, 0.1]}, [0.5]).round(3)
       threshold  treat_all  treat_none    m
    0        0.5        0.0         0.0  0.0
    """
    y = np.asarray(y_true, dtype=float)
    t = np.asarray(thresholds, dtype=float)
    prevalence = float(y.mean()) if y.size else np.nan
    table = pd.DataFrame(
        {
            "threshold": t,
            "treat_all": prevalence - (1 - prevalence) * t / (1 - t),
            "treat_none": 0.0,
        }
    )
    for label, pred in predictions.items():
        table[label] = net_benefit(y, pred, t)
    return table


def wilson_interval(
    k: int, n: int, *, z: float = 1.959963984540054
) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion ``k / n`` (``None`` when ``n == 0``).

    The one Wilson interval: PPV/NPV of a panel threshold and the per-arm risks of
    :func:`biomarkers.models.treatment_effect` (Newcombe's difference) use it.
    """
    if n == 0:
        return None, None
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))
