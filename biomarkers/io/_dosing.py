"""Read the dosing table (one row per planned infusion)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import pandas as pd

from biomarkers._logging import logger
from biomarkers.io._table import read_checked_table

__all__ = ["read_dosing"]

DOSING_NUMERIC = ("dose_number", "planned_day", "day", "given", "cells_per_kg")


def read_dosing(
    path: str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    format: str | None = None,
    sheet: str | int | None = None,
    sep: str | None = None,
) -> pd.DataFrame:
    """Read the dosing table: ``subject_id, dose_number`` (+ ``planned_day, day, given, cells_per_kg``).

    Parameters
    ----------
    path
        CSV, TSV, XLSX or Parquet file.
    columns
        Mapping ``{file column: standard name}``.
    format, sheet, sep
        As in :func:`read_clinical`.

    Returns
    -------
    DataFrame with ``subject_id`` (str) and numeric dosing columns (``day`` is NaN for a dose
    not given).

    Raises
    ------
    SchemaError
        Missing columns, duplicate subject × dose rows, non-numeric values.

    Examples
    --------
    >>> import biomarkers as bm
    >>> dosing = bm.io.read_dosing("dosing.csv")  # doctest: +SKIP
    """
    df, _ = read_checked_table(
        path,
        kind="dosing",
        required=["subject_id", "dose_number"],
        keys=["subject_id", "dose_number"],
        id_columns=["subject_id"],
        numeric=DOSING_NUMERIC,
        columns=columns,
        format=format,
        sheet=sheet,
        sep=sep,
        allow_identifiers=True,
    )
    logger.info("read %d dosing rows from %s", len(df), path)
    return df.reset_index(drop=True)
