"""Private helpers: open a table file of any supported format and check it (used by all readers)."""

from __future__ import annotations

import csv
import io
import os
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from biomarkers._atomic import register_input
from biomarkers._validation import check_choice, check_columns, did_you_mean, format_ids
from biomarkers.exceptions import InputFileError, SchemaError, one_line
from biomarkers.io._identifiers import check_identifiers
from biomarkers.io._numeric_columns import check_finite, to_float

__all__: list[str] = []

FORMATS = ("csv", "tsv", "xlsx", "parquet")
_EXT = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_DELIMS = (",", ";", "\t", "|")
_DELIM_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
NA_STRINGS = frozenset({"", "na", "nan", "n/a", "null", "none", "#n/a", "."})


def check_file(path: str | os.PathLike) -> Path:
    """Return ``path`` as a Path; raise InputFileError when it is missing, a folder or empty."""
    path = Path(path)
    if not path.exists():
        msg = f"{path}: file not found; check the path (relative paths start at {Path.cwd()})"
        raise InputFileError(msg)
    if path.is_dir():
        msg = f"{path}: is a folder, expected a file"
        raise InputFileError(msg)
    if path.stat().st_size == 0:
        msg = f"{path}: file is empty (0 bytes); re-export it from the source system"
        raise InputFileError(msg)
    register_input(path)
    return path


def file_format(path: Path, fmt: str | None) -> str:
    """Decide the container format from ``fmt`` or the file extension (``.gz`` allowed)."""
    if fmt is not None:
        fmt = fmt.lower().lstrip(".")
        check_choice("format", fmt, FORMATS)
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in {".gz", ".bz2", ".zip", ".xz"}:
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext not in _EXT:
        msg = (
            f"{path}: cannot tell the format from the extension {ext or '(none)'!r}; "
            f"rename the file or pass format= one of {', '.join(FORMATS)}"
        )
        raise InputFileError(msg)
    return _EXT[ext]


def _opener(path: Path):
    import bz2
    import gzip
    import lzma

    return {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(path.suffix.lower(), open)


def _open_text(path: Path):
    """Open as UTF-8 text (a BOM is dropped); undecodable bytes raise, never become U+FFFD."""
    opener = _opener(path)
    mode = "r" if opener is open else "rt"
    return opener(path, mode, encoding="utf-8-sig", errors="strict", newline="")


#: Leading bytes of files that are not text at all
_MAGIC = {
    b"\x1f\x8b": "gzip-compressed (name it .csv.gz)",
    b"PK\x03\x04": "a zip archive (an .xlsx workbook? name it .xlsx)",
    b"\xff\xfe": "UTF-16 text (as Excel's 'Unicode text' saves it)",
    b"\xfe\xff": "UTF-16 text",
    b"\x80": "binary (a Python pickle?)",
}


def not_utf8_error(path: Path) -> InputFileError:
    """The error for a file that is not UTF-8: the line, the byte, what it would be in cp1252."""
    with _opener(path)(path, "rb") as fh:
        start = fh.read(4)
        kind = next((v for k, v in _MAGIC.items() if start.startswith(k)), None)
        if kind is not None:
            msg = f"{path}: not UTF-8 text: the file looks {kind}; export it as UTF-8 CSV"
            return InputFileError(msg)
        fh.seek(0)
        for line_no, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as err:
                byte = line[err.start : err.start + 1]
                latin = line.decode("cp1252", errors="replace").rstrip("\r\n")
                msg = (
                    f"{path}, line {line_no}: not UTF-8 text (byte 0x{byte.hex()}; in the "
                    f"cp1252/Latin-1 encoding the line reads {one_line(latin, 80)!r}); re-save "
                    "the file as UTF-8 (Excel: 'CSV UTF-8'; iconv -f cp1252 -t utf-8)"
                )
                return InputFileError(msg)
    return InputFileError(f"{path}: not UTF-8 text; re-save the file as UTF-8")


def read_head_lines(path: Path, n: int = 60) -> list[str]:
    """Return the first ``n`` text lines of a (possibly compressed) UTF-8 text file."""
    lines: list[str] = []
    try:
        with _open_text(path) as fh:
            for line in fh:
                lines.append(line.rstrip("\r\n"))
                if len(lines) >= n:
                    break
    except UnicodeDecodeError:
        raise not_utf8_error(path) from None
    except OSError as err:
        msg = f"{path}: cannot read the file as text ({err}); is it really a CSV/TSV?"
        raise InputFileError(msg) from err
    return lines


def check_header(path: Path, header: Iterable[object], *, where: str = "the header") -> None:
    """Refuse a header with the same column name twice (a parser would rename one to ``x.1``)."""
    names = [str(c).strip() for c in header]
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen and name:
            first = names.index(name)
            msg = (
                f"{path}: column {one_line(name, 60)!r} appears twice in {where} (columns "
                f"{first + 1} and {i + 1}); rename or drop one of them"
            )
            raise SchemaError(msg)
        seen.add(name)


def to_nfc(text: str) -> str:
    """The NFC form of ``text`` (IDs typed on different systems match after this)."""
    return unicodedata.normalize("NFC", text)


def sniff_delimiter(lines: Iterable[str]) -> str:
    """Guess the delimiter: the one that splits the most non-empty lines into the most fields."""
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", -1.0
    for delim in _DELIMS:
        counts = [len(next(csv.reader([ln], delimiter=delim))) for ln in lines[:60]]
        # a real delimiter splits many lines into many fields
        score = float(np.median(counts)) + 0.01 * sum(c > 1 for c in counts)
        if score > best_score + 1e-9:
            best, best_score = delim, score
    return best


def check_delimiter(path: Path, header: list[str], sep: str) -> None:
    """Refuse a one-column parse whose header clearly holds another delimiter."""
    if len(header) != 1:
        return
    for delim in _DELIMS:
        if delim != sep and delim in str(header[0]):
            msg = (
                f"{path}: read with delimiter {_DELIM_NAMES.get(sep, repr(sep))} the file has only "
                f"one column ({str(header[0])[:60]!r}); it looks "
                f"{_DELIM_NAMES[delim]}-delimited: pass sep={delim!r} (or leave sep=None to detect it)"
            )
            raise SchemaError(msg)


def excel_sheet(path: Path, sheet: str | int | None) -> str | int:
    """Return a valid sheet name/index, or raise listing the sheets of the workbook.

    The workbook is bounded first (size, expansion ratio, cell length, formulas without values).
    """
    from biomarkers.io._xlsx import check_xlsx

    check_xlsx(path)
    try:
        with pd.ExcelFile(path, engine="openpyxl") as xls:
            sheets = list(xls.sheet_names)
    except Exception as err:
        msg = f"{path}: cannot open as an Excel workbook ({type(err).__name__}: {err})"
        raise InputFileError(msg) from err
    if sheet is None:
        return 0
    if isinstance(sheet, int):
        if not 0 <= sheet < len(sheets):
            msg = f"{path}: sheet index {sheet} does not exist; sheets: {', '.join(map(repr, sheets))}"
            raise SchemaError(msg)
        return sheet
    if sheet not in sheets:
        msg = (
            f"{path}: sheet {sheet!r} not found{did_you_mean(sheet, sheets)}; "
            f"sheets: {', '.join(map(repr, sheets))}; pass sheet= one of them"
        )
        raise SchemaError(msg)
    return sheet


def read_grid(
    path: Path, fmt: str, *, sheet: str | int | None = None, sep: str | None = None
) -> tuple[list[list[str]], str]:
    """Read a whole text or Excel file as a grid of strings (for block-structured exports)."""
    if fmt == "xlsx":
        df = pd.read_excel(
            path, sheet_name=excel_sheet(path, sheet), header=None, dtype=str, engine="openpyxl"
        )
        grid = [["" if pd.isna(v) else str(v) for v in row] for row in df.itertuples(index=False)]
        return grid, ","
    if fmt == "parquet":
        msg = f"{path}: a Parquet file has no vendor layout to parse; read it as a table"
        raise SchemaError(msg)
    lines = read_head_lines(path, n=10**9)
    with bounded_cells(path):
        if sep is None:
            sep = "\t" if fmt == "tsv" else sniff_delimiter(lines[:200])
        grid = [list(row) for row in csv.reader(lines, delimiter=sep)]
    return grid, sep


@contextmanager
def bounded_cells(path: Path) -> Iterator[None]:
    """Turn the csv module's refusal of a huge field into a one-line error naming the file."""
    try:
        yield
    except csv.Error as err:
        msg = (
            f"{path}: a cell is longer than {csv.field_size_limit():,} characters ({one_line(err, 80)}); "
            "the file is damaged or not a data table"
        )
        raise InputFileError(msg) from None


def read_raw_table(
    path: str | os.PathLike,
    *,
    format: str | None = None,
    sheet: str | int | None = None,
    sep: str | None = None,
    skiprows: int = 0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Read a table with every cell as a string (NaN for empty cells).

    Returns the frame and the 1-based row number in the file of each data row.
    """
    path = check_file(path)
    fmt = file_format(path, format)
    if fmt == "parquet":
        try:
            df = pd.read_parquet(path)
        except Exception as err:
            msg = f"{path}: cannot read as Parquet ({type(err).__name__}: {err})"
            raise InputFileError(msg) from err
        if len(df.columns) == 0:
            msg = f"{path}: Parquet file has no columns; re-export it"
            raise InputFileError(msg)
        check_header(path, df.columns)
        df.columns = [str(c).strip() for c in df.columns]
        return df.reset_index(drop=True), np.arange(len(df)) + 2
    if fmt == "xlsx":
        df = _read_xlsx(path, sheet=sheet, skiprows=skiprows)
        rows = np.arange(len(df)) + 2 + skiprows
    else:
        head = read_head_lines(path, n=skiprows + 50)
        if not any(ln.strip() for ln in head):
            msg = f"{path}: file has no content (only blank lines); re-export it"
            raise InputFileError(msg)
        explicit = sep is not None
        with bounded_cells(path):
            if sep is None:
                sep = "\t" if fmt == "tsv" else sniff_delimiter(head[skiprows:])
            _check_field_counts(path, sep, head, skiprows)
            if len(head) > skiprows:
                check_header(path, next(csv.reader([head[skiprows]], delimiter=sep), []))
        try:
            df = pd.read_csv(
                path,
                sep=sep,
                dtype=str,
                keep_default_na=False,
                skiprows=skiprows,
                skip_blank_lines=False,
                encoding="utf-8-sig",
                index_col=False,  # never turn a surplus field into an index (columns would shift)
            )
        except pd.errors.EmptyDataError as err:
            msg = f"{path}: file has no header row; re-export it with column names"
            raise InputFileError(msg) from err
        except UnicodeDecodeError:
            raise not_utf8_error(path) from None
        except pd.errors.ParserError as err:
            reason = " ".join(str(err).split())  # pandas' text spans lines
            msg = f"{path}: cannot parse as delimited text ({type(err).__name__}: {reason}); check sep= and the encoding"
            raise InputFileError(msg) from err
        if explicit:
            check_delimiter(path, list(df.columns), sep)
        rows = np.arange(len(df)) + 2 + skiprows
        df = df.mask(df == "")
    df.columns = [str(c).strip() for c in df.columns]
    # drop fully blank rows (trailing empty lines, spacer rows) but keep row numbers right
    keep = df.notna().any(axis=1).to_numpy()
    df = df.loc[keep].reset_index(drop=True)
    rows = rows[keep]
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = clean_strings(df[col], empty_to_none=False)
    if len(df.columns) == 0:
        msg = f"{path}: file has no columns; re-export it"
        raise InputFileError(msg)
    return df, rows


def _read_xlsx(path: Path, *, sheet: str | int | None, skiprows: int) -> pd.DataFrame:
    """One sheet as strings, the header checked as written (pandas would rename duplicates)."""
    sheet_name = excel_sheet(path, sheet)
    grid = pd.read_excel(
        path, sheet_name=sheet_name, dtype=str, engine="openpyxl", skiprows=skiprows, header=None
    )
    if grid.empty:
        return pd.DataFrame()
    header = ["" if pd.isna(v) else str(v) for v in grid.iloc[0]]
    check_header(path, header, where=f"the header of sheet {sheet_name!r}")
    df = grid.iloc[1:].reset_index(drop=True)
    df.columns = [h if h else f"Unnamed: {i}" for i, h in enumerate(header)]
    return df


def _fields(line: str, sep: str) -> int:
    return len(next(csv.reader([line], delimiter=sep), []))


def _last_line(path: Path) -> tuple[str, int]:
    """The last non-blank line of a text file and its 1-based line number."""
    last, last_no = "", 0
    try:
        with _open_text(path) as fh:
            for line_no, line in enumerate(fh, start=1):  # streamed, never loaded whole
                if line.strip():
                    last, last_no = line, line_no
    except (OSError, UnicodeDecodeError):
        return "", 0  # the parser itself reports unreadable files
    return last.rstrip("\r\n"), last_no


def _check_field_counts(path: Path, sep: str, head: list[str], skiprows: int) -> None:
    """Refuse rows with more or fewer fields than the header at the start and end of a file.

    A surplus field in the first data row makes a parser shift every column; a short last row is
    the signature of a truncated file (a cut-off age 46 would silently read as 4).
    """
    lines = [(i + 1, ln) for i, ln in enumerate(head) if i >= skiprows and ln.strip()]
    if len(lines) < 2 or any("\x00" in ln or "\ufffd" in ln for _, ln in lines):
        return  # not clean UTF-8 text: the parser reports the encoding, which is the real problem
    n_header = _fields(lines[0][1], sep)
    for line_no, line in lines[1:]:
        n = _fields(line, sep)
        if n > n_header:
            msg = (
                f"{path}, line {line_no}: {n} fields but the header has {n_header}; "
                "an unquoted delimiter inside a value? quote it or remove the extra field"
            )
            raise InputFileError(msg)
        if n < n_header and line_no != lines[-1][0]:
            other = next((d for d in _DELIMS if d != sep and _fields(line, d) == n_header), None)
            hint = (
                f"it is {other!r}-delimited while the file uses {sep!r}: mixed delimiters"
                if other
                else "a line break inside a value? quote it"
            )
            msg = f"{path}, line {line_no}: {n} fields but the header has {n_header}; {hint}"
            raise InputFileError(msg)
    last, last_no = _last_line(path)
    n_last = _fields(last, sep)
    if last_no > lines[0][0] and n_last < n_header:
        msg = (
            f"{path}, line {last_no}: {n_last} fields but the header has {n_header}; "
            "the file looks truncated (cut inside its last row): export it again"
        )
        raise InputFileError(msg)


def clean_strings(s: pd.Series, *, empty_to_none: bool = True) -> pd.Series:
    """Strip strings and turn other cells into strings, working on unique values (fast).

    Missing cells (and empty strings when ``empty_to_none``) become None.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    cleaned = np.array(
        [(_cell_to_str(u) or "").strip() if not isinstance(u, str) else u.strip() for u in uniques]
        + [None],
        dtype=object,
    )
    if empty_to_none:
        cleaned[:-1][cleaned[:-1] == ""] = None
    return pd.Series(cleaned[codes], index=s.index, dtype=object)


def _cell_to_str(v):
    if v is None:
        return None
    if isinstance(v, float):
        if np.isnan(v):
            return None
        return str(int(v)) if v.is_integer() else repr(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def rename_columns(
    df: pd.DataFrame, columns: Mapping[str, str] | None, *, source: str
) -> pd.DataFrame:
    """Apply a ``{file column: standard name}`` mapping; keys absent from the file are ignored."""
    if not columns:
        return df
    mapping = {k: v for k, v in columns.items() if k in df.columns}
    targets = list(mapping.values())
    dup = sorted({t for t in targets if targets.count(t) > 1})
    if dup:
        msg = f"{source}: columns= maps several columns onto {dup[0]!r}; map exactly one"
        raise SchemaError(msg)
    clash = [v for k, v in mapping.items() if v in df.columns and v not in mapping]
    if clash:
        msg = (
            f"{source}: columns= maps a column onto {clash[0]!r} but the file already has a "
            f"column {clash[0]!r}; rename or drop one of them"
        )
        raise SchemaError(msg)
    return df.rename(columns=mapping)


def ids_to_str(df: pd.DataFrame, cols: Iterable[str], *, source: str, rows: np.ndarray) -> None:
    """Make ID columns strings in place; refuse empty IDs naming the row."""
    for col in cols:
        if col not in df.columns:
            continue
        s = df[col]
        empty = s.isna().to_numpy() | (s.astype(str).str.strip() == "").to_numpy()
        if empty.any():
            bad = rows[np.flatnonzero(empty)]
            msg = (
                f"{source}: column {col!r} is empty at row(s) {format_ids(bad.tolist())}; "
                "every row needs an ID"
            )
            raise SchemaError(msg)
        df[col] = s.map(lambda v: to_nfc(_cell_to_str(v))).astype(object)


def check_unique(df: pd.DataFrame, keys: list[str], *, source: str, rows: np.ndarray) -> None:
    """Refuse duplicate keys, listing the first duplicated IDs with their rows and the count."""
    dup = df.duplicated(keys, keep=False).to_numpy()
    if not dup.any():
        return
    sub = (
        df.loc[dup, keys].astype(str).agg(" × ".join, axis=1)
        if len(keys) > 1
        else df.loc[dup, keys[0]].astype(str)
    )
    groups: dict[str, list[int]] = {}
    for key, row in zip(sub.to_numpy(), rows[dup], strict=True):
        groups.setdefault(key, []).append(int(row))
    shown = "; ".join(
        f"{one_line(k, 60)!r} (rows {', '.join(map(str, v[:5]))})"
        for k, v in list(groups.items())[:5]
    )
    more = f"; … ({len(groups)} duplicated in all)" if len(groups) > 5 else ""
    what = " × ".join(keys)
    msg = f"{source}: duplicate {what}: {shown}{more}; each {what} must appear once"
    raise SchemaError(msg)


def to_numeric_columns(
    df: pd.DataFrame,
    required_numeric: Iterable[str],
    *,
    source: str,
    rows: np.ndarray,
    skip: Iterable[str] = (),
) -> None:
    """Convert columns to numbers in place.

    Columns in ``required_numeric`` must be numeric (the first non-number is named with its row);
    any other column is converted when all its non-empty values are numbers.
    """
    required_numeric = set(required_numeric)
    skip = set(skip)
    for col in df.columns:
        if col in skip:
            continue
        s = df[col]
        if s.dtype.kind in "fiub":
            check_finite(s.to_numpy(dtype=np.float64), source=source, column=col, rows=rows)
            continue
        na = s.isna() | s.astype(str).str.strip().str.lower().isin(NA_STRINGS)
        num = to_float(s.where(~na))
        bad = num.isna() & ~na
        check_finite(num.to_numpy(dtype=np.float64), raw=s, source=source, column=col, rows=rows)
        if not bad.any():
            if (~na).any() or col in required_numeric:
                num = num.astype(np.float64)
                if (num.dropna() % 1 == 0).all() and num.notna().all():
                    num = num.astype(np.int64)
                df[col] = num
            continue
        if col in required_numeric:
            i = int(np.flatnonzero(bad.to_numpy())[0])
            msg = (
                f"{source}, row {int(rows[i])}, column {col!r}: value {one_line(s.iloc[i])!r} is not a number "
                f"({int(bad.sum())} such values in all); correct it or leave the cell empty"
            )
            raise SchemaError(msg)


def check_visits(
    df: pd.DataFrame,
    visits: Mapping[str, float],
    *,
    source: str,
    rows: np.ndarray,
    col: str = "visit",
) -> None:
    """Refuse visit labels that are not in the visit schedule, naming the first rows."""
    empty = df[col].isna().to_numpy()
    if empty.any():
        msg = (
            f"{source}: column {col!r} is empty at row(s) {format_ids(rows[empty].tolist())}; "
            f"every row needs a visit (one of {', '.join(visits)})"
        )
        raise SchemaError(msg)
    df[col] = df[col].astype(str).str.strip().map(to_nfc)
    known = set(visits)
    bad = ~df[col].isin(known).to_numpy()
    if bad.any():
        labels = list(dict.fromkeys(df.loc[bad, col]))
        first = one_line(labels[0], 60)
        msg = (
            f"{source}, row {int(rows[np.flatnonzero(bad)[0]])}: visit {first!r} is not in the "
            f"visit schedule{did_you_mean(first, known)} (unknown: {format_ids(labels)}); known "
            f"visits: {', '.join(visits)}; fix the label or add it to visits="
        )
        raise SchemaError(msg)


def check_required(df: pd.DataFrame, required: Iterable[str], *, source: str) -> None:
    """Raise SchemaError for a missing required column (delegates to the shared helper)."""
    if len(df.columns) == 1 and any(d in str(df.columns[0]) for d in _DELIMS):
        delim = next(d for d in _DELIMS if d in str(df.columns[0]))
        msg = (
            f"{source}: the file was read as a single column ({str(df.columns[0])[:60]!r}); it "
            f"looks {_DELIM_NAMES[delim]}-delimited: pass sep={delim!r}"
        )
        raise SchemaError(msg)
    check_columns(
        df, required, source=source, hint="map it with columns={'<file column>': '<name>'}"
    )


def text_io(lines: list[str]) -> io.StringIO:
    """Join lines into a text buffer for pandas."""
    return io.StringIO("\n".join(lines))


def read_checked_table(
    path: str | os.PathLike,
    *,
    kind: str,
    required: list[str],
    keys: list[str],
    id_columns: list[str],
    numeric: Iterable[str] = (),
    columns: Mapping[str, str] | None = None,
    format: str | None = None,
    sheet: str | int | None = None,
    sep: str | None = None,
    allow_identifiers: bool = True,
    visits: Mapping[str, float] | None = None,
    text: Iterable[str] = (),
) -> tuple[pd.DataFrame, np.ndarray]:
    """Read, rename, check (identifiers, required columns, IDs, numbers, visits, duplicates)."""
    df, rows = read_raw_table(path, format=format, sheet=sheet, sep=sep)
    source = f"{kind} file {Path(path)}"
    check_identifiers(df, source=source, allow=allow_identifiers)
    df = rename_columns(df, columns, source=source)
    check_identifiers(df, source=source, allow=allow_identifiers)
    check_required(df, required, source=source)
    if len(df) == 0:
        msg = f"{source}: has a header but no data rows; re-export it"
        raise InputFileError(msg)
    ids_to_str(df, id_columns, source=source, rows=rows)
    if visits is not None and "visit" in df.columns:
        check_visits(df, visits, source=source, rows=rows)
    to_numeric_columns(
        df,
        [c for c in numeric if c in df.columns],
        source=source,
        rows=rows,
        skip=[*id_columns, "visit", *text],
    )
    for col in text:
        if col in df.columns:
            df[col] = clean_strings(df[col])
    check_unique(df, keys, source=source, rows=rows)
    return df, rows
