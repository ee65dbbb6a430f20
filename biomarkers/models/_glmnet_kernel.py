"""Numba kernel of the elastic-net logistic path (imported lazily: numba is a heavy import)."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["enet_logistic_path"]


@numba.njit(cache=True)
def enet_logistic_path(X, y, lambdas, alpha, tol, max_iter):  # pragma: no cover - numba
    n, p = X.shape
    n_lam = lambdas.shape[0]
    coefs = np.zeros((n_lam, p))
    n_iter = np.zeros(n_lam, dtype=np.int64)
    intercepts = np.zeros(n_lam)
    beta = np.zeros(p)
    ybar = y.mean()
    b0 = np.log(ybar / (1.0 - ybar))
    eta = np.full(n, b0)
    w = np.empty(n)
    z = np.empty(n)
    r = np.empty(n)
    active = np.zeros(p, dtype=np.bool_)
    for k in range(n_lam):
        lam = lambdas[k]
        l1 = lam * alpha
        l2 = lam * (1.0 - alpha)
        for _outer in range(max_iter):
            # quadratic approximation at the current fit
            for i in range(n):
                pr = 1.0 / (1.0 + np.exp(-eta[i]))
                wi = pr * (1.0 - pr)
                if wi < 1e-5:
                    wi = 1e-5
                w[i] = wi
                z[i] = eta[i] + (y[i] - pr) / wi
                r[i] = z[i] - eta[i]
            xv = np.zeros(p)
            for j in range(p):
                s = 0.0
                for i in range(n):
                    s += w[i] * X[i, j] * X[i, j]
                xv[j] = s / n
            sw = w.sum()
            max_outer_change = 0.0
            full_pass = True
            for _inner in range(10000):
                max_change = 0.0
                # intercept
                s = 0.0
                for i in range(n):
                    s += w[i] * r[i]
                d0 = s / sw
                if d0 != 0.0:
                    b0 += d0
                    for i in range(n):
                        r[i] -= d0
                    ch = d0 * d0 * sw / n
                    if ch > max_change:
                        max_change = ch
                for j in range(p):
                    if not full_pass and not active[j]:
                        continue
                    g = 0.0
                    for i in range(n):
                        g += w[i] * X[i, j] * r[i]
                    g = g / n + xv[j] * beta[j]
                    if g > l1:
                        bn = (g - l1) / (xv[j] + l2)
                    elif g < -l1:
                        bn = (g + l1) / (xv[j] + l2)
                    else:
                        bn = 0.0
                    d = bn - beta[j]
                    if d != 0.0:
                        beta[j] = bn
                        active[j] = True
                        for i in range(n):
                            r[i] -= d * X[i, j]
                        ch = xv[j] * d * d
                        if ch > max_change:
                            max_change = ch
                if max_change > max_outer_change:
                    max_outer_change = max_change
                if max_change < tol:
                    if full_pass:
                        break
                    full_pass = True  # confirm convergence over every coordinate
                else:
                    full_pass = False
            for i in range(n):
                eta[i] = z[i] - r[i]
            n_iter[k] = _outer + 1
            if max_outer_change < tol:
                break
        coefs[k] = beta
        intercepts[k] = b0
    return coefs, intercepts, n_iter
