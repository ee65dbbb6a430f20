"""Parse instrument values that may be numbers or censoring tokens (``<3.2``, ``OOR >``, ``*12.3``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._validation import check_choice
from biomarkers.exceptions import SchemaError, one_line
from biomarkers.io._constants import CENSOR_CODES
from biomarkers.io._numeric_columns import cell_location, check_finite

__all__ = ["parse_censored"]

_OK, _BELOW, _ABOVE, _EXTRA, _MISSING = (CENSOR_CODES[k] for k in CENSOR_CODES)

# tokens compared after lower-casing and removing all whitespace
_MISSING_TOKENS = frozenset(
    {
        "",
        "nan",
        "na",
        "n/a",
        "#n/a",
        "null",
        "none",
        "missing",
        "-",
        "--",
        "---",  # Bio-Plex: well marked as outlier by the investigator
        "***",  # Bio-Plex: value unavailable / flagged
        "outofrange",  # no direction given: we cannot tell below from above
        "oor",
        "qns",
        "invalid",
    }
)
_BELOW_TOKENS = frozenset(
    {
        "oor<",
        "<oor",
        "<lloq",
        "<lod",
        "<llod",
        "<lloq*",
        "<dl",
        "<lld",
        "<ll",
        "belowlloq",
        "belowlod",
        "blq",
        "bql",
        "bdl",
        "belowdetectionrange",
        "belowfitcurverange",
        "belowdetectionlimit",
        "notdetected",
        "<",
        "<<",
    }
)
_ABOVE_TOKENS = frozenset(
    {
        "oor>",
        ">oor",
        ">uloq",
        ">ulod",
        ">uloq*",
        ">ul",
        "aboveuloq",
        "abovedetectionrange",
        "abovefitcurverange",
        "abovedetectionlimit",
        "aql",
        ">",
        ">>",
    }
)
_PREFIXES = (
    ("<<", _BELOW),
    ("<=", _BELOW),
    ("≤", _BELOW),
    ("<", _BELOW),
    (">>", _ABOVE),
    (">=", _ABOVE),
    ("≥", _ABOVE),
    (">", _ABOVE),
    ("*", _EXTRA),
)
_NUM_DOT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?")
_THOUSANDS_DOT = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_NUM_COMMA = re.compile(r"[+-]?(?:\d+(?:,\d*)?|,\d+)(?:e[+-]?\d+)?")
_THOUSANDS_COMMA = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d*)?")
_WS = re.compile(r"\s+")

_EXAMPLES = "'3.2', '<3.2', '>10000', 'OOR <', 'OOR >', '*12.3', '***', '---', 'NaN' or empty"


def _to_number(text: str, decimal: str) -> float | None:
    """Return the float written in ``text`` (no whitespace, lower case) or ``None``."""
    if decimal == ".":
        if _NUM_DOT.fullmatch(text):
            return float(text)
        if _THOUSANDS_DOT.fullmatch(text):
            return float(text.replace(",", ""))
        return None
    if _NUM_COMMA.fullmatch(text):
        return float(text.replace(",", "."))
    if _THOUSANDS_COMMA.fullmatch(text):
        return float(text.replace(".", "").replace(",", "."))
    return None


def _parse_one(raw: str, decimal: str) -> tuple[float, int] | None:
    text = _WS.sub("", raw).lower()
    if text in _MISSING_TOKENS:
        return np.nan, _MISSING
    if text in _BELOW_TOKENS:
        return np.nan, _BELOW
    if text in _ABOVE_TOKENS:
        return np.nan, _ABOVE
    number = _to_number(text, decimal)
    if number is not None:
        return number, _OK
    for prefix, code in _PREFIXES:
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            number = _to_number(rest, decimal)
            if number is not None:
                return number, code
            if code == _EXTRA:
                # "*OOR <" style: extrapolation flag on a censoring token
                inner = _parse_one(rest, decimal)
                if inner is not None and inner[1] in (_BELOW, _ABOVE):
                    return inner
            break
    return None


def parse_censored(
    values: Sequence[Any] | np.ndarray | pd.Series,
    *,
    decimal: str = ".",
    source: str | None = None,
    column: str | None = None,
    rows: Sequence[int] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Parse numbers and censored instrument strings into values and censoring codes.

    Understood (case-insensitive, whitespace-tolerant): plain numbers (``3.2``, ``-1e3``,
    ``10,000.5`` with ``,`` as thousands separator); ``<3.2``, ``< 3.20``, ``<<3.2``, ``<=3.2``
    (below, the number kept); ``>10000`` (above, number kept); ``*12.3`` (extrapolated beyond the
    standard curve, number kept); ``OOR <``, ``<LLOQ``, ``<LOD``, ``Below Fit Curve Range``
    (below, no number); ``OOR >``, ``>ULOQ``, ``Above Detection Range`` (above, no number);
    ``***``, ``---``, ``NaN``, ``NA``, empty, ``None`` and ``Out of Range`` (no direction) are
    missing.

    Parameters
    ----------
    values
        Strings and/or numbers, e.g. one column of an instrument export.
    decimal
        Decimal mark: ``"."`` (``,`` may then only group thousands, as in ``1,234,567.8``) or
        ``","`` (European files; ``.`` may then only group thousands).
    source, column, rows
        Where the values come from (file, column, 1-based row numbers), used in the error message.

    Returns
    -------
    value
        ``float64`` array: the number written (also for ``<3.2``, ``>10000``, ``*12.3``), ``NaN``
        when there is none.
    censor
        ``int8`` array of codes from :data:`biomarkers.io.CENSOR_CODES`
        (0 ok, 1 below, 2 above, 3 extrapolated, 4 missing).

    Raises
    ------
    SchemaError
        A value is neither a number nor a known censoring token (the message names the value,
        and the file, row and column when given), or is infinite.

    Examples
    --------
    >>> from biomarkers.io import parse_censored
    >>> value, censor = parse_censored(["3.2", "<1.5", "OOR >", "*12.3", "***"])
    >>> value.tolist()
    [3.2, 1.5, nan, 12.3, nan]
    >>> censor.tolist()
    [0, 1, 2, 3, 4]
    """
    check_choice("decimal", decimal, (".", ","))
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        out = values.astype(np.float64, copy=True).ravel()
        return _finish_numeric(out, values, source=source, column=column, rows=rows)
    series = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    if series.dtype.kind in "fiub":
        out = series.to_numpy(dtype=np.float64, copy=True)
        return _finish_numeric(out, series.to_numpy(), source=source, column=column, rows=rows)
    n = len(series)
    obj = series.to_numpy(dtype=object)
    is_null = pd.isna(obj)
    text = pd.Series(np.where(is_null, "", obj), dtype=object).astype(str).str.strip()
    if decimal == ",":
        candidate = text.where(~text.str.contains(".", regex=False), "x").str.replace(",", ".")
    else:
        candidate = text
    number = pd.to_numeric(candidate, errors="coerce").to_numpy(dtype=np.float64)
    fast = np.isfinite(number)
    value = np.where(fast, number, np.nan)
    censor = np.full(n, _OK, dtype=np.int8)
    slow = ~fast
    if slow.any():
        slow_text = text.to_numpy()[slow]
        uniq, inverse = np.unique(slow_text.astype(str), return_inverse=True)
        parsed = [_parse_one(u, decimal) for u in uniq]
        bad = np.array([p is None for p in parsed], dtype=bool)
        if bad.any():
            bad_rows = np.flatnonzero(slow)[bad[inverse]]
            _raise_bad(obj, bad_rows, source=source, column=column, rows=rows)
        uvals = np.array([p[0] for p in parsed], dtype=np.float64)
        ucodes = np.array([p[1] for p in parsed], dtype=np.int8)
        value[slow] = uvals[inverse]
        censor[slow] = ucodes[inverse]
    check_finite(value, raw=obj, source=source, column=column, rows=rows)  # "1e400" parses to inf
    return value, censor


def _finish_numeric(out, original, *, source, column, rows) -> tuple[np.ndarray, np.ndarray]:
    check_finite(out, raw=np.asarray(original).ravel(), source=source, column=column, rows=rows)
    censor = np.where(np.isnan(out), _MISSING, _OK).astype(np.int8)
    return out, censor


def _raise_bad(obj, positions, *, source, column, rows) -> None:
    first = int(positions[0])
    more = f" ({len(positions)} such values in all)" if len(positions) > 1 else ""
    msg = (
        f"{cell_location(source, rows, first, column)}: value {one_line(obj[first])!r} is not a number or a known censoring token"
        f"{more}; allowed: {_EXAMPLES}; correct the value or leave the cell empty"
    )
    raise SchemaError(msg)
