"""Subject-block inference for pydeseq2: the NB GLM with subject fixed effects, vectorised over genes.

With one term per subject, every design column that is constant within subjects only sets
each subject's level. In each IRLS step the weighted least-squares problem then splits: the
subject intercepts are weighted within-subject means, and the remaining (within-subject)
coefficients solve a small system on the weighted within-subject-centred design. The Cox–Reid
term uses the same split, ``log det X'WX = Σ_k log w_k + log det(Z̃'WZ̃)``, so each gene costs
samples × (within-subject coefficients)² instead of samples × coefficients², and all genes go
through numpy at once. The model, its bounds, size factors, dispersion trend, prior and MAP
step, Cook's distances and the Wald test are pydeseq2's own (this is a pydeseq2
``Inference``); the only difference is pydeseq2's 1e-6 ridge, which is left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import gammaln
from scipy.stats import norm

__all__ = ["SubjectBlockInference", "subject_blocks"]

_GRID = 20
_GOLDEN_STEPS = 12  # then one parabolic step: log α to ~1e-7 on a smooth loss
_MAX_ITER = 250
_PGTOL = 1e-5  # scipy L-BFGS-B default, which pydeseq2 uses


def subject_blocks(design: np.ndarray, subjects: np.ndarray) -> np.ndarray | None:
    """Columns of ``design`` that vary within subjects, if the others span every subject's level.

    Returns ``None`` when the design has no subject term (the within-subject-constant columns do
    not span one indicator per subject), i.e. when subject-block inference does not apply.
    """
    design = np.asarray(design, float)
    codes = np.unique(np.asarray(subjects), return_inverse=True)[1]
    n_sub = codes.max() + 1
    sums = np.zeros((n_sub, design.shape[1]))
    np.add.at(sums, codes, design)
    means = sums / np.bincount(codes, minlength=n_sub)[:, None]
    constant = np.all(np.isclose(design, means[codes]), axis=0)
    if n_sub == len(codes) or np.linalg.matrix_rank(design[:, constant]) < n_sub:
        return None
    return np.flatnonzero(~constant)


def _nll(
    counts: np.ndarray,
    mu: np.ndarray,
    alpha: np.ndarray,
    log_fact: np.ndarray,
    y_log_mu: np.ndarray,
) -> np.ndarray:
    """pydeseq2's ``nb_nll`` per gene (columns), in its order of operations.

    ``log_fact`` is ``Σ gammaln(y + 1)`` and ``y_log_mu`` is ``Σ y log μ`` (both per gene,
    precomputed as they do not depend on the dispersion).
    """
    inv = 1.0 / alpha
    n = counts.shape[0]
    logbinom = gammaln(counts + inv).sum(0) - log_fact - n * gammaln(inv)
    return (
        n * inv * np.log(alpha) - logbinom + ((counts + inv) * np.log(inv + mu)).sum(0) - y_log_mu
    )


class _Blocks:
    """Subject codes, within-subject design ``Z`` and subject-level design of one design matrix."""

    def __init__(self, design: np.ndarray, subjects: np.ndarray, within: np.ndarray) -> None:
        import scipy.sparse as sp

        self.design = np.asarray(design, float)
        self.codes = np.unique(np.asarray(subjects), return_inverse=True)[1]
        self.n_sub = int(self.codes.max()) + 1
        n = len(self.codes)
        self.indicator = sp.csr_matrix(
            (np.ones(n), (self.codes, np.arange(n))), shape=(self.n_sub, n)
        )
        self.within = within
        self.between = np.setdiff1d(np.arange(self.design.shape[1]), within)
        self.z = self.design[:, within]
        first = np.unique(self.codes, return_index=True)[1]
        self.levels = self.design[first][:, self.between]  # subjects × subject-level columns

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Per-subject sums (subjects × genes) of a samples × genes array."""
        return np.asarray(self.indicator @ values)

    def moments(self, w: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """``w_k``, per-subject ``Σ W Z_p`` and ``C = Z̃'WZ̃`` (genes × p × p) for weights ``w``.

        ``C`` is the Schur complement of the subject block of ``X'WX``: the information about
        the within-subject coefficients once the subject levels are profiled out.
        """
        wk = self.sums(w)
        wz = [self.sums(w * zp[:, None]) for zp in self.z.T]
        p = self.z.shape[1]
        c = np.empty((w.shape[1], p, p))
        for i in range(p):
            for j in range(i + 1):
                zz = self.z[:, i] * self.z[:, j]
                c[:, i, j] = c[:, j, i] = zz @ w - (wz[i] * wz[j] / wk).sum(0)
        return wk, wz, c

    def solve(self, w: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted LS of ``y`` on subjects + ``Z``: subject levels (k × g), ``Z`` coefs (g × p)."""
        wk, wz, c = self.moments(w)
        wy = w * y
        wyk = self.sums(wy)
        rhs = np.stack(
            [zp @ wy - (wzp * wyk / wk).sum(0) for zp, wzp in zip(self.z.T, wz, strict=True)], 1
        )
        b = np.linalg.solve(c, rhs[:, :, None])[:, :, 0]
        a = (wyk - sum(wzp * b[:, i] for i, wzp in enumerate(wz))) / wk
        return a, b

    def hat(self, w: np.ndarray) -> np.ndarray:
        """Diagonal of the weighted hat matrix ``W½X(X'WX)⁻¹X'W½`` (n × genes)."""
        wk, wz, c = self.moments(w)
        cinv = np.linalg.inv(c)
        zt = [zp[:, None] - (wzp / wk)[self.codes] for zp, wzp in zip(self.z.T, wz, strict=True)]
        quad = sum(zt[i] * cinv[:, i, j] * zt[j] for i in range(len(zt)) for j in range(len(zt)))
        return w / wk[self.codes] + w * quad

    def eta(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Linear predictor (n × genes)."""
        return a[self.codes] + self.z @ b.T

    def beta(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Coefficients of the full design (genes × columns) with the same linear predictor."""
        out = np.empty((b.shape[0], self.design.shape[1]))
        out[:, self.within] = b
        out[:, self.between] = np.linalg.solve(self.levels, a).T
        return out

    def logdet(self, w: np.ndarray) -> np.ndarray:
        """``log det X'WX`` up to a constant of the design: ``Σ log w_k + log det C``."""
        wk, _, c = self.moments(w)
        return np.log(wk).sum(0) + np.linalg.slogdet(c)[1]


class SubjectBlockInference:
    """A pydeseq2 ``Inference`` for designs with one term per subject (see the module docstring).

    Parameters
    ----------
    subjects
        Subject of each sample, in the order of the design matrix rows.
    fallback
        pydeseq2 ``DefaultInference`` used for what the block structure does not cover (a design
        without a subject term, a contrast on subject-level columns, genes whose IRLS diverges).
    """

    def __init__(self, subjects: np.ndarray, fallback: Any) -> None:
        self.subjects = np.asarray(subjects)
        self.fallback = fallback
        self.n_cpus = fallback.n_cpus
        self.fit_rough_dispersions = fallback.fit_rough_dispersions
        self.fit_moments_dispersions = fallback.fit_moments_dispersions
        self.lin_reg_mu = fallback.lin_reg_mu
        self.dispersion_trend_gamma_glm = fallback.dispersion_trend_gamma_glm
        self.lfc_shrink_nbinom_glm = fallback.lfc_shrink_nbinom_glm

    def _blocks(self, design: np.ndarray) -> _Blocks | None:
        within = subject_blocks(design, self.subjects)
        return None if within is None else _Blocks(design, self.subjects, within)

    def irls(
        self,
        counts: np.ndarray,
        size_factors: np.ndarray,
        design_matrix: np.ndarray,
        disp: np.ndarray,
        min_mu: float,
        beta_tol: float,
        min_beta: float = -30,
        max_beta: float = 30,
        optimizer: str = "L-BFGS-B",
        maxiter: int = _MAX_ITER,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """pydeseq2's ``irls`` (beta, mu, hat diagonals, converged), all genes at once."""
        blocks = self._blocks(design_matrix)
        if blocks is None:
            return self.fallback.irls(
                counts, size_factors, design_matrix, disp, min_mu, beta_tol, min_beta, max_beta,
                optimizer, maxiter,
            )  # fmt: skip
        counts = np.asarray(counts, float)
        sf = np.asarray(size_factors, float)[:, None]
        disp = np.asarray(disp, float)[None, :]
        log_fact = gammaln(counts + 1).sum(0)
        a, b = blocks.solve(np.ones_like(counts), np.log(counts / sf + 0.1))
        mu = np.maximum(sf * np.exp(blocks.eta(a, b)), min_mu)
        dev = np.full(counts.shape[1], 1000.0)
        active = np.ones(counts.shape[1], bool)
        diverged = np.zeros(counts.shape[1], bool)
        for _ in range(maxiter):
            g = np.flatnonzero(active)
            if not len(g):
                break
            m, y = mu[:, g], counts[:, g]
            w = m / (1.0 + m * disp[:, g])
            z = np.log(m / sf) + (y - m) / m
            a_new, b_new = blocks.solve(w, z)
            a[:, g], b[g] = a_new, b_new
            mu[:, g] = np.maximum(sf * np.exp(blocks.eta(a_new, b_new)), min_mu)
            y_log_mu = (y * np.log(mu[:, g])).sum(0)
            new_dev = -2 * _nll(y, mu[:, g], disp[0, g], log_fact[g], y_log_mu)
            done = np.abs(new_dev - dev[g]) / (np.abs(new_dev) + 0.1) <= beta_tol
            dev[g] = new_dev
            spread = a_new.max(0) - a_new.min(0)
            wild = (np.abs(b_new).max(1) > max_beta) | (np.abs(a_new).max(0) > max_beta)
            wild |= spread > max_beta
            diverged[g[wild]] = True
            active[g[done | wild]] = False
        diverged |= active
        beta = blocks.beta(a, b)
        hat = blocks.hat(mu / (1.0 + mu * disp))
        mu_out = sf * np.exp(blocks.eta(a, b))
        converged = np.ones(counts.shape[1], bool)
        if diverged.any():  # pydeseq2's own solver (L-BFGS-B on the full design) for these genes
            idx = np.flatnonzero(diverged)
            fb = self.fallback.irls(
                counts[:, idx], size_factors, design_matrix, disp[0, idx], min_mu, beta_tol,
                min_beta, max_beta, optimizer, maxiter,
            )  # fmt: skip
            beta[idx], mu_out[:, idx], hat[:, idx], converged[idx] = fb
        return beta, mu_out, hat, converged

    def alpha_mle(
        self,
        counts: np.ndarray,
        design_matrix: np.ndarray,
        mu: np.ndarray,
        alpha_hat: np.ndarray,
        min_disp: float,
        max_disp: float,
        prior_disp_var: float | None = None,
        cr_reg: bool = True,  # noqa: FBT001, FBT002 - pydeseq2's signature
        prior_reg: bool = False,  # noqa: FBT001, FBT002 - pydeseq2's signature
        optimizer: str = "L-BFGS-B",
    ) -> tuple[np.ndarray, np.ndarray]:
        """pydeseq2's ``fit_alpha_mle`` for all genes: grid over log α, then golden section."""
        blocks = self._blocks(design_matrix)
        if blocks is None:
            return self.fallback.alpha_mle(
                counts, design_matrix, mu, alpha_hat, min_disp, max_disp, prior_disp_var,
                cr_reg, prior_reg, optimizer,
            )  # fmt: skip
        counts = np.asarray(counts, float)
        mu = np.asarray(mu, float)
        log_fact = gammaln(counts + 1).sum(0)
        y_log_mu = (counts * np.log(mu)).sum(0)
        log_hat = np.log(np.asarray(alpha_hat, float))
        every = np.arange(counts.shape[1])

        def loss(log_alpha: np.ndarray, genes: np.ndarray) -> np.ndarray:
            full = len(genes) == len(every)
            y, m = (counts, mu) if full else (counts[:, genes], mu[:, genes])
            alpha = np.exp(log_alpha)
            out = _nll(y, m, alpha, log_fact[genes], y_log_mu[genes])
            if cr_reg:
                out = out + 0.5 * blocks.logdet(m / (1 + m * alpha[None, :]))
            if prior_reg:
                out = out + (log_alpha - log_hat[genes]) ** 2 / (2 * prior_disp_var)
            return out

        x = _local_min(loss, log_hat, np.log(min_disp), np.log(max_disp))
        return np.exp(x), np.ones(counts.shape[1], bool)

    def wald_test(
        self,
        design_matrix: np.ndarray,
        disp: np.ndarray,
        lfc: np.ndarray,
        mu: np.ndarray,
        ridge_factor: np.ndarray,
        contrast: np.ndarray,
        lfc_null: np.ndarray,
        alt_hypothesis: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """pydeseq2's ``wald_test`` (p-values, statistics, SE) when the contrast is within subjects."""
        blocks = self._blocks(design_matrix)
        contrast = np.asarray(contrast, float)
        outside = np.ones(len(contrast), bool)
        if blocks is not None:
            outside[blocks.within] = False
        if blocks is None or alt_hypothesis is not None or np.any(contrast[outside] != 0):
            return self.fallback.wald_test(
                design_matrix, disp, lfc, mu, ridge_factor, contrast, lfc_null, alt_hypothesis
            )
        mu = np.asarray(mu, float)
        w = mu / (1 + mu * np.asarray(disp, float)[None, :])
        _, _, c = blocks.moments(w)
        cw = contrast[blocks.within]
        se = np.sqrt(np.einsum("p,gpq,q->g", cw, np.linalg.inv(c), cw))
        stat = (np.asarray(lfc, float) - lfc_null) @ contrast / se
        return 2 * norm.sf(np.abs(stat)), stat, se


def _local_min(fn: Any, start: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Minimum of ``fn`` in the basin of ``start`` (one per gene), as pydeseq2's L-BFGS-B finds.

    ``fn(x, genes)`` is the loss of the genes ``genes`` at ``x`` (one value each). Like
    L-BFGS-B, a start whose gradient is below its tolerance (``pgtol``; e.g. a dispersion
    starting at the lower bound, where the loss is flat in log α) stays where it is. Otherwise
    the grid is walked downhill from the start to the first local minimum, which is refined by
    golden section. The walk evaluates only the genes still walking (most stop after one or two
    grid points), so its cost is a few full evaluations rather than one per grid point.
    """
    start = np.clip(start, lo, hi)
    n = len(start)
    every = np.arange(n)
    step = 1e-3
    f0 = fn(start, every)
    s_up, s_down = np.minimum(start + step, hi), np.maximum(start - step, lo)
    grad = (fn(s_up, every) - fn(s_down, every)) / (s_up - s_down)
    stay = (np.abs(grad) <= _PGTOL) | ((start <= lo) & (grad > 0)) | ((start >= hi) & (grad < 0))
    # the grid with the start inserted after equal grid points (a stable sort), per gene
    grid = np.linspace(lo, hi, _GRID)
    pts = np.concatenate([np.broadcast_to(grid, (n, _GRID)), start[:, None]], axis=1)
    order = np.argsort(pts, axis=1, kind="stable")
    pts = np.take_along_axis(pts, order, 1)
    pos = np.argmax(order == _GRID, axis=1)  # the start's place in pts
    cur_val = f0.copy()
    direction = np.where(grad < 0, 1, -1)
    walking = np.flatnonzero(~stay)
    while len(walking):
        nxt = pos[walking] + direction[walking]
        inside = (nxt >= 0) & (nxt <= _GRID)
        walking, nxt = walking[inside], nxt[inside]
        if not len(walking):
            break
        val = fn(pts[walking, nxt], walking)
        down = val < cur_val[walking]  # ties stop the walk, as the grid search did
        moved = walking[down]
        pos[moved], cur_val[moved] = nxt[down], val[down]
        walking = moved
    out = start.copy()
    todo = np.flatnonzero(~stay)
    if len(todo):
        a = pts[todo, np.maximum(pos[todo] - 1, 0)]
        b = pts[todo, np.minimum(pos[todo] + 1, _GRID)]
        out[todo] = _golden(fn, a, b, todo)
    return out


def _golden(fn: Any, left: np.ndarray, right: np.ndarray, genes: np.ndarray) -> np.ndarray:
    """Vectorised golden-section minimisation of ``fn`` on ``[left, right]`` (one per gene).

    After the golden steps one parabolic step through the last three points polishes the
    minimum (the loss is smooth there); it is kept only where it lies inside the bracket and
    does not raise the loss.
    """
    ratio = (np.sqrt(5) - 1) / 2
    a, b = left.copy(), right.copy()
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = fn(c, genes), fn(d, genes)
    for _ in range(_GOLDEN_STEPS):
        lower = fc < fd
        b = np.where(lower, d, b)
        a = np.where(lower, a, c)
        new = np.where(lower, b - ratio * (b - a), a + ratio * (b - a))
        fnew = fn(new, genes)
        d, fd, c, fc = (
            np.where(lower, c, new),
            np.where(lower, fc, fnew),
            np.where(lower, new, d),
            np.where(lower, fnew, fd),
        )
    mid = (a + b) / 2
    fm = fn(mid, genes)
    # vertex of the parabola through (c, fc), (mid, fm), (d, fd)
    num = (mid - c) ** 2 * (fm - fd) - (mid - d) ** 2 * (fm - fc)
    den = (mid - c) * (fm - fd) - (mid - d) * (fm - fc)
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = mid - 0.5 * num / den
    ok = np.isfinite(vertex) & (vertex > a) & (vertex < b)
    best = mid.copy()
    if ok.any():
        idx = np.flatnonzero(ok)
        fv = fn(vertex[idx], genes[idx])
        better = fv <= fm[idx]
        best[idx[better]] = vertex[idx[better]]
    return best
