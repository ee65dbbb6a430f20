"""Vectorised univariate statistics: one pass over all features, no Python loop over columns."""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["univariate_tests"]


def _run_lengths(sorted_x: np.ndarray) -> np.ndarray:
    """Size of the tie group of every entry of a column-wise sorted matrix (NaN rows ignored)."""
    n = sorted_x.shape[0]
    idx = np.arange(n)[:, None]
    change = np.ones_like(sorted_x, dtype=bool)
    change[1:] = sorted_x[1:] != sorted_x[:-1]
    start = np.maximum.accumulate(np.where(change, idx, 0), axis=0)
    change_end = np.ones_like(sorted_x, dtype=bool)
    change_end[:-1] = sorted_x[:-1] != sorted_x[1:]
    end = np.minimum.accumulate(np.where(change_end, idx, n - 1)[::-1], axis=0)[::-1]
    return (end - start + 1).astype(np.float64)


def mann_whitney(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column AUROC (P(X|y=1 > X|y=0)) and two-sided asymptotic Mann-Whitney p-value.

    Matches ``scipy.stats.mannwhitneyu(method="asymptotic", use_continuity=True,
    nan_policy="omit")`` column by column; ``±inf`` are ordinary (extreme) ranks.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).astype(bool)
    nan = np.isnan(X)
    ranks = stats.rankdata(X, axis=0, nan_policy="omit")
    n1 = (~nan & y[:, None]).sum(axis=0).astype(np.float64)
    n0 = (~nan & ~y[:, None]).sum(axis=0).astype(np.float64)
    r1 = np.where(nan | ~y[:, None], 0.0, ranks).sum(axis=0)
    u1 = r1 - n1 * (n1 + 1) / 2
    n = n1 + n0
    t = _run_lengths(np.sort(np.where(nan, np.inf, X), axis=0))
    # entries that were NaN sort last as +inf: remove them from the tie sums
    valid_sorted = np.arange(X.shape[0])[:, None] < n[None, :]
    tie = np.where(valid_sorted, t**2 - 1, 0.0).sum(axis=0)  # sum over groups of t^3 - t
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = u1 / (n1 * n0)
        mu = n1 * n0 / 2
        sigma = np.sqrt(n1 * n0 / 12 * ((n + 1) - tie / (n * (n - 1))))
        z = (np.abs(u1 - mu) - 0.5) / sigma
        z = np.maximum(z, 0.0)
        p = 2 * stats.norm.sf(z)
    p = np.where((n1 > 0) & (n0 > 0) & (sigma > 0), np.minimum(p, 1.0), np.nan)
    return auc, p


def spearman(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column Spearman correlation with ``y`` and its two-sided t-test p-value (NaN dropped)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    nan = np.isnan(X)
    rx = stats.rankdata(X, axis=0, nan_policy="omit")
    # rank y within the non-missing rows of each column
    yy = np.where(nan, np.nan, y[:, None])
    ry = stats.rankdata(yy, axis=0, nan_policy="omit")
    n = (~nan).sum(axis=0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.nanmean(rx, axis=0)
        my = np.nanmean(ry, axis=0)
        dx = np.where(nan, 0.0, rx - mx)
        dy = np.where(nan, 0.0, ry - my)
        r = (dx * dy).sum(0) / np.sqrt((dx**2).sum(0) * (dy**2).sum(0))
        t = r * np.sqrt((n - 2) / (1 - r**2))
        p = 2 * stats.t.sf(np.abs(t), n - 2)
    return r, np.where(np.abs(r) >= 1, 0.0, p)


def cox_score(X: np.ndarray, event: np.ndarray, time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column Cox score-test z statistic (Breslow ties) on the rank-transformed feature.

    Ranks make ``±inf`` censored values usable; missing values get the column's mean rank (no
    contribution). Positive z = higher values, higher hazard. Returns (z, two-sided p).
    """
    X = np.asarray(X, dtype=np.float64)
    event = np.asarray(event).astype(bool)
    time = np.asarray(time, dtype=np.float64)
    r = stats.rankdata(X, axis=0, nan_policy="omit")
    r = np.where(np.isnan(r), np.nanmean(r, axis=0), r)
    r = (r - r.mean(0)) / np.where(r.std(0) > 0, r.std(0), 1.0)
    order = np.argsort(-time, kind="stable")
    rs, ev, ts = r[order], event[order], time[order]
    # risk set of subject i = everyone with time >= t_i: cumulative sums from the longest time,
    # taken at the last index of each tie block of times
    cs1 = np.cumsum(rs, axis=0)
    cs2 = np.cumsum(rs**2, axis=0)
    cnt = np.arange(1, len(ts) + 1, dtype=np.float64)
    last = np.searchsorted(-ts, -ts, side="right") - 1
    m1 = cs1[last] / cnt[last, None]
    m2 = cs2[last] / cnt[last, None]
    u = ((rs - m1) * ev[:, None]).sum(0)
    v = ((m2 - m1**2) * ev[:, None]).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = u / np.sqrt(v)
    return z, 2 * stats.norm.sf(np.abs(z))


def univariate_tests(X, y, *, task: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Effect size and p-value of every column of ``X`` against the outcome.

    Parameters
    ----------
    X
        Subjects × features (may hold ``±inf`` censored values and NaN).
    y
        Outcome: 0/1 (binary), float (continuous) or a structured ``(event, time)`` array.
    task
        ``"binary"``, ``"continuous"`` or ``"survival"``.

    Returns
    -------
    effect, p_value, effect_kind
        ``auroc`` (binary), ``spearman_r`` (continuous) or ``cox_score_z`` (survival).
    """
    if task == "binary":
        eff, p = mann_whitney(X, y)
        return eff, p, "auroc"
    if task == "continuous":
        eff, p = spearman(X, y)
        return eff, p, "spearman_r"
    names = y.dtype.names
    eff, p = cox_score(X, y[names[0]], y[names[1]])
    return eff, p, "cox_score_z"
