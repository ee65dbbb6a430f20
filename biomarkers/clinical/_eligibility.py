"""Rule engine for a trial's eligibility criteria (protocol YAML) over clinical + lab data."""

from __future__ import annotations

import operator
import os
import warnings
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from biomarkers._validation import did_you_mean, format_ids
from biomarkers.clinical._common import coerce_bool, subject_table
from biomarkers.exceptions import ConfigError, DataQualityWarning, InputFileError, SchemaError

__all__ = ["eligibility", "load_protocol"]

_TOP_KEYS = {
    "format",
    "format_version",
    "protocol",
    "title",
    "source",
    "visit",
    "criteria",
    "notes",
}
_CRIT_KEYS = {"name", "type", "description", "condition", "source"}
_COMPARE = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_LEAF_OPS = (*_COMPARE, "between", "in", "is")


def _bundled() -> list[str]:
    folder = resources.files("biomarkers.clinical") / "protocols"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_protocol(protocol: str | os.PathLike | Mapping) -> dict:
    """Load and validate a protocol: a bundled name, a YAML path, or a dict."""
    import yaml

    from biomarkers._yaml import safe_load

    where = "protocol"
    if isinstance(protocol, Mapping):
        spec = dict(protocol)
    else:
        text = str(protocol)
        is_path = (
            isinstance(protocol, os.PathLike) or text.endswith((".yaml", ".yml")) or os.sep in text
        )
        if is_path:
            path = Path(text)
            if not path.is_file():
                msg = f"protocol file {path} not found; give a bundled name ({', '.join(_bundled())}) or a YAML path"
                raise InputFileError(msg)
            where = str(path)
            raw = path.read_text(encoding="utf-8")
        else:
            names = _bundled()
            if text not in names:
                msg = f"protocol {text!r} is not bundled{did_you_mean(text, names)}; bundled: {', '.join(names)}; or give a YAML path"
                raise ConfigError(msg)
            where = f"bundled protocol {text}"
            raw = (resources.files("biomarkers.clinical") / "protocols" / f"{text}.yaml").read_text(
                encoding="utf-8"
            )
        try:
            spec = safe_load(raw)
        except ConfigError as err:
            msg = f"{where}: {err}"
            raise ConfigError(msg) from None
        except yaml.YAMLError as err:
            msg = f"{where}: not valid YAML ({str(err).splitlines()[0]})"
            raise ConfigError(msg) from None
        if not isinstance(spec, dict):
            msg = f"{where}: expected a mapping with a 'criteria' list"
            raise ConfigError(msg)
    _validate(spec, where)
    return spec


def _validate(spec: Mapping, where: str) -> None:
    for key in spec:
        if key not in _TOP_KEYS:
            msg = f"{where}: unknown key {key!r}{did_you_mean(key, _TOP_KEYS)}; allowed: {', '.join(sorted(_TOP_KEYS))}"
            raise ConfigError(msg)
    criteria = spec.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        msg = f"{where}: 'criteria' must be a non-empty list of criteria"
        raise ConfigError(msg)
    seen: set[str] = set()
    for i, crit in enumerate(criteria):
        if not isinstance(crit, Mapping):
            msg = f"{where}: criteria[{i}] must be a mapping with name, type, condition"
            raise ConfigError(msg)
        label = f"{where}: criterion {crit.get('name', i)!r}"
        for key in crit:
            if key not in _CRIT_KEYS:
                msg = f"{label}: unknown key {key!r}{did_you_mean(key, _CRIT_KEYS)}; allowed: {', '.join(sorted(_CRIT_KEYS))}"
                raise ConfigError(msg)
        for key in ("name", "type", "condition"):
            if key not in crit:
                msg = f"{label}: required key {key!r} is missing"
                raise ConfigError(msg)
        if crit["name"] in seen:
            msg = f"{label}: duplicated criterion name"
            raise ConfigError(msg)
        seen.add(crit["name"])
        if crit["type"] not in ("inclusion", "exclusion"):
            msg = f"{label}: type: {crit['type']!r} is not allowed; allowed: inclusion, exclusion"
            raise ConfigError(msg)
        _validate_condition(crit["condition"], label)


def _validate_condition(cond, label: str) -> None:
    if not isinstance(cond, Mapping):
        msg = f"{label}: condition must be a mapping, got {cond!r}"
        raise ConfigError(msg)
    if set(cond) in ({"any"}, {"all"}):
        subs = next(iter(cond.values()))
        if not isinstance(subs, list) or not subs:
            msg = f"{label}: any:/all: must hold a non-empty list of conditions"
            raise ConfigError(msg)
        for sub in subs:
            _validate_condition(sub, label)
        return
    if "column" not in cond:
        msg = f"{label}: condition {dict(cond)!r} needs 'column' (or any:/all:)"
        raise ConfigError(msg)
    ops = [k for k in cond if k != "column"]
    if len(ops) != 1 or ops[0] not in _LEAF_OPS:
        bad = next((k for k in ops if k not in _LEAF_OPS), ops[0] if ops else "<none>")
        msg = (
            f"{label}: condition operator {bad!r} is not allowed{did_you_mean(bad, _LEAF_OPS)}; "
            f"use exactly one of {', '.join(_LEAF_OPS)}, any, all"
        )
        raise ConfigError(msg)
    op, value = ops[0], cond[ops[0]]
    if op == "between" and not (isinstance(value, list) and len(value) == 2):
        msg = f"{label}: between: needs [low, high], got {value!r}"
        raise ConfigError(msg)
    if op == "in" and not isinstance(value, list):
        msg = f"{label}: in: needs a list of values, got {value!r}"
        raise ConfigError(msg)
    if op == "is" and not isinstance(value, bool):
        msg = f"{label}: is: needs true or false, got {value!r}"
        raise ConfigError(msg)


def _columns(cond) -> list[str]:
    if "column" in cond:
        return [cond["column"]]
    return [c for sub in next(iter(cond.values())) for c in _columns(sub)]


def _numeric(series: pd.Series, column: str) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() & series.notna()
    if bad.any():
        msg = (
            f"column {column!r}: non-numeric value {series[bad].iloc[0]!r} for subject "
            f"{series.index[bad][0]!r}; criteria compare it with numbers"
        )
        raise SchemaError(msg)
    return values.to_numpy(dtype=float)


def _evaluate(cond, data: pd.DataFrame) -> np.ndarray:
    """Truth value per subject as float: 1.0 true, 0.0 false, NaN unknown (Kleene logic)."""
    if "any" in cond or "all" in cond:
        parts = np.vstack([_evaluate(sub, data) for sub in next(iter(cond.values()))])
        if "any" in cond:
            return np.where(
                (parts == 1).any(axis=0), 1.0, np.where((parts == 0).all(axis=0), 0.0, np.nan)
            )
        return np.where(
            (parts == 0).any(axis=0), 0.0, np.where((parts == 1).all(axis=0), 1.0, np.nan)
        )
    column = cond["column"]
    if column not in data.columns:
        return np.full(len(data), np.nan)
    series = data[column]
    op = next(k for k in cond if k != "column")
    value = cond[op]
    missing = series.isna().to_numpy()
    if op == "is":
        flags = coerce_bool(series, f"column {column!r}")
        return np.where(np.isnan(flags), np.nan, (flags == 1) == value).astype(float)
    if op == "in":
        allowed = {str(v).strip().lower() for v in value}
        hit = series.astype(str).str.strip().str.lower().isin(allowed).to_numpy()
        return np.where(missing, np.nan, hit.astype(float))
    x = _numeric(series, column)
    with np.errstate(invalid="ignore"):
        if op == "between":
            result = (x >= float(value[0])) & (x <= float(value[1]))
        else:
            result = _COMPARE[op](x, value)
    return np.where(np.isnan(x), np.nan, result.astype(float))


def eligibility(
    clinical: pd.DataFrame,
    labs: pd.DataFrame | None = None,
    *,
    protocol: str | os.PathLike | Mapping = "nct07131306",
    visit: str = "D0",
) -> pd.DataFrame:
    """Evaluate a trial's eligibility criteria for every subject.

    Each criterion of the protocol names the column(s) it needs and one condition (comparison,
    ``between``, ``in``-set, yes/no flag, or ``any``/``all`` of those). Inclusion criteria
    fail when their condition is false; exclusion criteria fail when it is true. A criterion
    whose data are missing is **not evaluable** (never silently passed); ``any``/``all`` use
    three-valued logic, so an ``any`` with one true part fails even if another part is missing.

    Parameters
    ----------
    clinical
        Subject table (``subject_id`` column or index), e.g. ``age``, ``etiology``, ``consent``
        and the flags named by the protocol.
    labs
        Optional labs table; its rows at ``visit`` are joined per subject (a column in both
        tables is taken from ``labs``).
    protocol
        Name of a bundled protocol (``"nct07131306"``), a path to a protocol YAML, or the same
        structure as a dict (see ``docs/clinical.md``).
    visit
        Visit whose labs are checked (screening / baseline, ``"D0"``).

    Returns
    -------
    DataFrame indexed by ``subject_id`` with ``eligible`` (pandas nullable boolean: True,
    False, or NA when some criteria are not evaluable and none failed), ``failed`` (list of
    failed criterion names) and ``not_evaluable`` (list of criteria lacking data).
    ``attrs["status"]`` holds a subject × criterion table of ``"pass"``/``"fail"``/
    ``"not evaluable"``; ``attrs["protocol"]`` the protocol name.

    Raises
    ------
    ConfigError
        For an invalid protocol (unknown key or operator, wrong type).
    SchemaError
        For non-numeric values in a compared column or duplicated subject rows.

    Warns
    -----
    DataQualityWarning
        Once, listing the columns the protocol needs that the data lack.

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.clinical import eligibility
    >>> rules = {"criteria": [{"name": "adult", "type": "inclusion",
    ...                        "condition": {"column": "age", "between": [18, 65]}}]}
    >>> clin = pd.DataFrame({"subject_id": ["a", "b", "c"], "age": [40, 70, None]})
    >>> eligibility(clin, protocol=rules)["eligible"].tolist()
    [True, False, <NA>]
    """
    spec = load_protocol(protocol)
    data = subject_table(clinical, source="clinical")
    if labs is not None:
        if "subject_id" not in labs.columns or "visit" not in labs.columns:
            msg = "labs: columns 'subject_id' and 'visit' are required; one row per subject × visit"
            raise SchemaError(msg)
        rows = labs[labs["visit"].astype(str) == str(visit)].copy()
        rows["subject_id"] = rows["subject_id"].astype(str)
        dup = rows["subject_id"][rows["subject_id"].duplicated()].unique()
        if len(dup):
            msg = (
                f"labs: several rows at visit {visit!r} for {format_ids(dup)}; keep one per subject"
            )
            raise SchemaError(msg)
        rows = rows.set_index("subject_id").drop(columns=["visit"]).reindex(data.index)
        data = data.drop(columns=[c for c in rows.columns if c in data.columns]).join(rows)
    criteria = spec["criteria"]
    needed = list(dict.fromkeys(c for crit in criteria for c in _columns(crit["condition"])))
    absent = [c for c in needed if c not in data.columns]
    if absent:
        warnings.warn(
            f"eligibility ({spec.get('protocol', 'protocol')}): column(s) {', '.join(absent)} not in "
            "the data; criteria using them are not evaluable unless another part decides them",
            DataQualityWarning,
            stacklevel=2,
        )
    status = pd.DataFrame(index=data.index)
    for crit in criteria:
        truth = _evaluate(crit["condition"], data)
        fails = truth == (0.0 if crit["type"] == "inclusion" else 1.0)
        status[crit["name"]] = np.where(
            np.isnan(truth), "not evaluable", np.where(fails, "fail", "pass")
        )
    failed = [list(status.columns[row == "fail"]) for row in status.to_numpy()]
    unknown = [list(status.columns[row == "not evaluable"]) for row in status.to_numpy()]
    eligible = pd.array(
        [False if f else (pd.NA if u else True) for f, u in zip(failed, unknown, strict=True)],
        dtype="boolean",
    )
    out = pd.DataFrame(
        {"eligible": eligible, "failed": failed, "not_evaluable": unknown}, index=data.index
    )
    out.attrs["status"] = status
    out.attrs["protocol"] = spec.get("protocol", "custom")
    return out
