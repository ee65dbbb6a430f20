"""Private: the arm × visit random-intercept mixed model shared by composition and trajectories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from biomarkers.mechanism._utils import arm_visit_design, combination, fit_mixedlm

__all__: list[str] = []


def fit_arm_visit(
    data: pd.DataFrame,
    *,
    value: str,
    subject: str,
    arm: str | None,
    visit: str,
    treated: str | None,
    control: str | None,
    visits: Sequence[str],
    reference_visit: str,
    covariates: Sequence[str] = (),
    arm_differences: bool = True,
    means: bool = False,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Fit ``value ~ arm * visit + covariates + (1 | subject)`` and report linear combinations.

    Returns ``(terms, means)``: ``terms`` rows with ``term`` ∈ ``change`` (visit vs reference
    within an arm), ``difference`` (difference of changes, treated − control) and
    ``arm_difference`` (treated − control at a visit); ``means`` rows with the model-based
    mean of each arm × visit (covariates at their sample average).
    With ``arm=None`` the model is ``value ~ visit + covariates + (1 | subject)`` and only the
    changes are reported (``arm`` column = ``"all"``).
    """
    data = data.loc[np.isfinite(data[value].to_numpy(float))]
    present = set(data[visit].astype(str))
    visits = [v for v in visits if v in present]
    if arm is None:
        data = data.assign(_arm="all")
        arm, treated_label, single = "_arm", "all", True
    else:
        treated_label, single = str(treated), False
    exog = arm_visit_design(
        data,
        arm_col=arm,
        visit_col=visit,
        treated=treated_label,
        visits=visits,
        reference_visit=reference_visit,
        covariates=covariates,
    )
    if single:
        exog = exog.drop(columns=[c for c in exog.columns if c.startswith("arm[")])
    # drop all-zero columns (a visit absent in one arm) so the model stays estimable
    exog = exog.loc[:, (exog != 0).any(axis=0) | (exog.columns == "Intercept")]
    base = {
        "n_obs": len(data),
        "n_subjects": int(data[subject].nunique()),
    }
    cols = list(exog.columns)
    others = [v for v in visits if v != reference_visit]
    result, warns, fit_error = None, [], ""
    if len(data) <= len(cols) or data[subject].nunique() < 2:
        fit_error = f"too few observations to fit ({len(data)} rows, {len(cols)} fixed effects)"
    else:
        try:
            result, warns = fit_mixedlm(data[value].to_numpy(float), exog, data[subject].to_numpy())
        except (np.linalg.LinAlgError, ValueError) as err:
            fit_error = str(err).splitlines()[0]
    base["converged"] = bool(result is not None and result.converged and not fit_error)
    base["fit_warning"] = fit_error or (warns[0] if warns else "")

    def weights(**named: float) -> np.ndarray:
        w = np.zeros(len(cols))
        for name, val in named.items():
            if name not in cols:
                return np.full(len(cols), np.nan)
            w[cols.index(name)] += val
        return w

    arm_col = f"arm[{treated_label}]"
    combos: list[tuple[dict[str, Any], np.ndarray]] = []
    arms = [(treated_label, True)] if single else [(str(treated), True), (str(control), False)]
    for v in others:
        for label, is_t in arms:
            named = {f"visit[{v}]": 1.0}
            if is_t and not single:
                named[f"{arm_col}:visit[{v}]"] = 1.0
            combos.append(({"term": "change", "visit": v, "arm": label}, weights(**named)))
        if not single:
            combos.append(
                (
                    {"term": "difference", "visit": v, "arm": f"{treated} − {control}"},
                    weights(**{f"{arm_col}:visit[{v}]": 1.0}),
                )
            )
    if arm_differences and not single:
        for v in visits:
            named = {arm_col: 1.0}
            if v != reference_visit:
                named[f"{arm_col}:visit[{v}]"] = 1.0
            combos.append(
                ({"term": "arm_difference", "visit": v, "arm": f"{treated} − {control}"},
                 weights(**named))
            )  # fmt: skip
    rows = []
    for info, w in combos:
        rows.append({**info, **_estimate(result, w), **base})
    mean_rows = []
    if means:
        cov_mean = exog.mean(axis=0)
        for label, is_t in arms:
            for v in visits:
                w = np.zeros(len(cols))
                for i, c in enumerate(cols):
                    if c == "Intercept":
                        w[i] = 1.0
                    elif c == arm_col:
                        w[i] = float(is_t)
                    elif c == f"visit[{v}]":
                        w[i] = 1.0
                    elif c == f"{arm_col}:visit[{v}]":
                        w[i] = float(is_t)
                    elif not (c.startswith("visit[") or c.startswith(f"{arm_col}:")):
                        w[i] = cov_mean[c]
                n = int(
                    (
                        (data[visit].astype(str) == v)
                        & (data[arm].astype(str) == label if not single else True)
                    ).sum()
                )
                mean_rows.append(
                    {"group": label, "visit": v, **_estimate(result, w, pvalue=False), "n": n}
                )
    return rows, mean_rows


def _estimate(result: Any, w: np.ndarray, *, pvalue: bool = True) -> dict[str, float]:
    if result is None or not np.all(np.isfinite(w)):
        out = {"effect": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    else:
        lc = combination(result, w)
        low, high = lc.ci
        out = {"effect": lc.estimate, "se": lc.se, "ci_low": low, "ci_high": high}
        if pvalue:
            out["pvalue"] = lc.pvalue
        return out
    if pvalue:
        out["pvalue"] = np.nan
    return out
