"""Cross-fitted conditional treatment effect learners (T-learner, DR-learner, known propensity).

Base learners are refitted inside every training fold, with their own preprocessing (censored
values, median imputation, standardisation) and their own tuning:

* ``linear``: ridge logistic regression for binary outcomes, the penalty chosen by approximate
  leave-one-out deviance (Rad & Maleki 2020, exact for squared loss); :class:`~sklearn.linear_model.RidgeCV`
  (exact leave-one-out) for continuous outcomes and survival pseudo-values;
* ``xgboost``: shallow gradient-boosted trees with fixed, conservative settings.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats
from scipy.special import expit, log_expit

from biomarkers.exceptions import SchemaError
from biomarkers.models._cv import grouped_folds, seed_for

__all__: list[str] = []


# ---------------------------------------------------------------------------------------------
# outcome used by the learners
# ---------------------------------------------------------------------------------------------
def rmst_pseudo_values(time: np.ndarray, event: np.ndarray, tau: float) -> np.ndarray:
    """Jackknife pseudo-values of the Kaplan–Meier restricted mean survival time up to ``tau``.

    ``n * RMST - (n - 1) * RMST_(-i)`` for every subject ``i`` (Andersen, Hansen & Klein 2004);
    vectorised over subjects in blocks (memory ``block × event times``).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    n = time.size
    u = np.unique(time[(event == 1) & (time <= tau)])
    if u.size == 0:
        return np.full(n, float(tau))
    widths = np.diff(np.append(u, tau))  # S is constant on [u_j, u_{j+1})
    at_risk = (time[:, None] >= u[None, :]).sum(axis=0).astype(float)
    deaths = ((time[:, None] == u[None, :]) & (event[:, None] == 1)).sum(axis=0).astype(float)

    def _rmst(r, d):
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(r > 0, d / np.where(r > 0, r, 1.0), 0.0)
            log_s = np.cumsum(np.log1p(-np.minimum(frac, 1.0)), axis=-1)
        return u[0] + (np.exp(log_s) * widths).sum(axis=-1)

    full = _rmst(at_risk, deaths)
    out = np.empty(n)
    block = max(1, int(2_000_000 // max(u.size, 1)))
    for start in range(0, n, block):
        t = time[start : start + block, None]
        e = event[start : start + block, None]
        r = at_risk[None, :] - (t >= u[None, :])
        d = deaths[None, :] - ((t == u[None, :]) & (e == 1))
        out[start : start + block] = n * full - (n - 1) * _rmst(r, d)
    return out


def survival_outcome(time, event, arm) -> tuple[np.ndarray, float]:
    """RMST pseudo-values up to ``tau`` = the shorter of the two arms' longest follow-up."""
    tau = float(min(time[arm == 1].max(), time[arm == 0].max()))
    return rmst_pseudo_values(time, event, tau), tau


# ---------------------------------------------------------------------------------------------
# folds
# ---------------------------------------------------------------------------------------------
def outcome_strata(kind: str, y: np.ndarray, event: np.ndarray | None) -> np.ndarray:
    """Outcome classes to stratify folds on: the label, the event flag, or outcome tertiles."""
    if kind == "binary":
        return y.astype(int)
    if kind == "survival":
        return np.asarray(event, dtype=int)
    cuts = np.quantile(y, [1 / 3, 2 / 3])
    return np.searchsorted(cuts, y, side="right")


def make_folds(arm: np.ndarray, strata: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Fold id per subject, stratified by arm × outcome class (arm only when a cell is tiny)."""
    n_arm_min = int(min(arm.sum(), (1 - arm).sum()))
    if n_arm_min < n_folds:
        msg = (
            f"n_folds={n_folds} but one arm has only {n_arm_min} subjects with an outcome; "
            f"use n_folds <= {max(n_arm_min, 2)}"
        )
        raise SchemaError(msg)
    labels = arm * (int(strata.max()) + 1) + strata
    if np.unique(labels, return_counts=True)[1].min() < n_folds:
        labels = arm
    folds = np.empty(arm.size, dtype=int)
    # one row per subject: the groups are the rows themselves
    splits = grouped_folds(labels, np.arange(arm.size), n_splits=n_folds, seed=seed)
    for k, (_, test) in enumerate(splits):
        folds[test] = k
    return folds


# ---------------------------------------------------------------------------------------------
# base learners
# ---------------------------------------------------------------------------------------------
class _Prep:
    """Censored-value fill, median imputation and standardisation learned on training rows.

    ``-inf``/``+inf`` become the training minimum/maximum, the rule of
    ``CensoredValueImputer(rule="keep")``, inlined because this runs thousands of times per
    permutation null.
    """

    def fit(self, X: np.ndarray) -> _Prep:
        finite = np.isfinite(X)
        self.lo_ = np.where(finite, X, np.inf).min(axis=0, initial=np.inf)
        self.hi_ = np.where(finite, X, -np.inf).max(axis=0, initial=-np.inf)
        Xf = self._fill(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column
            med = np.nanmedian(Xf, axis=0) if np.isnan(Xf).any() else np.median(Xf, axis=0)
        self.median_ = np.where(np.isnan(med), 0.0, med)
        Xi = np.where(np.isnan(Xf), self.median_, Xf)
        self.mean_ = Xi.mean(axis=0)
        sd = Xi.std(axis=0)
        self.keep_ = sd > 1e-12
        self.sd_ = np.where(self.keep_, sd, 1.0)
        return self

    def _fill(self, X: np.ndarray) -> np.ndarray:
        lo = np.where(np.isfinite(self.lo_), self.lo_, np.nan)
        hi = np.where(np.isfinite(self.hi_), self.hi_, np.nan)
        return np.where(-np.inf == X, lo, np.where(np.inf == X, hi, X))

    def transform(self, X: np.ndarray) -> np.ndarray:
        Xi = np.where(np.isnan(Xf := self._fill(X)), self.median_, Xf)
        return ((Xi - self.mean_) / self.sd_)[:, self.keep_]


def _logistic_newton(Zt, y, lam, pen, theta):
    def objective(th):
        eta = Zt @ th
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * lam * np.sum(pen * th * th))

    f = objective(theta)
    for _ in range(100):
        p = expit(Zt @ theta)
        w = p * (1 - p)
        grad = Zt.T @ (p - y) + lam * pen * theta
        hess = (Zt.T * w) @ Zt + np.diag(lam * pen + 1e-10)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while True:
            cand = theta - t * step
            f_new = objective(cand)
            if f_new <= f + 1e-12 or t < 1e-6:
                break
            t *= 0.5
        converged = np.max(np.abs(t * step)) < 1e-8 or (f - f_new) < 1e-10 * (1 + abs(f))
        theta, f = cand, f_new
        if converged:
            break
    return theta


class _RidgeLogisticALO:
    """L2-penalised logistic regression; penalty by approximate leave-one-out deviance."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> _RidgeLogisticALO:
        self.prep_ = _Prep().fit(X)
        Xs = self.prep_.transform(X)
        n = Xs.shape[0]
        if Xs.shape[1]:
            _, s, vt = np.linalg.svd(Xs, full_matrices=False)
            rank = s > s[0] * 1e-10 if s.size and s[0] > 0 else np.zeros(s.size, bool)
            self.proj_ = vt[rank].T
        else:
            self.proj_ = np.zeros((0, 0))
        Z = Xs @ self.proj_
        Zt = np.column_stack([np.ones(n), Z])
        pen = np.ones(Zt.shape[1])
        pen[0] = 0.0
        ybar = np.clip(y.mean(), 1e-3, 1 - 1e-3)
        theta = np.zeros(Zt.shape[1])
        theta[0] = np.log(ybar / (1 - ybar))
        best = (np.inf, None, None)
        for lam in n * np.logspace(1, -4, 8):  # strong → weak penalty, warm-started
            theta = _logistic_newton(Zt, y, lam, pen, theta)
            eta = Zt @ theta
            p = expit(eta)
            w = p * (1 - p)
            A = (Zt.T * w) @ Zt + np.diag(lam * pen + 1e-10)
            h = np.einsum("ij,ji->i", Zt, np.linalg.solve(A, Zt.T))
            eta_loo = eta + h * (p - y) / np.maximum(1 - h * w, 1e-6)
            dev = -np.mean(y * log_expit(eta_loo) + (1 - y) * log_expit(-eta_loo))
            if dev < best[0]:
                best = (dev, lam, theta.copy())
            elif dev > best[0] and lam < best[1] / 30:
                break  # two grid steps past the optimum along the path: stop early
        self.lambda_, self.theta_ = best[1], best[2]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        Z = self.prep_.transform(X) @ self.proj_
        return expit(self.theta_[0] + Z @ self.theta_[1:])


class _RidgeLOO:
    """Ridge regression on standardised features; penalty by exact leave-one-out error.

    Closed form on the SVD of the centred design, all penalties at once (what
    :class:`~sklearn.linear_model.RidgeCV` does, without its per-call overhead).
    """

    def fit(self, X: np.ndarray, y: np.ndarray) -> _RidgeLOO:
        self.prep_ = _Prep().fit(X)
        Xs = self.prep_.transform(X)
        n = Xs.shape[0]
        self.intercept_ = float(y.mean())
        self.coef_ = np.zeros(Xs.shape[1])
        if Xs.shape[1] == 0 or n < 3:
            return self
        Xc = Xs - Xs.mean(axis=0)
        u, s, vt = np.linalg.svd(Xc, full_matrices=False)
        yc = y - self.intercept_
        uty = u.T @ yc
        lambdas = n * np.logspace(-4, 2, 13)
        shrink = s[None, :] ** 2 / (s[None, :] ** 2 + lambdas[:, None])  # (L, r)
        fitted = (shrink * uty[None, :]) @ u.T  # (L, n)
        hat = shrink @ (u**2).T + 1.0 / n
        loo = ((yc[None, :] - fitted) / np.maximum(1 - hat, 1e-12)) ** 2
        best = int(np.argmin(loo.mean(axis=1)))
        self.lambda_ = float(lambdas[best])
        with np.errstate(divide="ignore", invalid="ignore"):
            gamma = np.where(s > 0, s / (s**2 + self.lambda_), 0.0) * uty
        self.coef_ = vt.T @ gamma
        self.intercept_ -= float(Xs.mean(axis=0) @ self.coef_)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        Xs = self.prep_.transform(X)
        return self.intercept_ + Xs @ self.coef_


class _XGB:
    """Shallow boosted trees (fixed settings); censored values filled as in the linear models."""

    def __init__(self, *, binary: bool, seed: int) -> None:
        self.binary, self.seed = binary, seed

    def fit(self, X: np.ndarray, y: np.ndarray) -> _XGB:
        import xgboost as xgb

        cls = xgb.XGBClassifier if self.binary else xgb.XGBRegressor
        self.prep_ = _Prep().fit(X)
        self.model_ = cls(
            n_estimators=150,
            max_depth=2,
            learning_rate=0.05,
            subsample=0.8,
            min_child_weight=2,
            n_jobs=1,
            random_state=self.seed,
            verbosity=0,
        ).fit(self.prep_.transform(X), y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        Xs = self.prep_.transform(X)
        if self.binary:
            return self.model_.predict_proba(Xs)[:, 1]
        return self.model_.predict(Xs)


class _Constant:
    def fit(self, X: np.ndarray, y: np.ndarray) -> _Constant:
        self.value_ = float(y.mean()) if y.size else 0.0
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(X.shape[0], self.value_)


def fit_base(X, y, *, binary: bool, learner: str, seed: int):
    """Fit one outcome model on training rows (constant when the rows cannot support more)."""
    if y.size < 4 or (binary and np.unique(y).size < 2):
        return _Constant().fit(X, y)
    if learner == "xgboost":
        return _XGB(binary=binary, seed=seed).fit(X, y)
    if binary:
        return _RidgeLogisticALO().fit(X, y.astype(float))
    return _RidgeLOO().fit(X, y)


# ---------------------------------------------------------------------------------------------
# cross-fitting
# ---------------------------------------------------------------------------------------------
def dr_scores(y, arm, mu0, mu1, propensity: float) -> np.ndarray:
    """Doubly-robust (AIPW) pseudo-outcome with the known randomisation probability."""
    return mu1 - mu0 + arm * (y - mu1) / propensity - (1 - arm) * (y - mu0) / (1 - propensity)


def _child(seed: int, *key: int) -> int:
    """Seed of one model of the cross-fit (named stream ``pred_learn`` keyed by its role)."""
    return seed_for(seed, "pred_learn", *key)


def _fit_arms(X, y, arm, *, binary, learner, seed):
    m0 = fit_base(X[arm == 0], y[arm == 0], binary=binary, learner=learner, seed=_child(seed, 0))
    m1 = fit_base(X[arm == 1], y[arm == 1], binary=binary, learner=learner, seed=_child(seed, 1))
    return m0, m1


def cross_fit(
    X: np.ndarray,
    y: np.ndarray,
    arm: np.ndarray,
    folds: np.ndarray,
    *,
    binary: bool,
    learner: str,
    propensity: float,
    methods: tuple[str, ...],
    seed: int,
    need_nuisance: bool = True,
) -> dict[str, np.ndarray]:
    """Out-of-fold T-learner and DR-learner CATE, nuisance predictions and DR scores.

    Every subject's predictions come from models fitted without that subject's fold. For the
    DR-learner, each outer training set is split in two halves: nuisance models fitted on one
    half give the pseudo-outcomes of the other, the final ridge regression of the pseudo-outcomes
    on the markers is fitted on the whole training set and predicts the held-out fold.
    """
    from sklearn.model_selection import StratifiedKFold

    n = y.size
    out: dict[str, np.ndarray] = {}
    mu0 = np.full(n, np.nan)
    mu1 = np.full(n, np.nan)
    cate_dr = np.full(n, np.nan)
    run_t = need_nuisance or "t_learner" in methods
    for k in np.unique(folds):
        te = folds == k
        tr = ~te
        Xtr, ytr, atr = X[tr], y[tr], arm[tr]
        if run_t:
            m0, m1 = _fit_arms(
                Xtr, ytr, atr, binary=binary, learner=learner, seed=_child(seed, k, 0)
            )
            mu0[te], mu1[te] = m0.predict(X[te]), m1.predict(X[te])
        if "dr_learner" in methods:
            phi = np.empty(tr.sum())
            n_half = 2 if min(atr.sum(), (1 - atr).sum()) >= 2 else 0
            if n_half:
                halves = StratifiedKFold(n_splits=2, shuffle=True, random_state=_child(seed, k, 1))
                for fit_idx, score_idx in halves.split(Xtr, atr):
                    h0, h1 = _fit_arms(
                        Xtr[fit_idx],
                        ytr[fit_idx],
                        atr[fit_idx],
                        binary=binary,
                        learner=learner,
                        seed=_child(seed, k, 2),
                    )
                    phi[score_idx] = dr_scores(
                        ytr[score_idx],
                        atr[score_idx],
                        h0.predict(Xtr[score_idx]),
                        h1.predict(Xtr[score_idx]),
                        propensity,
                    )
            else:
                phi[:] = dr_scores(ytr, atr, ytr[atr == 0].mean(), ytr[atr == 1].mean(), propensity)
            final = fit_base(Xtr, phi, binary=False, learner=learner, seed=_child(seed, k, 3))
            cate_dr[te] = final.predict(X[te])
    if run_t:
        out["mu0"], out["mu1"] = mu0, mu1
        out["phi"] = dr_scores(y, arm, mu0, mu1, propensity)
        out["cate_t"] = mu1 - mu0
    out["cate_dr"] = cate_dr
    return out


def calibration_test(phi: np.ndarray, cate: np.ndarray) -> dict[str, float]:
    """Best linear projection of the DR scores on the out-of-fold CATE (Chernozhukov et al.).

    OLS of ``phi`` on ``1`` and ``cate - mean(cate)`` with HC3 standard errors: the intercept
    estimates the average treatment effect, the slope is 1 for a well-calibrated CATE and 0 when
    it captures no heterogeneity; ``p_slope`` is one-sided (H1: slope > 0).
    """
    import statsmodels.api as sm

    res = {"n": int(phi.size)}
    centred = cate - cate.mean()
    nan = float("nan")
    keys = ("ate", "ate_se", "ate_ci_low", "ate_ci_high", "p_ate")
    keys += ("slope", "slope_se", "slope_ci_low", "slope_ci_high", "p_slope")
    res.update(dict.fromkeys(keys, nan))
    if phi.size < 4 or not np.all(np.isfinite(phi)) or not np.all(np.isfinite(cate)):
        return res
    if np.std(centred) <= 1e-12 * max(1.0, np.abs(cate).max()):
        fit = sm.OLS(phi, np.ones((phi.size, 1))).fit(cov_type="HC3")
        b, se = float(fit.params[0]), float(fit.bse[0])
        z = stats.norm.ppf(0.975)
        res.update(ate=b, ate_se=se, ate_ci_low=b - z * se, ate_ci_high=b + z * se)
        res["p_ate"] = float(2 * stats.norm.sf(abs(b / se))) if se > 0 else nan
        return res
    fit = sm.OLS(phi, np.column_stack([np.ones(phi.size), centred])).fit(cov_type="HC3")
    (b0, b1), (s0, s1) = fit.params, fit.bse
    z = stats.norm.ppf(0.975)
    res.update(
        ate=float(b0),
        ate_se=float(s0),
        ate_ci_low=float(b0 - z * s0),
        ate_ci_high=float(b0 + z * s0),
        p_ate=float(2 * stats.norm.sf(abs(b0 / s0))),
        slope=float(b1),
        slope_se=float(s1),
        slope_ci_low=float(b1 - z * s1),
        slope_ci_high=float(b1 + z * s1),
        p_slope=float(stats.norm.sf(b1 / s1)),
    )
    return res
