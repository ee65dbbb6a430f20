"""Rank-weighted average treatment effect (RATE) of a treatment-prioritisation score.

The estimator of Yadlowsky, Fleming, Shah, Brunskill & Wager (JASA 2024), as grf's
``rank_average_treatment_effect``: subjects are sorted by decreasing priority, the targeting
operator characteristic ``TOC(q)`` is the mean doubly-robust (DR) score of the top ``q`` share
minus the mean of all, and the RATE is its integral with weight 1 (AUTOC) or ``q`` (Qini).
Ties in the priority are handled as grf does: DR scores are averaged within a tie group.

Cross-fitting: the priorities and the DR scores' nuisance models of a test fold were fitted on
the other folds, so within a fold a subject's priority is independent of its own outcome. The
rankings of different fold models are not comparable, so the RATE is computed within each
fold and averaged with fold-size weights (the TOC likewise, on a grid of ``q``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError, SchemaError

__all__ = ["rank_average_treatment_effect"]

TARGETS = ("AUTOC", "QINI")
Q_GRID = tuple(float(q) for q in np.round(np.arange(0.05, 1.0001, 0.05), 2))


def _toc(priority: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """TOC at ``q = 1/n, 2/n, ..., 1``, DR scores averaged within tie groups of the priority."""
    order = np.argsort(-priority, kind="stable")
    p, f = priority[order], phi[order]
    n = f.size
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    counts = np.diff(np.r_[starts, n])
    f = np.repeat(np.add.reduceat(f, starts) / counts, counts)
    top = np.arange(1, n + 1)  # size of the targeted group
    return np.cumsum(f) / top - f.mean()


def _rate_fold(priority, phi, q_grid) -> tuple[float, float, np.ndarray]:
    """AUTOC, Qini and the TOC at ``q_grid`` of one fold."""
    toc = _toc(priority, phi)
    n = toc.size
    frac = np.arange(1, n + 1) / n
    at = np.clip(np.ceil(np.asarray(q_grid) * n).astype(int) - 1, 0, n - 1)
    return float(toc.mean()), float((frac * toc).mean()), toc[at]


def _rate_all(priority, phi, groups, q_grid) -> np.ndarray:
    """``[AUTOC, Qini, TOC(q_grid)...]`` averaged over the folds (weights = fold sizes)."""
    out = np.zeros(2 + len(q_grid))
    n = phi.size
    for idx in groups:
        a, q, toc = _rate_fold(priority[idx], phi[idx], q_grid)
        out += idx.size / n * np.r_[a, q, toc]
    return out


def _check(priority, dr_scores, folds):
    priority = np.asarray(priority, dtype=float)
    phi = np.asarray(dr_scores, dtype=float)
    folds = np.zeros(phi.size, dtype=int) if folds is None else np.asarray(folds)
    if not (priority.shape == phi.shape == folds.shape) or phi.ndim != 1:
        msg = (
            f"priority, dr_scores and folds must be 1-D of the same length, got shapes "
            f"{priority.shape}, {phi.shape}, {folds.shape}"
        )
        raise SchemaError(msg)
    if not (np.all(np.isfinite(priority)) and np.all(np.isfinite(phi))):
        msg = "priority and dr_scores must be finite (drop subjects without a prediction)"
        raise SchemaError(msg)
    groups = [np.flatnonzero(folds == k) for k in np.unique(folds)]
    if min(g.size for g in groups) < 2:
        msg = "every fold needs at least 2 subjects to rank"
        raise SchemaError(msg)
    return priority, phi, groups


def rank_average_treatment_effect(
    priority: Sequence[float] | np.ndarray,
    dr_scores: Sequence[float] | np.ndarray,
    folds: Sequence[int] | np.ndarray | None = None,
    *,
    target: str | Sequence[str] = TARGETS,
    n_bootstraps: int = 500,
    q_grid: Sequence[float] = Q_GRID,
    level: float = 0.95,
    random_state: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """RATE (AUTOC, Qini) of a priority score with a half-sampling SE and a one-sided test.

    Parameters
    ----------
    priority
        Treatment-prioritisation score per subject (higher = treat first), e.g. the
        out-of-fold CATE. It must not have been fitted on the subject's own outcome.
    dr_scores
        Doubly-robust (AIPW) score per subject, its nuisance models fitted out of fold
        (``predictive()`` uses the known randomisation probability).
    folds
        Cross-fitting fold of each subject: the RATE and TOC are computed within each fold
        and averaged with fold-size weights. ``None``: one group (priorities fitted on
        separate data, as in grf).
    target
        ``"AUTOC"`` (weight 1 on the TOC) and/or ``"QINI"`` (weight ``q``).
    n_bootstraps
        Half-samples for the standard error and the TOC band, as grf: each draws half of
        every fold without replacement and recomputes the RATE; the SD over half-samples
        estimates the SE of the full-sample RATE (the variance of an estimate on n/2 of n
        subjects, drawn without replacement, is ``(2/n - 1/n) sigma^2``). The ordinary
        bootstrap is not used: its duplicated subjects tie in the ranking, and on folds of
        20 subjects it gave SEs too small (RATE rejected 12-20% of null trials at 5%,
        ``benchmarks/heterogeneity.py``). At least 2 for a test; needs 2 subjects per fold.
    q_grid
        Shares of subjects targeted at which the TOC is reported, in (0, 1].
    level
        Confidence level of the intervals.
    random_state
        Seed of the half-samples.

    Returns
    -------
    tuple of DataFrames
        ``(rate, toc)``. ``rate``: one row per target with ``target, estimate, se, ci_low,
        ci_high, p_value, n, n_folds, n_bootstraps``; ``p_value`` is one-sided (H1: RATE > 0,
        the priority finds subjects who benefit more), normal approximation ``estimate / se``.
        ``toc``: ``share`` (= q), ``toc, ci_low, ci_high`` (pointwise normal band from the half-sampling SE).

    Examples
    --------
    >>> rate, toc = rank_average_treatment_effect([4, 3, 2, 1], [3, 1, 0, 0], n_bootstraps=0)
    >>> rate[["target", "estimate"]].round(4).to_numpy().tolist()
    [['AUTOC', 0.8333], ['QINI', 0.3125]]
    """
    priority, phi, groups = _check(priority, dr_scores, folds)
    targets = (target,) if isinstance(target, str) else tuple(target)
    for t in targets:
        check_choice("target", t, TARGETS)
    if isinstance(n_bootstraps, bool) or not isinstance(n_bootstraps, int) or n_bootstraps < 0:
        msg = f"n_bootstraps={n_bootstraps!r} must be an integer >= 0"
        raise ConfigError(msg)
    q_grid = np.asarray(q_grid, dtype=float)
    point = _rate_all(priority, phi, groups, q_grid)
    rng = np.random.default_rng(random_state)
    boot = np.empty((n_bootstraps, point.size))
    for b in range(n_bootstraps):
        # half of every fold, without replacement (no duplicated subjects, hence no ties)
        halves = [rng.choice(g, g.size // 2, replace=False) for g in groups]
        sizes = np.cumsum([0] + [h.size for h in halves])
        local = [np.arange(sizes[i], sizes[i + 1]) for i in range(len(halves))]
        idx = np.concatenate(halves)
        boot[b] = _rate_all(priority[idx], phi[idx], local, q_grid)
    # Var(half-sample estimate | data) ~ (2/n - 1/n) sigma^2 = sigma^2 / n: the SD over
    # half-samples is the full-sample SE itself (finite-population correction)
    se = boot.std(axis=0, ddof=1) if n_bootstraps >= 2 else np.full(point.size, np.nan)
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for t in targets:
        j = TARGETS.index(t)
        est, s = point[j], se[j]
        p = float(stats.norm.sf(est / s)) if s > 0 else float("nan")
        rows.append(
            {"target": t, "estimate": est, "se": s, "ci_low": est - z * s, "ci_high": est + z * s,
             "p_value": p, "n": phi.size, "n_folds": len(groups), "n_bootstraps": n_bootstraps}
        )  # fmt: skip
    toc, toc_se = point[2:], se[2:]
    toc_df = pd.DataFrame(
        {"share": q_grid, "toc": toc, "ci_low": toc - z * toc_se, "ci_high": toc + z * toc_se}
    )
    return pd.DataFrame(rows), toc_df
