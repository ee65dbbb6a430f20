"""Read the laboratory table (one row per subject × visit)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

import pandas as pd

from biomarkers._logging import logger
from biomarkers.io._table import read_checked_table
from biomarkers.io._visits import resolve_visits

__all__ = ["read_labs"]

LAB_NUMERIC = (
    "day",
    "bilirubin_mg_dl",
    "inr",
    "creatinine_mg_dl",
    "sodium_mmol_l",
    "albumin_g_dl",
    "wbc_10e9_l",
    "platelets_10e9_l",
    "lactate_mmol_l",
    "he_grade",
    "map_mmhg",
    "vasopressor",
    "pao2_fio2",
    "spo2_fio2",
    "dialysis",
    "mech_ventilation",
)


def read_labs(
    path: str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    visits: Mapping[str, float] | Iterable[str] | None = None,
    format: str | None = None,
    sheet: str | int | None = None,
    sep: str | None = None,
    allow_identifiers: bool = False,
) -> pd.DataFrame:
    """Read the laboratory table: one row per subject × visit.

    Parameters
    ----------
    path
        CSV, TSV, XLSX or Parquet file.
    columns
        Mapping ``{file column: standard name}``.
    visits
        Visit schedule ``{label: study day}`` (or a list of labels); default
        :data:`biomarkers.study.DEFAULT_VISITS`. Labels outside it are refused.
    format, sheet, sep
        As in :func:`read_clinical`.
    allow_identifiers
        Accept direct identifier columns.

    Returns
    -------
    DataFrame with ``subject_id`` (str), ``visit`` (str), ``day`` (from the file, else the
    scheduled day of the visit) and the lab columns as numbers.

    Raises
    ------
    SchemaError
        Missing columns, unknown visit labels, duplicate subject × visit rows, non-numeric labs.

    Examples
    --------
    >>> import biomarkers as bm
    >>> labs = bm.io.read_labs("labs.csv")  # doctest: +SKIP
    """
    visits = resolve_visits(visits)
    df, _ = read_checked_table(
        path,
        kind="labs",
        required=["subject_id", "visit"],
        keys=["subject_id", "visit"],
        id_columns=["subject_id"],
        numeric=LAB_NUMERIC,
        columns=columns,
        format=format,
        sheet=sheet,
        sep=sep,
        allow_identifiers=allow_identifiers,
        visits=visits,
    )
    scheduled = df["visit"].map(visits)
    if "day" not in df.columns:
        df.insert(2, "day", scheduled)
    else:
        df["day"] = df["day"].fillna(scheduled)
    logger.info("read %d lab rows (%d subjects) from %s", len(df), df["subject_id"].nunique(), path)
    return df.reset_index(drop=True)
