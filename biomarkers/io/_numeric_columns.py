"""List the numeric value columns of a table (for ``labs: all`` and ``columns: all``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from biomarkers.exceptions import SchemaError, one_line

__all__ = ["numeric_columns"]

#: Key columns that are never values.
KEY_COLUMNS = ("subject_id", "sample_id", "visit", "day")


def numeric_columns(df: pd.DataFrame, *, exclude: Iterable[str] = ()) -> list[str]:
    """Names of the numeric columns of ``df`` other than keys and ``exclude``, in file order.

    Parameters
    ----------
    df
        A table as returned by the readers (numbers already converted, e.g.
        :func:`read_labs`).
    exclude
        Further columns to leave out (``subject_id``, ``sample_id``, ``visit`` and ``day`` are
        always left out).

    Returns
    -------
    Column names whose dtype is numeric (booleans included, as 0/1 indicators).

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.io import numeric_columns
    >>> labs = pd.DataFrame({"subject_id": ["a"], "visit": ["D0"], "day": [0],
    ...                      "inr": [1.2], "ascites": ["mild"]})
    >>> numeric_columns(labs)
    ['inr']
    """
    skip = {*KEY_COLUMNS, *map(str, exclude)}
    return [
        str(c)
        for c in df.columns
        if str(c) not in skip and pd.api.types.is_numeric_dtype(df[c].dtype)
    ]


def to_float(s: pd.Series) -> pd.Series:
    """``pd.to_numeric(s, errors="coerce")`` that keeps overflowing numbers as ``±inf``.

    pandas turns ``"1e400"`` into NaN (as if the cell were empty or text); Python's ``float``
    reads it as ``inf``, which :func:`check_finite` then refuses with the cell shown.
    """
    num = pd.to_numeric(s, errors="coerce").astype(np.float64)
    retry = num.isna() & s.notna()
    if retry.any():
        num[retry] = s[retry].map(_float_or_nan)
    return num


def _float_or_nan(value: object) -> float:
    """``±inf`` for a number too large for a float (``1e400``), else NaN (pandas' verdict stands)."""
    try:
        number = float(str(value).strip())
    except ValueError:
        return float("nan")
    return number if np.isinf(number) else float("nan")


def check_finite(
    values: np.ndarray | pd.Series,
    *,
    raw: Sequence | np.ndarray | pd.Series | None = None,
    source: str | None = None,
    column: str | None = None,
    rows: Sequence[int] | np.ndarray | None = None,
) -> None:
    """Refuse ``inf``, ``-inf`` and numbers too large for a float (``1e400``) in parsed values.

    The one numeric check every reader applies after turning text into numbers: NaN means
    "missing" and passes; an infinite value is never a measurement.

    Parameters
    ----------
    values
        The parsed numbers.
    raw
        The cells as written in the file (shown in the message); defaults to ``values``.
    source, column, rows
        Where the values come from (file, column, 1-based row numbers), for the message.

    Raises
    ------
    SchemaError
        Naming the first infinite value, its row and column, and how many there are.
    """
    arr = np.asarray(values, dtype=np.float64).ravel()
    inf = np.isinf(arr)
    if not inf.any():
        return
    positions = np.flatnonzero(inf)
    first = int(positions[0])
    shown = np.asarray(raw if raw is not None else arr, dtype=object).ravel()[first]
    more = f" ({len(positions)} such values in all)" if len(positions) > 1 else ""
    msg = (
        f"{cell_location(source, rows, first, column)}: value {one_line(shown)!r} is infinite or too large for a number"
        f"{more}; write the measured value, or leave the cell empty if unknown"
    )
    raise SchemaError(msg)


def cell_location(source, rows, index: int, column) -> str:
    """``file, row 12, column 'age'`` for the ``index``-th value (``item i`` without row numbers)."""
    where = [str(source)] if source is not None else []
    where.append(f"row {int(np.asarray(rows)[index])}" if rows is not None else f"item {index}")
    if column is not None:
        where.append(f"column {one_line(column)!r}")
    return ", ".join(where)
