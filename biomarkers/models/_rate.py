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


def _tie_mean(sorted_priority: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` (rows in the order of ``sorted_priority``) averaged within ties of it."""
    p = sorted_priority
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    counts = np.diff(np.r_[starts, p.size])
    shape = (-1,) + (1,) * (values.ndim - 1)
    return np.repeat(np.add.reduceat(values, starts, axis=0) / counts.reshape(shape), counts,
                     axis=0)  # fmt: skip


def _toc(priority: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """TOC at ``q = 1/n, 2/n, ..., 1``, DR scores averaged within tie groups of the priority."""
    order = np.argsort(-priority, kind="stable")
    f = _tie_mean(priority[order], phi[order])
    n = f.size
    top = np.arange(1, n + 1)  # size of the targeted group
    return np.cumsum(f) / top - f.mean()


def _rate_fold(priority, phi, q_grid) -> tuple[float, float, np.ndarray]:
    """AUTOC, Qini and the TOC at ``q_grid`` of one fold."""
    toc = _toc(priority, phi)
    n = toc.size
    frac = np.arange(1, n + 1) / n
    at = np.clip(np.ceil(np.asarray(q_grid) * n).astype(int) - 1, 0, n - 1)
    return float(toc.mean()), float((frac * toc).mean()), toc[at]


def _weights(priority: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each subject's coefficient in one fold's AUTOC and Qini (in input order).

    Given the ranking, both are linear in the DR scores: ``AUTOC = sum_i c_i phi_i`` with
    ``c`` at sorted position ``i`` equal to ``(1/n) sum_{q >= i} 1/q - 1/n`` and for the Qini
    ``(n - i + 1)/n**2 - (n + 1)/(2 n**2)``; tied subjects share their group's mean coefficient.
    """
    n = priority.size
    order = np.argsort(-priority, kind="stable")
    q = np.arange(1, n + 1)
    coef = np.column_stack([
        np.cumsum((1.0 / q)[::-1])[::-1] / n - 1.0 / n,
        (n - q + 1) / n**2 - (n + 1) / (2.0 * n**2),
    ])  # fmt: skip
    coef = _tie_mean(priority[order], coef)
    out = np.empty_like(coef)
    out[order] = coef
    return out[:, 0], out[:, 1]


def _conditional_variance(priority, phi, groups, arm) -> np.ndarray:
    """Variance of ``[AUTOC, Qini]`` given the rankings: ``sum_i c_i^2 Var(phi_i)``.

    Given the priorities (fitted without the fold's outcomes), each fold's RATE is a fixed
    linear combination of independent DR scores. ``Var(phi_i)`` is estimated by the sample
    variance of the DR scores of subject i's arm in its fold (both arms together when an arm
    has fewer than 2 subjects there), which is stable on small folds, where the half-sample
    SD of a top-weighted statistic is itself noisy.
    """
    n = phi.size
    var = np.zeros(2)
    for idx in groups:
        ca, cq = _weights(priority[idx])
        f = phi[idx]
        v = np.full(idx.size, f.var(ddof=1))
        if arm is not None:
            for g in (0, 1):
                mask = arm[idx] == g
                if mask.sum() >= 2:
                    v[mask] = f[mask].var(ddof=1)
        var += (idx.size / n) ** 2 * np.array([ca**2 @ v, cq**2 @ v])
    return var


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
    arm: Sequence[int] | np.ndarray | None = None,
    target: str | Sequence[str] = TARGETS,
    n_bootstraps: int = 500,
    q_grid: Sequence[float] = Q_GRID,
    level: float = 0.95,
    random_state: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """RATE (AUTOC, Qini) of a priority score with its SE and a one-sided test.

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
    arm
        1 treated, 0 control per subject (optional): the conditional variance of the SE
        estimates the DR scores' variance within each arm of each fold.
    target
        ``"AUTOC"`` (weight 1 on the TOC) and/or ``"QINI"`` (weight ``q``).
    n_bootstraps
        Half-samples for the standard error and the TOC band, as grf: each draws half of
        every fold without replacement and recomputes the RATE; the SD over half-samples
        estimates the SE of the full-sample RATE (the variance of an estimate on n/2 of n
        subjects, drawn without replacement, is ``(2/n - 1/n) sigma^2``). The ordinary
        bootstrap is not used: its duplicated subjects tie in the ranking, and on folds of
        20 subjects it gave SEs too small (RATE rejected 12-20% of null trials at 5%,
        ``benchmarks/heterogeneity.py``). With fewer than 2 the SE is the conditional one
        below and the TOC band is NaN; needs 2 subjects per fold.
        The AUTOC / Qini SE is the larger of the half-sampling SD and the SE given the
        rankings (``sum_i c_i^2 Var(phi_i)``, the RATE being linear in the DR scores once
        the subjects are ranked; ``Var(phi_i)`` from the subject's arm and fold): on folds
        of about 20 subjects with heavy-tailed DR scores (controls weighted 1/(1 - e) = 4 at
        3:1) the half-sample SD alone was too small often enough that the AUTOC rejected
        8.5% of null 3:1 binary trials (``benchmarks/heterogeneity_scores.py``).
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
        ci_high, p_value, n, n_folds, n_bootstraps, se_half_sampling, se_conditional``; ``p_value`` is one-sided (H1: RATE > 0,
        the priority finds subjects who benefit more), normal approximation ``estimate / se``.
        ``toc``: ``share`` (= q), ``toc, ci_low, ci_high`` (pointwise normal band from the half-sampling SE).

    Examples
    --------
    >>> rate, toc = rank_average_treatment_effect([4, 3, 2, 1], [3, 1, 0, 0], n_bootstraps=0)
    >>> rate[["target", "estimate"]].round(4).to_numpy().tolist()
    [['AUTOC', 0.8333], ['QINI', 0.3125]]
    """
    priority, phi, groups = _check(priority, dr_scores, folds)
    arm_ = None if arm is None else np.asarray(arm, dtype=int)
    if arm_ is not None and arm_.shape != phi.shape:
        msg = f"arm must have one value per subject ({phi.size}), got shape {arm_.shape}"
        raise SchemaError(msg)
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
    se_cond = np.sqrt(_conditional_variance(priority, phi, groups, arm_))
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for t in targets:
        j = TARGETS.index(t)
        est, s = point[j], max(se[j], se_cond[j]) if n_bootstraps >= 2 else se_cond[j]
        p = float(stats.norm.sf(est / s)) if s > 0 else float("nan")
        rows.append(
            {"target": t, "estimate": est, "se": s, "ci_low": est - z * s, "ci_high": est + z * s,
             "p_value": p, "n": phi.size, "n_folds": len(groups), "n_bootstraps": n_bootstraps,
             "se_half_sampling": se[j], "se_conditional": se_cond[j]}
        )  # fmt: skip
    toc, toc_se = point[2:], se[2:]
    toc_df = pd.DataFrame(
        {"share": q_grid, "toc": toc, "ci_low": toc - z * toc_se, "ci_high": toc + z * toc_se}
    )
    return pd.DataFrame(rows), toc_df
