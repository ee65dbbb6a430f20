"""Which markers may enter a panel: known by its landmark, and mostly measured."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._names import known_at_day
from biomarkers.exceptions import SchemaError

__all__ = ["marker_eligibility"]


def _share(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        msg = f"{name}={value!r} is not a share; use a number from 0 to 1"
        raise SchemaError(msg)
    return float(value)


def _matrix(table: Any) -> tuple[np.ndarray, list[str]]:
    if hasattr(table, "var_names") and hasattr(table, "obs_names"):
        X = table.X.toarray() if hasattr(table.X, "toarray") else np.asarray(table.X)
        return X.astype(np.float64), [str(v) for v in table.var_names]
    if isinstance(table, pd.DataFrame):
        num = table.select_dtypes("number")
        return num.to_numpy(dtype=np.float64, na_value=np.nan), [str(c) for c in num.columns]
    msg = f"marker_eligibility needs a FeatureTable or a DataFrame, got {type(table).__name__}"
    raise SchemaError(msg)


def marker_eligibility(
    table: Any,
    *,
    candidates: Sequence[str] | None = None,
    max_censored_share: float = 0.5,
    max_missing_share: float = 0.5,
    latest_day: float | None = None,
) -> pd.DataFrame:
    """Tell, per marker, whether it may enter a panel and why not.

    A marker is not eligible when more than ``max_censored_share`` of the subjects have it
    censored at a detection limit (``±inf``: a mostly below-LOD analyte carries little but the
    substituted value), when more than ``max_missing_share`` have no value, or when it is known
    after ``latest_day`` (e.g. an on-treatment ``@D7`` or ``@D7-D0`` marker for a panel that
    must be scored at baseline, ``latest_day=0``).

    Parameters
    ----------
    table
        FeatureTable (AnnData) or a subjects × features DataFrame (numeric columns).
    candidates
        Markers to judge (default: every feature).
    max_censored_share, max_missing_share
        Largest share of subjects censored / missing for an eligible marker.
    latest_day
        Latest study day a marker may be known at (``None``: no limit).

    Returns
    -------
    pandas.DataFrame
        One row per candidate, indexed by ``feature``: ``known_at_day``, ``censored_share``,
        ``missing_share``, ``eligible`` (bool) and ``reason`` (``""`` when eligible).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from biomarkers.panel import marker_eligibility
    >>> df = pd.DataFrame({"cytokine:IL6@D0": [1.0, 2.0, 3.0, 4.0],
    ...                    "cytokine:IFNg@D0": [-np.inf, -np.inf, -np.inf, 1.0],
    ...                    "cytokine:IL6@D7": [1.0, 2.0, 3.0, 4.0]})
    >>> marker_eligibility(df, latest_day=0)["eligible"].tolist()
    [True, False, False]
    """
    max_censored_share = _share("max_censored_share", max_censored_share)
    max_missing_share = _share("max_missing_share", max_missing_share)
    X, names = _matrix(table)
    if candidates is not None:
        unknown = [c for c in candidates if c not in names]
        if unknown:
            msg = f"marker_eligibility: candidates {unknown[:5]} are not features of the table"
            raise SchemaError(msg)
        pos = [names.index(c) for c in candidates]
        X, names = X[:, pos], [names[p] for p in pos]
    n = max(X.shape[0], 1)
    censored = np.isinf(X).sum(axis=0) / n
    missing = np.isnan(X).sum(axis=0) / n
    days = np.array([known_at_day(f) for f in names], dtype=float)
    reasons = []
    for j in range(len(names)):
        why = []
        if latest_day is not None and np.isfinite(days[j]) and days[j] > latest_day:
            why.append(f"known at day {days[j]:g}, after day {latest_day:g}")
        if censored[j] > max_censored_share:
            why.append(f"{censored[j]:.0%} censored (> {max_censored_share:.0%})")
        if missing[j] > max_missing_share:
            why.append(f"{missing[j]:.0%} missing (> {max_missing_share:.0%})")
        reasons.append("; ".join(why))
    return pd.DataFrame(
        {
            "known_at_day": days,
            "censored_share": censored,
            "missing_share": missing,
            "eligible": [not r for r in reasons],
            "reason": reasons,
        },
        index=pd.Index(names, name="feature"),
    )
