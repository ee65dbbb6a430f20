"""Private helpers for the generic column outcomes: canonical values, assessment day."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from biomarkers._validation import did_you_mean
from biomarkers.clinical._common import subject_table
from biomarkers.exceptions import SchemaError
from biomarkers.io._visits import resolve_visits

__all__: list[str] = []

_TRUE = {"true", "yes"}
_FALSE = {"false", "no"}


def canonical(value: object) -> object:
    """One comparable form of a cell: numbers (and ``"1"``, ``True``) as float, text stripped.

    Missing cells (None, NaN, empty text) become ``None``.
    """
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    text = str(value).strip()
    if text == "" or text.lower() in {"nan", "na", "none"}:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    if text.lower() in _TRUE:
        return 1.0
    if text.lower() in _FALSE:
        return 0.0
    return text


def column_of(clinical: pd.DataFrame, column: str, *, role: str) -> pd.Series:
    """The clinical column ``column`` indexed by subject, or a SchemaError naming the columns."""
    clin = subject_table(clinical, source="clinical")
    if column not in clin.columns:
        cols = ", ".join(map(str, list(clin.columns)[:15]))
        msg = (
            f"clinical: {role} column {column!r} not found{did_you_mean(column, clin.columns)}; "
            f"columns: {cols}"
        )
        raise SchemaError(msg)
    return clin[column]


def numeric_of(values: pd.Series, *, what: str) -> pd.Series:
    """Numbers of a column; the first non-number is named with its subject."""
    canon = values.map(canonical)
    bad = canon.map(lambda v: not pd.isna(v) and not isinstance(v, float))
    if bad.any():
        sid = bad.index[bad.to_numpy()][0]
        msg = (
            f"clinical: {what} is not a number for subject {sid!r} (value {values[sid]!r}; "
            f"{int(bad.sum())} such values); correct it or leave the cell empty"
        )
        raise SchemaError(msg)
    return canon.astype(float)


def after_last_visit(visits: Mapping[str, float] | None) -> int:
    """Default assessment day of a column outcome: the day after the last study visit."""
    days = resolve_visits(visits).values()
    return int(np.floor(max(days))) + 1 if days else 1
