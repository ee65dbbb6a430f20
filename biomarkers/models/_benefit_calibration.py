"""Calibration for benefit: observed versus predicted treatment benefit, cross-fitted."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import numpy as np
import pandas as pd
from scipy import stats

from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.models._pred_cate import calibration_test

__all__ = ["benefit_calibration"]

COLUMNS = [
    "kind", "group", "n", "n_treated", "n_control", "predicted", "observed", "se", "ci_low",
    "ci_high", "p_value", "arm_difference", "arm_ci_low", "arm_ci_high",
]  # fmt: skip


def _arm_difference(y: np.ndarray, arm: np.ndarray, z: float) -> tuple[float, float, float]:
    """Treated minus control mean with a Welch (unpooled) normal CI; NaN with < 2 per arm."""
    y1, y0 = y[arm == 1], y[arm == 0]
    if min(y1.size, y0.size) < 2:
        return (float("nan"),) * 3
    d = float(y1.mean() - y0.mean())
    se = float(np.sqrt(y1.var(ddof=1) / y1.size + y0.var(ddof=1) / y0.size))
    return d, d - z * se, d + z * se


def _mean_ci(values: np.ndarray, level: float) -> tuple[float, float, float, float]:
    """Mean, its SE and a t interval."""
    m = float(values.mean())
    se = float(values.std(ddof=1) / np.sqrt(values.size))
    q = float(stats.t.ppf(0.5 + level / 2, values.size - 1))
    return m, se, m - q * se, m + q * se


def benefit_calibration(
    predicted: Sequence[float] | np.ndarray,
    dr_scores: Sequence[float] | np.ndarray,
    arm: Sequence[int] | np.ndarray,
    *,
    y: Sequence[float] | np.ndarray,
    n_groups: int = 4,
    level: float = 0.95,
) -> pd.DataFrame:
    """Observed against predicted benefit by group of predicted benefit, with intercept and slope.

    Subjects are split into ``n_groups`` equal-size quantile groups of ``predicted`` (ties
    broken by order). Per group: the mean predicted benefit, the observed benefit (mean
    doubly-robust score, t interval) and the plain arm difference of ``y`` within the group
    (Welch interval). Two summary rows: the calibration intercept (calibration in the large:
    mean of ``dr_scores - predicted``, 0 when the average predicted benefit is right,
    two-sided p) and the calibration slope (best linear projection of the DR scores on the
    predicted benefit, :func:`~biomarkers.models._pred_cate.calibration_test`: 1 when
    calibrated, 0 when the prediction captures no heterogeneity; one-sided p for slope > 0).

    Parameters
    ----------
    predicted
        Out-of-fold predicted benefit (CATE) per subject, never fitted on its own outcome.
    dr_scores
        Doubly-robust scores per subject, nuisance models fitted out of fold.
    arm
        1 for the treated arm, 0 for control.
    y
        Outcome on the scale of the CATE (0/1, continuous, or RMST pseudo-values).
    n_groups
        Number of groups of predicted benefit (4: quarters).
    level
        Confidence level of the group and intercept intervals (the slope's is 95%).

    Returns
    -------
    pandas.DataFrame
        Columns ``kind`` (``group``, ``intercept``, ``slope``), ``group`` (1 = lowest
        predicted benefit; empty for the summary rows), ``n, n_treated, n_control,
        predicted, observed, se, ci_low, ci_high, p_value, arm_difference, arm_ci_low,
        arm_ci_high``. For the summary rows ``observed`` is the estimate.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> cate = rng.normal(size=200)
    >>> phi = cate + rng.normal(size=200)
    >>> arm = np.arange(200) % 2
    >>> tab = benefit_calibration(cate, phi, arm, y=phi, n_groups=4)
    >>> tab["kind"].tolist()
    ['group', 'group', 'group', 'group', 'intercept', 'slope']
    """
    pred, phi, a, yy = (np.asarray(v, dtype=float) for v in (predicted, dr_scores, arm, y))
    if not (pred.shape == phi.shape == a.shape == yy.shape) or pred.ndim != 1:
        msg = (
            "predicted, dr_scores, arm and y must be 1-D of the same length, got shapes "
            f"{pred.shape}, {phi.shape}, {a.shape}, {yy.shape}"
        )
        raise SchemaError(msg)
    if isinstance(n_groups, bool) or not isinstance(n_groups, Integral) or n_groups < 2:
        msg = f"n_groups={n_groups!r} must be an integer >= 2"
        raise ConfigError(msg)
    if pred.size < 2 * n_groups:
        msg = f"{pred.size} subjects are too few for n_groups={n_groups} (need 2 per group)"
        raise SchemaError(msg)
    z = float(stats.norm.ppf(0.5 + level / 2))
    ranks = stats.rankdata(pred, method="ordinal")
    group = pd.qcut(ranks, n_groups, labels=False) + 1
    rows = []
    for g in range(1, n_groups + 1):
        m = group == g
        obs, se, lo, hi = _mean_ci(phi[m], level)
        d, d_lo, d_hi = _arm_difference(yy[m], a[m], z)
        rows.append(
            {"kind": "group", "group": g, "n": int(m.sum()), "n_treated": int(a[m].sum()),
             "n_control": int((1 - a[m]).sum()), "predicted": float(pred[m].mean()),
             "observed": obs, "se": se, "ci_low": lo, "ci_high": hi, "arm_difference": d,
             "arm_ci_low": d_lo, "arm_ci_high": d_hi}
        )  # fmt: skip
    obs, se, lo, hi = _mean_ci(phi - pred, level)
    p = float(2 * stats.t.sf(abs(obs / se), pred.size - 1)) if se > 0 else float("nan")
    common = {"n": pred.size, "n_treated": int(a.sum()), "n_control": int((1 - a).sum())}
    rows.append({"kind": "intercept", **common, "predicted": float(pred.mean()),
                 "observed": obs, "se": se, "ci_low": lo, "ci_high": hi, "p_value": p})  # fmt: skip
    blp = calibration_test(phi, pred)
    rows.append({"kind": "slope", **common, "observed": blp["slope"], "se": blp["slope_se"],
                 "ci_low": blp["slope_ci_low"], "ci_high": blp["slope_ci_high"],
                 "p_value": blp["p_slope"]})  # fmt: skip
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["group"] = out["group"].astype("Int64")
    return out
