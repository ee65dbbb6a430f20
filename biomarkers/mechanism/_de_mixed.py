"""Precision-weighted linear mixed model on log-CPM (dream / voom style), vectorised over genes.

For designs that need both a between-subject contrast (arm, a subject-level covariate) and
repeated samples per subject (several visits): a subject fixed effect would absorb the
contrast, and ignoring the pairing treats repeated samples as independent. Per gene::

    log2 CPM_ij = x_ij'β + u_i + e_ij,   u_i ~ N(0, λσ²),   e_ij ~ N(0, σ² / w_ij)

* ``w_ij`` are voom's precision weights (Law et al. 2014): the square root of each gene's
  residual standard deviation (unweighted fixed-effect fit) against its mean log2 count is
  smoothed by lowess, and the weight of an observation is the inverse of the trend's
  prediction at its fitted log2 count, to the fourth power.
* ``λ`` (the subject variance relative to the residual variance) is estimated per gene by
  REML, a 1-D search over log λ (a grid, then golden section; λ = 0 is a candidate). With one
  random intercept per subject, ``V = W⁻¹ + λ ZZ'`` is block diagonal and each block is
  inverted in closed form (Sherman–Morrison), so every quantity is a per-subject sum and all
  genes are evaluated at once.
* The residual variances are squeezed towards a common prior (limma's ``squeezeVar``,
  :func:`~biomarkers.mechanism._de_paired.squeeze_var`) and the contrast is tested with a
  moderated t. Its degrees of freedom follow the between–within rule: a contrast on
  subject-level columns has ``subjects − rank(subject-level design)`` residual df, one on
  within-subject columns ``samples − subjects − rank(within-subject columns)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import t as t_dist

from biomarkers.mechanism._de_paired import _PRIOR_COUNT, squeeze_var
from biomarkers.mechanism._de_subject import _golden

__all__ = ["mixed_model_de", "voom_weights"]

_LOG_LAMBDA = (np.log(1e-4), np.log(1e4))  # search range of λ = σ²_subject / σ²
_GRID = 25
_LOWESS_FRAC = 0.5  # voom's span


def _log_cpm(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lib = counts.sum(1)
    return np.log2((counts + _PRIOR_COUNT) / (lib[:, None] + 1) * 1e6), lib


def voom_weights(counts: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Precision weights of voom (samples × genes) for a count matrix and fixed-effect design.

    Parameters
    ----------
    counts
        Samples × genes counts.
    design
        Samples × columns fixed-effect design of the trend fit.

    Returns
    -------
    Weights ``1 / s(μ̂)⁴``, where ``s`` is the lowess trend of √(residual sd) against the mean
    log2 count and ``μ̂`` an observation's fitted log2 count (constant beyond the data).
    """
    from statsmodels.nonparametric.smoothers_lowess import lowess

    counts = np.asarray(counts, float)
    y, lib = _log_cpm(counts)
    n, p = design.shape
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    fitted = design @ coef
    sigma = np.sqrt(((y - fitted) ** 2).sum(0) / max(n - p, 1))
    log_lib = np.log2(lib + 1)
    sx = y.mean(0) + log_lib.mean() - np.log2(1e6)
    sy = np.sqrt(sigma)
    trend = lowess(sy, sx, frac=_LOWESS_FRAC, return_sorted=True)
    fitted_count = fitted + log_lib[:, None] - np.log2(1e6)
    pred = np.interp(fitted_count, trend[:, 0], trend[:, 1])
    return 1.0 / np.maximum(pred, 1e-8) ** 4


class _Reml:
    """Per-gene REML of the subject-variance ratio with weights, via per-subject sums."""

    def __init__(self, y: np.ndarray, w: np.ndarray, x: np.ndarray, codes: np.ndarray) -> None:
        import scipy.sparse as sp

        n, self.p = x.shape
        self.n = n
        k = int(codes.max()) + 1
        ind = sp.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(k, n))
        wx = w[:, :, None] * x[:, None, :]  # n × g × p
        self.a0 = np.einsum("ngp,nq->gpq", wx, x)
        self.b0 = np.einsum("ngp,ng->gp", wx, y)
        self.c0 = (w * y * y).sum(0)
        g = y.shape[1]
        self.s = np.asarray(ind @ w).T  # g × k
        self.sx = np.asarray(ind @ wx.reshape(n, -1)).reshape(k, g, self.p).transpose(1, 0, 2)
        self.sy = np.asarray(ind @ (w * y)).T  # g × k
        self.logw = np.log(w).sum(0)

    def moments(self, lam: np.ndarray, genes: np.ndarray):
        """``X'V⁻¹X`` (g × p × p), ``X'V⁻¹y`` and ``y'V⁻¹y`` (V in units of σ²)."""
        c = lam[:, None] / (1 + lam[:, None] * self.s[genes])
        sx, sy = self.sx[genes], self.sy[genes]
        xvx = self.a0[genes] - np.einsum("gk,gkp,gkq->gpq", c, sx, sx)
        xvy = self.b0[genes] - np.einsum("gk,gkp,gk->gp", c, sx, sy)
        yvy = self.c0[genes] - (c * sy * sy).sum(1)
        return xvx, xvy, yvy, c

    def fit(self, lam: np.ndarray, genes: np.ndarray):
        """β̂, σ̂² and ``(X'V⁻¹X)⁻¹`` at ``λ`` (one per gene), and minus twice the REML."""
        xvx, xvy, yvy, _ = self.moments(lam, genes)
        beta = np.linalg.solve(xvx, xvy[:, :, None])[:, :, 0]
        df = self.n - self.p
        sigma2 = np.maximum(yvy - (beta * xvy).sum(1), 1e-300) / df
        logdet_v = -self.logw[genes] + np.log1p(lam[:, None] * self.s[genes]).sum(1)
        crit = logdet_v + np.linalg.slogdet(xvx)[1] + df * np.log(sigma2)
        return beta, sigma2, xvx, crit

    def loss(self, log_lam: np.ndarray, genes: np.ndarray) -> np.ndarray:
        return self.fit(np.exp(log_lam), genes)[3]


def _estimate_lambda(reml: _Reml, n_genes: int) -> np.ndarray:
    every = np.arange(n_genes)
    grid = np.linspace(*_LOG_LAMBDA, _GRID)
    vals = np.stack([reml.loss(np.full(n_genes, x), every) for x in grid], 1)
    best = vals.argmin(1)
    lo = grid[np.maximum(best - 1, 0)]
    hi = grid[np.minimum(best + 1, _GRID - 1)]
    log_lam = _golden(reml.loss, lo, hi, every)
    lam = np.exp(log_lam)
    at_zero = reml.fit(np.zeros(n_genes), every)[3]
    return np.where(at_zero <= reml.fit(lam, every)[3], 0.0, lam)


def _contrast_df(design: np.ndarray, codes: np.ndarray, contrast: np.ndarray) -> float:
    """Between–within residual df of the contrast (see the module docstring)."""
    n_sub = int(codes.max()) + 1
    first = np.unique(codes, return_index=True)[1]
    means = np.zeros((n_sub, design.shape[1]))
    np.add.at(means, codes, design)
    means /= np.bincount(codes)[:, None]
    between = np.all(np.isclose(design, means[codes]), axis=0)
    if np.any(contrast[between] != 0):
        return float(n_sub - np.linalg.matrix_rank(design[first][:, between]))
    return float(len(codes) - n_sub - np.linalg.matrix_rank(design[:, ~between]))


def mixed_model_de(
    counts: np.ndarray, design: np.ndarray, subjects: np.ndarray, contrast: np.ndarray
) -> pd.DataFrame:
    """Moderated t of a contrast in the voom-weighted subject random-intercept model, per gene.

    Parameters
    ----------
    counts
        Samples × genes counts.
    design
        Samples × columns fixed-effect design (no subject columns), of full column rank.
    subjects
        Subject of each sample (the random intercept).
    contrast
        One weight per design column.

    Returns
    -------
    One row per gene: ``log2fc`` (the contrast on the log2-CPM scale), ``lfc_se``, ``stat``,
    ``pvalue``, ``padj_deseq2`` (empty) and ``base_mean`` (mean of library-normalised counts).

    Raises
    ------
    ValueError
        When the design is not of full column rank or leaves no residual degrees of freedom.
    """
    counts = np.asarray(counts, float)
    design = np.asarray(design, float)
    contrast = np.asarray(contrast, float)
    n, p = design.shape
    if np.linalg.matrix_rank(design) < p:
        msg = "the design matrix is not of full rank (a column is confounded with others)"
        raise ValueError(msg)
    codes = np.unique(np.asarray(subjects).astype(str), return_inverse=True)[1]
    df = _contrast_df(design, codes, contrast)
    if df < 1 or n - p < 1:
        msg = f"no residual degrees of freedom for the contrast ({n} samples, {p} columns)"
        raise ValueError(msg)
    y, lib = _log_cpm(counts)
    w = voom_weights(counts, design)
    reml = _Reml(y, w, design, codes)
    g = counts.shape[1]
    lam = _estimate_lambda(reml, g)
    beta, sigma2, xvx, _ = reml.fit(lam, np.arange(g))
    unscaled = np.einsum("p,gpq,q->g", contrast, np.linalg.inv(xvx), contrast)
    # σ̂² has the n − p residual df of the fit; the contrast's own df sets the t reference
    post, d0, _ = squeeze_var(sigma2, n - p)
    se = np.sqrt(post * unscaled)
    stat = beta @ contrast / se
    df_total = min(df + d0, df * g)
    norm = counts / (lib[:, None] / np.median(lib))
    return pd.DataFrame(
        {
            "log2fc": beta @ contrast,
            "lfc_se": se,
            "stat": stat,
            "pvalue": 2 * t_dist.sf(np.abs(stat), df_total),
            "padj_deseq2": np.nan,
            "base_mean": norm.mean(0),
        }
    )
