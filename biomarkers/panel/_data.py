"""Turn the tables users score (FeatureTable AnnData, wide or tidy DataFrame) into a matrix."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

import numpy as np
import pandas as pd

from biomarkers._validation import did_you_mean, format_ids
from biomarkers.exceptions import SchemaError

__all__ = ["feature_matrix", "input_names", "missing_message", "option", "spelled_as"]

_TIDY = ("subject_id", "feature", "value")
_SPELLING: ContextVar[str] = ContextVar("biomarkers_option_spelling", default="python")


@contextmanager
def spelled_as(style: Literal["python", "cli", "config"]) -> Iterator[None]:
    """Within the block, error messages name options as the caller spells them.

    ``python``: ``allow_missing='impute_training_median'``; ``cli``: ``--allow-missing
    impute_training_median``; ``config``: ``allow_missing: impute_training_median``.
    """
    token = _SPELLING.set(style)
    try:
        yield
    finally:
        _SPELLING.reset(token)


def option(name: str, value: object) -> str:
    """An option with its value, spelled for the current caller (see :func:`spelled_as`)."""
    style = _SPELLING.get()
    if style == "cli":
        return f"--{name.replace('_', '-')} {value}"
    if style == "config":
        return f"{name}: {value} in the config"
    return f"{name}={value!r}"


def _numeric(df: pd.DataFrame, cols: list[str], *, source: str) -> np.ndarray:
    sub = df[cols]
    if all(dt.kind in "biuf" for dt in sub.dtypes):
        return sub.to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.empty((df.shape[0], len(cols)), dtype=np.float64)
    for k, col in enumerate(cols):
        s = df[col]
        if s.dtype.kind in "biuf":
            out[:, k] = s.to_numpy(dtype=np.float64, na_value=np.nan)
            continue
        conv = pd.to_numeric(s, errors="coerce")
        bad = conv.isna() & s.notna()
        if bad.any():
            first = s[bad].iloc[0]
            msg = (
                f"{source}: column {col!r} holds non-numeric values such as {first!r} (subject "
                f"{s[bad].index[0]!r}); censored values must be -inf (below a limit) or +inf "
                "(above), missing NaN: build the table with biomarkers.features"
            )
            raise SchemaError(msg)
        out[:, k] = conv.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _check_ids(ids: pd.Index, *, source: str) -> pd.Index:
    ids = pd.Index(ids.astype(str), name="subject_id")
    if ids.has_duplicates:
        dup = ids[ids.duplicated()].unique()
        msg = f"{source}: duplicate subject IDs {format_ids(dup)}; one row per subject is required"
        raise SchemaError(msg)
    return ids


def input_names(data: Any) -> list[str]:
    """The feature names a scoring input holds (var_names, tidy ``feature`` values or columns)."""
    if hasattr(data, "var_names") and hasattr(data, "obs_names"):
        return [str(n) for n in data.var_names]
    if isinstance(data, pd.DataFrame):
        if set(_TIDY) <= set(data.columns):
            return [str(n) for n in pd.unique(data["feature"])]
        return [str(c) for c in data.columns if c != "subject_id"]
    return []


def feature_matrix(
    data: Any,
    features: list[str],
    *,
    source: str = "input",
    aliases: dict[str, str] | None = None,
) -> tuple[np.ndarray, pd.Index, list[str], dict[str, str]]:
    """Return ``(X, subject_ids, missing_features, units)`` with ``X`` in ``features`` order.

    Columns of absent features are NaN and listed in ``missing_features``; ``units`` maps a
    feature to the unit the input declares (FeatureTable ``var["unit"]``, a tidy ``unit`` column,
    or ``DataFrame.attrs["units"]``). ``aliases`` maps a feature to the input column that holds
    it under another name (see :func:`biomarkers.panel.match_markers`).
    """
    if aliases:
        wanted = [aliases.get(f, f) for f in features]
        X, ids, missing, units = feature_matrix(data, wanted, source=source)
        back = dict(zip(wanted, features, strict=True))
        return X, ids, [back[m] for m in missing], {back[k]: v for k, v in units.items()}
    units: dict[str, str] = {}
    if hasattr(data, "var_names") and hasattr(data, "obs_names"):  # AnnData FeatureTable
        names = pd.Index(data.var_names.astype(str))
        ids = _check_ids(pd.Index(data.obs_names), source=source)
        present = [f for f in features if f in names]
        X = np.full((data.n_obs, len(features)), np.nan)
        if present:
            pos = names.get_indexer(present)
            sub = data.X[:, pos] if not data.isbacked else data[:, present].X
            sub = sub.toarray() if hasattr(sub, "toarray") else np.asarray(sub)
            X[:, [features.index(f) for f in present]] = sub.astype(np.float64)
        if "unit" in data.var.columns:
            unit = data.var["unit"]
            units = {f: unit.iloc[names.get_loc(f)] for f in present}
    elif isinstance(data, pd.DataFrame):
        df = data
        if set(_TIDY) <= set(df.columns):
            if df.duplicated(["subject_id", "feature"]).any():
                row = df[df.duplicated(["subject_id", "feature"])].iloc[0]
                msg = (
                    f"{source}: subject {row['subject_id']!r} has several values for feature "
                    f"{row['feature']!r}; average replicates before scoring"
                )
                raise SchemaError(msg)
            if "unit" in df.columns:
                per = df.dropna(subset=["unit"]).groupby("feature", observed=True)["unit"]
                n_units = per.nunique()
                if (n_units > 1).any():
                    feat = n_units[n_units > 1].index[0]
                    msg = (
                        f"{source}: feature {feat!r} is reported in several units "
                        f"{sorted(per.unique()[feat])}; convert to one unit"
                    )
                    raise SchemaError(msg)
                units = per.first().astype(str).to_dict()
            wide = df.pivot(index="subject_id", columns="feature", values="value")
            wide.columns = wide.columns.astype(str)
        else:
            wide = df
            if "subject_id" in wide.columns:
                wide = wide.set_index("subject_id")
            units = {str(k): v for k, v in (df.attrs.get("units") or {}).items()}
        ids = _check_ids(pd.Index(wide.index), source=source)
        wide = wide.set_axis(ids, axis=0)
        wide.columns = pd.Index([str(c) for c in wide.columns])
        present = [f for f in features if f in wide.columns]
        X = np.full((wide.shape[0], len(features)), np.nan)
        if present:
            X[:, [features.index(f) for f in present]] = _numeric(wide, present, source=source)
    else:
        msg = (
            f"{source}: cannot score a {type(data).__name__}; pass a FeatureTable (AnnData, "
            "var_names = feature names) or a DataFrame (subjects × features, index subject_id)"
        )
        raise SchemaError(msg)
    missing = [f for f in features if f not in present]
    units = {f: u for f, u in units.items() if isinstance(u, str) and u.strip()}
    return X, ids, missing, units


def missing_message(missing: list[str], available, *, source: str) -> str:
    """One-line error for features absent from the input."""
    hint = did_you_mean(missing[0], available)
    return (
        f"{source}: the panel needs {len(missing)} marker(s) missing from the input: "
        f"{format_ids(missing)}{hint}; add them, or pass "
        f"{option('allow_missing', 'impute_training_median')} to score with training medians "
        "(subjects are flagged)"
    )
