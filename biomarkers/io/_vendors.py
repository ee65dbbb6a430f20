"""Private parsers for each cytokine/proteomics layout; each returns a tidy table (see _tidy)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from biomarkers._validation import did_you_mean
from biomarkers.exceptions import InputFileError, SchemaError
from biomarkers.io._constants import CENSOR_CODES
from biomarkers.io._table import (
    bounded_cells,
    check_required,
    file_format,
    read_grid,
    read_head_lines,
    read_raw_table,
    rename_columns,
    sniff_delimiter,
)
from biomarkers.io._tidy import finish_tidy, split_unit

__all__: list[str] = []

LAYOUTS = ("long", "wide", "xponent", "bioplex", "msd", "olink", "olink_wide")

_BELOW, _ABOVE, _MISSING = CENSOR_CODES["below"], CENSOR_CODES["above"], CENSOR_CODES["missing"]

_CONTROL_NAME = re.compile(
    r"^(?P<kind>background|blank|standard|std|calibrator|control|ctrl|qc|neg(?:ative)?[ _-]?ctrl)"
    r"[\s_-]*\d*$",
    re.IGNORECASE,
)
_OLINK_CONTROL = re.compile(
    r"control|^neg[ _-]?ctrl|^ipc|^plate[ _-]?control|^ext[ _-]?ctrl|^inc[ _-]?ctrl|^det[ _-]?ctrl",
    re.IGNORECASE,
)
# MSD names calibrators S001…, controls C1, C2, C3 by default
_MSD_CONTROL_NAME = re.compile(
    r"^(?:(?P<kind>background|blank|standard|std|calibrator|control|ctrl|qc)[\s_-]*\d*|c\d{1,2})$",
    re.IGNORECASE,
)
_KIND = {
    "background": "blank",
    "blank": "blank",
    "standard": "standard",
    "std": "standard",
    "calibrator": "standard",
}
_SAMPLE_TYPES = {"", "sample", "samples", "unknown", "unknowns", "x", "subject", "patient"}
_LONG_META = {"unit", "lod", "lloq", "uloq", "plate", "well", "dilution", "type", "sample_type"}
_WIDE_META = {*_LONG_META, "subject_id", "visit", "replicate", "description"}
_LOCATION = re.compile(r"^\s*(\d+)\s*\(\s*(\d+)\s*,\s*([A-Za-z]+\d+)\s*\)\s*$")


def control_type_from_names(
    names: pd.Series, pattern: re.Pattern | None = _CONTROL_NAME
) -> pd.Series:
    """Return ``standard``/``blank``/``control`` for control-like names, None for samples."""
    if pattern is None:
        return pd.Series([None] * len(names), index=names.index, dtype=object)

    def kind(name) -> str | None:
        if not isinstance(name, str):
            return None
        m = pattern.search(name.strip())
        if not m:
            return None
        word = (m.groupdict().get("kind") or "control").lower()
        return _KIND.get(word, "control")

    return names.map(kind).astype(object)


def _type_column(s: pd.Series) -> pd.Series:
    low = s.fillna("").astype(str).str.strip().str.lower()
    out = low.where(~low.isin(_SAMPLE_TYPES), None)
    out = out.replace({"std": "standard", "calibrator": "standard", "background": "blank"})
    return out.astype(object)


def _compile(pattern: str | None, default: re.Pattern | None) -> re.Pattern | None:
    if pattern is None:
        return default
    return re.compile(pattern, re.IGNORECASE)


def find_header(grid: list[list[str]], must: list[set[str]], *, limit: int = 80) -> int | None:
    """Index of the first row holding one name from each set in ``must`` (case-insensitive)."""
    for i, row in enumerate(grid[:limit]):
        cells = {str(c).strip().lower() for c in row}
        if all(cells & {m.lower() for m in names} for names in must):
            return i
    return None


def head_grid(
    path: Path, fmt: str, *, sheet=None, sep=None, n: int = 80
) -> tuple[list[list[str]], str]:
    """The first rows of a text/Excel file as a grid of strings."""
    if fmt == "xlsx":
        grid, delim = read_grid(path, fmt, sheet=sheet)
        return grid[:n], delim
    import csv

    lines = read_head_lines(path, n=n)
    with bounded_cells(path):
        if sep is None:
            sep = "\t" if fmt == "tsv" else sniff_delimiter(lines)
        return [list(r) for r in csv.reader(lines, delimiter=sep)], sep


def detect_layout(path: Path, fmt: str, *, sheet=None, sep=None, columns=None) -> str:
    """Guess the layout of a cytokine/proteomics file from its content."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        names = set(pq.read_schema(path).names)
        if {"NPX", "Assay"} <= names or {"NPX", "SampleID"} <= names:
            return "olink"
        names = {(columns or {}).get(n, n) for n in names}
        return "long" if "analyte" in names else "wide"
    grid, _ = head_grid(path, fmt, sheet=sheet, sep=sep)
    first_cells = [str(r[0]).strip().lower() if r else "" for r in grid]
    flat = {str(c).strip().lower() for r in grid for c in r}
    if "datatype:" in first_cells or any(
        c.startswith("program") and "xponent" in " ".join(r).lower()
        for c, r in zip(first_cells, grid, strict=True)
    ):
        return "xponent"
    if any(c.startswith("analyte:") for c in first_cells) and {"type", "well"} <= flat:
        return "bioplex"
    if "detection range" in flat or "calc. concentration" in flat:
        return "msd"
    if "npx" in flat and ({"sampleid", "assay"} & flat):
        return "olink"
    if "assay" in first_cells and ({"olinkid", "uniprot id", "panel"} & set(first_cells)):
        return "olink_wide"
    mapped = {str(v).lower() for v in (columns or {}).values()} | flat
    if {"sample_id", "analyte"} <= mapped:
        return "long"
    if "sample_id" in mapped:
        return "wide"
    first = ", ".join(grid[0][:6]) if grid else ""
    msg = (
        f"{path}: cannot recognise the cytokine layout (first line: {first[:80]!r}); pass "
        f"format= one of {', '.join(LAYOUTS)}, or map your columns to sample_id/analyte/value"
    )
    raise SchemaError(msg)


# --------------------------------------------------------------------------------------- long


def parse_long(
    path: Path,
    *,
    fmt,
    sheet,
    sep,
    columns,
    assay,
    control_pattern,
    required_value="value",
    analyte_col="analyte",
    unit=None,
) -> pd.DataFrame:
    """Long table: one row per sample × analyte (``sample_id, analyte, value`` + optional)."""
    source = f"{path}"
    skip = 0
    if fmt != "parquet":
        grid, sep = head_grid(path, fmt, sheet=sheet, sep=sep)
        mapped_names = {"sample_id"} | {k for k, v in (columns or {}).items() if v == "sample_id"}
        found = find_header(grid, [mapped_names])
        skip = found or 0
    df, rows = read_raw_table(path, format=fmt, sheet=sheet, sep=sep, skiprows=skip)
    df = rename_columns(df, columns, source=source)
    check_required(df, ["sample_id", analyte_col, required_value], source=source)
    out = pd.DataFrame(
        {
            "sample_id": df["sample_id"],
            "analyte": df[analyte_col],
            "raw": _raw_strings(df[required_value]),
            "_row": rows,
        }
    )
    for col in ("unit", "lod", "lloq", "uloq", "plate", "well", "dilution", "parent", "count"):
        if col in df.columns:
            out[col] = df[col].to_numpy()
    if unit is not None:
        out["unit"] = unit
    ctype = _controls(df, control_pattern, default=None)
    return finish_tidy(
        out, assay=assay, source=source, control_type=ctype, value_column=required_value
    )


def _raw_strings(s: pd.Series) -> pd.Series:
    if s.dtype.kind in "fiub":
        return s.map(
            lambda v: (
                "" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else repr(float(v)))
            )
        )
    return s.astype(object).where(s.notna(), "").astype(str)


def _controls(df: pd.DataFrame, control_pattern, *, default) -> pd.Series | None:
    for col in ("sample_type", "type"):
        if col in df.columns:
            return _type_column(df[col]).to_numpy()
    pattern = _compile(control_pattern, default)
    if pattern is None:
        return None
    return control_type_from_names(df["sample_id"], pattern).to_numpy()


# --------------------------------------------------------------------------------------- wide


def parse_wide(
    path: Path, *, fmt, sheet, sep, columns, assay, control_pattern, unit=None, name="analyte"
) -> pd.DataFrame:
    """Wide table: samples × analytes; headers like ``IL6 (pg/mL)`` carry the unit."""
    source = f"{path}"
    df, rows = read_raw_table(path, format=fmt, sheet=sheet, sep=sep)
    df = rename_columns(df, columns, source=source)
    if "sample_id" not in df.columns:
        first = df.columns[0]
        if str(first).strip().lower() in {
            "sample",
            "sampleid",
            "sample id",
            "id",
            "",
        } or first.startswith("Unnamed"):
            df = df.rename(columns={first: "sample_id"})
    check_required(df, ["sample_id"], source=source)
    analytes = [c for c in df.columns if c != "sample_id" and c.lower() not in _WIDE_META]
    if not analytes:
        msg = f"{source}: no {name} columns besides sample_id and metadata; is this a long table? pass format='long'"
        raise SchemaError(msg)
    n, k = len(df), len(analytes)
    raw = (
        np.concatenate([_raw_strings(df[a]).to_numpy(dtype=object) for a in analytes])
        if n
        else np.array([], dtype=object)
    )
    names_units = [split_unit(a) for a in analytes]
    out = pd.DataFrame(
        {
            "sample_id": np.tile(df["sample_id"].to_numpy(dtype=object), k),
            "analyte": np.repeat([nu[0] for nu in names_units], n),
            "raw": raw,
            "unit": np.repeat([nu[1] if unit is None else unit for nu in names_units], n).astype(
                object
            ),
            "_row": np.tile(rows, k),
        }
    )
    for col in ("plate", "well", "dilution"):
        if col in df.columns:
            out[col] = np.tile(df[col].to_numpy(dtype=object), k)
    ctype = _controls(df, control_pattern, default=None)
    if ctype is not None:
        ctype = np.tile(np.asarray(ctype, dtype=object), k)
    return finish_tidy(out, assay=assay, source=source, control_type=ctype)


# ------------------------------------------------------------------------------------ xPONENT


def parse_xponent(
    path: Path, *, fmt, sheet, sep, assay, control_pattern, datatype="Result"
) -> pd.DataFrame:
    """Luminex xPONENT CSV: header blocks, ``DataType:`` blocks, ``-- CRC --`` footer."""
    source = f"{path}"
    grid, _ = read_grid(path, fmt, sheet=sheet, sep=sep)
    blocks: dict[str, tuple[int, list[list[str]]]] = {}
    i = 0
    while i < len(grid):
        row = grid[i]
        if row and str(row[0]).strip().lower() == "datatype:":
            name = str(row[1]).strip() if len(row) > 1 else ""
            j = i + 1
            body = []
            while j < len(grid):
                r = grid[j]
                first = str(r[0]).strip().lower() if r else ""
                if first in {"datatype:", "-- crc --"} or not any(str(c).strip() for c in r):
                    break
                body.append(r)
                j += 1
            blocks.setdefault(name, (i + 2, body))
            i = j
        else:
            i += 1
    if not blocks:
        msg = f"{source}: no 'DataType:' blocks found; is this an xPONENT export? pass format= another layout"
        raise SchemaError(msg)
    names = {k.lower(): k for k in blocks}
    if datatype.lower() not in names:
        msg = (
            f"{source}: no 'DataType:,{datatype}' block{did_you_mean(datatype, blocks)}; blocks: "
            f"{', '.join(blocks)}; pass datatype= one of them (e.g. datatype='Median' for MFI)"
        )
        raise SchemaError(msg)
    start, body = blocks[names[datatype.lower()]]
    frame = _xponent_table(body, start, source=source, block=datatype)
    units = _xponent_units(blocks)
    counts = None
    if "count" in names and datatype.lower() != "count":
        cstart, cbody = blocks[names["count"]]
        counts = _xponent_table(cbody, cstart, source=source, block="Count")
    value_units = (
        "MFI"
        if datatype.lower() in {"median", "net mfi", "avg net mfi", "mean", "trimmed mean"}
        else None
    )
    out = frame.rename(columns={"cell": "raw"})
    out["unit"] = out["analyte"].map(units).astype(object) if value_units is None else value_units
    if counts is not None:
        c = counts.set_index(["location", "analyte"])["cell"]
        key = pd.MultiIndex.from_arrays([out["location"], out["analyte"]])
        out["bead_count"] = pd.to_numeric(c.reindex(key).to_numpy(), errors="coerce")
    ctype = control_type_from_names(out["sample_id"], _compile(control_pattern, _CONTROL_NAME))
    out = out.drop(columns=["location"])
    return finish_tidy(out, assay=assay, source=source, control_type=ctype.to_numpy())


def _xponent_table(body: list[list[str]], start: int, *, source: str, block: str) -> pd.DataFrame:
    if not body or str(body[0][0]).strip().lower() != "location":
        msg = f"{source}, row {start}: the {block!r} block has no 'Location,Sample,...' header row"
        raise SchemaError(msg)
    header = [str(c).strip() for c in body[0]]
    try:
        s_col = [h.lower() for h in header].index("sample")
    except ValueError:
        msg = f"{source}, row {start}: the {block!r} block header has no 'Sample' column"
        raise SchemaError(msg) from None
    analyte_idx = [
        j
        for j, h in enumerate(header)
        if j > s_col and h and h.lower() not in {"total events", "notes", "dilution factor"}
    ]
    records = []
    for k, r in enumerate(body[1:]):
        row_no = start + 1 + k + 1
        r = _merge_location(list(r))
        r = [*r, *[""] * (len(header) - len(r))]
        loc = str(r[0]).strip()
        m = _LOCATION.match(loc)
        if m is None:
            msg = (
                f"{source}, row {row_no}: location {loc!r} is not like '1(1,A1)' "
                "(index(plate,well)); fix the row"
            )
            raise SchemaError(msg)
        sample = str(r[s_col]).strip()
        for j in analyte_idx:
            records.append(
                (loc, m.group(2), m.group(3).upper(), sample, header[j], str(r[j]).strip(), row_no)
            )
    return pd.DataFrame(
        records, columns=["location", "plate", "well", "sample_id", "analyte", "cell", "_row"]
    )


_LOC_LEFT = re.compile(r"^\s*\d+\s*\(\s*\d+\s*$")
_LOC_RIGHT = re.compile(r"^\s*[A-Za-z]+\d+\s*\)\s*$")


def _merge_location(r: list[str]) -> list[str]:
    """Re-join ``1(1`` and ``A1)``: xPONENT writes the location unquoted, comma included."""
    if len(r) > 1 and _LOC_LEFT.match(str(r[0])) and _LOC_RIGHT.match(str(r[1])):
        return [f"{r[0]},{r[1]}", *r[2:]]
    return r


def _xponent_units(blocks) -> dict[str, str]:
    for name, (_, body) in blocks.items():
        if name.lower() != "units":
            continue
        analytes = units = None
        for r in body:
            first = str(r[0]).strip().lower() if r else ""
            if first.startswith(("analyte", "alyte")):
                analytes = [str(c).strip() for c in r[1:]]
            elif first.startswith("units"):
                units = [str(c).strip() for c in r[1:]]
        if analytes and units:
            return {a: u for a, u in zip(analytes, units, strict=False) if a and u}
    return {}


# ----------------------------------------------------------------------------------- Bio-Plex

_BIOPLEX_TYPE = re.compile(r"^(?P<t>[A-Za-z]+)\s*(?P<n>\d*)$")


def parse_bioplex(path: Path, *, fmt, sheet, sep, assay, control_pattern) -> pd.DataFrame:
    """Bio-Plex Manager export: one block per analyte (``Analyte: IL-6 (pg/mL)``)."""
    del control_pattern  # the Type column says what each well is
    source = f"{path}"
    grid, _ = read_grid(path, fmt, sheet=sheet, sep=sep)
    frames = []
    plate = None
    i = 0
    while i < len(grid):
        row = grid[i]
        first = str(row[0]).strip() if row else ""
        if re.match(r"^plate( name)?\s*:", first, re.IGNORECASE):
            plate = first.split(":", 1)[1].strip() or next(
                (str(c).strip() for c in row[1:] if str(c).strip()), None
            )
        if not first.lower().startswith("analyte:"):
            i += 1
            continue
        label = first.split(":", 1)[1].strip() or next(
            (str(c).strip() for c in row[1:] if str(c).strip()), ""
        )
        analyte, unit = split_unit(label)
        j = i + 1
        while j < len(grid) and not any(str(c).strip().lower() == "type" for c in grid[j]):
            if str(grid[j][0]).strip().lower().startswith("analyte:") or j > i + 5:
                msg = f"{source}, row {i + 1}: analyte block {label!r} has no 'Type, Well, ...' header row"
                raise SchemaError(msg)
            j += 1
        if j >= len(grid):
            msg = f"{source}, row {i + 1}: analyte block {label!r} has no 'Type, Well, ...' header row"
            raise SchemaError(msg)
        header = [str(c).strip().lower() for c in grid[j]]
        need = {"type": "Type", "well": "Well", "obs conc": "Obs Conc"}
        for key, shown in need.items():
            if key not in header:
                msg = f"{source}, row {j + 1}: analyte block {label!r} header has no {shown!r} column; columns: {', '.join(grid[j])}"
                raise SchemaError(msg)
        col = {h: header.index(h) for h in header if h}
        records = []
        k = j + 1
        while k < len(grid):
            r = grid[k]
            cell0 = str(r[0]).strip() if r else ""
            if cell0.lower().startswith("analyte:") or not any(str(c).strip() for c in r):
                break
            r = [*r, *[""] * (len(header) - len(r))]
            records.append(
                {
                    "type": str(r[col["type"]]).strip(),
                    "well": str(r[col["well"]]).strip(),
                    "description": str(r[col["description"]]).strip()
                    if "description" in col
                    else "",
                    "raw": str(r[col["obs conc"]]).strip(),
                    "exp": str(r[col["exp conc"]]).strip() if "exp conc" in col else "",
                    "dilution": str(r[col["dilution"]]).strip() if "dilution" in col else "",
                    "_row": k + 1,
                }
            )
            k += 1
        block = pd.DataFrame(
            records, columns=["type", "well", "description", "raw", "exp", "dilution", "_row"]
        )
        block["analyte"] = analyte
        block["unit"] = unit
        block["plate"] = plate
        frames.append(block)
        i = k
    if not frames:
        msg = f"{source}: no 'Analyte:' blocks found; is this a Bio-Plex Manager export? pass format= another layout"
        raise SchemaError(msg)
    df = pd.concat(frames, ignore_index=True)
    parts = df["type"].str.extract(_BIOPLEX_TYPE)
    t = parts["t"].fillna("").str.upper()
    bad = (t == "").to_numpy()
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        msg = f"{source}, row {int(df['_row'].iloc[k])}: Type {df['type'].iloc[k]!r} is not S/ES/B/C/X; fix the row"
        raise SchemaError(msg)
    kind = t.map({"X": None, "S": "standard", "ES": "standard", "B": "blank", "C": "control"})
    kind = kind.where(t.isin(["X", "S", "ES", "B", "C"]), t.str.lower()).astype(object)
    kind = kind.where(t != "X", None)
    desc = df["description"].where(df["description"] != "", df["type"])
    df["sample_id"] = desc
    # limits of quantification from the standards' expected concentrations
    exp = pd.to_numeric(df["exp"].str.replace(",", "", regex=False), errors="coerce")
    std = (t.isin(["S"])) & exp.notna()
    lims = exp[std].groupby(df.loc[std, "analyte"]).agg(["min", "max"])
    df["lloq"] = df["analyte"].map(lims["min"]) if len(lims) else np.nan
    df["uloq"] = df["analyte"].map(lims["max"]) if len(lims) else np.nan
    df["dilution"] = pd.to_numeric(df["dilution"], errors="coerce")
    df = df.drop(columns=["type", "description", "exp"])
    return finish_tidy(df, assay=assay, source=source, control_type=kind.to_numpy())


# ----------------------------------------------------------------------------------------- MSD


def parse_msd(path: Path, *, fmt, sheet, sep, assay, control_pattern) -> pd.DataFrame:
    """MSD Discovery Workbench long export (title/blank lines above the header are skipped)."""
    source = f"{path}"
    grid, sep = head_grid(path, fmt, sheet=sheet, sep=sep)
    header_at = find_header(grid, [{"sample"}, {"assay"}, {"calc. concentration", "signal"}])
    if header_at is None:
        msg = f"{source}: no header row with 'Sample', 'Assay' and 'Calc. Concentration' in the first 80 lines"
        raise SchemaError(msg)
    df, rows = read_raw_table(path, format=fmt, sheet=sheet, sep=sep, skiprows=header_at)
    lower = {c.lower(): c for c in df.columns}

    def col(*names):
        for n in names:
            if n.lower() in lower:
                return df[lower[n.lower()]]
        return None

    conc = col("Calc. Concentration", "Calc. Conc.", "Calc Concentration")
    if conc is None:
        msg = f"{source}: no 'Calc. Concentration' column; columns: {', '.join(df.columns[:15])}"
        raise SchemaError(msg)
    out = pd.DataFrame(
        {
            "sample_id": col("Sample"),
            "analyte": col("Assay"),
            "raw": _raw_strings(conc),
            "_row": rows,
        }
    )
    for name, candidates in {
        "well": ("Well",),
        "plate": ("Plate Name", "Plate"),
        "lod": ("Detection Limits: Calc. Low", "LLOD"),
        "uloq": ("Detection Limits: Calc. High", "ULOD"),
        "lloq": ("LLOQ",),
        "unit": ("Concentration Unit", "Concentration Units", "Units", "Unit"),
        "dilution": ("Dilution",),
    }.items():
        c = col(*candidates)
        if c is not None:
            out[name] = c.to_numpy()
    from biomarkers.io._censor import parse_censored

    value, censor = parse_censored(
        out["raw"].to_numpy(dtype=object), source=source, column="Calc. Concentration", rows=rows
    )
    rng = col("Detection Range")
    if rng is not None:
        text = rng.fillna("").astype(str).str.lower()
        below = text.str.contains("below").to_numpy()
        above = text.str.contains("above").to_numpy()
        censor = np.where(below, _BELOW, np.where(above, _ABOVE, censor)).astype(np.int8)
    out["value"] = value
    out["censor"] = censor
    std_conc = col("Standard Concentration", "Concentration")
    stype = col("Sample Type", "Type")
    if stype is not None:
        ctype = _type_column(stype)
    else:
        ctype = control_type_from_names(
            out["sample_id"], _compile(control_pattern, _MSD_CONTROL_NAME)
        )
    if std_conc is not None:
        has_std = std_conc.fillna("").astype(str).str.strip().ne("").to_numpy()
        ctype = ctype.where(~has_std, "standard")
    return finish_tidy(
        out, assay=assay, source=source, control_type=np.asarray(ctype, dtype=object)
    )


# --------------------------------------------------------------------------------------- Olink


def _decimal_of(strings: pd.Series) -> str:
    s = strings.dropna().astype(str).head(500)
    has_comma = s.str.contains(",", regex=False).any()
    has_dot = s.str.contains(".", regex=False).any()
    return "," if has_comma and not has_dot else "."


def parse_olink(path: Path, *, fmt, sheet, sep, assay, control_pattern) -> pd.DataFrame:
    """Olink NPX long (CSV with ',' or ';', XLSX, or Parquet)."""
    from biomarkers.io._censor import parse_censored

    source = f"{path}"
    skip = 0
    if fmt != "parquet":
        grid, sep = head_grid(path, fmt, sheet=sheet, sep=sep)
        skip = find_header(grid, [{"npx"}, {"sampleid", "sample_id"}]) or 0
    df, rows = read_raw_table(path, format=fmt, sheet=sheet, sep=sep, skiprows=skip)
    df = df.rename(columns={"Sample_ID": "SampleID", "sample_id": "SampleID"})
    check_required(df, ["SampleID", "Assay", "NPX"], source=source)
    npx = df["NPX"]
    decimal = _decimal_of(npx) if npx.dtype == object else "."
    value, censor = parse_censored(
        npx.to_numpy(dtype=object) if npx.dtype == object else npx.to_numpy(),
        decimal=decimal,
        source=source,
        column="NPX",
        rows=rows,
    )
    out = pd.DataFrame(
        {
            "sample_id": df["SampleID"],
            "analyte": df["Assay"].astype(str),
            "raw": _raw_strings(npx),
            "_row": rows,
        }
    )
    if "LOD" in df.columns:
        lod_raw = df["LOD"]
        lod, _ = parse_censored(
            lod_raw.to_numpy(dtype=object) if lod_raw.dtype == object else lod_raw.to_numpy(),
            decimal=decimal,
            source=source,
            column="LOD",
            rows=rows,
        )
        below = np.isfinite(value) & np.isfinite(lod) & (value < lod)
        censor = np.where(below, _BELOW, censor).astype(np.int8)
        out["lod"] = lod
    out["value"] = value
    out["censor"] = censor
    out["unit"] = "NPX"
    if "PlateID" in df.columns:
        out["plate"] = df["PlateID"].to_numpy()
    for src, dst in (
        ("OlinkID", "olink_id"),
        ("UniProt", "uniprot"),
        ("Panel", "panel"),
        ("QC_Warning", "qc_warning"),
    ):
        if src in df.columns:
            out[dst] = df[src].to_numpy()
    if "olink_id" in out.columns:
        # an assay measured on two panels (two OlinkIDs) becomes two analytes
        n_ids = out.groupby("analyte")["olink_id"].transform("nunique")
        out["analyte"] = out["analyte"].where(
            n_ids <= 1, out["analyte"] + "_" + out["olink_id"].astype(str)
        )
    if "SampleType" in df.columns:
        ctype = _type_column(df["SampleType"])
    else:
        pattern = _compile(control_pattern, _OLINK_CONTROL)
        ctype = df["SampleID"].astype(str).map(lambda s: "control" if pattern.search(s) else None)
    return finish_tidy(
        out, assay=assay, source=source, control_type=np.asarray(ctype, dtype=object)
    )


def parse_olink_wide(path: Path, *, fmt, sheet, sep, assay, control_pattern) -> pd.DataFrame:
    """Olink Target 96 wide layout: Panel/Assay/Uniprot ID/OlinkID rows, samples, LOD footer."""
    from biomarkers.io._censor import parse_censored

    source = f"{path}"
    grid, _ = read_grid(path, fmt, sheet=sheet, sep=sep)
    first = [str(r[0]).strip().lower() if r else "" for r in grid]
    if "assay" not in first:
        msg = f"{source}: no 'Assay' row; is this an Olink wide (Target 96) file? pass format= another layout"
        raise SchemaError(msg)
    a_row = first.index("assay")
    header = [str(c).strip() for c in grid[a_row]]
    meta_rows = {}
    for label in ("panel", "uniprot id", "olinkid"):
        if label in first[: a_row + 4]:
            meta_rows[label] = grid[first.index(label)]
    last_meta = max([a_row, *(first.index(k) for k in meta_rows)])
    assay_cols = [
        j
        for j, h in enumerate(header)
        if j > 0 and h and h.lower() not in {"plate id", "qc warning"}
    ]
    plate_cols = [j for j, h in enumerate(header) if h.lower() == "plate id"]
    qc_cols = [j for j, h in enumerate(header) if h.lower() == "qc warning"]
    panel_row = meta_rows.get("panel")
    panels = list(dict.fromkeys(str(panel_row[j]).strip() for j in assay_cols)) if panel_row else []
    samples, lod_row = [], None
    for k in range(last_meta + 1, len(grid)):
        r = grid[k]
        if not any(str(c).strip() for c in r):
            if samples:
                # a blank line after the samples separates the footer
                continue
            continue
        label = str(r[0]).strip()
        if label.lower() == "lod":
            lod_row = r
            continue
        if label.lower().startswith(("missing data freq", "normalization", "normalisation")):
            continue
        samples.append((k + 1, r))
    if not samples:
        msg = f"{source}: no sample rows below the Assay/OlinkID header"
        raise SchemaError(msg)
    width = len(header)
    records_raw, records_sample, records_row, records_j = [], [], [], []
    plates = []
    for row_no, r in samples:
        r = [*r, *[""] * (width - len(r))]
        for j in assay_cols:
            records_raw.append(str(r[j]).strip())
            records_sample.append(str(r[0]).strip())
            records_row.append(row_no)
            records_j.append(j)
        plates.append([str(r[j]).strip() for j in plate_cols])
    raw = pd.Series(records_raw, dtype=object)
    decimal = _decimal_of(raw)
    value, censor = parse_censored(
        raw.to_numpy(dtype=object),
        decimal=decimal,
        source=source,
        column="NPX",
        rows=np.asarray(records_row),
    )
    j_arr = np.asarray(records_j)
    out = pd.DataFrame(
        {
            "sample_id": records_sample,
            "analyte": [header[j] for j in records_j],
            "raw": raw,
            "value": value,
            "_row": records_row,
            "unit": "NPX",
        }
    )
    if "olinkid" in meta_rows:
        out["olink_id"] = [str(meta_rows["olinkid"][j]).strip() for j in records_j]
    if panel_row:
        panel_of = np.array([str(panel_row[j]).strip() for j in records_j], dtype=object)
        out["panel"] = panel_of
        if plate_cols:
            # the k-th 'Plate ID' column belongs to the k-th panel
            idx = np.array([panels.index(p) if p in panels else 0 for p in panel_of])
            idx = np.minimum(idx, len(plate_cols) - 1)
            sample_idx = np.repeat(np.arange(len(samples)), len(assay_cols))
            plate_arr = np.array(plates, dtype=object)
            out["plate"] = plate_arr[sample_idx, idx]
        if qc_cols:
            qc = np.array(
                [[str((rr + [""] * width)[j]).strip() for j in qc_cols] for _, rr in samples],
                dtype=object,
            )
            idx = np.minimum(
                np.array([panels.index(p) if p in panels else 0 for p in panel_of]),
                len(qc_cols) - 1,
            )
            out["qc_warning"] = qc[np.repeat(np.arange(len(samples)), len(assay_cols)), idx]
    if lod_row is not None:
        lod_row = [*lod_row, *[""] * (width - len(lod_row))]
        lod_vals, _ = parse_censored(
            [str(lod_row[j]).strip() for j in assay_cols],
            decimal=decimal,
            source=source,
            column="LOD",
        )
        lod_map = dict(zip(assay_cols, lod_vals, strict=True))
        lod = np.array([lod_map[j] for j in j_arr])
        out["lod"] = lod
        below = np.isfinite(value) & np.isfinite(lod) & (value < lod)
        censor = np.where(below, _BELOW, censor).astype(np.int8)
    out["censor"] = censor
    n_ids = (
        out.groupby("analyte")["olink_id"].transform("nunique")
        if "olink_id" in out.columns
        else None
    )
    if n_ids is not None:
        out["analyte"] = out["analyte"].where(
            n_ids <= 1, out["analyte"] + "_" + out["olink_id"].astype(str)
        )
    pattern = _compile(control_pattern, _OLINK_CONTROL)
    ctype = out["sample_id"].map(lambda s: "control" if pattern.search(s) else None)
    return finish_tidy(out, assay=assay, source=source, control_type=ctype.to_numpy(dtype=object))


PARSERS = {
    "long": parse_long,
    "wide": parse_wide,
    "xponent": parse_xponent,
    "bioplex": parse_bioplex,
    "msd": parse_msd,
    "olink": parse_olink,
    "olink_wide": parse_olink_wide,
}


def container_format(path: Path, fmt: str | None) -> str:
    """CSV/TSV/XLSX/Parquet by extension (vendor CSVs may have odd extensions: fall back to csv)."""
    try:
        return file_format(path, fmt)
    except InputFileError:
        return "csv"


def mapping_or_none(columns: Mapping[str, str] | None) -> dict[str, str] | None:
    """Copy a user mapping (or None)."""
    return dict(columns) if columns else None
