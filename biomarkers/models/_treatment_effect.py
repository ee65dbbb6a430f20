"""treatment_effect(): the overall effect of treatment on the primary outcome, with CIs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from biomarkers._stats import wilson_interval
from biomarkers._validation import did_you_mean, format_ids
from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.models._inputs import _frame_of, read_outcome
from biomarkers.models._pred_cox import cox_efron

__all__ = ["treatment_effect"]

COLUMNS = [
    "outcome", "kind", "measure", "estimate", "ci_low", "ci_high", "p_value", "method",
    "treated", "control", "n_treated", "n_control", "events_treated", "events_control",
    "value_treated", "value_control", "positive",
]  # fmt: skip


def _side(labels: Sequence[str] | str | None) -> list[str]:
    if labels is None:
        return []
    return [str(labels)] if isinstance(labels, str) else [str(v) for v in labels]


def _treatment_codes(obs, *, arm, treated, control, treatment) -> tuple[np.ndarray, str, str]:
    """1 treated / 0 control / NaN outside the comparison; the two sides' labels."""
    if treatment is not None:
        if isinstance(treatment, str):
            treatment = obs[treatment]
        t = pd.Series(treatment)
        t = t.reindex(obs.index) if isinstance(treatment, pd.Series) else t.set_axis(obs.index)
        codes = pd.to_numeric(t, errors="coerce").to_numpy(dtype=float)
        if not np.isin(codes[~np.isnan(codes)], (0.0, 1.0)).all():
            msg = "treatment_effect: treatment= must hold 1 (treated), 0 (control) or NaN"
            raise SchemaError(msg)
        return (
            codes,
            " + ".join(_side(treated)) or "treated",
            " + ".join(_side(control)) or "control",
        )
    if arm not in obs.columns:
        msg = (
            f"treatment_effect: arm column {arm!r} not found{did_you_mean(arm, obs.columns)}; "
            "pass arm= (the column of arm labels) or treatment= (1/0 per subject)"
        )
        raise SchemaError(msg)
    labels = obs[arm].astype(str).where(obs[arm].notna())
    present = sorted(labels.dropna().unique())
    t_side = _side(treated)
    if not t_side:
        msg = f"treatment_effect: name the treated arm(s) with treated=; arms present: {format_ids(present)}"
        raise ConfigError(msg)
    c_side = _side(control) or [a for a in present if a not in t_side]
    for a in [*t_side, *c_side]:
        if a not in present:
            msg = (
                f"treatment_effect: arm {a!r} not found in column {arm!r}"
                f"{did_you_mean(a, present)}; arms present: {format_ids(present)}"
            )
            raise SchemaError(msg)
    codes = np.where(labels.isin(t_side), 1.0, np.where(labels.isin(c_side), 0.0, np.nan))
    return codes, " + ".join(t_side), " + ".join(c_side)


def newcombe_difference(k1: int, n1: int, k0: int, n0: int, *, z: float) -> tuple[float, float]:
    """Newcombe's hybrid score interval of ``k1/n1 - k0/n0`` (Wilson limits of each arm)."""
    p1, p0 = k1 / n1, k0 / n0
    l1, u1 = wilson_interval(k1, n1, z=z)
    l0, u0 = wilson_interval(k0, n0, z=z)
    d = p1 - p0
    return d - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2), d + np.sqrt(
        (u1 - p1) ** 2 + (p0 - l0) ** 2
    )


def _binary_rows(y, t, z) -> list[dict[str, Any]]:
    k1, n1 = int(y[t == 1].sum()), int((t == 1).sum())
    k0, n0 = int(y[t == 0].sum()), int((t == 0).sum())
    lo, hi = newcombe_difference(k1, n1, k0, n0, z=z)
    table = np.array([[k1, n1 - k1], [k0, n0 - k0]], dtype=float)
    chi2 = (
        stats.chi2_contingency(table, correction=False)[1] if (table.sum(0) > 0).all() else np.nan
    )
    base = {
        "events_treated": k1,
        "events_control": k0,
        "value_treated": k1 / n1,
        "value_control": k0 / n0,
    }
    corrected = table + 0.5 if (table == 0).any() else table  # Haldane–Anscombe for an empty cell
    a, b, c, d = corrected.ravel()
    log_or = np.log(a * d / (b * c))
    se = np.sqrt((1 / corrected).sum())
    return [
        {**base, "measure": "risk_difference", "estimate": k1 / n1 - k0 / n0, "ci_low": lo,
         "ci_high": hi, "p_value": chi2, "method": "Newcombe hybrid score CI; Pearson chi-square p"},
        {**base, "measure": "odds_ratio", "estimate": float(np.exp(log_or)),
         "ci_low": float(np.exp(log_or - z * se)), "ci_high": float(np.exp(log_or + z * se)),
         "p_value": float(2 * stats.norm.sf(abs(log_or / se))),
         "method": "Woolf (log) CI" + (", 0.5 added to every cell" if corrected is not table else "")},
    ]  # fmt: skip


def _continuous_rows(y, t, level) -> list[dict[str, Any]]:
    y1, y0 = y[t == 1], y[t == 0]
    v1, v0 = y1.var(ddof=1) / y1.size, y0.var(ddof=1) / y0.size
    diff, se = y1.mean() - y0.mean(), np.sqrt(v1 + v0)
    df = (v1 + v0) ** 2 / (v1**2 / (y1.size - 1) + v0**2 / (y0.size - 1))
    q = stats.t.ppf(0.5 + level / 2, df)
    return [
        {"measure": "mean_difference", "estimate": float(diff), "ci_low": float(diff - q * se),
         "ci_high": float(diff + q * se), "p_value": float(2 * stats.t.sf(abs(diff / se), df)),
         "method": f"Welch t (df = {df:.1f})", "value_treated": float(y1.mean()),
         "value_control": float(y0.mean())},
    ]  # fmt: skip


def km_at(time, event, horizon: float) -> tuple[float, float]:
    """Kaplan–Meier survival at ``horizon`` and its Greenwood standard error."""
    s, var_sum = 1.0, 0.0
    for u in np.unique(time[(event == 1) & (time <= horizon)]):
        at_risk = np.sum(time >= u)
        d = np.sum((time == u) & (event == 1))
        s *= 1 - d / at_risk
        var_sum += d / (at_risk * (at_risk - d)) if at_risk > d else np.inf
    return float(s), float(s * np.sqrt(var_sum)) if np.isfinite(var_sum) else float("nan")


def _survival_rows(time, event, t, z, horizon) -> list[dict[str, Any]]:
    beta, cov, converged = cox_efron(time, event, t[:, None].astype(float))
    b, se = float(beta[0]), float(np.sqrt(cov[0, 0]))
    base = {"events_treated": int(event[t == 1].sum()), "events_control": int(event[t == 0].sum())}
    rows = [
        {**base, "measure": "hazard_ratio", "estimate": float(np.exp(b)),
         "ci_low": float(np.exp(b - z * se)), "ci_high": float(np.exp(b + z * se)),
         "p_value": float(2 * stats.norm.sf(abs(b / se))),
         "method": "Cox proportional hazards, Efron ties, Wald CI"
         + ("" if converged else " (did not converge)")},
    ]  # fmt: skip
    if horizon is not None:
        s1, se1 = km_at(time[t == 1], event[t == 1], horizon)
        s0, se0 = km_at(time[t == 0], event[t == 0], horizon)
        d, sd = s1 - s0, float(np.hypot(se1, se0))
        rows.append(
            {**base, "measure": f"survival_difference_day_{horizon:g}", "estimate": d,
             "ci_low": d - z * sd, "ci_high": d + z * sd,
             "p_value": float(2 * stats.norm.sf(abs(d / sd))) if sd > 0 else float("nan"),
             "method": "Kaplan–Meier, Greenwood SE, Wald CI", "value_treated": s1,
             "value_control": s0}
        )  # fmt: skip
    return rows


def treatment_effect(
    table,
    *,
    outcome,
    arm: str = "arm",
    treated: str | Sequence[str] | None = None,
    control: str | Sequence[str] | None = None,
    treatment: pd.Series | np.ndarray | str | None = None,
    horizon: float | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Overall effect of treatment on an outcome, before any marker analysis.

    Binary outcomes: risk difference (class 1 = the event / the declared ``positive`` value;
    Newcombe's hybrid score CI, Pearson chi-square p) and odds ratio (Woolf CI; 0.5 added to
    every cell when one is empty). Survival: hazard ratio (Cox, Efron ties, Wald CI) and, with
    ``horizon``, the difference in Kaplan–Meier survival at that day (Greenwood SE).
    Continuous: difference in means (Welch CI and p).

    Parameters
    ----------
    table
        FeatureTable (AnnData; outcome and arm columns in ``obs``, definitions in
        ``uns["outcomes"]``) or a DataFrame indexed by subject (e.g. ``study.clinical`` joined
        with an outcome table).
    outcome
        A :class:`biomarkers.clinical.Outcome` (its table is joined to ``table`` by subject),
        a name in ``uns["outcomes"]``, a column, or an ``(event, time)`` pair of columns.
    arm
        Column of arm labels (ignored with ``treatment=``).
    treated, control
        Arm label(s) of each side (several are pooled); ``control`` defaults to every other arm.
        With ``treatment=`` they only name the sides in the output.
    treatment
        1 (treated) / 0 (control) / NaN (outside the comparison) per subject, e.g.
        ``study.treatment``; a Series (aligned by subject), an array or an ``obs`` column.
    horizon
        Day of the Kaplan–Meier survival difference (survival outcomes).
    level
        Confidence level of every interval.

    Returns
    -------
    pandas.DataFrame
        One row per effect measure: ``outcome, kind, measure`` (``risk_difference``,
        ``odds_ratio``, ``hazard_ratio``, ``survival_difference_day_H``, ``mean_difference``),
        ``estimate, ci_low, ci_high, p_value, method, treated, control, n_treated, n_control,
        events_treated, events_control`` (subjects with class 1 / the event), ``value_treated,
        value_control`` (risk, KM survival or mean per arm) and ``positive`` (the words naming
        class 1). Subjects without a label or outside the comparison are left out.

    Raises
    ------
    SchemaError
        Missing columns, an arm not in the data, an arm without subjects.
    ConfigError
        No treated arm named.

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.models import treatment_effect
    >>> df = pd.DataFrame({"arm": ["T"] * 4 + ["C"] * 4, "dead": [1, 0, 0, 0, 1, 1, 0, 0]},
    ...                   index=[f"s{i}" for i in range(8)])
    >>> te = treatment_effect(df, outcome="dead", treated="T")
    >>> row = te.iloc[0]
    >>> row["measure"], float(row["estimate"]), int(row["n_treated"]), int(row["events_control"])
    ('risk_difference', -0.25, 4, 2)
    """
    if not 0 < float(level) < 1:
        msg = f"treatment_effect: level={level!r} must be between 0 and 1, e.g. 0.95"
        raise ConfigError(msg)
    z = float(stats.norm.ppf(0.5 + level / 2))
    if hasattr(outcome, "to_dict") and hasattr(outcome, "table"):
        table, outcomes, outcome = _join_outcome(table, outcome)
        feats_index = table.index
        obs = table
    else:
        feats, obs, _, outcomes = _frame_of(table)
        feats_index = feats.index
        obs = obs.set_axis(feats_index, axis=0)
    lab = read_outcome(feats_index, obs, outcome, outcomes)
    t, t_name, c_name = _treatment_codes(
        obs, arm=arm, treated=treated, control=control, treatment=treatment
    )
    keep = lab.ok & ~np.isnan(t)
    t = t[keep].astype(int)
    n1, n0 = int(t.sum()), int((1 - t).sum())
    if min(n1, n0) == 0:
        msg = (
            f"treatment_effect: {n1} treated and {n0} control subjects have a known outcome; "
            "both sides need subjects"
        )
        raise SchemaError(msg)
    if lab.kind == "binary":
        rows = _binary_rows(lab.values[keep], t, z)
    elif lab.kind == "continuous":
        rows = _continuous_rows(lab.values[keep], t, level)
    else:
        h = horizon if horizon is not None else lab.horizon
        rows = _survival_rows(lab.time[keep], lab.event[keep].astype(int), t, z, h)
    common = {"outcome": lab.name, "kind": lab.kind, "treated": t_name, "control": c_name,
              "n_treated": n1, "n_control": n0, "positive": lab.positive}  # fmt: skip
    return pd.DataFrame([{**common, **r} for r in rows], columns=COLUMNS)


def _join_outcome(table, outcome) -> tuple[pd.DataFrame, dict, str]:
    """Subjects' columns with the Outcome's table joined, its metadata and its name."""
    _, obs, _, _ = _frame_of(table)
    labels = outcome.table.copy()
    labels.index = labels.index.astype(str)
    obs = obs.drop(columns=[c for c in labels.columns if c in obs.columns])
    obs.index = obs.index.astype(str)
    return obs.join(labels, how="left"), {outcome.name: outcome.to_dict()}, outcome.name
