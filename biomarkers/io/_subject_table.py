"""Read a generic subject × visit table of numeric values (an assay without samples)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import did_you_mean
from biomarkers.exceptions import SchemaError
from biomarkers.io._numeric_columns import KEY_COLUMNS, check_finite, to_float
from biomarkers.io._table import (
    NA_STRINGS,
    check_identifiers,
    check_unique,
    check_visits,
    ids_to_str,
    read_raw_table,
)
from biomarkers.io._visits import resolve_visits

__all__ = ["read_subject_table"]


def baseline_visit(visits: Mapping[str, float]) -> str:
    """The visit of day 0, else the first visit of the schedule."""
    return next((v for v, d in visits.items() if d == 0), next(iter(visits)))


def _as_number(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Numbers of a column and a mask of cells that hold something else."""
    if s.dtype.kind in "fiub":
        return s.astype(float), np.zeros(len(s), dtype=bool)
    text = s.astype(str).str.strip()
    na = s.isna().to_numpy() | text.str.lower().isin(NA_STRINGS).to_numpy()
    num = to_float(s.where(~na))
    return num, num.isna().to_numpy() & ~na


def _values(df, names, *, source, rows, explicit: bool) -> dict[str, pd.Series]:
    out, skipped = {}, []
    for col in names:
        num, bad = _as_number(df[col])
        if bad.any():
            if not explicit:
                skipped.append(col)
                continue
            i = int(np.flatnonzero(bad)[0])
            msg = (
                f"{source}, row {int(rows[i])}, column {col!r}: value {df[col].iloc[i]!r} is not "
                "a number; a table block holds numbers only: fix the value or drop the column "
                "from columns:"
            )
            raise SchemaError(msg)
        check_finite(num, raw=df[col], source=source, column=col, rows=rows)
        out[col] = num
    if skipped:
        logger.info("%s: non-numeric column(s) skipped: %s", source, ", ".join(skipped))
    return out


def check_subject_table(
    df: pd.DataFrame,
    *,
    source: str,
    columns: str | Sequence[str] = "all",
    unit: str | Mapping[str, str] | None = None,
    visits: Mapping[str, float] | Iterable[str] | None = None,
    subject_column: str = "subject_id",
    visit_column: str = "visit",
    rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """Check a subject × visit table and return ``subject_id, visit`` + float value columns.

    Shared by :func:`read_subject_table` and ``Study(tables=...)`` (tables already in memory).
    """
    visits = resolve_visits(visits)
    df = df.reset_index(drop=df.index.name is None).copy()
    rows = np.arange(len(df)) + 2 if rows is None else rows
    if subject_column not in df.columns:
        msg = (
            f"{source}: subject column {subject_column!r} not found"
            f"{did_you_mean(subject_column, df.columns)}; columns: "
            f"{', '.join(map(str, list(df.columns)[:12]))}; set subject_column="
        )
        raise SchemaError(msg)
    df = df.rename(columns={subject_column: "subject_id", visit_column: "visit"})
    ids_to_str(df, ["subject_id"], source=source, rows=rows)
    if "visit" in df.columns:
        check_visits(df, visits, source=source, rows=rows)
    else:
        df["visit"] = baseline_visit(visits)
        logger.info(
            "%s: no %r column; values taken as baseline (%s)",
            source,
            visit_column,
            df["visit"].iloc[0],
        )
    check_unique(df, ["subject_id", "visit"], source=source, rows=rows)
    explicit = not (isinstance(columns, str) and columns == "all")
    if explicit:
        names = [columns] if isinstance(columns, str) else [str(c) for c in columns]
        for c in names:
            if c not in df.columns:
                msg = f"{source}: column {c!r} not found{did_you_mean(c, df.columns)}; available: {', '.join(map(str, df.columns[:15]))}"
                raise SchemaError(msg)
    else:
        names = [str(c) for c in df.columns if str(c) not in KEY_COLUMNS]
    values = _values(df, names, source=source, rows=rows, explicit=explicit)
    if not values:
        msg = f"{source}: no numeric value columns; list them with columns: [...]"
        raise SchemaError(msg)
    out = pd.concat(
        [
            df[["subject_id", "visit"]].reset_index(drop=True),
            pd.DataFrame(values).reset_index(drop=True),
        ],
        axis=1,
    )
    units = unit if isinstance(unit, Mapping) else dict.fromkeys(values, unit or "")
    out.attrs["unit"] = {c: str(units.get(c, "") or "") for c in values}
    return out


def read_subject_table(
    path: str | os.PathLike,
    *,
    columns: str | Sequence[str] = "all",
    unit: str | Mapping[str, str] | None = None,
    visit_column: str = "visit",
    subject_column: str = "subject_id",
    visits: Mapping[str, float] | Iterable[str] | None = None,
    format: str | None = None,
    sheet: str | int | None = None,
    sep: str | None = None,
    allow_identifiers: bool = False,
) -> pd.DataFrame:
    """Read a table of numeric values per subject and visit (e.g. gene expression, vitals).

    Parameters
    ----------
    path
        CSV, TSV, XLSX or Parquet file: one row per subject × visit.
    columns
        ``"all"`` (every column other than the subject, visit and ``day`` columns; non-numeric
        ones are skipped with a log line) or a list of columns (a non-numeric value is refused).
    unit
        One unit for every column, or ``{column: unit}``; default none.
    visit_column
        Column with the visit label; a table without it holds baseline values (the visit of
        day 0, else the first visit of the schedule).
    subject_column
        Column with the subject ID.
    visits
        Visit schedule ``{label: study day}``; default :data:`biomarkers.study.DEFAULT_VISITS`.
    format, sheet, sep
        As in :func:`read_clinical`.
    allow_identifiers
        Accept direct identifier columns.

    Returns
    -------
    DataFrame with ``subject_id`` (str), ``visit`` (str) and one float column per value column;
    ``attrs["unit"]`` maps each value column to its unit.

    Raises
    ------
    SchemaError
        Missing subject/listed columns, unknown visits, duplicate subject × visit rows, a
        non-number in a listed column, an infinite value (named with its row and column).
    InputFileError
        Missing, empty or unreadable file.

    Examples
    --------
    >>> import biomarkers as bm
    >>> expr = bm.io.read_subject_table("expression.csv", unit="log2 intensity")  # doctest: +SKIP
    """
    df, rows = read_raw_table(path, format=format, sheet=sheet, sep=sep)
    source = f"table file {Path(path)}"
    check_identifiers(df, source=source, allow=allow_identifiers)
    out = check_subject_table(
        df,
        source=source,
        columns=columns,
        unit=unit,
        visits=visits,
        subject_column=subject_column,
        visit_column=visit_column,
        rows=rows,
    )
    logger.info(
        "read %d rows × %d values (%d subjects) from %s",
        len(out),
        out.shape[1] - 2,
        out["subject_id"].nunique(),
        path,
    )
    return out
