"""Private helpers: build the tidy assay table (``sample_id, analyte, value, censor, ...``)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from biomarkers._validation import format_ids
from biomarkers.exceptions import SchemaError
from biomarkers.io._censor import parse_censored
from biomarkers.io._constants import CENSOR_CODES, TIDY_COLUMNS
from biomarkers.io._numeric_columns import check_finite, to_float
from biomarkers.io._table import clean_strings, to_nfc

__all__: list[str] = []

CENSOR_CATEGORIES = list(CENSOR_CODES)
_STR_COLS = ("sample_id", "analyte", "raw", "unit", "plate", "well", "assay")
_FLOAT_COLS = ("value", "lod", "lloq", "uloq")
_UNIT_IN_NAME = re.compile(r"^(?P<name>.*?)\s*[\(\[](?P<unit>[^\)\]]*)[\)\]]\s*$")
_UNIT_HINT = re.compile(r"/|%|npx|iu|u/|units?$", re.IGNORECASE)


def split_unit(name: str) -> tuple[str, str | None]:
    """Split ``"IL-6 (pg/mL)"`` into ``("IL-6", "pg/mL")``; a bead region ``(38)`` is dropped."""
    m = _UNIT_IN_NAME.match(str(name).strip())
    if not m:
        return str(name).strip(), None
    inner = m.group("unit").strip()
    if _UNIT_HINT.search(inner):
        return m.group("name").strip(), inner
    if inner.isdigit():
        return m.group("name").strip(), None
    return str(name).strip(), None


def censor_categorical(codes: np.ndarray) -> pd.Categorical:
    """Turn int codes into the censor Categorical (categories in CENSOR_CODES order)."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int8), categories=CENSOR_CATEGORIES)


def finish_tidy(
    df: pd.DataFrame,
    *,
    assay: str,
    source: str,
    control_type: pd.Series | np.ndarray | None = None,
    decimal: str = ".",
    value_column: str = "value",
) -> pd.DataFrame:
    """Complete, type, check and split a parsed assay table.

    ``df`` holds ``sample_id``, ``analyte`` and either ``raw`` (parsed here) or ``value`` and
    ``censor`` codes; optionally ``unit, lod, lloq, uloq, plate, well`` and ``_row`` (file row
    numbers, for error messages). ``control_type`` is a string per row (``standard``, ``blank``,
    ``control``) or empty/None for samples.
    """
    df = df.reset_index(drop=True).copy()
    rows = df["_row"].to_numpy() if "_row" in df.columns else None
    if "censor" not in df.columns:
        value, censor = parse_censored(
            df["raw"].to_numpy(dtype=object),
            decimal=decimal,
            source=source,
            column=value_column,
            rows=rows,
        )
        df["value"] = value
        df["censor"] = censor
    if "raw" not in df.columns:
        df["raw"] = pd.Series(df["value"]).map(lambda v: "" if pd.isna(v) else repr(float(v)))
    df["censor"] = censor_categorical(df["censor"].to_numpy())
    for col in TIDY_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan
    df["assay"] = assay
    for col in _FLOAT_COLS:
        df[col] = _float_column(df[col], source=source, column=col, rows=rows)
    for col in _STR_COLS:
        df[col] = clean_strings(df[col])
    df["raw"] = df["raw"].fillna("")
    bad_id = df["sample_id"].isna().to_numpy()
    if bad_id.any():
        where = f"row {int(rows[np.flatnonzero(bad_id)[0]])}" if rows is not None else "a row"
        msg = f"{source}, {where}: empty sample ID; every measurement needs a sample_id"
        raise SchemaError(msg)
    df["sample_id"] = df["sample_id"].map(to_nfc)  # matches the sample table's NFC IDs
    for col in ("dilution", "count", "bead_count"):
        if col in df.columns:
            df[col] = to_float(df[col])
            check_finite(df[col], source=source, column=col, rows=rows)
    if control_type is None:
        is_control = np.zeros(len(df), dtype=bool)
        ctype = pd.Series([None] * len(df), dtype=object)
    else:
        ctype = pd.Series(np.asarray(control_type, dtype=object))
        is_control = (ctype.notna() & (ctype.astype(str) != "")).to_numpy()
    samples = df.loc[~is_control]
    check_replicates(samples, source=source)
    samples = _number_replicates(samples)
    controls = _number_replicates(df.loc[is_control])
    controls.insert(len(controls.columns), "type", ctype[is_control].to_numpy())
    extra = [c for c in df.columns if c not in TIDY_COLUMNS and not c.startswith("_")]
    out = samples[[*TIDY_COLUMNS, *extra]].reset_index(drop=True)
    return attach_controls(out, controls[[*TIDY_COLUMNS, *extra, "type"]].reset_index(drop=True))


class SharedFrame(pd.DataFrame):
    """A table held in another table's ``attrs`` (the plate controls), shared, not copied.

    pandas deep-copies ``attrs`` into every derived frame (``head``, slices) and, to combine
    frames (``concat``, which its own repr uses), compares their ``attrs`` with ``==``: on two
    copies of a DataFrame that comparison raises "The truth value of a DataFrame is
    ambiguous", so printing a cytokine table failed. Deep copies of this frame are the frame
    itself, so derived tables hold the same object and the comparison stops at identity.
    Operations on it give plain DataFrames. Treat it as read-only.
    """

    @property
    def _constructor(self):
        return pd.DataFrame

    def __deepcopy__(self, memo=None) -> SharedFrame:
        return self


def attach_controls(table: pd.DataFrame, controls: pd.DataFrame) -> pd.DataFrame:
    """Put ``controls`` in ``table.attrs["controls"]`` (shared by every derived frame)."""
    table.attrs["controls"] = SharedFrame(controls)
    return table


def _float_column(s: pd.Series, *, source: str, column: str, rows) -> pd.Series:
    if s.dtype.kind in "fiub":
        check_finite(s, source=source, column=column, rows=rows)
        return s.astype(np.float64)
    value, censor = parse_censored(
        s.to_numpy(dtype=object), source=source, column=column, rows=rows
    )
    # a limit written as "<3.2" is odd but harmless; keep its number
    del censor
    return pd.Series(value, index=s.index)


def _number_replicates(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["replicate"] = df.groupby(["sample_id", "analyte"], sort=False).cumcount().to_numpy() + 1
    return df


def check_replicates(df: pd.DataFrame, *, source: str) -> None:
    """Refuse duplicate sample × analyte rows unless they are different wells (replicates)."""
    if df.empty:
        return
    key = df[["sample_id", "analyte"]].astype(str)
    well = df["well"].astype(object).where(df["well"].notna(), "")
    plate = df["plate"].astype(object).where(df["plate"].notna(), "")
    full = pd.concat([key, well.rename("well"), plate.rename("plate")], axis=1)
    dup = full.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    sub = full.loc[dup]
    rows = df["_row"].to_numpy()[dup] if "_row" in df.columns else np.flatnonzero(dup)
    first = sub.iloc[0]
    same = (sub == first).all(axis=1).to_numpy()
    n_pairs = int(sub.drop_duplicates().shape[0])
    if first["well"] == "":
        why = "and no well column tells replicate wells apart"
        fix = "add a 'well' column for replicate wells, or remove the duplicate rows"
    else:
        why = f"in the same well {first['well']!r}"
        fix = "remove the duplicate rows (replicate wells must have different wells)"
    msg = (
        f"{source}: sample {first['sample_id']!r} × analyte {first['analyte']!r} appears more than "
        f"once {why} (rows {format_ids(rows[same].tolist())}; {n_pairs} duplicated "
        f"sample×analyte pair(s) in all); {fix}"
    )
    raise SchemaError(msg)
