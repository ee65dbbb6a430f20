"""Paired log-ratio moderated t: each subject's log-CPM change between two visits, limma style.

A fast cross-check of the NB GLM for two-visit designs: per gene, the subject's change
``log2 CPM(visit) − log2 CPM(reference)`` is regressed on an intercept (paired change within
one arm) or on the arm (arm × visit interaction), and the residual variances are squeezed
towards a common prior with Smyth's (2004) empirical-Bayes hyperparameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import digamma, polygamma
from scipy.stats import t as t_dist

__all__ = ["paired_moderated_t", "squeeze_var"]

_PRIOR_COUNT = 0.5  # voom's offset for log-CPM


def _trigamma_inverse(x: np.ndarray | float) -> np.ndarray:
    """Solve ``trigamma(y) = x`` by Newton's method (limma's ``trigammaInverse``)."""
    x = np.atleast_1d(np.asarray(x, float))
    y = 0.5 + 1.0 / x
    for _ in range(50):
        tri = polygamma(1, y)
        dif = tri * (1 - tri / x) / polygamma(2, y)
        y = y + dif
        if np.max(-dif / y) < 1e-8:
            break
    y = np.where(x > 1e7, 1 / np.sqrt(x), y)
    return np.where(x < 1e-6, 1 / x, y)


def squeeze_var(s2: np.ndarray, df: float) -> tuple[np.ndarray, float, float]:
    """Empirical-Bayes posterior variances (limma ``squeezeVar``, Smyth 2004 moment estimates).

    Parameters
    ----------
    s2
        Residual variances, one per gene.
    df
        Their residual degrees of freedom.

    Returns
    -------
    Posterior variances, prior degrees of freedom ``d0`` (``inf`` when the variances are no more
    spread than sampling alone explains) and prior variance ``s0²``.
    """
    s2 = np.asarray(s2, float)
    ok = np.isfinite(s2) & (s2 > 0)
    z = np.log(s2[ok])
    e = z - digamma(df / 2) + np.log(df / 2)
    emean = e.mean()
    evar = ((e - emean) ** 2).sum() / max(ok.sum() - 1, 1) - polygamma(1, df / 2)
    if evar > 0:
        d0 = float(2 * _trigamma_inverse(evar)[0])
        s0 = float(np.exp(emean + digamma(d0 / 2) - np.log(d0 / 2)))
        post = (d0 * s0 + df * s2) / (d0 + df)
    else:
        d0, s0 = np.inf, float(np.exp(emean))
        post = np.full_like(s2, s0)
    return post, d0, s0


def paired_moderated_t(
    counts: np.ndarray, sub: pd.DataFrame, kind: str, spec: Any
) -> pd.DataFrame | None:
    """Moderated t of the per-subject log-CPM change for a paired or arm × visit contrast.

    Returns ``None`` when the contrast is not a two-visit within-subject one.
    """
    if kind == "interaction":
        (arm_col, treated, _), (visit_col, v_test, v_ref) = spec
    elif kind == "simple":
        visit_col, v_test, v_ref = spec
        arm_col = treated = None
    else:
        return None
    counts = np.asarray(counts, float)
    lib = counts.sum(1, keepdims=True)
    logcpm = np.log2((counts + _PRIOR_COUNT) / (lib + 1) * 1e6)
    subj = sub["subject"].astype(str).to_numpy()
    visit = sub[visit_col].astype(str).to_numpy()
    frame = pd.DataFrame(logcpm)
    test = frame[visit == v_test].groupby(subj[visit == v_test]).mean()
    ref = frame[visit == v_ref].groupby(subj[visit == v_ref]).mean()
    subjects = test.index.intersection(ref.index)
    diff = (test.loc[subjects] - ref.loc[subjects]).to_numpy()
    if arm_col is None:
        design = np.ones((len(subjects), 1))
    else:
        arm_of = sub.groupby(subj)[arm_col].first().astype(str)
        design = np.column_stack([np.ones(len(subjects)), arm_of.loc[subjects] == treated])
    n, p = design.shape
    df = n - p
    if df < 1:
        return None
    coef, *_ = np.linalg.lstsq(design, diff, rcond=None)
    resid = diff - design @ coef
    s2 = (resid**2).sum(0) / df
    post, d0, _ = squeeze_var(s2, df)
    unscaled = np.linalg.inv(design.T @ design)[-1, -1]
    se = np.sqrt(post * unscaled)
    stat = coef[-1] / se
    df_total = min(df + d0, df * counts.shape[1])
    norm = counts / (lib / np.median(lib))
    return pd.DataFrame(
        {
            "log2fc": coef[-1],
            "lfc_se": se,
            "stat": stat,
            "pvalue": 2 * t_dist.sf(np.abs(stat), df_total),
            "padj_deseq2": np.nan,
            "base_mean": norm.mean(0),
        }
    )
