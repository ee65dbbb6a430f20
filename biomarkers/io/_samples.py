"""Read the sample table (one row per biological sample)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

import pandas as pd

from biomarkers._logging import logger
from biomarkers.io._table import read_checked_table
from biomarkers.io._visits import resolve_visits

__all__ = ["read_samples"]


def read_samples(
    path: str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    visits: Mapping[str, float] | Iterable[str] | None = None,
    format: str | None = None,
    sheet: str | int | None = None,
    sep: str | None = None,
    allow_identifiers: bool = False,
) -> pd.DataFrame:
    """Read the sample table: ``sample_id``, ``subject_id``, ``visit`` (+ ``tissue``, ``batch``).

    Parameters
    ----------
    path
        CSV, TSV, XLSX or Parquet file.
    columns
        Mapping ``{file column: standard name}``.
    visits
        Visit schedule ``{label: study day}``; default :data:`biomarkers.study.DEFAULT_VISITS`.
    format, sheet, sep
        As in :func:`read_clinical`.
    allow_identifiers
        Accept direct identifier columns.

    Returns
    -------
    DataFrame indexed by ``sample_id`` (str) with ``subject_id`` (str), ``visit`` (str) and the
    other columns of the file.

    Raises
    ------
    SchemaError
        Missing columns, duplicate sample IDs, unknown visits.

    Examples
    --------
    >>> import biomarkers as bm
    >>> samples = bm.io.read_samples("samples.csv")  # doctest: +SKIP
    """
    visits = resolve_visits(visits)
    df, _ = read_checked_table(
        path,
        kind="samples",
        required=["sample_id", "subject_id", "visit"],
        keys=["sample_id"],
        id_columns=["sample_id", "subject_id"],
        columns=columns,
        format=format,
        sheet=sheet,
        sep=sep,
        allow_identifiers=allow_identifiers,
        visits=visits,
        text=("tissue", "batch"),
    )
    logger.info("read %d samples from %s", len(df), path)
    return df.set_index("sample_id")
