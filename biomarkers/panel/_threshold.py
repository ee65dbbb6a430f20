from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from biomarkers._stats import wilson_interval
from biomarkers.exceptions import SchemaError

__all__ = ["choose_threshold"]


def _binary_labels(y_true, *, positive=None) -> tuple[np.ndarray, np.ndarray]:
    """Return (labels 0/1 as float with NaN kept, mask of non-missing rows)."""
    y = np.asarray(y_true)
    if y.ndim != 1:
        msg = f"y_true must be one-dimensional (one label per subject); got shape {y.shape}"
        raise SchemaError(msg)
    if y.dtype.kind in "fc":
        keep = ~np.isnan(y)
    else:
        keep = np.array([v is not None and v == v for v in y.tolist()], dtype=bool)
    values = y[keep]
    levels = np.unique(values)
    if positive is None:
        if levels.size and set(levels.tolist()) <= {0, 1}:
            positive = 1
        elif levels.size == 2:
            positive = levels[1]
        else:
            msg = (
                f"y_true must hold two classes (1 = the favourable response); got "
                f"{levels.tolist()[:5]}; pass binary labels"
            )
            raise SchemaError(msg)
    if levels.size > 2:
        msg = f"y_true has {levels.size} classes {levels.tolist()[:5]}; a panel threshold needs 2"
        raise SchemaError(msg)
    out = np.full(y.shape[0], np.nan)
    out[keep] = (values == positive).astype(float)
    return out, keep


def _scores(y_score, n: int) -> np.ndarray:
    s = np.asarray(y_score, dtype=float)
    if s.ndim == 2 and s.shape[1] == 2:
        s = s[:, 1]
    if s.ndim != 1 or s.shape[0] != n:
        msg = (
            f"y_score must hold one score per subject ({n}); got shape {s.shape}; pass the "
            "out-of-fold probability of the positive class"
        )
        raise SchemaError(msg)
    return s


def threshold_metrics(y01: np.ndarray, score: np.ndarray, value: float) -> dict[str, Any]:
    """Sensitivity, specificity, PPV and NPV at ``score >= value`` with Wilson 95% CIs."""
    pred = score >= value
    pos = y01 == 1
    tp = int(np.sum(pred & pos))
    fn = int(np.sum(~pred & pos))
    fp = int(np.sum(pred & ~pos))
    tn = int(np.sum(~pred & ~pos))
    out: dict[str, Any] = {"counts": {"tp": tp, "fp": fp, "tn": tn, "fn": fn}}
    for name, k, n in (
        ("sensitivity", tp, tp + fn),
        ("specificity", tn, tn + fp),
        ("ppv", tp, tp + fp),
        ("npv", tn, tn + fn),
    ):
        lo, hi = wilson_interval(k, n)
        out[name] = {"estimate": (k / n) if n else None, "ci_low": lo, "ci_high": hi, "n": n}
    return out


def choose_threshold(
    y_true, y_score, *, rule: str | float | Mapping[str, float] = "youden", positive=None
) -> dict[str, Any]:
    """Choose a decision threshold on a score and report its accuracy with 95% CIs.

    A subject is called positive when ``score >= threshold``. Use scores that were not fitted on
    the same subjects (out-of-fold predictions); otherwise the accuracy is optimistic.

    Parameters
    ----------
    y_true
        Binary labels, one per subject (NaN = unknown, dropped).
    y_score
        Score of the positive class, one per subject (e.g. out-of-fold probability).
    rule
        ``"youden"`` (maximise sensitivity + specificity − 1; ties go to the highest threshold),
        ``{"sensitivity": s}`` (the highest threshold whose sensitivity is at least ``s``, i.e. the
        best specificity at that sensitivity), ``{"specificity": s}`` (the lowest threshold whose
        specificity is at least ``s``) or a number (a threshold given by the user).
    positive
        Label of the positive class; default 1 (or the larger of two labels).

    Returns
    -------
    dict
        ``value``, ``rule`` (``youden``/``sensitivity``/``specificity``/``given``), ``target``,
        ``n``, ``n_positive``, ``ci_method`` (``"wilson"``) and ``sensitivity``, ``specificity``,
        ``ppv``, ``npv`` (each ``estimate``, ``ci_low``, ``ci_high``, ``n``) and the 2×2 ``counts``.

    Examples
    --------
    >>> from biomarkers.panel import choose_threshold
    >>> t = choose_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> t["value"], t["sensitivity"]["estimate"], t["specificity"]["estimate"]
    (0.8, 0.5, 1.0)
    """
    from sklearn.metrics import roc_curve

    y, keep = _binary_labels(y_true, positive=positive)
    s = _scores(y_score, y.shape[0])
    keep &= ~np.isnan(s)
    y, s = y[keep], s[keep]
    n_pos = int(y.sum())
    target = None
    if isinstance(rule, bool):
        msg = f"threshold rule {rule!r} is not valid; use 'youden', a number or {{'sensitivity': 0.9}}"
        raise SchemaError(msg)
    if isinstance(rule, int | float | np.floating):
        if not np.isfinite(rule):
            msg = f"threshold {rule!r} must be a finite number"
            raise SchemaError(msg)
        value, kind = float(rule), "given"
    else:
        if n_pos == 0 or n_pos == y.size:
            msg = (
                f"cannot choose a threshold by {rule!r}: y_true has {n_pos} positive of {y.size} "
                "subjects; both classes are needed"
            )
            raise SchemaError(msg)
        fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
        if isinstance(rule, str) and rule == "youden":
            kind = "youden"
            idx = int(np.argmax(tpr - fpr))
        elif (
            isinstance(rule, Mapping)
            and len(rule) == 1
            and next(iter(rule))
            in (
                "sensitivity",
                "specificity",
            )
        ):
            kind, target = next(iter(rule.items()))
            target = float(target)
            if not 0.0 < target <= 1.0:
                msg = f"threshold target {kind}={target} must be in (0, 1]"
                raise SchemaError(msg)
            if kind == "sensitivity":
                idx = int(np.flatnonzero(tpr >= target - 1e-12)[0])
            else:
                idx = int(np.flatnonzero(1.0 - fpr >= target - 1e-12)[-1])
        else:
            msg = (
                f"threshold rule {rule!r} is not valid; use 'youden', a number, "
                "{'sensitivity': 0.9} or {'specificity': 0.9}"
            )
            raise SchemaError(msg)
        value = float(thr[idx])
        if not np.isfinite(value):  # roc_curve's first threshold (+inf): nobody positive
            value = float(np.nextafter(np.max(s), np.inf))
    out: dict[str, Any] = {
        "value": value,
        "rule": kind,
        "target": target,
        "n": int(y.size),
        "n_positive": n_pos,
        "ci_method": "wilson",
    }
    out.update(threshold_metrics(y, s, value))
    return out
