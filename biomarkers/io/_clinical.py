"""Read the clinical table (one row per subject)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import format_ids
from biomarkers.exceptions import SchemaError
from biomarkers.io._table import read_checked_table

__all__ = ["read_clinical"]

CLINICAL_NUMERIC = (
    "age",
    "weight_kg",
    "randomisation_day",
    "death",
    "death_day",
    "transplant",
    "transplant_day",
    "last_followup_day",
    "event",
    "time_days",
)


def read_clinical(
    path: str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    format: str | None = None,
    sheet: str | int | None = None,
    sep: str | None = None,
    allow_identifiers: bool = False,
) -> pd.DataFrame:
    """Read the clinical table: one row per subject with ``subject_id`` (and ``arm`` in a trial).

    Parameters
    ----------
    path
        CSV, TSV, XLSX or Parquet file (chosen by the extension, or ``format=``).
    columns
        Mapping ``{file column: standard name}``, e.g. ``{"PatientID": "subject_id"}``.
    format
        ``"csv"``, ``"tsv"``, ``"xlsx"`` or ``"parquet"``; default from the extension.
    sheet
        Excel sheet name or index (default: the first sheet).
    sep
        Delimiter of a text file; ``None`` detects it.
    allow_identifiers
        Accept direct identifiers (names, date of birth, phone, address, MRN, e-mail).

    Returns
    -------
    DataFrame indexed by ``subject_id`` (strings); ``arm`` as strings when present (a table
    without it is a cohort); known numeric columns
    (``age``, ``weight_kg``, ``death``, ``death_day``, ...) and any all-numeric column as numbers.

    Raises
    ------
    SchemaError
        Missing ``subject_id``, an empty ``arm`` cell, duplicate subjects (listed with their rows), non-numeric
        values in numeric columns, direct identifiers.
    InputFileError
        Missing, empty or unreadable file.

    Examples
    --------
    >>> import biomarkers as bm
    >>> clinical = bm.io.read_clinical("clinical.csv")  # doctest: +SKIP
    """
    df, rows = read_checked_table(
        path,
        kind="clinical",
        required=["subject_id"],
        keys=["subject_id"],
        id_columns=["subject_id"],
        numeric=CLINICAL_NUMERIC,
        columns=columns,
        format=format,
        sheet=sheet,
        sep=sep,
        allow_identifiers=allow_identifiers,
        text=("arm", "sex", "etiology"),
    )
    empty = df["arm"].isna().to_numpy() if "arm" in df.columns else np.zeros(0, dtype=bool)
    if empty.any():
        msg = (
            f"clinical file {path}: column 'arm' is empty at row(s) "
            f"{format_ids(rows[empty].tolist())}; every subject needs its randomised arm"
        )
        raise SchemaError(msg)
    if "arm" in df.columns:
        df["arm"] = df["arm"].astype(str)
    _check_event_days(df, rows=rows, source=f"clinical file {path}")
    logger.info("read %d subjects from %s", len(df), path)
    return df.set_index("subject_id")


def _check_event_days(df: pd.DataFrame, *, rows: np.ndarray, source: str) -> None:
    """Refuse a death or transplant recorded after the last follow-up (no one is followed after)."""
    if "last_followup_day" not in df.columns:
        return
    follow = pd.to_numeric(df["last_followup_day"], errors="coerce").to_numpy(dtype=float)
    for kind in ("death", "transplant"):
        day_col = f"{kind}_day"
        if kind not in df.columns or day_col not in df.columns:
            continue
        flag = pd.to_numeric(df[kind], errors="coerce").to_numpy(dtype=float)
        day = pd.to_numeric(df[day_col], errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            bad = (flag == 1) & (day > follow)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = (
                f"{source}, row {int(rows[i])} (subject {df['subject_id'].iloc[i]!r}): "
                f"{day_col} {day[i]:g} is after last_followup_day {follow[i]:g} "
                f"({int(bad.sum())} such subjects in all); last_followup_day must be on or after "
                f"the {kind}: fix one of the two days"
            )
            raise SchemaError(msg)
