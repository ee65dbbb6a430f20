"""Statistical primitives of panel evaluation: logistic fits with offsets, DeLong's AUROC SE."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import expit

__all__ = ["Z95", "LogisticFit", "delong_auroc", "logistic_fit", "logit"]

Z95 = float(stats.norm.ppf(0.975))
_EPS = 1e-12


@dataclass(frozen=True)
class LogisticFit:
    """Maximum-likelihood logistic regression: parameters, covariance, log-likelihood."""

    params: np.ndarray
    cov: np.ndarray
    loglik: float

    @property
    def se(self) -> np.ndarray:
        """Standard errors (square roots of the covariance diagonal)."""
        return np.sqrt(np.diag(self.cov))


def _loglik(y: np.ndarray, eta: np.ndarray) -> float:
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def logistic_fit(
    X: np.ndarray, y: np.ndarray, *, offset: np.ndarray | None = None, max_iter: int = 100
) -> LogisticFit:
    """Logistic regression ``logit P(y=1) = offset + X @ beta`` by Newton-Raphson.

    Step-halving keeps every step from lowering the likelihood; ``X`` with zero columns gives
    the offset-only model (the locked panel) and its log-likelihood.
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float).reshape(y.shape[0], -1)
    off = np.zeros_like(y) if offset is None else np.asarray(offset, dtype=float)
    beta = np.zeros(X.shape[1])
    ll = _loglik(y, off + X @ beta)
    if X.shape[1] == 0:
        return LogisticFit(beta, np.zeros((0, 0)), ll)
    hess = np.eye(X.shape[1])
    for _ in range(max_iter):
        mu = expit(off + X @ beta)
        grad = X.T @ (y - mu)
        hess = (X * (mu * (1 - mu))[:, None]).T @ X
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        for _ in range(40):
            new = _loglik(y, off + X @ (beta + t * step))
            if new >= ll - 1e-12:
                break
            t /= 2
        beta, ll = beta + t * step, max(ll, new)
        if np.max(np.abs(t * step)) < 1e-12:
            break
    mu = expit(off + X @ beta)
    hess = (X * (mu * (1 - mu))[:, None]).T @ X
    cov = np.linalg.pinv(hess)
    return LogisticFit(beta, cov, ll)


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities clipped to ``[1e-12, 1 - 1e-12]``."""
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def delong_auroc(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """AUROC and its DeLong standard error (DeLong et al., *Biometrics* 1988;44:837)."""
    pos, neg = p[y == 1], p[y == 0]
    m, n = pos.size, neg.size
    if m < 1 or n < 1:
        return np.nan, np.nan
    # placement values: share of the other class below (ties count one half)
    neg_sorted, pos_sorted = np.sort(neg), np.sort(pos)
    v10 = (
        np.searchsorted(neg_sorted, pos, side="left")
        + np.searchsorted(neg_sorted, pos, side="right")
    ) / (2.0 * n)
    v01 = 1.0 - (
        np.searchsorted(pos_sorted, neg, side="left")
        + np.searchsorted(pos_sorted, neg, side="right")
    ) / (2.0 * m)
    auc = float(v10.mean())
    var = (np.var(v10, ddof=1) / m if m > 1 else 0.0) + (np.var(v01, ddof=1) / n if n > 1 else 0.0)
    return auc, float(np.sqrt(var))
