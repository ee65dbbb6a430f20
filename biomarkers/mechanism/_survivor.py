"""Subjects left per arm and visit, and an arm comparison that does not condition on survival.

Shared by :func:`~biomarkers.mechanism.trajectories` and
:func:`~biomarkers.mechanism.composition_change` (internal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from biomarkers.exceptions import SchemaError

__all__: list[str] = []

COUNT_COLUMNS = ["feature", "visit", "n_treated", "n_control"]
SURVIVOR_COLUMNS = [
    "feature",
    "visit",
    "n_treated_baseline",
    "n_control_baseline",
    "n_treated",
    "n_control",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "estimate_ipw",
    "se_ipw",
    "ci_low_ipw",
    "ci_high_ipw",
    "max_weight",
]
_Z = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class Design:
    """Column names and arm labels of a long table (one row per subject × visit × feature)."""

    feature: str
    subject: str
    visit: str
    arm: str
    treated: str
    control: str


def visit_counts(long: pd.DataFrame, d: Design, visits: Sequence[str]) -> pd.DataFrame:
    """Subjects with a value per feature × visit × arm: ``feature, visit, n_treated, n_control``."""
    seen = long.dropna(subset=["value"]).drop_duplicates([d.feature, d.visit, d.subject])
    arm = seen[d.arm].astype(str)
    tab = (
        pd.DataFrame(
            {
                "feature": seen[d.feature].astype(str),
                "visit": seen[d.visit].astype(str),
                "n_treated": (arm == d.treated).astype(int),
                "n_control": (arm == d.control).astype(int),
            }
        )
        .groupby(["feature", "visit"], sort=False)
        .sum()
        .reset_index()
    )
    order = {v: i for i, v in enumerate(visits)}
    tab = tab.assign(_o=tab["visit"].map(order)).sort_values(["feature", "_o"], kind="stable")
    return tab.drop(columns="_o").reset_index(drop=True)[COUNT_COLUMNS]


def survivor_aware(
    long: pd.DataFrame,
    d: Design,
    *,
    reference_visit: str,
    visits: Sequence[str],
    covariates: Sequence[str] = (),
    truncate: float = 0.05,
) -> pd.DataFrame:
    """Arm difference at each visit among survivors and re-weighted to everybody at baseline.

    Population: the subjects with a value at ``reference_visit``. ``estimate`` is the
    treated − control difference of mean values among those still sampled at the visit
    (survivor-only, Welch SE); ``estimate_ipw`` weights each sampled subject by the inverse of
    their probability of being alive and sampled at the visit, estimated within each arm by a
    logistic regression (ridge, ``C=1``, standardised inputs) on the baseline value of the
    feature and ``covariates`` (their reference-visit values). Probabilities are truncated
    below at ``truncate`` and weights stabilised (arm's share sampled / probability); the SE
    is the Hajek sandwich without the weight-model term. Without missing subjects both
    estimates are equal.
    """
    rows = []
    for feature, df in long.groupby(d.feature, sort=False):
        wide = _wide(df, d, covariates)
        if reference_visit not in wide:
            continue
        base = wide[reference_visit]
        ok = base["value"].notna() & base[list(covariates)].notna().all(axis=1)
        base = base[ok]
        for visit in visits:
            if visit == reference_visit or visit not in wide:
                continue
            y = wide[visit]["value"].reindex(base.index)
            rows.append({"feature": feature, "visit": visit, **_compare(base, y, d, covariates,
                                                                       truncate)})  # fmt: skip
    return pd.DataFrame(rows, columns=SURVIVOR_COLUMNS)


def _wide(df: pd.DataFrame, d: Design, covariates: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Per visit: one row per subject (``value``, arm and covariates), indexed by subject."""
    out = {}
    for visit, part in df.groupby(d.visit, sort=False):
        part = part.groupby(d.subject, sort=False).agg(
            value=("value", "mean"), arm=(d.arm, "first"),
            **{c: (c, "first") for c in covariates},
        )  # fmt: skip
        for c in covariates:
            num = pd.to_numeric(part[c], errors="coerce")
            if num.isna().all() and part[c].notna().any():
                msg = (
                    f"ipw_covariates: column {c!r} is not numeric (e.g. "
                    f"{part[c].dropna().iloc[0]!r}); encode it as numbers"
                )
                raise SchemaError(msg)
            part[c] = num
        out[str(visit)] = part
    return out


def _compare(base, y, d, covariates, truncate) -> dict:
    res: dict = {}
    means, max_w = {}, []
    for side, label in (("treated", d.treated), ("control", d.control)):
        arm = (base["arm"].astype(str) == label).to_numpy()
        seen = arm & y.notna().to_numpy()
        res[f"n_{side}_baseline"] = int(arm.sum())
        res[f"n_{side}"] = int(seen.sum())
        Z = base[["value", *covariates]].to_numpy(dtype=float)[arm]
        w = _weights(Z, seen[arm], truncate)
        yy = y.to_numpy(dtype=float)[seen]
        means[side] = (_mean(yy, np.ones_like(yy)), _mean(yy, w))
        max_w.append(w.max() if w.size else np.nan)
    res["max_weight"] = float(np.nanmax(max_w)) if np.isfinite(max_w).any() else np.nan
    for k, suffix in ((0, ""), (1, "_ipw")):
        (mt, vt), (mc, vc) = means["treated"][k], means["control"][k]
        est, se = mt - mc, float(np.sqrt(vt + vc))
        res.update({f"estimate{suffix}": est, f"se{suffix}": se,
                    f"ci_low{suffix}": est - _Z * se, f"ci_high{suffix}": est + _Z * se})  # fmt: skip
    return res


def _weights(Z: np.ndarray, seen: np.ndarray, truncate: float) -> np.ndarray:
    """Stabilised inverse-probability weights of the sampled rows (1 when all are sampled)."""
    n_seen = int(seen.sum())
    if n_seen == 0:
        return np.empty(0)
    if n_seen == seen.size:
        return np.ones(n_seen)
    from sklearn.linear_model import LogisticRegression

    sd = Z.std(axis=0)
    Zs = (Z - Z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    p = LogisticRegression(C=1.0).fit(Zs, seen.astype(int)).predict_proba(Zs)[:, 1]
    p = np.clip(p, truncate, 1.0)
    return (n_seen / seen.size) / p[seen]


def _mean(y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted (Hajek) mean and its sandwich variance; NaN with fewer than 2 values."""
    if y.size < 2:
        return np.nan, np.nan
    mu = float(np.sum(w * y) / np.sum(w))
    # with w = 1 this is the Welch variance of a mean, s² / n
    var = float(np.sum(w**2 * (y - mu) ** 2) / np.sum(w) ** 2)
    return mu, var * y.size / (y.size - 1)
