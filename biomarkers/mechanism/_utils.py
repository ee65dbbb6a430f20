"""Private helpers shared by the mechanism analyses (mixed models, input coercion)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._validation import check_columns, did_you_mean, format_ids
from biomarkers.exceptions import SchemaError
from biomarkers.io._visits import visit_order  # noqa: F401 (the mechanism modules import it from here)

__all__: list[str] = []

Z_975 = 1.959963984540054  # scipy.stats.norm.ppf(0.975)


def as_list(value: Any) -> list:
    """Wrap a scalar in a list; leave sequences (not strings) as lists."""
    if value is None:
        return []
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray | pd.Index):
        return [value]
    return list(value)


def join_design(
    obs: pd.DataFrame,
    design_table: pd.DataFrame | None,
    *,
    key: str,
    needed: Sequence[str],
    source: str,
    alt_key: str | None = "subject_id",
) -> pd.DataFrame:
    """Add the ``needed`` columns missing from ``obs`` by joining ``design_table`` on ``key``.

    A table keyed by ``alt_key`` (a column, or the index name) instead is joined on that
    column of ``obs`` — so a per-subject clinical table can supply the arm.
    """
    missing = [c for c in needed if c not in obs.columns]
    if not missing or design_table is None:
        return obs
    table = design_table
    subject_key = alt_key
    if (
        key not in table.columns
        and table.index.name != key
        and subject_key
        and (subject_key in table.columns or table.index.name == subject_key)
    ):
        # a per-subject table (e.g. the clinical table indexed by subject_id): join on subject
        key = subject_key
    if key not in table.columns:
        table = table.rename_axis(key).reset_index()
    check_columns(obs, [key], source=source, hint=f"add {key!r} to join design_table")
    usable = [c for c in missing if c in table.columns]
    if not usable:
        return obs
    table = table.drop_duplicates(key).set_index(key)[usable]
    keys = obs[key].astype(str)
    table.index = table.index.astype(str)
    unmatched = sorted(set(keys) - set(table.index))
    if unmatched:
        msg = (
            f"{source}: {len(unmatched)} {key} value(s) not found in design_table: "
            f"{format_ids(unmatched)}; add them to design_table"
        )
        raise SchemaError(msg)
    out = obs.copy()
    for col in usable:
        out[col] = table.loc[keys, col].to_numpy()
    return out


@dataclass
class LinearCombination:
    """One linear combination of the fixed effects of a fitted model."""

    estimate: float
    se: float
    pvalue: float

    @property
    def ci(self) -> tuple[float, float]:
        return self.estimate - Z_975 * self.se, self.estimate + Z_975 * self.se


def arm_visit_design(
    data: pd.DataFrame,
    *,
    arm_col: str,
    visit_col: str,
    treated: str,
    visits: Sequence[str],
    reference_visit: str,
    covariates: Sequence[str] = (),
) -> pd.DataFrame:
    """Fixed-effects design ``1 + arm + visit + arm:visit + covariates`` with readable names.

    Treatment coding: the control arm and ``reference_visit`` are the reference levels;
    categorical covariates are dummy coded (first level dropped), numeric ones enter as is.
    """
    n = len(data)
    cols: dict[str, np.ndarray] = {"Intercept": np.ones(n)}
    is_treated = (data[arm_col].astype(str) == str(treated)).to_numpy(float)
    cols[f"arm[{treated}]"] = is_treated
    visit = data[visit_col].astype(str).to_numpy()
    others = [v for v in visits if v != reference_visit]
    for v in others:
        cols[f"visit[{v}]"] = (visit == v).astype(float)
    for v in others:
        cols[f"arm[{treated}]:visit[{v}]"] = is_treated * (visit == v)
    for cov in covariates:
        values = data[cov]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            cols[cov] = values.to_numpy(float)
        else:
            dummies = pd.get_dummies(values.astype(str), prefix=cov, prefix_sep="[", dtype=float)
            for name in list(dummies.columns)[1:]:
                cols[f"{name}]"] = dummies[name].to_numpy()
    return pd.DataFrame(cols, index=data.index)


def fit_mixedlm(y: np.ndarray, exog: pd.DataFrame, groups: np.ndarray) -> tuple[Any, list[str]]:
    """Fit a random-intercept MixedLM (REML, statsmodels defaults); return result and warnings."""
    from statsmodels.regression.mixed_linear_model import MixedLM

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = MixedLM(np.asarray(y, float), exog, groups=np.asarray(groups))
        result = model.fit(reml=True)
    messages = sorted({str(w.message).splitlines()[0] for w in caught})
    return result, messages


def combination(result: Any, weights: np.ndarray) -> LinearCombination:
    """Estimate, SE and two-sided Wald p-value of ``weights @ fe_params`` (normal reference)."""
    from scipy import stats

    k = len(result.fe_params)
    cov = np.asarray(result.cov_params())[:k, :k]
    w = np.asarray(weights, float)
    est = float(w @ np.asarray(result.fe_params))
    var = float(w @ cov @ w)
    se = float(np.sqrt(var)) if var > 0 else np.nan
    p = float(2 * stats.norm.sf(abs(est / se))) if np.isfinite(se) and se > 0 else np.nan
    return LinearCombination(est, se, p)


def check_levels(data: pd.DataFrame, column: str, levels: Sequence[str], *, source: str) -> None:
    """Raise :class:`SchemaError` when one of ``levels`` never occurs in ``data[column]``."""
    present = set(data[column].astype(str))
    for level in levels:
        if str(level) not in present:
            msg = (
                f"{source}: {column} level {level!r} not found{did_you_mean(str(level), present)}; "
                f"present: {format_ids(sorted(present))}"
            )
            raise SchemaError(msg)


def resolve_treated(
    data: pd.DataFrame,
    arm_col: str,
    treated: str | None,
    *,
    source: str,
    control: str | None = None,
) -> tuple[str, str]:
    """Return ``(treated, control)`` arm labels.

    With both labels given, other arms may be present (callers keep these two); otherwise the
    column must hold exactly two arms, and the treated one defaults to the arm whose label
    names the cell therapy (``MSC``).
    """
    arms = sorted(data[arm_col].dropna().astype(str).unique())
    for label, what in ((treated, "treated"), (control, "control")):
        if label is not None and str(label) not in arms:
            msg = (
                f"{source}: {what} arm {label!r} not found in {arm_col!r}"
                f"{did_you_mean(str(label), arms)}; arms: {format_ids(arms)}"
            )
            raise SchemaError(msg)
    if treated is not None and control is not None:
        return str(treated), str(control)
    if len(arms) != 2:
        msg = (
            f"{source}: column {arm_col!r} must hold exactly 2 arms, found {len(arms)}: "
            f"{format_ids(arms)}; pass treated_arm= and control_arm= or subset the data"
        )
        raise SchemaError(msg)
    if treated is None and control is not None:
        treated = next(a for a in arms if a != str(control))
    if treated is None:
        # the simulated trial's convention: the arm whose label names the cell therapy
        msc = [a for a in arms if "MSC" in a.upper()]
        treated = msc[0] if len(msc) == 1 else arms[1]
    return str(treated), next(a for a in arms if a != str(treated))
