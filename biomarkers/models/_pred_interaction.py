"""Per-marker treatment × marker interaction models (statsmodels) with BH-FDR and labels."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from biomarkers._stats import bh_qvalues
from biomarkers.models._pred_data import _PredData

__all__: list[str] = []

MARKER_COLUMNS = [
    "marker",
    "n",
    "beta_control",
    "beta_treated",
    "interaction",
    "ci_low",
    "ci_high",
    "p_interaction",
    "q_value_interaction",
    "p_prognostic",
    "q_value_prognostic",
    "label",
]
EXTRA_COLUMNS = [
    "n_events",
    "se_interaction",
    "se_control",
    "se_treated",
    "ci_control_low",
    "ci_control_high",
    "ci_treated_low",
    "ci_treated_high",
    "p_treated",
    "scale",
    "status",
]
_SCALE = {
    "binary": "log odds ratio per SD",
    "continuous": "mean difference per SD",
    "survival": "log hazard ratio per SD",
}
# a standardised coefficient this large means (quasi-)separation, not an estimate
_MAX_ABS_COEF = 15.0


_BLOCK = 256  # markers fitted together (memory: block × subjects × parameters floats)


def _batched_solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``A[i] x[i] = b[i]`` for a stack; singular systems give NaN rows."""
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(b.shape, np.nan)
        for i in range(A.shape[0]):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[i] = np.linalg.solve(A[i], b[i])
        return out


def _batched_inv(A: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(A)
    except np.linalg.LinAlgError:
        out = np.full(A.shape, np.nan)
        for i in range(A.shape[0]):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[i] = np.linalg.inv(A[i])
        return out


def _fit_ols(Xt, w, y):
    """Weighted (0/1 = complete case) OLS for a stack of designs; returns params, cov, df."""
    p = Xt.shape[2]
    XtW = Xt * w[:, :, None]
    A = np.einsum("mnp,mnq->mpq", XtW, Xt)
    beta = _batched_solve(A, np.einsum("mnp,n->mp", XtW, y))
    resid = y[None, :] - np.einsum("mnp,mp->mn", Xt, beta)
    df = w.sum(axis=1) - p
    sigma2 = (w * resid**2).sum(axis=1) / df
    cov = _batched_inv(A) * sigma2[:, None, None]
    status = np.where(np.isfinite(beta).all(axis=1), "ok", "failed").astype(object)
    return beta, cov, df, status


def _fit_logit(Xt, w, y, *, max_iter: int = 100, tol: float = 1e-8):
    """Newton–Raphson logistic regression for a stack of designs (as ``statsmodels.Logit``)."""
    m, _, p = Xt.shape
    beta = np.zeros((m, p))
    active = np.ones(m, dtype=bool)
    converged = np.zeros(m, dtype=bool)
    broken = np.zeros(m, dtype=bool)
    for _ in range(max_iter):
        if not active.any():
            break
        Xa, wa, ba = Xt[active], w[active], beta[active]
        mu = expit(np.einsum("mnp,mp->mn", Xa, ba))
        grad = np.einsum("mnp,mn->mp", Xa, wa * (y[None, :] - mu))
        hess = np.einsum("mnp,mn,mnq->mpq", Xa, wa * mu * (1 - mu), Xa)
        with np.errstate(all="ignore"):
            step = _batched_solve(hess, grad)
        bad = ~np.isfinite(step).all(axis=1)
        idx = np.flatnonzero(active)
        broken[idx[bad]] = True
        step[bad] = 0.0
        beta[active] = ba + step
        done = (np.abs(step).max(axis=1) < tol) & ~bad
        converged[idx[done]] = True
        active[idx[done | bad]] = False
    mu = expit(np.einsum("mnp,mp->mn", Xt, beta))
    hess = np.einsum("mnp,mn,mnq->mpq", Xt, w * mu * (1 - mu), Xt)
    with np.errstate(all="ignore"):
        cov = _batched_inv(hess)
    big = np.abs(beta).max(axis=1) > _MAX_ABS_COEF
    finite = np.isfinite(cov).all(axis=(1, 2)) & (np.diagonal(cov, axis1=1, axis2=2) > 0).all(1)
    status = np.select(
        [broken | big | ~finite, ~converged], ["separation", "not_converged"], "ok"
    ).astype(object)
    return beta, cov, None, status


def _fit_cox(Xt, w, time, event):
    from biomarkers.models._pred_cox import cox_efron

    m, _, p = Xt.shape
    beta = np.full((m, p), np.nan)
    cov = np.full((m, p, p), np.nan)
    status = np.empty(m, dtype=object)
    for i in range(m):
        keep = w[i] > 0
        params, c, converged = cox_efron(time[keep], event[keep], Xt[i, keep])
        beta[i], cov[i] = params, c
        if not (np.all(np.isfinite(params)) and np.all(np.isfinite(c))):
            status[i] = "failed"
        elif np.abs(params).max() > _MAX_ABS_COEF:
            status[i] = "separation"
        else:
            status[i] = "ok" if converged else "not_converged"
    return beta, cov, None, status


def _standardise(X: np.ndarray):
    """Per-marker complete-case mask and standardised values (censored → observed range)."""
    keep = ~np.isnan(X)
    finite = np.isfinite(X)
    lo = np.where(finite, X, np.inf).min(axis=0, initial=np.inf)
    hi = np.where(finite, X, -np.inf).max(axis=0, initial=-np.inf)
    Xc = np.where(np.isneginf(X), lo, np.where(np.isposinf(X), hi, X))
    Xc = np.where(keep, Xc, 0.0)
    n = keep.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = Xc.sum(axis=0) / n
        sd = np.sqrt((((Xc - mean) ** 2) * keep).sum(axis=0) / n)
        Z = np.where(keep, (Xc - mean) / sd, 0.0)
    return keep, Z, finite.sum(axis=0), sd


def _estimates(data: _PredData) -> pd.DataFrame:
    n_markers = data.X.shape[1]
    keep, Z, n_finite, sd = _standardise(data.X)
    arm, C = data.arm.astype(float), data.C
    n_par = 4 + C.shape[1]
    n = keep.sum(axis=0)
    n_t = (keep & (data.arm[:, None] == 1)).sum(axis=0)
    n_c = n - n_t
    status = np.full(n_markers, "ok", dtype=object)
    status[(n < n_par + 2) | (np.minimum(n_t, n_c) < 2)] = "too_few"
    status[(sd == 0) & (n_finite >= 2)] = "constant"
    status[n_finite < 2] = "too_few"
    intercept = data.kind != "survival"
    p = n_par - (0 if intercept else 1)
    beta = np.full((n_markers, p), np.nan)
    cov = np.full((n_markers, p, p), np.nan)
    df = np.full(n_markers, np.nan)
    todo = np.flatnonzero(status == "ok")
    for start in range(0, todo.size, _BLOCK):
        idx = todo[start : start + _BLOCK]
        Zb = Z[:, idx].T  # m × n
        cols = [np.broadcast_to(arm, Zb.shape), Zb, arm[None, :] * Zb]
        cols += [np.broadcast_to(c, Zb.shape) for c in C.T]
        if intercept:
            cols.insert(0, np.ones_like(Zb))
        Xt = np.stack(cols, axis=2)
        w = keep[:, idx].T.astype(float)
        if data.kind == "binary":
            b, c, _, st = _fit_logit(Xt, w, data.y)
        elif data.kind == "continuous":
            b, c, d, st = _fit_ols(Xt, w, data.y)
            df[idx] = d
        else:
            b, c, _, st = _fit_cox(Xt, w, data.y, data.event)
        beta[idx], cov[idx], status[idx] = b, c, st
    off = 1 if intercept else 0
    i_z, i_az = off + 1, off + 2
    usable = status == "ok"
    beta[~usable], cov[~usable] = np.nan, np.nan
    b_c, b_az = beta[:, i_z], beta[:, i_az]
    with np.errstate(invalid="ignore"):
        se_c = np.sqrt(cov[:, i_z, i_z])
        se_az = np.sqrt(cov[:, i_az, i_az])
        se_t = np.sqrt(cov[:, i_z, i_z] + cov[:, i_az, i_az] + 2 * cov[:, i_z, i_az])
    if data.kind == "continuous":
        quant = stats.t.ppf(0.975, np.where(df > 0, df, np.nan))

        def _p(est, se):
            return 2 * stats.t.sf(np.abs(est / se), np.where(df > 0, df, np.nan))
    else:
        quant = stats.norm.ppf(0.975)

        def _p(est, se):
            return 2 * stats.norm.sf(np.abs(est / se))

    if data.kind == "binary":
        n_events = (keep * data.y[:, None]).sum(axis=0)
    elif data.kind == "survival":
        n_events = (keep * data.event[:, None]).sum(axis=0)
    else:
        n_events = np.full(n_markers, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                "marker": data.marker_names,
                "n": n.astype(int),
                "beta_control": b_c,
                "beta_treated": b_c + b_az,
                "interaction": b_az,
                "ci_low": b_az - quant * se_az,
                "ci_high": b_az + quant * se_az,
                "p_interaction": _p(b_az, se_az),
                "p_prognostic": _p(b_c, se_c),
                "n_events": n_events,
                "se_interaction": se_az,
                "se_control": se_c,
                "se_treated": se_t,
                "ci_control_low": b_c - quant * se_c,
                "ci_control_high": b_c + quant * se_c,
                "ci_treated_low": b_c + b_az - quant * se_t,
                "ci_treated_high": b_c + b_az + quant * se_t,
                "p_treated": _p(b_c + b_az, se_t),
                "scale": _SCALE[data.kind],
                "status": status,
            }
        )


def label_markers(q_value_interaction, q_value_prognostic, fdr: float) -> np.ndarray:
    """``predictive`` / ``prognostic`` / ``both`` / ``neither`` at the given FDR."""
    pred = np.nan_to_num(np.asarray(q_value_interaction, dtype=float), nan=2.0) <= fdr
    prog = np.nan_to_num(np.asarray(q_value_prognostic, dtype=float), nan=2.0) <= fdr
    return np.select([pred & prog, pred, prog], ["both", "predictive", "prognostic"], "neither")


def interaction_table(data: _PredData, *, fdr: float) -> pd.DataFrame:
    """One row per marker: arm-specific marker effects, interaction with CI, p, q and label.

    Logistic and linear models are fitted for blocks of markers at once (batched
    Newton–Raphson / least squares, the same estimates as ``statsmodels.Logit`` / ``OLS``);
    Cox models one marker at a time with :func:`cox_efron`.
    """
    df = _estimates(data)
    df["q_value_interaction"] = bh_qvalues(df["p_interaction"].to_numpy())
    df["q_value_prognostic"] = bh_qvalues(df["p_prognostic"].to_numpy())
    df["label"] = label_markers(df["q_value_interaction"], df["q_value_prognostic"], fdr)
    return df[MARKER_COLUMNS + EXTRA_COLUMNS]
