"""Private: bound an XLSX workbook before openpyxl parses it (size, ratio, cell length, formulas).

An XLSX file is a zip of XML parts. A few hundred kilobytes can expand to gigabytes (a
decompression bomb), one shared string can hold hundreds of megabytes, and a formula cell saved
without its cached value reads as empty. Every check here streams the zip members and stops at
the first problem, so a hostile file is refused in well under a second.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

from biomarkers.exceptions import InputFileError, SchemaError, one_line

__all__: list[str] = []

#: Default bound on the decompressed size of a workbook (bytes); ``BIOMARKERS_XLSX_MAX_MB``
#: overrides it.
XLSX_MAX_BYTES = 200 * 2**20
#: A member expanding more than this many times over (and to more than 10 MB) is a bomb.
MAX_RATIO = 100
#: Longest run of text between two XML tags (bytes); Excel itself caps a cell at 32,767 characters.
MAX_CELL_BYTES = 2**20
_CHUNK = 2**20
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_TEXT_PARTS = re.compile(r"xl/(sharedStrings\.xml|worksheets/[^/]+\.xml)$")


def max_bytes() -> int:
    """The decompressed-size bound in bytes (``BIOMARKERS_XLSX_MAX_MB`` or 200 MB)."""
    raw = os.environ.get("BIOMARKERS_XLSX_MAX_MB")
    if raw is None:
        return XLSX_MAX_BYTES
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        msg = f"BIOMARKERS_XLSX_MAX_MB={one_line(raw)!r} must be a positive number of megabytes"
        raise InputFileError(msg)
    return int(value * 2**20)


def check_xlsx(path: Path) -> None:
    """Refuse a workbook that is a bomb, holds a huge cell or a formula without a cached value."""
    limit = max_bytes()
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_declared(path, infos, limit)
            _check_streams(path, zf, infos, limit)
            _check_formulas(path, zf)
    except zipfile.BadZipFile as err:
        msg = f"{path}: not an Excel workbook (.xlsx is a zip archive: {one_line(err)}); re-save it from Excel"
        raise InputFileError(msg) from None


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB"


def _check_declared(path: Path, infos: list[zipfile.ZipInfo], limit: int) -> None:
    total = sum(i.file_size for i in infos)
    if total > limit:
        msg = (
            f"{path}: the workbook declares {_mb(total)} of uncompressed content, more than the "
            f"{_mb(limit)} limit; split it, save it as CSV, or raise BIOMARKERS_XLSX_MAX_MB"
        )
        raise InputFileError(msg)
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > MAX_RATIO and info.file_size > 10 * 2**20:
            msg = (
                f"{path}: part {info.filename!r} expands {ratio:.0f}-fold to {_mb(info.file_size)} "
                "(a decompression bomb?); refusing to open it; save the data as CSV"
            )
            raise InputFileError(msg)


def _chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def _check_streams(
    path: Path, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limit: int
) -> None:
    """Count the bytes really decompressed (declared sizes can lie) and the longest text run."""
    total = 0
    for info in infos:
        check_text = bool(_TEXT_PARTS.search(info.filename))
        head, run_len = b"", 0
        for chunk in _chunks(zf, info):
            total += len(chunk)
            if total > limit:
                msg = (
                    f"{path}: the workbook decompresses to more than the {_mb(limit)} limit "
                    "(its zip header understates it); save the data as CSV"
                )
                raise InputFileError(msg)
            if check_text:
                head, run_len = _text_run(path, chunk, head, run_len)


def _text_run(path: Path, chunk: bytes, head: bytes, run_len: int) -> tuple[bytes, int]:
    """Carry the run of bytes since the last ``<`` across chunks; refuse one over the limit.

    Returns the first bytes of the open run (for the message) and its length so far.
    """
    pieces = chunk.split(b"<")
    if len(pieces) == 1:
        head, run_len = (head + chunk)[:200], run_len + len(chunk)
    else:
        if run_len + len(pieces[0]) > MAX_CELL_BYTES:
            _refuse_cell(path, (head + pieces[0])[:200])
        for piece in pieces[1:-1]:
            if len(piece) > MAX_CELL_BYTES:
                _refuse_cell(path, piece[:200])
        head, run_len = pieces[-1][:200], len(pieces[-1])
    if run_len > MAX_CELL_BYTES:
        _refuse_cell(path, head)
    return head, run_len


def _refuse_cell(path: Path, start: bytes) -> None:
    text = start[start.find(b">") + 1 :].decode("utf-8", errors="ignore")  # cut mid-character
    msg = (
        f"{path}: a cell holds more than {MAX_CELL_BYTES // 1024} KB of text (starts "
        f"{one_line(text, 40)!r}); Excel cells hold at most 32,767 characters: the file is "
        "damaged or not a data table"
    )
    raise SchemaError(msg)


def _sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """``{worksheet part: sheet name}`` from the workbook's relationships (best effort)."""
    try:
        book = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return {}
    target = {r.get("Id"): r.get("Target", "") for r in rels}
    out = {}
    for sheet in book.iter(f"{_NS}sheet"):
        part = target.get(sheet.get(f"{_REL_NS}id"), "").lstrip("/")
        out[part if part.startswith("xl/") else f"xl/{part}"] = sheet.get("name", "")
    return out


def _check_formulas(path: Path, zf: zipfile.ZipFile) -> None:
    """Refuse a formula cell saved without its cached value (it would read as empty)."""
    names = _sheet_names(zf)
    for info in zf.infolist():
        if not re.fullmatch(r"xl/worksheets/[^/]+\.xml", info.filename):
            continue
        with zf.open(info) as fh:
            try:
                for _, elem in ET.iterparse(fh, events=("end",)):
                    if elem.tag != f"{_NS}c":
                        continue
                    formula, value = elem.find(f"{_NS}f"), elem.find(f"{_NS}v")
                    if formula is not None and (value is None or not (value.text or "")):
                        _refuse_formula(
                            path, names.get(info.filename, info.filename), elem, formula
                        )
                    elem.clear()
            except ET.ParseError as err:
                msg = f"{path}: worksheet {info.filename!r} is not valid XML ({one_line(err)}); re-save it from Excel"
                raise InputFileError(msg) from None


def _refuse_formula(path: Path, sheet: str, cell: ET.Element, formula: ET.Element) -> None:
    msg = (
        f"{path}, sheet {one_line(sheet, 40)!r}, cell {cell.get('r', '?')}: formula "
        f"={one_line(formula.text or '', 60)} has no saved value (it would read as empty); open "
        "the file in Excel and save it again, or paste the values as numbers"
    )
    raise SchemaError(msg)
