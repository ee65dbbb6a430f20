"""Treatment effect below / above each marker's cut point, the cut chosen in training folds."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from biomarkers.models._pred_data import _PredData, fill_censored

__all__: list[str] = []

SUBGROUP_COLUMNS = [
    "marker",
    "subgroup",
    "n",
    "effect",
    "ci_low",
    "ci_high",
    "measure",
    "n_treated",
    "n_control",
    "cut",
    "p_difference",
]
_Z = stats.norm.ppf(0.975)


def out_of_fold_groups(X: np.ndarray, folds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group per subject × marker (0 low, 1 high, -1 missing) and the mean cut over folds.

    The cut of fold ``k`` is the median of the training folds (censored values filled by the
    training range); held-out subjects at or below it are ``low``.
    """
    groups = np.full(X.shape, -1, dtype=np.int8)
    cuts = []
    for k in np.unique(folds):
        te = folds == k
        train, test = fill_censored(X[~te], X[te])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN marker in a fold
            cut = np.nanmedian(train, axis=0)
        cuts.append(cut)
        g = np.where(test > cut, 1, 0).astype(np.int8)
        groups[te] = np.where(np.isnan(test) | np.isnan(cut), -1, g)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_cut = np.nanmean(np.vstack(cuts), axis=0)
    return groups, mean_cut


def _binary_effects(y, arm, member):
    """Risk difference and odds ratio (treated vs control) per column of ``member`` (n × m)."""
    m1 = member & (arm[:, None] == 1)
    m0 = member & (arm[:, None] == 0)
    n1, n0 = m1.sum(0).astype(float), m0.sum(0).astype(float)
    e1, e0 = (m1 * y[:, None]).sum(0), (m0 * y[:, None]).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p0 = e1 / n1, e0 / n0
        rd = p1 - p0
        se_rd = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
        zero = (e1 == 0) | (e0 == 0) | (e1 == n1) | (e0 == n0)
        c = np.where(zero, 0.5, 0.0)  # Haldane–Anscombe correction only where a cell is empty
        a, b, cc, d = e1 + c, n1 - e1 + c, e0 + c, n0 - e0 + c
        log_or = np.log(a * d / (b * cc))
        se_or = np.sqrt(1 / a + 1 / b + 1 / cc + 1 / d)
    return [
        ("risk difference", rd, se_rd, False, n1, n0, _Z),
        ("odds ratio", log_or, se_or, True, n1, n0, _Z),
    ]


def _continuous_effects(y, arm, member):
    m1 = member & (arm[:, None] == 1)
    m0 = member & (arm[:, None] == 0)
    n1, n0 = m1.sum(0).astype(float), m0.sum(0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean1 = (m1 * y[:, None]).sum(0) / n1
        mean0 = (m0 * y[:, None]).sum(0) / n0
        var1 = (m1 * (y[:, None] - mean1) ** 2).sum(0) / (n1 - 1)
        var0 = (m0 * (y[:, None] - mean0) ** 2).sum(0) / (n0 - 1)
        v1, v0 = var1 / n1, var0 / n0
        se = np.sqrt(v1 + v0)
        df = (v1 + v0) ** 2 / (v1**2 / (n1 - 1) + v0**2 / (n0 - 1))  # Welch–Satterthwaite
    quant = stats.t.ppf(0.975, np.where(np.isfinite(df) & (df > 0), df, np.nan))
    return [("mean difference", mean1 - mean0, se, False, n1, n0, quant)]


def _cox_arm(time, event, arm):
    """Log hazard ratio (treated vs control) and its SE from a Cox model with arm only."""
    from biomarkers.models._pred_cox import cox_efron

    if arm.sum() < 2 or (1 - arm).sum() < 2 or event.sum() < 2:
        return np.nan, np.nan
    params, cov, converged = cox_efron(time, event, arm[:, None].astype(float))
    b, se = float(params[0]), float(np.sqrt(cov[0, 0]))
    if not (converged and np.isfinite(b) and np.isfinite(se)) or abs(b) > 15:
        return np.nan, np.nan
    return b, se


def _survival_effects(time, event, arm, member):
    est, ses = [], []
    for j in range(member.shape[1]):
        sel = member[:, j]
        b, se = _cox_arm(time[sel], event[sel], arm[sel])
        est.append(b)
        ses.append(se)
    n1 = (member & (arm[:, None] == 1)).sum(0).astype(float)
    n0 = (member & (arm[:, None] == 0)).sum(0).astype(float)
    return [("hazard ratio", np.array(est), np.array(ses), True, n1, n0, _Z)]


def _effects(data: _PredData, member: np.ndarray):
    if data.kind == "binary":
        return _binary_effects(data.y, data.arm, member)
    if data.kind == "continuous":
        return _continuous_effects(data.y, data.arm, member)
    return _survival_effects(data.y, data.event, data.arm, member)


def _rows(marker, subgroup, spec, cut, p_diff):
    measure, est, se, log_scale, n1, n0, quant = spec
    lo, hi = est - quant * se, est + quant * se
    if log_scale:
        est, lo, hi = np.exp(est), np.exp(lo), np.exp(hi)
    return pd.DataFrame(
        {
            "marker": marker,
            "subgroup": subgroup,
            "n": (n1 + n0).astype(int),
            "effect": est,
            "ci_low": lo,
            "ci_high": hi,
            "measure": measure,
            "n_treated": n1.astype(int),
            "n_control": n0.astype(int),
            "cut": cut,
            "p_difference": p_diff,
        }
    )


def subgroup_table(data: _PredData, folds: np.ndarray) -> pd.DataFrame:
    """Forest-plot-ready table: overall effect, then low / high subgroup effects per marker."""
    groups, cuts = out_of_fold_groups(data.X, folds)
    names = np.array(data.marker_names, dtype=object)
    overall = _effects(data, np.ones((data.y.size, 1), dtype=bool))
    low = _effects(data, groups == 0)
    high = _effects(data, groups == 1)
    frames = []
    for spec_all, spec_low, spec_high in zip(overall, low, high, strict=True):
        frames.append(_rows(np.array(["(all subjects)"]), "all", spec_all, np.nan, np.nan))
        with np.errstate(divide="ignore", invalid="ignore"):
            diff = (spec_high[1] - spec_low[1]) / np.sqrt(spec_high[2] ** 2 + spec_low[2] ** 2)
            p_diff = 2 * stats.norm.sf(np.abs(diff))
        frames.append(_rows(names, "low", spec_low, cuts, p_diff))
        frames.append(_rows(names, "high", spec_high, cuts, p_diff))
    df = pd.concat(frames, ignore_index=True)
    order = {"all": 0, "low": 1, "high": 2}
    marker_rank = {"(all subjects)": -1} | {m: i for i, m in enumerate(data.marker_names)}
    df = df.assign(
        _m=df["marker"].map(marker_rank),
        _s=df["subgroup"].map(order),
        _q=pd.Categorical(df["measure"], categories=pd.unique(df["measure"])).codes,
    )
    df = df.sort_values(["_m", "_q", "_s"], kind="stable").drop(columns=["_m", "_s", "_q"])
    return df.reset_index(drop=True)[SUBGROUP_COLUMNS]
