"""Read gated flow-cytometry population frequencies into the tidy assay table."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import check_choice, check_columns
from biomarkers.exceptions import DataQualityWarning, SchemaError
from biomarkers.io._numeric_columns import check_finite, to_float
from biomarkers.io._table import check_file, read_raw_table, rename_columns
from biomarkers.io._vendors import container_format, parse_long, parse_wide

__all__ = ["read_flow"]


def read_flow(
    path: str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    format: str = "auto",
    sheet: str | int | None = None,
    sep: str | None = None,
    control_pattern: str | None = None,
) -> pd.DataFrame:
    """Read gated population frequencies (% of parent) into the tidy assay table.

    Parameters
    ----------
    path
        CSV, TSV, XLSX or Parquet: long (``sample_id, population, frequency`` + ``parent,
        count``) or wide (samples × populations).
    columns
        ``{file column: standard name}``.
    format
        ``"long"``, ``"wide"`` or ``"auto"`` (long when a ``population`` column exists).
    sheet, sep
        Excel sheet; text delimiter (``None`` detects it).
    control_pattern
        Regular expression of sample names that are controls (e.g. ``"^FMO|^CTRL"``).

    Returns
    -------
    Tidy DataFrame as :func:`read_cytokines` (``analyte`` = population, ``unit`` = ``"%"``,
    ``assay`` = ``"flow"``), plus ``parent`` and ``count`` when present.

    Raises
    ------
    SchemaError
        Missing columns, non-numeric frequencies, frequencies outside 0–100, duplicates.

    Examples
    --------
    >>> import biomarkers as bm
    >>> flow = bm.io.read_flow("flow.csv")  # doctest: +SKIP
    """
    path = check_file(path)
    fmt = container_format(path, None)
    layout = str(format).lower()
    if layout == "auto":
        head, _ = read_raw_table(path, format=fmt, sheet=sheet, sep=sep)
        head = rename_columns(head, columns, source=str(path))
        layout = "long" if "population" in head.columns else "wide"
        if layout == "wide" and "frequency" in head.columns:  # a long table missing a column
            check_columns(
                head, ["population"], source=str(path),
                hint="a long flow table needs sample_id, population, frequency; map yours with columns=",
            )  # fmt: skip
    check_choice("format", layout, ("auto", "long", "wide"), source="read_flow")
    common = {
        "fmt": fmt,
        "sheet": sheet,
        "sep": sep,
        "columns": columns,
        "assay": "flow",
        "control_pattern": control_pattern,
    }
    if layout == "long":
        tidy = parse_long(
            path, required_value="frequency", analyte_col="population", unit="%", **common
        )
    else:
        tidy = parse_wide(path, unit="%", name="population", **common)
    for col in ("count",):
        if col in tidy.columns:
            tidy[col] = to_float(tidy[col])
            check_finite(tidy[col], source=str(path), column=col)
    values = tidy["value"].to_numpy()
    finite = np.isfinite(values)
    if (finite & ((values < 0) | (values > 100))).any():
        i = int(np.flatnonzero(finite & ((values < 0) | (values > 100)))[0])
        msg = (
            f"{path}: frequency {float(values[i]):g} of population {tidy['analyte'].iloc[i]!r} in sample "
            f"{tidy['sample_id'].iloc[i]!r} is outside 0–100; frequencies must be % of parent"
        )
        raise SchemaError(msg)
    if finite.sum() > 10 and values[finite].max() <= 1:
        warnings.warn(
            f"{path}: all frequencies are ≤ 1; they look like fractions, but % of parent (0–100) is expected",
            DataQualityWarning,
            stacklevel=2,
        )
    logger.info(
        "read %s: %d samples × %d populations",
        path,
        tidy["sample_id"].nunique(),
        tidy["analyte"].nunique(),
    )
    return tidy
