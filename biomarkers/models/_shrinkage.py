"""Shrunk treatment × marker interactions: empirical Bayes, joint ridge, horseshoe.

With 50 patients per arm every single-marker interaction is noisy and the largest raw estimates
are the most exaggerated (winner's curse). Shrinkage pulls them towards what the whole family of
markers supports, and reports an interval for the shrunk value next to the raw one:

- ``"eb"``: normal–normal empirical Bayes on the raw estimates and their standard errors
  (Paule–Mandel τ², statsmodels ``combine_effects``), Morris' (1983) correction of the shrinkage
  factor and posterior variance for the estimation of the mean and τ²;
- ``"ridge"``: one model with every marker and every marker × arm term at once, the
  interactions ridge-penalised, λ by cross-validation, percentile interval over a subject
  bootstrap at that λ;
- ``"horseshoe"``: a horseshoe prior on the interactions (normal means with known standard
  errors, Gibbs sampler in the Makalic & Schmidt 2016 parametrisation), posterior mean and
  2.5–97.5% quantiles.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from biomarkers._logging import logger
from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError
from biomarkers.models._cv import root_seed, seed_for

if TYPE_CHECKING:
    from biomarkers.models._pred_data import _PredData

__all__ = ["shrink_estimates"]

SHRINKAGE = ("eb", "ridge", "horseshoe", "none")
SHRUNK_COLUMNS = ["interaction_shrunk", "interaction_shrunk_ci_low", "interaction_shrunk_ci_high"]
# fewest usable estimates: Morris' correction needs k > 3; the horseshoe's global scale needs
# a family to learn from (below 10 markers it is fitted from too few values and eb is used)
MIN_EB = 4
MIN_HORSESHOE = 10
MAX_RIDGE = 500  # the joint model's Newton steps solve (2 × markers)² systems
# penalty factors of the joint ridge model relative to the interactions' λ: the arm is
# (practically) unpenalised, main effects and covariates lightly, interactions fully
_ARM_PENALTY, _MAIN_PENALTY = 1e-4, 0.1
_LAMBDAS = np.logspace(-2, 3, 16)
_Z = stats.norm.ppf(0.975)


def shrink_estimates(
    estimate: Sequence[float] | np.ndarray,
    se: Sequence[float] | np.ndarray,
    *,
    method: str = "eb",
    random_state: int | np.random.Generator | None = 0,
    n_samples: int = 4000,
) -> pd.DataFrame:
    """Shrink a family of estimates with known standard errors (normal-means model).

    ``"eb"`` (empirical Bayes, normal–normal): ``y_i ~ N(θ_i, s_i²)``, ``θ_i ~ N(μ, τ²)``; τ²
    by Paule–Mandel and μ its random-effects mean (``statsmodels.stats.meta_analysis.
    combine_effects(method_re="pm")``). With ``k`` estimates, Morris' corrected shrinkage
    factor ``B_i = (k - 3)/(k - 1) · s_i²/(s_i² + τ²)`` gives ``θ̂_i = y_i - B_i (y_i - μ)``
    and variance ``s_i² (1 - (k - 1)/k · B_i) + 2/(k - 3) · B_i² (y_i - μ)²``, which
    accounts for estimating μ and τ² (exact for equal ``s_i``, an approximation otherwise);
    the interval is ``θ̂_i ± 1.96 sd``. Needs ``k >= 4``.

    ``"horseshoe"``: ``θ_i ~ N(0, λ_i² τ²)``, ``λ_i, τ ~ C⁺(0, 1)`` (shrinks towards no
    interaction), Gibbs sampling with the inverse-gamma auxiliary variables of Makalic &
    Schmidt (2016); ``n_samples`` draws after as many burn-in draws, seeded by
    ``random_state``. Posterior mean and 2.5/97.5% quantiles.

    Parameters
    ----------
    estimate
        Raw estimates (e.g. interactions on the log odds ratio scale); NaN entries are left
        out and get NaN.
    se
        Their standard errors.
    method
        ``"eb"`` or ``"horseshoe"`` (``"ridge"`` needs the subjects: ``predictive(shrinkage=
        "ridge")``).
    random_state
        Seed of the horseshoe sampler (unused by ``"eb"``).
    n_samples
        Posterior draws kept by the horseshoe sampler.

    Returns
    -------
    pandas.DataFrame
        One row per estimate: ``shrunk, ci_low, ci_high``; ``attrs`` hold ``method``,
        ``tau2`` (eb: the Paule–Mandel τ²; horseshoe: posterior median of τ²) and ``mean``.

    Examples
    --------
    >>> out = shrink_estimates([0.9, 0.1, -0.2, 0.3, 0.0], [0.3] * 5)
    >>> bool(abs(out["shrunk"].iloc[0]) < 0.9)
    True
    """
    check_choice("method", method, ("eb", "horseshoe"))
    y, s = np.asarray(estimate, dtype=float), np.asarray(se, dtype=float)
    if y.shape != s.shape or y.ndim != 1:
        msg = f"estimate and se must be 1-d of the same length; got {y.shape} and {s.shape}"
        raise ConfigError(msg)
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    out = np.full((y.size, 3), np.nan)
    need = MIN_EB if method == "eb" else 1
    if ok.sum() < need:
        msg = f"shrinkage {method!r} needs at least {need} finite estimates with se > 0; got {ok.sum()}"
        raise ConfigError(msg)
    if method == "eb":
        out[ok], tau2, mean = _eb(y[ok], s[ok])
    else:
        rng = np.random.default_rng(seed_for(root_seed(random_state), "shrink_horseshoe"))
        out[ok], tau2 = _horseshoe(y[ok], s[ok], rng=rng, n_samples=n_samples)
        mean = 0.0
    df = pd.DataFrame(out, columns=["shrunk", "ci_low", "ci_high"])
    df.attrs.update(method=method, tau2=float(tau2), mean=float(mean))
    return df


def _eb(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, float, float]:
    from statsmodels.stats.meta_analysis import combine_effects

    k = y.size
    v = s**2
    res = combine_effects(y, v, method_re="pm")
    tau2, mu = max(float(res.tau2), 0.0), float(res.mean_effect_re)
    b = (k - 3) / (k - 1) * v / (v + tau2)
    post = y - b * (y - mu)
    var = v * (1 - (k - 1) / k * b) + 2 / (k - 3) * b**2 * (y - mu) ** 2
    sd = np.sqrt(var)
    return np.column_stack([post, post - _Z * sd, post + _Z * sd]), tau2, mu


def _inv_gamma(rng: np.random.Generator, shape, scale: np.ndarray) -> np.ndarray:
    """Draws from IG(shape, scale): ``scale / Gamma(shape, 1)``."""
    return scale / rng.gamma(shape, 1.0, size=np.shape(scale))


def _horseshoe(y, s, *, rng, n_samples: int) -> tuple[np.ndarray, float]:
    """Gibbs sampler of the horseshoe normal-means model (Makalic & Schmidt 2016)."""
    k, v = y.size, s**2
    lam2, nu = np.ones(k), np.ones(k)
    tau2, xi = 1.0, 1.0
    draws = np.empty((n_samples, k))
    tau2_draws = np.empty(n_samples)
    for it in range(2 * n_samples):
        prior = lam2 * tau2
        frac = prior / (prior + v)
        theta = frac * y + np.sqrt(frac * v) * rng.standard_normal(k)
        lam2 = _inv_gamma(rng, 1.0, 1.0 / nu + theta**2 / (2 * tau2))
        tau2 = float(
            _inv_gamma(rng, (k + 1) / 2, np.asarray(1.0 / xi + np.sum(theta**2 / lam2) / 2))
        )
        nu = _inv_gamma(rng, 1.0, 1.0 + 1.0 / lam2)
        xi = float(_inv_gamma(rng, 1.0, np.asarray(1.0 + 1.0 / tau2)))
        if it >= n_samples:
            draws[it - n_samples], tau2_draws[it - n_samples] = theta, tau2
    lo, hi = np.quantile(draws, [0.025, 0.975], axis=0)
    return np.column_stack([draws.mean(axis=0), lo, hi]), float(np.median(tau2_draws))


def add_shrunk(
    markers: pd.DataFrame,
    data: _PredData,
    *,
    method: str,
    random_state: int,
    n_bootstraps: int = 200,
) -> tuple[pd.DataFrame, dict]:
    """The marker table with ``interaction_shrunk*`` columns and the settings used.

    The markers with ``status == "ok"`` form the family; the others get NaN. ``"horseshoe"``
    with fewer than :data:`MIN_HORSESHOE` usable markers, and ``"ridge"`` with more than
    :data:`MAX_RIDGE` (a joint model of 2 × that many terms), fall back to ``"eb"``; fewer
    than ``MIN_EB`` usable markers give no shrinkage. The fallback is recorded in
    ``shrinkage_method`` and ``shrinkage_note``.
    """
    check_choice("shrinkage", method, SHRINKAGE)
    settings = {"shrinkage": method, "shrinkage_method": method, "shrinkage_note": ""}
    if method == "none" or markers.empty:
        settings["shrinkage_method"] = "none"
        return markers, settings
    ok = (markers["status"] == "ok").to_numpy() & np.isfinite(
        markers["se_interaction"].to_numpy(float)
    )
    k = int(ok.sum())
    used = method
    if k < MIN_EB:
        settings.update(shrinkage_method="none", shrinkage_note=f"{k} usable markers (< {MIN_EB})")
        # recorded in the settings: too few markers to estimate a between-marker variance
        logger.info(
            "shrinkage=%r skipped: %d markers with an interaction estimate, at least %d needed",
            method, k, MIN_EB,
        )  # fmt: skip
        return markers, settings
    if method == "horseshoe" and k < MIN_HORSESHOE:
        used = "eb"
        settings["shrinkage_note"] = f"horseshoe needs >= {MIN_HORSESHOE} markers; {k}: eb used"
    if method == "ridge" and k > MAX_RIDGE:
        used = "eb"
        settings["shrinkage_note"] = f"ridge takes <= {MAX_RIDGE} markers; {k}: eb used"
    out = np.full((len(markers), 3), np.nan)
    if used == "ridge":
        est, extra = _ridge(data, ok, random_state=random_state, n_bootstraps=n_bootstraps)
        out[ok] = est
        settings.update(extra)
    else:
        res = shrink_estimates(
            markers["interaction"].to_numpy(float)[ok],
            markers["se_interaction"].to_numpy(float)[ok],
            method=used,
            random_state=random_state,
        )
        out[ok] = res.to_numpy()
        settings["shrinkage_tau2"] = res.attrs["tau2"]
        settings["shrinkage_mean"] = res.attrs["mean"]
    settings["shrinkage_method"] = used
    return markers.assign(**dict(zip(SHRUNK_COLUMNS, out.T, strict=True))), settings


# ---------------------------------------------------------------- joint ridge model


def _ridge_design(data: _PredData, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Design columns arm, markers, arm × markers, covariates, and their penalty factors.

    Markers are standardised as in the raw models; a missing value sits at the mean (0).
    """
    from biomarkers.models._pred_interaction import _standardise

    keep, Z, _, _ = _standardise(data.X[:, ok])
    Z = np.where(keep, Z, 0.0)
    arm = data.arm.astype(float)
    X = np.column_stack([arm, Z, arm[:, None] * Z, data.C])
    m = Z.shape[1]
    pen = np.r_[
        _ARM_PENALTY, np.full(m, _MAIN_PENALTY), np.ones(m), np.full(data.C.shape[1], _MAIN_PENALTY)
    ]
    return X, pen


def _ridge_fit(kind: str, X, y, event, lam: float) -> np.ndarray:
    """Coefficients of the ridge model with penalty ``lam · β_j²`` (columns pre-scaled)."""
    if kind == "binary":
        return _logit_ridge(X, y, lam)
    if kind == "continuous":
        from sklearn.linear_model import Ridge

        return Ridge(alpha=lam).fit(X, y).coef_
    return _cox_ridge(X, y, event, lam)


def _coefs(kind, X, y, event, lam) -> np.ndarray:
    """The coefficients of the design's columns (no intercept)."""
    beta = _ridge_fit(kind, X, y, event, lam)
    return beta[1:] if kind == "binary" else beta


def _logit_ridge(X, y, lam: float, *, max_iter: int = 50) -> np.ndarray:
    """Ridge logistic regression (unpenalised intercept) by Newton–Raphson.

    Minimises ``-loglik + lam · ||β||²/2``, as scikit-learn's ``LogisticRegression(C=1/lam)``
    (the tests check it); Newton steps are much faster than lbfgs for these small designs.
    """
    from scipy.special import expit

    Xi = np.column_stack([np.ones(len(X)), X])
    pen = np.r_[0.0, np.full(X.shape[1], lam)]

    def objective(b):  # penalised log-likelihood (maximised)
        eta = Xi @ b
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)) - 0.5 * np.sum(pen * b**2))

    beta = np.zeros(Xi.shape[1])
    current = objective(beta)
    for _ in range(max_iter):
        mu = expit(Xi @ beta)
        grad = Xi.T @ (y - mu) - pen * beta
        hess = (Xi * (mu * (1 - mu))[:, None]).T @ Xi + np.diag(pen)
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        scale = 1.0  # halve the step until the objective improves (quasi-separation)
        while (new := objective(beta + scale * step)) < current - 1e-12 and scale > 1e-6:
            scale /= 2
        beta, current = beta + scale * step, new
        if np.max(np.abs(scale * step)) < 1e-9:
            break
    return beta


def _cox_ridge(X, time, event, lam: float, *, max_iter: int = 50) -> np.ndarray:
    """Ridge-penalised Cox model (Breslow ties) by Newton–Raphson."""
    beta = np.zeros(X.shape[1])
    for _ in range(max_iter):
        _, grad, hess = _cox_breslow(X, time, event, beta)
        step = np.linalg.solve(hess + 2 * lam * np.eye(beta.size), grad - 2 * lam * beta)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def _cox_breslow(X, time, event, beta):
    """Breslow log partial likelihood, its gradient and the observed information."""
    order = np.argsort(-time, kind="stable")
    Xs, t, e = X[order], time[order], event[order].astype(bool)
    eta = Xs @ beta
    w = np.exp(eta - eta.max())
    # risk set of a subject = everybody with time >= its time: the last index of its tie block
    last = np.searchsorted(-t, -t, side="right") - 1
    s0 = np.cumsum(w)[last]
    s1 = np.cumsum(w[:, None] * Xs, axis=0)[last]
    s2 = np.cumsum(w[:, None, None] * (Xs[:, :, None] * Xs[:, None, :]), axis=0)[last]
    mean = s1[e] / s0[e][:, None]
    loglik = float(np.sum(eta[e] - eta.max() - np.log(s0[e])))
    grad = (Xs[e] - mean).sum(axis=0)
    info = (s2[e] / s0[e][:, None, None]).sum(axis=0) - mean.T @ mean
    return loglik, grad, info


def _choose_lambda(kind, X, y, event, strata, *, seed: int, n_folds: int = 5) -> float:
    from sklearn.model_selection import StratifiedKFold

    folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(X, strata))
    losses = np.zeros(_LAMBDAS.size)
    for j, lam in enumerate(_LAMBDAS):
        for train, test in folds:
            losses[j] += _fold_loss(kind, X, y, event, lam, train, test)
    return float(_LAMBDAS[int(np.argmin(losses))])


def _fold_loss(kind, X, y, event, lam, train, test) -> float:
    if kind == "binary":
        from scipy.special import expit

        beta = _logit_ridge(X[train], y[train], lam)
        p = np.clip(expit(beta[0] + X[test] @ beta[1:]), 1e-12, 1 - 1e-12)
        return float(-np.sum(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p)))
    if kind == "continuous":
        from sklearn.linear_model import Ridge

        fit = Ridge(alpha=lam).fit(X[train], y[train])
        return float(np.sum((y[test] - fit.predict(X[test])) ** 2))
    beta = _cox_ridge(X[train], y[train], event[train], lam)
    full = _cox_breslow(X, y, event, beta)[0]
    part = _cox_breslow(X[train], y[train], event[train], beta)[0]
    return -(full - part)


def _ridge(data: _PredData, ok: np.ndarray, *, random_state: int, n_bootstraps: int):
    """Joint ridge interactions (per SD) with a subject-bootstrap percentile interval."""
    from threadpoolctl import threadpool_limits

    X, pen = _ridge_design(data, ok)
    scale = 1.0 / np.sqrt(pen)  # penalising β_j by pen_j·λ = scaling column j by 1/√pen_j
    Xs = X * scale
    kind, y, event = data.kind, data.y.astype(float), data.event
    m = int(ok.sum())
    inter = slice(1 + m, 1 + 2 * m)
    strata = data.arm * 2 + (y if kind == "binary" else (event if kind == "survival" else 0))
    with threadpool_limits(limits=1, user_api="blas"):
        lam = _choose_lambda(
            kind, Xs, y, event, strata, seed=seed_for(random_state, "shrink_ridge_cv")
        )
        est = (_coefs(kind, Xs, y, event, lam) * scale)[inter]
        rng = np.random.default_rng(seed_for(random_state, "shrink_ridge_boot"))
        boots = np.full((n_bootstraps, m), np.nan)
        arms = [np.flatnonzero(data.arm == a) for a in (0, 1)]
        for b in range(n_bootstraps):
            idx = np.concatenate([rng.choice(g, g.size) for g in arms])  # within arm
            if kind == "binary" and np.unique(y[idx]).size < 2:
                continue
            ev = None if event is None else event[idx]
            boots[b] = (_coefs(kind, Xs[idx], y[idx], ev, lam) * scale)[inter]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN only with n_bootstraps=0
        lo, hi = (
            np.nanquantile(boots, [0.025, 0.975], axis=0)
            if n_bootstraps
            else (np.full(m, np.nan),) * 2
        )
    return np.column_stack([est, lo, hi]), {
        "shrinkage_lambda": lam,
        "shrinkage_n_bootstraps": n_bootstraps,
    }
