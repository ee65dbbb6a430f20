"""A small vectorised Cox proportional-hazards fit (Efron ties) for many tiny models.

``statsmodels.PHReg`` gives the same estimates (the oracle tests check it) but loops over event
times in Python, ~100 ms per fit; this version is ~1 ms, which matters with one model per
marker and per subgroup.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []


def cox_efron(
    time: np.ndarray, event: np.ndarray, X: np.ndarray, *, max_iter: int = 50, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Maximum partial likelihood with Efron's tie correction by Newton–Raphson.

    Returns ``(params, cov, converged)``; ``cov`` is the inverse observed information.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    order = np.argsort(-time, kind="stable")
    t, e, Xs = time[order], event[order], X[order]
    ev_times, d = np.unique(t[e], return_counts=True)
    if ev_times.size == 0:
        return np.full(p, np.nan), np.full((p, p), np.nan), False
    last = n - np.searchsorted(np.sort(time), ev_times, side="left") - 1
    ev_idx = np.searchsorted(ev_times, t[e])
    j_rep = np.repeat(np.arange(ev_times.size), d)
    c = (np.arange(j_rep.size) - np.repeat(np.cumsum(d) - d, d)) / d[j_rep]
    Xe = Xs[e]
    sum_x_events = Xe.sum(axis=0)
    outer = Xs[:, :, None] * Xs[:, None, :]
    m = ev_times.size

    def pieces(beta):
        eta = Xs @ beta
        shift = eta.max()
        w = np.exp(eta - shift)
        s0 = np.cumsum(w)[last]
        s1 = np.cumsum(w[:, None] * Xs, axis=0)[last]
        s2 = np.cumsum(w[:, None, None] * outer, axis=0)[last]
        we = w[e]
        d0 = np.bincount(ev_idx, weights=we, minlength=m)
        d1 = np.zeros((m, p))
        np.add.at(d1, ev_idx, we[:, None] * Xe)
        d2 = np.zeros((m, p, p))
        np.add.at(d2, ev_idx, we[:, None, None] * outer[e])
        den = s0[j_rep] - c * d0[j_rep]
        num1 = s1[j_rep] - c[:, None] * d1[j_rep]
        num2 = s2[j_rep] - c[:, None, None] * d2[j_rep]
        loglik = float(eta[e].sum() - np.log(den).sum() - j_rep.size * shift)
        grad = sum_x_events - (num1 / den[:, None]).sum(axis=0)
        mean1 = num1 / den[:, None]
        info = (num2 / den[:, None, None]).sum(axis=0) - np.einsum("ki,kj->ij", mean1, mean1)
        return loglik, grad, info

    beta = np.zeros(p)
    loglik, grad, info = pieces(beta)
    converged = False
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(max_iter):
            try:
                step = np.linalg.solve(info, grad)
            except np.linalg.LinAlgError:
                break
            scale = 1.0
            while True:
                cand = beta + scale * step
                new = pieces(cand)
                if np.isfinite(new[0]) and new[0] >= loglik - 1e-12:
                    break
                scale *= 0.5
                if scale < 1e-8:
                    break
            if scale < 1e-8:
                break
            improvement = new[0] - loglik
            beta, (loglik, grad, info) = cand, new
            if np.max(np.abs(scale * step)) < 1e-9 or abs(improvement) < tol:
                converged = True
                break
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.full((p, p), np.nan)
    return beta, cov, converged
