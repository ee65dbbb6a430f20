"""Turn a FeatureTable AnnData or a DataFrame plus an outcome spec into arrays (internal)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._names import known_at_days
from biomarkers._validation import did_you_mean, format_ids
from biomarkers.exceptions import DataQualityWarning, LeakageError, SchemaError
from biomarkers.models._population import Landmark, population, resolve_landmark, shift_times


@dataclass
class Data:
    """Arrays that the engine works on (internal)."""

    X: np.ndarray
    y: np.ndarray
    task: str
    features: list[str]
    subjects: np.ndarray
    groups: np.ndarray
    limits: np.ndarray | None  # features × 2: LOD and log2 offset (NaN = none)
    days: np.ndarray
    outcome_name: str
    assessed_day: float | None
    forced: list[int]
    baseline: list[int]
    var: pd.DataFrame | None = None  # FeatureTable metadata of the features (units, limits…)
    positive_class: str | None = None  # the label coded 1 (binary), "event" (survival)
    positive: str | None = None  # phrase naming class 1 / the event (Outcome.positive)
    definition: str | None = None
    description: str | None = None
    horizon: float | None = (
        None  # declared survival horizon (uns["outcomes"][name]["horizon_days"])
    )

    landmark: Landmark | None = None  # population at the landmark (who was removed, why)


def covariate_design(obs: pd.DataFrame, covariates) -> tuple[pd.DataFrame, list[str]]:
    """Numeric design columns of ``obs`` covariates; a string/categorical one as indicators.

    The one encoding of covariates for :func:`discover` and :func:`predictive`: numbers and
    booleans (and text that reads as numbers) as they are; any other column one indicator per
    level but the first (sorted, or the categorical order; ``sex`` → ``sex_M``), NaN where the value is missing (imputed inside each training
    fold). The encoding is per subject given the level set, learns nothing from the outcome
    and is the same in every fold (a level absent from a training fold is a constant column
    there).
    """
    parts = []
    for cov in covariates:
        col = obs[cov]
        num = pd.to_numeric(col, errors="coerce") if col.dtype == object else None
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            parts.append(col.astype(float).rename(str(cov)))
            continue
        if num is not None and num.notna().sum() == col.notna().sum():  # numbers as text
            parts.append(num.astype(float).rename(str(cov)))
            continue
        if isinstance(col.dtype, pd.CategoricalDtype):
            seen = set(col.dropna().astype(str))
            levels = [str(c) for c in col.cat.categories if str(c) in seen]
        else:
            levels = sorted(pd.unique(col.dropna().astype(str)))
        text = col.astype(str).where(col.notna())
        dummies = pd.DataFrame(
            {f"{cov}_{lv}": (text == lv).astype(float) for lv in levels[1:]}, index=obs.index
        )
        dummies.loc[col.isna().to_numpy()] = np.nan
        parts.append(dummies)
    if not parts:
        return pd.DataFrame(index=obs.index), []
    design = pd.concat(parts, axis=1)
    return design, [str(c) for c in design.columns]


def _is_anndata(obj) -> bool:
    return all(hasattr(obj, a) for a in ("obs", "var", "X", "uns"))


def surv_array(event, time) -> np.ndarray:
    """Structured ``(event, time)`` array as scikit-survival wants it."""
    out = np.empty(len(time), dtype=[("event", bool), ("time", float)])
    out["event"] = np.asarray(event).astype(bool)
    out["time"] = np.asarray(time, dtype=float)
    return out


def _infer_kind(values: pd.Series, name: str) -> str:
    v = values.dropna()
    if v.empty:
        msg = f"outcome {name!r}: every label is missing; give an outcome with observed values"
        raise SchemaError(msg)
    uniq = pd.unique(v)
    if len(uniq) <= 2 and set(pd.to_numeric(pd.Series(uniq), errors="coerce")) <= {0, 1}:
        return "binary"
    if pd.api.types.is_bool_dtype(v) or len(uniq) <= 2:
        return "binary"
    if not pd.api.types.is_numeric_dtype(v):
        msg = (
            f"outcome {name!r} has {len(uniq)} non-numeric values ({format_ids(uniq)}); "
            "give a 0/1 binary, a numeric continuous or an (event, time) survival outcome"
        )
        raise SchemaError(msg)
    return "continuous"


def _binary_codes(values: pd.Series, name: str) -> tuple[pd.Series, str]:
    """0/1 codes and the label coded 1 (0/1 stay; else the later of two labels in sorted order)."""
    v = values.dropna()
    uniq = sorted(pd.unique(v), key=str)
    num = pd.to_numeric(values, errors="coerce")
    if set(pd.unique(num.dropna())) <= {0, 1} and num.notna().sum() == values.notna().sum():
        return num.astype(float), "1"
    if len(uniq) == 2:
        return values.map({uniq[0]: 0.0, uniq[1]: 1.0}).astype(float), str(uniq[1])
    msg = f"outcome {name!r}: expected two classes, found {len(uniq)} ({format_ids(uniq)})"
    raise SchemaError(msg)


def _frame_of(table) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, dict]:
    """Features frame, obs-like frame, var frame (or None), outcomes dict."""
    if _is_anndata(table):
        X = table.X
        if hasattr(X, "toarray"):
            X = X.toarray()
        feats = pd.DataFrame(
            np.asarray(X, dtype=float),
            index=table.obs_names.astype(str),
            columns=table.var_names.astype(str),
        )
        return feats, table.obs.copy(), table.var.copy(), dict(table.uns.get("outcomes", {}))
    if isinstance(table, pd.DataFrame):
        table = table.set_axis(table.index.astype(str), axis=0)
        return table, table, None, {}
    msg = (
        f"table must be a FeatureTable (AnnData) or a pandas DataFrame, got "
        f"{type(table).__name__}; build one with biomarkers.features.build_feature_table"
    )
    raise SchemaError(msg)


def _feature_days(
    names: list[str], var: pd.DataFrame | None, visit_days: dict | None = None
) -> np.ndarray:
    """Study day each feature is known at: ``var["day"]``, else the grammar's day of its name.

    A change or slope ending at a visit is known at that visit (``@D28-D0`` → 28).
    """
    days = np.full(len(names), np.nan)
    if var is not None and "day" in var.columns:
        days = pd.to_numeric(var["day"], errors="coerce").to_numpy(dtype=float, copy=True)
    todo = np.flatnonzero(np.isnan(days))
    if len(todo):
        days[todo] = known_at_days([names[j] for j in todo], visit_days)
    return days


def _lookup(obs: pd.DataFrame, col: str, what: str) -> pd.Series:
    if col not in obs.columns:
        msg = (
            f"{what} column {col!r} not found{did_you_mean(col, obs.columns)}; "
            f"available: {', '.join(map(str, list(obs.columns)[:12]))}"
        )
        raise SchemaError(msg)
    return obs[col]


@dataclass
class Labels:
    """An outcome read from a table, one entry per table row (internal).

    ``values`` holds the binary 0/1 codes or the continuous values, ``event``/``time`` the
    survival columns; ``ok`` marks the rows with an observed label. The positive class (class 1)
    is the event, the named positive value or the later of two labels in sorted order.
    """

    name: str
    kind: str
    ok: np.ndarray
    values: np.ndarray | None = None
    event: np.ndarray | None = None
    time: np.ndarray | None = None
    columns: list[str] = field(default_factory=list)
    positive_class: str | None = None
    assessed_day: float | None = None
    positive: str | None = None
    definition: str | None = None
    description: str | None = None
    horizon: float | None = None

    def y(self) -> np.ndarray:
        """Labels of the ``ok`` rows: codes/values, or a structured (event, time) array."""
        if self.kind == "survival":
            return surv_array(self.event[self.ok], self.time[self.ok])
        return self.values[self.ok]


def read_outcome(index, obs: pd.DataFrame, outcome, outcomes: dict) -> Labels:
    """Resolve ``outcome`` (uns name, column, (event, time) pair, Series or array) into labels.

    The one reading of outcomes shared by :func:`discover` and :func:`predictive`.
    """
    spec: dict = {}
    if isinstance(outcome, str) and outcome in outcomes:
        spec = dict(outcomes[outcome])
        kind = spec.get("kind")
        value = _declared_columns(outcome, spec)
        name = outcome
    else:
        value = outcome
        name = outcome if isinstance(outcome, str) else getattr(outcome, "name", None) or "outcome"
        kind = None
    ytab, kind, name, cols = _label_table(index, obs, value, outcome, kind=kind, name=name)
    ok = (ytab["event"].notna() & ytab["time"].notna()) if kind == "survival" else ytab["y"].notna()
    ok = ok.to_numpy()
    if not ok.any():
        msg = f"outcome {name!r}: every label is missing; nothing to learn from"
        raise SchemaError(msg)
    lab = Labels(
        name=str(name),
        kind=kind,
        ok=ok,
        columns=cols,
        assessed_day=spec.get("assessed_day"),
        positive=spec.get("positive") or None,
        definition=spec.get("definition"),
        description=spec.get("description"),
        horizon=_float_or_none(spec.get("horizon_days")),
    )
    if kind == "binary":
        codes, lab.positive_class = _binary_codes(ytab["y"], name)
        lab.values = codes.to_numpy(dtype=float)
        cls = np.unique(lab.values[ok])
        if cls.size < 2:
            msg = (
                f"outcome {name!r} has one class only ({int(cls[0]) if cls.size else 'none'}, "
                f"{int(ok.sum())} subjects); a binary outcome needs subjects in both classes"
            )
            raise SchemaError(msg)
    elif kind == "survival":
        lab.event, lab.time = _survival_columns(ytab, ok, name, cols)
        lab.positive_class = "event"
    else:
        lab.values = pd.to_numeric(ytab["y"], errors="coerce").to_numpy(dtype=float)
        if np.nanstd(lab.values[ok]) == 0:
            msg = f"outcome {name!r} is constant ({lab.values[ok][0]}); a continuous outcome must vary"
            raise SchemaError(msg)
    if lab.positive is None:
        lab.positive = _default_phrase(lab)
    return lab


def _float_or_none(value) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def _declared_columns(name: str, spec: dict):
    """The label column(s) of a declared outcome: one column, or the (event, time) pair.

    Tables written before ``Outcome.to_dict()`` was stored whole list every column of the
    outcome table (``["tfs90", "event", "time_days"]``); the survival pair is then the
    ``event``/``time_days`` columns.
    """
    cols = [str(c) for c in spec.get("columns", [name])]
    if spec.get("kind") != "survival":
        return name if name in cols else cols[0]
    if len(cols) > 2 and {"event", "time_days"} <= set(cols):
        return ("event", "time_days")
    return tuple(cols[:2])


def _default_phrase(lab: Labels) -> str:
    """Words naming class 1 when the outcome did not declare them."""
    if lab.kind == "survival":
        return "event"
    if lab.kind == "binary":
        return f"{lab.name} = {lab.positive_class}"
    return ""


def _label_table(index, obs, value, outcome, *, kind, name):
    """The raw label column(s) as a frame indexed like the table; the kind and columns used."""
    cols: list[str] = []
    if isinstance(value, pd.Series):
        lab = value.copy()
        lab.index = lab.index.astype(str)
        missing = index.difference(lab.index)
        if len(missing):
            msg = (
                f"outcome Series has no value for {len(missing)} subject(s) of the table: "
                f"{format_ids(list(missing))}; index it by the table's subject IDs"
            )
            raise SchemaError(msg)
        lab = lab.reindex(index)
        return pd.DataFrame({"y": lab}), kind or _infer_kind(lab, name), name, cols
    if isinstance(value, np.ndarray) and value.dtype.names:
        if len(value) != len(index):
            msg = f"outcome array has {len(value)} rows but the table has {len(index)}"
            raise SchemaError(msg)
        ev, tm = value.dtype.names[:2]
        ytab = pd.DataFrame({"event": value[ev], "time": value[tm]}, index=index)
        return ytab, "survival", f"{ev}/{tm}", [ev, tm]
    if isinstance(value, tuple | list) and len(value) == 2:
        ev = _lookup(obs, value[0], "event")
        tm = _lookup(obs, value[1], "time")
        ytab = pd.DataFrame({"event": ev.to_numpy(), "time": tm.to_numpy()}, index=index)
        if not isinstance(outcome, str):
            name = f"{value[0]}/{value[1]}"
        return ytab, "survival", name, [str(value[0]), str(value[1])]
    if isinstance(value, str):
        lab = _lookup(obs, value, "outcome")
        ytab = pd.DataFrame({"y": lab.to_numpy()}, index=index)
        return ytab, kind or _infer_kind(lab, value), name, [value]
    msg = (
        f"outcome={outcome!r}: give a column name, an (event, time) pair of column names, a "
        "pandas Series indexed by subject, or a structured (event, time) array"
    )
    raise SchemaError(msg)


def _survival_columns(ytab, ok, name, cols) -> tuple[np.ndarray, np.ndarray]:
    ev = pd.to_numeric(ytab["event"], errors="coerce")
    tm = pd.to_numeric(ytab["time"], errors="coerce")
    ev_col, tm_col = cols[:2] if len(cols) >= 2 else ("event", "time")
    bad = ok & ~np.isin(ev.to_numpy(dtype=float), (0.0, 1.0))
    if bad.any():
        shown = format_ids(ytab["event"][bad].astype(str).unique().tolist())
        msg = (
            f"outcome {name!r}: event column {ev_col!r} must hold 0/1 (1 = event), found "
            f"{shown}; recode it"
        )
        raise SchemaError(msg)
    neg = ok & ~(tm.to_numpy(dtype=float) >= 0)
    if neg.any():
        msg = (
            f"outcome {name!r}: time column {tm_col!r} has negative values for subjects "
            f"{format_ids(list(ytab.index[neg]))}; times are days since the time origin"
        )
        raise SchemaError(msg)
    if ev[ok].sum() == 0:
        msg = f"outcome {name!r} has no events among {int(ok.sum())} subjects; nothing to model"
        raise SchemaError(msg)
    return ev.to_numpy(dtype=float), tm.to_numpy(dtype=float)


def prepare(
    table,
    *,
    outcome,
    covariates,
    clinical_baseline,
    assessed_day,
    landmark="auto",
    landmark_time_from="origin",
) -> Data:
    """Validate the inputs and return the engine's arrays (one line errors on bad input)."""
    feats, obs, var, outcomes = _frame_of(table)
    is_frame = var is None
    lab = read_outcome(feats.index, obs, outcome, outcomes)
    name, kind = lab.name, lab.kind
    out_cols = [] if isinstance(outcome, pd.Series | np.ndarray) else lab.columns
    if assessed_day is None:
        assessed_day = lab.assessed_day
    lm = _landmark(table, feats, obs, var, outcome, outcomes, out_cols, assessed_day,
                   landmark=landmark, time_from=landmark_time_from)  # fmt: skip
    lab.ok = ok = lab.ok & lm.keep
    if kind == "survival":
        lab.time = shift_times(lab.time, lm)
    if not ok.any():
        msg = (
            f"outcome {name!r}: no subject is event-free and seen at the landmark day "
            f"{lm.day:g}; use earlier features or landmark=None"
        )
        raise SchemaError(msg)
    if (~ok & lm.keep).any():
        warnings.warn(
            f"outcome {name!r}: {(~ok & lm.keep).sum()} subject(s) without a label were left "
            f"out ({format_ids(list(feats.index[~ok & lm.keep]))})",
            DataQualityWarning,
            stacklevel=3,
        )
    y = lab.y()

    # ---- features
    if is_frame:
        drop = [c for c in out_cols if c in feats.columns]
        feats = feats.drop(columns=drop)
    keep_rows = ok
    extra_names: list[str] = []
    extra_cols: list[np.ndarray] = []
    feature_names = [str(c) for c in feats.columns]

    def resolve(names, what) -> list[int]:
        idx = []
        for c in names:
            c = str(c)
            if c in feature_names:
                idx.append(feature_names.index(c))
            elif c in extra_names:
                idx.append(len(feature_names) + extra_names.index(c))
            elif not is_frame and c in obs.columns:
                design, cols = covariate_design(obs, [c])
                for name in cols:
                    if name not in extra_names:
                        extra_names.append(name)
                        extra_cols.append(design[name].to_numpy(dtype=float))
                    idx.append(len(feature_names) + extra_names.index(name))
            else:
                pool = feature_names + ([] if is_frame else list(obs.columns))
                msg = (
                    f"{what} {c!r} is neither a feature nor an obs column"
                    f"{did_you_mean(c, pool)}; give feature names (e.g. 'clinical:meld@D0')"
                )
                raise SchemaError(msg)
        return idx

    forced = resolve(covariates, "covariate")
    baseline = resolve(clinical_baseline or (), "clinical_baseline")
    non_num = [c for c, dt in feats.dtypes.items() if not pd.api.types.is_numeric_dtype(dt)]
    if non_num:
        c = non_num[0]
        msg = (
            f"feature column {c!r} is not numeric (e.g. {feats[c].dropna().iloc[0]!r}); "
            f"{len(non_num)} such column(s); drop or encode them before discover()"
        )
        raise SchemaError(msg)
    X = feats.to_numpy(dtype=float)
    if extra_cols:
        X = np.hstack([X, np.column_stack(extra_cols)])
    X = X[keep_rows]
    names = feature_names + extra_names
    if X.shape[1] == 0:
        msg = "the table has no feature columns left after removing the outcome"
        raise SchemaError(msg)

    # ---- visit days + leakage
    visit_days = (
        None if is_frame else table.uns.get("feature_table", {}).get("params", {}).get("visit_days")
    )
    days = _feature_days(feature_names, var, visit_days)
    days = np.concatenate([days, np.full(len(extra_names), np.nan)])
    if assessed_day is not None:
        bad = np.flatnonzero(days >= float(assessed_day))
        if bad.size:
            msg = (
                f"{bad.size} feature(s) are measured at or after day {assessed_day}, when outcome "
                f"{name!r} is assessed: {format_ids([names[i] for i in bad])}; drop them (e.g. "
                "keep var['day'] < assessed_day) or choose a later outcome"
            )
            raise LeakageError(msg)

    # per feature: (LOD, log2 offset); the offset lets LOD rules divide the concentration, not
    # its log (cytokine features are stored as log2(x + offset))
    limits = None
    if var is not None and "lod" in var.columns:
        lod = pd.to_numeric(var["lod"], errors="coerce").to_numpy(dtype=float)
        offset = (
            pd.to_numeric(var["log2_offset"], errors="coerce").to_numpy(dtype=float)
            if "log2_offset" in var.columns
            else np.full(len(lod), np.nan)
        )
        limits = np.vstack([np.column_stack([lod, offset]), np.full((len(extra_names), 2), np.nan)])
    subjects = feats.index.astype(str).to_numpy()[keep_rows]
    return Data(
        X=X,
        y=y,
        task=kind,
        features=names,
        subjects=subjects,
        groups=pd.factorize(subjects)[0],
        limits=limits,
        days=days,
        outcome_name=str(name),
        assessed_day=None if assessed_day is None else float(assessed_day),
        forced=forced,
        baseline=baseline,
        var=None if var is None else var.copy(),
        positive_class=lab.positive_class,
        positive=lab.positive,
        definition=lab.definition,
        description=lab.description,
        horizon=lab.horizon,
        landmark=lm,
    )


def _landmark(table, feats, obs, var, outcome, outcomes, out_cols, assessed_day, *, landmark,
              time_from) -> Landmark:  # fmt: skip
    """Resolve the landmark of the features and the population event-free at it."""
    visit_days = None
    if var is not None:
        visit_days = table.uns.get("feature_table", {}).get("params", {}).get("visit_days")
    else:
        feats = feats.drop(columns=[c for c in out_cols if c in feats.columns])
    names = [str(c) for c in feats.columns]
    days = _feature_days(names, var, visit_days)
    day = resolve_landmark(landmark, days, assessed_day=assessed_day, names=names)
    lm = population(obs, feats, days, outcome=outcome, outcomes=outcomes, landmark_day=day,
                    time_from=time_from)  # fmt: skip
    if day is not None:
        r = lm.report.set_index("arm").loc["all"]
        logger.info(
            "landmark day %g (%s): %d of %d subjects event-free and seen at the landmark "
            "(%d event, %d censored, %d without the visit before it)",
            day, lm.report.attrs["source"], r["n_after"], r["n_before"],
            r["event_before_landmark"], r["censored_before_landmark"],
            r["missing_landmark_visit"],
        )  # fmt: skip
    return lm
