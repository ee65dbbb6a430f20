"""Private helpers shared by the clinical scores: input coercion, physiology checks, rounding.

Score functions accept scalars, NumPy arrays or pandas Series and return the same shape. The
helpers here turn every input into a float array broadcast to one shape, remember how to wrap the
result back (scalar, array or Series with the caller's index) and raise :class:`SchemaError` with
the offending value and its position when a value is physiologically impossible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._validation import check_choice
from biomarkers.exceptions import SchemaError

__all__ = [
    "UNIT_FACTORS",
    "Inputs",
    "check_range",
    "coerce_ascites",
    "coerce_bool",
    "coerce_female",
    "coerce_he_grade",
    "round_half_up",
    "subject_table",
    "to_conventional",
]

#: SI → conventional divisors: bilirubin µmol/L → mg/dL, creatinine µmol/L → mg/dL, albumin g/L → g/dL.
UNIT_FACTORS: dict[str, float] = {"bilirubin": 17.1, "creatinine": 88.4, "albumin": 10.0}

_UNITS = ("conventional", "si")

# A float tolerance for round-half-up: 12.45 may be stored as 12.4499999999; the sub-1e-9
# nudge makes decimal halves round up as a clinician computing by hand would.
_HALF_EPS = 1e-9


def round_half_up(x: np.ndarray, decimals: int = 0) -> np.ndarray:
    """Round half away from zero for positive scores (``round_half_up(12.5) == 13``), NaN-safe.

    Python's :func:`round` and :func:`numpy.round` round half to even (``round(12.5) == 12``),
    which is not how MELD is defined.
    """
    factor = 10.0**decimals
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.floor(np.abs(x) * factor + 0.5 + _HALF_EPS) / factor


class Inputs:
    """Broadcast score inputs and remember how to wrap the result.

    ``Inputs({"bilirubin": b, "inr": i})`` converts every value to a float array (non-numeric
    values raise :class:`SchemaError`), broadcasts them to one shape and records the output
    form: scalar if every input is a scalar, a Series (with the index of the first Series input)
    if any input is a Series, else an array.
    """

    def __init__(
        self, values: Mapping[str, Any], *, converters: Mapping[str, Callable] | None = None
    ):
        converters = dict(converters or {})
        self.index: pd.Index | None = None
        self.scalar = True
        arrays: dict[str, np.ndarray] = {}
        for name, value in values.items():
            if value is None:
                value = np.nan  # a missing scalar is a missing value, not an absent input
            if isinstance(value, pd.Series):
                if self.index is None:
                    self.index = value.index
                elif len(value) != len(self.index) or not value.index.equals(self.index):
                    msg = (
                        f"{name}: Series index does not match the other inputs; align the Series "
                        "(same subjects, same order) or pass NumPy arrays"
                    )
                    raise SchemaError(msg)
                self.scalar = False
            elif not np.isscalar(value) and not (isinstance(value, np.ndarray) and value.ndim == 0):
                self.scalar = False
            conv = converters.get(name, _to_float)
            arrays[name] = conv(value, name)
        try:
            broadcast = np.broadcast_arrays(*arrays.values()) if arrays else []
        except ValueError:
            shapes = ", ".join(f"{k}: {np.shape(v)}" for k, v in arrays.items())
            msg = f"score inputs have incompatible shapes ({shapes}); pass inputs of equal length"
            raise SchemaError(msg) from None
        self.arrays = {k: np.array(v, dtype=float) for k, v in zip(arrays, broadcast, strict=True)}
        self.shape = broadcast[0].shape if broadcast else ()

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def label(self, position: int) -> Any:
        """Readable location of flat position ``position`` (Series label or array position)."""
        if self.index is not None:
            return f"index {self.index[position]!r}"
        if self.scalar:
            return "the scalar input"
        return f"position {position}"

    def wrap(self, result: np.ndarray, name: str | None = None) -> Any:
        """Return ``result`` as a float scalar, array or Series (with the inputs' index)."""
        result = np.asarray(result)
        if self.scalar:
            value = result.reshape(-1)[0] if result.size else np.nan
            return value.item() if hasattr(value, "item") else value
        if self.index is not None:
            return pd.Series(result.reshape(-1), index=self.index, name=name)
        return result

    def wrap_frame(self, columns: Mapping[str, np.ndarray]) -> pd.DataFrame | pd.Series:
        """Return several results as a DataFrame (array/Series in) or one Series (scalars in)."""
        if self.scalar:
            return pd.Series({k: np.asarray(v).reshape(-1)[0] for k, v in columns.items()})
        index = self.index if self.index is not None else pd.RangeIndex(int(np.prod(self.shape)))
        return pd.DataFrame({k: np.asarray(v).reshape(-1) for k, v in columns.items()}, index=index)


def _to_float(value: Any, name: str) -> np.ndarray:
    try:
        if isinstance(value, pd.Series):
            arr = value.to_numpy(dtype=float, na_value=np.nan)
        else:
            arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        flat = pd.Series(np.asarray(value, dtype=object).reshape(-1))
        bad = flat[pd.to_numeric(flat, errors="coerce").isna() & flat.notna()]
        where = f" at {value.index[bad.index[0]]!r}" if isinstance(value, pd.Series) else ""
        shown = bad.iloc[0] if len(bad) else value
        msg = f"{name}: expected numbers, got {shown!r}{where}; convert the column to numeric"
        raise SchemaError(msg) from None
    return arr


def _series_or_array(value: Any) -> np.ndarray:
    if isinstance(value, pd.Series):
        return value.to_numpy(dtype=object)
    return np.asarray(value, dtype=object)


def _numeric_fast_path(value: Any) -> np.ndarray | None:
    """Float array when ``value`` is already boolean/numeric (the common case), else None."""
    if isinstance(value, pd.Series):
        if pd.api.types.is_bool_dtype(value.dtype) or pd.api.types.is_numeric_dtype(value.dtype):
            return value.to_numpy(dtype=float, na_value=np.nan)
        return None
    arr = np.asarray(value)
    if arr.dtype.kind in "biuf":
        return arr.astype(float)
    return None


_BLANK = ("", "nan", "na", "<na>")


def _lookup(value: Any, name: str, mapping: Mapping[str, float], allowed: str) -> np.ndarray:
    """Vectorised text/number → float: text through ``mapping`` (case-insensitive), numbers kept.

    Missing values (None, NaN, pd.NA, empty text) give NaN; unknown text raises SchemaError.
    Only the distinct values are looked at in Python (``pd.factorize``), so long columns are fast.
    """
    fast = _numeric_fast_path(value)
    if fast is not None:
        return fast
    raw = _series_or_array(value)
    codes, uniques = pd.factorize(pd.Series(raw.reshape(-1), dtype=object), use_na_sentinel=True)
    converted = np.array([_convert(u, name, mapping, allowed) for u in uniques] + [np.nan])
    return converted[codes].reshape(raw.shape)  # code -1 (missing) picks the trailing NaN


def _convert(v: Any, name: str, mapping: Mapping[str, float], allowed: str) -> float:
    if isinstance(v, (bool, np.bool_, int, float, np.number)):
        return float(v)
    key = str(v).strip().lower()
    if key in mapping:
        return mapping[key]
    if key in _BLANK:
        return np.nan
    try:
        return float(key)
    except ValueError:
        msg = f"{name}: unknown value {v!r}; allowed: {allowed}"
        raise SchemaError(msg) from None


_YES_NO = {"true": 1.0, "yes": 1.0, "y": 1.0, "t": 1.0, "false": 0.0, "no": 0.0, "n": 0.0, "f": 0.0}


def coerce_bool(value: Any, name: str) -> np.ndarray:
    """Booleans / 0-1 / yes-no text → float 1.0 / 0.0, missing → NaN."""
    out = _lookup(value, name, _YES_NO, "1/0, true/false or yes/no")
    bad = ~np.isnan(out) & ~np.isin(out, (0.0, 1.0))
    if bad.any():
        msg = f"{name}: expected a yes/no flag (0/1), got {float(out[bad][0])!r}"
        raise SchemaError(msg)
    return out


_FEMALE = {"f": 1.0, "female": 1.0, "w": 1.0, "woman": 1.0, "m": 0.0, "male": 0.0, "man": 0.0}


def coerce_female(value: Any, name: str) -> np.ndarray:
    """Sex as 1 = female, 0 = male; accepts booleans, 0/1 and ``"F"``/``"M"``/``"female"``/``"male"``."""
    out = _lookup(value, name, _FEMALE, "True/False, 1/0, 'F'/'M', 'female'/'male'")
    bad = ~np.isnan(out) & ~np.isin(out, (0.0, 1.0))
    if bad.any():
        msg = f"{name}: female must be 0/1 or 'F'/'M'; got {float(out[bad][0])!r}"
        raise SchemaError(msg)
    return out


_HE = {"none": 0.0, "0": 0.0, "i": 1.0, "ii": 2.0, "iii": 3.0, "iv": 4.0}


def coerce_he_grade(value: Any, name: str) -> np.ndarray:
    """West-Haven HE grade 0–4 (numbers, or ``"none"``, ``"I"``…``"IV"``); other values raise."""
    out = _lookup(value, name, _HE, "0-4 or 'none', 'I', 'II', 'III', 'IV'")
    bad = ~np.isnan(out) & ~np.isin(out, (0.0, 1.0, 2.0, 3.0, 4.0))
    if bad.any():
        msg = (
            f"{name}: hepatic encephalopathy grade must be a West-Haven grade 0-4; "
            f"got {float(out[bad][0])!r}"
        )
        raise SchemaError(msg)
    return out


_ASCITES = {
    "none": 0.0,
    "absent": 0.0,
    "no": 0.0,
    "mild": 1.0,
    "slight": 1.0,
    "controlled": 1.0,
    "moderate": 2.0,
    "severe": 2.0,
    "moderate-severe": 2.0,
    "moderate–severe": 2.0,
    "moderate/severe": 2.0,
    "refractory": 2.0,
    "tense": 2.0,
}


def coerce_ascites(value: Any, name: str) -> np.ndarray:
    """Ascites as 0 = none, 1 = mild/slight, 2 = moderate–severe (text or 0/1/2)."""
    out = _lookup(
        value, name, _ASCITES, "'none', 'mild'/'slight', 'moderate-severe'/'refractory', or 0/1/2"
    )
    bad = ~np.isnan(out) & ~np.isin(out, (0.0, 1.0, 2.0))
    if bad.any():
        msg = f"{name}: ascites must be 0 (none), 1 (mild) or 2 (moderate-severe); got {float(out[bad][0])!r}"
        raise SchemaError(msg)
    return out


def check_range(
    inputs: Inputs,
    name: str,
    *,
    unit: str,
    low: float = 0.0,
    inclusive: bool = False,
) -> None:
    """Raise SchemaError if a non-missing value is ≤ ``low`` (``< low`` when ``inclusive``) or infinite."""
    arr = inputs[name].reshape(-1)
    with np.errstate(invalid="ignore"):
        bad = (arr < low) if inclusive else (arr <= low)
    bad |= np.isinf(arr)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        rel = ">=" if inclusive else ">"
        msg = (
            f"{name} must be {rel} {low:g}{' ' + unit if unit else ''}; got {float(arr[pos])!r} "
            f"at {inputs.label(pos)} "
            f"({int(bad.sum())} such value(s)); correct it or set it to NaN if unknown"
        )
        raise SchemaError(msg)


def to_conventional(inputs: Inputs, units: str, names: Mapping[str, str]) -> None:
    """Convert SI inputs in place (``names`` maps input name → kind in :data:`UNIT_FACTORS`)."""
    # 'conventional' = mg/dL, g/dL; 'si' = µmol/L, g/L
    check_choice("units", units, _UNITS)
    if units == "si":
        for name, kind in names.items():
            if name in inputs.arrays:
                inputs.arrays[name] = inputs.arrays[name] / UNIT_FACTORS[kind]


def subject_table(df: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Return ``df`` indexed by string ``subject_id`` (from a column or the index); unique IDs."""
    if not isinstance(df, pd.DataFrame):
        msg = f"{source}: expected a pandas DataFrame, got {type(df).__name__}"
        raise SchemaError(msg)
    if "subject_id" in df.columns:
        out = df.set_index("subject_id")
    elif df.index.name == "subject_id":
        out = df.copy()
    else:
        available = ", ".join(map(str, list(df.columns)[:12]))
        msg = (
            f"{source}: required column 'subject_id' not found (neither a column nor the index "
            f"name); available: {available}; rename the ID column to subject_id"
        )
        raise SchemaError(msg)
    out.index = out.index.astype(str)
    out.index.name = "subject_id"
    dup = out.index[out.index.duplicated()].unique()
    if len(dup):
        from biomarkers._validation import format_ids

        msg = f"{source}: subject_id must be unique (one row per subject); duplicated: {format_ids(dup)}"
        raise SchemaError(msg)
    return out
