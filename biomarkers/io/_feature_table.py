"""Read a feature table to score: one row per subject, one column per panel marker."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from biomarkers._logging import logger
from biomarkers.io._table import (
    check_required,
    check_unique,
    ids_to_str,
    read_raw_table,
    to_numeric_columns,
)

__all__ = ["read_feature_table"]


def read_feature_table(
    path: str | os.PathLike, *, format: str | None = None, sep: str | None = None
) -> pd.DataFrame:
    """Read a CSV/TSV/XLSX/Parquet feature table with a ``subject_id`` column.

    The file goes through the checks of every reader: UTF-8 (a BOM and CRLF line ends are fine),
    the delimiter detected (``,`` ``;`` tab ``|``), no column name twice, no empty subject ID,
    IDs in Unicode NFC form, no duplicate subject, no infinite number.

    Parameters
    ----------
    path
        The table (format by the extension, or ``format=``).
    format
        ``"csv"``, ``"tsv"``, ``"xlsx"`` or ``"parquet"``; default from the extension.
    sep
        Delimiter of a text file; ``None`` detects it.

    Returns
    -------
    DataFrame indexed by ``subject_id`` (strings); all-numeric columns as numbers, other
    columns as strings (the panel names any marker that is not a number).

    Raises
    ------
    SchemaError
        No ``subject_id`` column, an empty or duplicate subject ID, a column name twice, an
        infinite value.
    InputFileError
        Missing, empty, non-UTF-8 or unreadable file.

    Examples
    --------
    >>> import biomarkers as bm
    >>> table = bm.io.read_feature_table("features.csv")  # doctest: +SKIP
    """
    df, rows = read_raw_table(path, format=format, sep=sep)
    source = f"feature table {Path(path)}"
    check_required(df, ["subject_id"], source=source)
    ids_to_str(df, ["subject_id"], source=source, rows=rows)
    to_numeric_columns(df, [], source=source, rows=rows, skip=["subject_id"])
    check_unique(df, ["subject_id"], source=source, rows=rows)
    logger.info("read %d subjects × %d columns from %s", len(df), len(df.columns) - 1, path)
    return df.set_index("subject_id")
