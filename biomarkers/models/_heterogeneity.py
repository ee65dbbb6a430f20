"""Test whether heterogeneous treatment effects predict outcomes better than a constant effect.

Also the private helper :func:`actionable_heterogeneity` that ``predictive()`` calls to build the
RATE, benefit-calibration and heterogeneity-test tables of every CATE learner.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from numbers import Integral

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import xlogy

from biomarkers._logging import logger
from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.models._benefit_calibration import benefit_calibration
from biomarkers.models._cv import parallel_map, root_seed, seed_for
from biomarkers.models._metrics import corrected_t_interval
from biomarkers.models._pred_cate import (
    _Prep,
    cross_fit,
    dr_scores,
    fit_base,
    make_folds,
    outcome_strata,
)
from biomarkers.models._rate import rank_average_treatment_effect

__all__ = ["heterogeneity_test"]

KINDS = ("binary", "continuous")
TEST_COLUMNS = [
    "model", "loss", "n", "n_folds", "n_repeats", "loss_constant", "loss_heterogeneous",
    "difference", "se", "ci_low", "ci_high", "p_value",
]  # fmt: skip


def _loss(y: np.ndarray, pred: np.ndarray, *, binary: bool) -> np.ndarray:
    if binary:
        p = np.clip(pred, 1e-6, 1 - 1e-6)
        return -(xlogy(y, p) + xlogy(1 - y, 1 - p))
    return (y - pred) ** 2


def _designs(X_tr, X_te, a_tr, a_te, propensity):
    """Constant-effect ``[arm, X]`` and heterogeneous ``[arm, X, (arm - e) X]`` designs.

    The markers are standardised on the training rows; centring the arm at the known
    propensity ``e`` keeps the interaction columns uncorrelated with the main effects.
    """
    prep = _Prep().fit(X_tr)
    Z_tr, Z_te = prep.transform(X_tr), prep.transform(X_te)
    const = (np.column_stack([a_tr, Z_tr]), np.column_stack([a_te, Z_te]))
    het = tuple(
        np.column_stack([c, (a - propensity)[:, None] * Z])
        for c, a, Z in ((const[0], a_tr, Z_tr), (const[1], a_te, Z_te))
    )
    return const, het


def _repeat(X, y, arm, strata, seed, r, *, n_folds, binary, propensity):
    """Out-of-fold loss of both models in repeat ``r``: (fold ids, loss_constant, loss_het)."""
    folds = make_folds(arm, strata, n_folds, seed_for(seed, "hte_folds", r))
    loss_c, loss_h = np.empty(y.size), np.empty(y.size)
    for k in range(n_folds):
        te = folds == k
        tr = ~te
        const, het = _designs(X[tr], X[te], arm[tr], arm[te], propensity)
        for (d_tr, d_te), out in ((const, loss_c), (het, loss_h)):
            model = fit_base(d_tr, y[tr], binary=binary, learner="linear", seed=0)
            out[te] = _loss(y[te], model.predict(d_te), binary=binary)
    return folds, loss_c, loss_h


def heterogeneity_test(
    X: np.ndarray | pd.DataFrame,
    y: Sequence[float] | np.ndarray,
    arm: Sequence[int] | np.ndarray,
    *,
    kind: str = "binary",
    propensity: float = 0.5,
    n_folds: int = 5,
    n_repeats: int = 5,
    level: float = 0.95,
    random_state: int | np.random.Generator | None = 0,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Repeated-CV test of heterogeneous (arm × markers) against constant treatment effects.

    Two penalised models are fitted in every training fold: ``outcome ~ arm + markers`` (one
    treatment effect for everybody) and ``outcome ~ arm + markers + arm × markers`` (ridge
    logistic regression for binary outcomes, ridge regression otherwise; the penalty tuned
    inside the training fold by leave-one-out, so the comparison is nested). Each subject's
    held-out loss (log-loss, or squared error) is compared: ``difference`` = mean loss of the
    constant-effect model minus that of the heterogeneous one (> 0: heterogeneous effects
    predict better). Fold means over ``n_repeats × n_folds`` folds give the estimate; its
    interval and p-value use the Nadeau–Bengio corrected resampled t
    (:func:`~biomarkers.models._metrics.corrected_t_interval`, the one CV-aware variance of the
    package), which accounts for the overlap of training sets that makes the naive t
    anti-conservative. ``p_value`` is one-sided (H1: difference > 0).

    Parameters
    ----------
    X
        Baseline markers and covariates, subjects × features (NaN imputed by the training
        median, ``±inf`` by the training extremes).
    y
        Outcome: 0/1 (``kind="binary"``) or continuous (RMST pseudo-values for survival).
    arm
        1 treated, 0 control.
    kind
        ``"binary"`` or ``"continuous"``.
    propensity
        Known randomisation probability of the treated arm (centres the interactions).
    n_folds, n_repeats
        Folds (stratified by arm × outcome class) and repeats.
    level
        Confidence level of the interval (the p-value does not depend on it).
    random_state
        Seed of the folds; the result is the same whatever ``n_jobs``.
    n_jobs
        Workers over repeats (joblib).

    Returns
    -------
    pandas.DataFrame
        One row: ``model, loss, n, n_folds, n_repeats, loss_constant, loss_heterogeneous,
        difference, se, ci_low, ci_high, p_value``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(400, 3))
    >>> arm = np.arange(400) % 2
    >>> y = X[:, 0] + 2 * arm * X[:, 1] + rng.normal(size=400)
    >>> res = heterogeneity_test(X, y, arm, kind="continuous", n_repeats=2)
    >>> bool(res["p_value"].iloc[0] < 0.05)
    True
    """
    check_choice("kind", kind, KINDS)
    Xa = np.asarray(X, dtype=float)
    yy, a = np.asarray(y, dtype=float), np.asarray(arm, dtype=int)
    if Xa.ndim != 2 or Xa.shape[0] != yy.size or yy.shape != a.shape:
        msg = f"X must be subjects × features matching y and arm, got {Xa.shape}, {yy.shape}"
        raise SchemaError(msg)
    for name, value, low in (("n_folds", n_folds, 2), ("n_repeats", n_repeats, 1)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
            msg = f"{name}={value!r} must be an integer >= {low}"
            raise ConfigError(msg)
    binary = kind == "binary"
    seed = root_seed(random_state)
    strata = outcome_strata(kind, yy, None)
    fn = partial(_repeat, Xa, yy, a, strata, n_folds=n_folds, binary=binary,
                 propensity=float(propensity))  # fmt: skip
    runs = parallel_map(fn, [(seed, r) for r in range(n_repeats)], n_jobs=n_jobs,
                        description="heterogeneity test repeats")  # fmt: skip
    est = np.array([[np.mean(lc[f == k] - lh[f == k]) for k in range(n_folds)]
                    for f, lc, lh in runs])  # fmt: skip
    n_test = yy.size / n_folds
    mean, se, lo, hi, p = _corrected_t(est, n_train=yy.size - n_test, n_test=n_test, level=level)
    row = {
        "model": "ridge: arm × markers vs arm + markers",
        "loss": "log_loss" if binary else "squared_error",
        "n": yy.size, "n_folds": n_folds, "n_repeats": n_repeats,
        "loss_constant": float(np.mean([lc.mean() for _, lc, _ in runs])),
        "loss_heterogeneous": float(np.mean([lh.mean() for _, _, lh in runs])),
        "difference": mean, "se": se, "ci_low": lo, "ci_high": hi, "p_value": p,
    }  # fmt: skip
    return pd.DataFrame([row], columns=TEST_COLUMNS)


def _corrected_t(est, *, n_train, n_test, level):
    """Mean, SE, interval and one-sided p of the corrected resampled t (Nadeau & Bengio 2003).

    The SE is read back from :func:`corrected_t_interval`'s half-width, so the variance formula
    keeps its one home.
    """
    df = int(np.isfinite(est).sum()) - 1
    mean, lo, hi = corrected_t_interval(est, n_train=n_train, n_test=n_test, level=level)
    if df < 1 or not np.isfinite(hi):
        return mean, float("nan"), lo, hi, float("nan")
    se = (hi - lo) / (2 * stats.t.ppf(0.5 + level / 2, df))
    p = float(stats.t.sf(mean / se, df)) if se > 0 else float("nan")
    return mean, float(se), lo, hi, p


def sequential_cross_fit(
    X: np.ndarray, y: np.ndarray, arm: np.ndarray, folds: np.ndarray, *, binary: bool,
    learner: str, propensity: float, methods: Sequence[str], seed: int,
) -> dict[str, np.ndarray]:  # fmt: skip
    """CATE and DR scores of fold ``k`` from models fitted on folds ``0 .. k-1`` only.

    Sequential cross-fitting (Wager 2024, as grf documents for cross-fitted RATE): with the
    usual cross-fitting, fold j's model has seen fold k's outcomes and fold k's model fold j's,
    so per-fold heterogeneity statistics are positively correlated and a test that treats
    them as independent over-rejects (12-20% at 5% in ``benchmarks/heterogeneity.py``). Here
    fold k's statistic depends on earlier folds only, so fold statistics are martingale
    differences and their SEs add. Fold 0 (training only) gets NaN.

    ``phi``, the DR score every check evaluates the CATEs on, has its own outcome model: one
    model of ``outcome ~ arm + markers`` (no interactions) fitted on the same earlier folds.
    With the T-learner's arm models as the DR score's nuisance, the priority under test and
    the score it is judged on would share one fit's errors: on null continuous 3:1 trials the
    T-learner's AUTOC then rejected 7.8%, with this score 3.8%
    (``benchmarks/heterogeneity_scores.py``).
    """
    out = {key: np.full(y.size, np.nan) for key in ("cate_t", "cate_dr", "phi")}
    for k in range(1, int(folds.max()) + 1):
        rows = np.flatnonzero(folds <= k)
        test = (folds[rows] == k).astype(int)
        cf = cross_fit(
            X[rows], y[rows], arm[rows], test, binary=binary, learner=learner,
            propensity=propensity, methods=tuple(methods),
            seed=seed_for(seed, "hte_sequential", k),
        )  # fmt: skip
        at = rows[test == 1]
        for key in ("cate_t", "cate_dr"):
            out[key][at] = cf[key][test == 1]
        train = folds < k
        out["phi"][at] = additive_dr_scores(
            X[train], y[train], arm[train], X[at], y[at], arm[at], binary=binary,
            learner=learner, propensity=propensity, seed=seed_for(seed, "hte_score", k),
        )  # fmt: skip
    return out


def additive_dr_scores(X_train, y_train, a_train, X, y, a, *, binary: bool, learner: str,
                       propensity: float, seed: int) -> np.ndarray:  # fmt: skip
    """DR scores of ``(X, y, a)`` with an ``outcome ~ arm + markers`` model of the training rows.

    The DR (AIPW) score is unbiased for the CATE with the known randomisation probability
    whatever outcome model it uses; a model without arm × marker terms has no estimated
    heterogeneity of its own, so the score does not echo a CATE learner's errors.
    """
    model = fit_base(np.column_stack([a_train, X_train]), y_train, binary=binary,
                     learner=learner, seed=seed)  # fmt: skip
    ones, zeros = np.ones((len(y), 1)), np.zeros((len(y), 1))
    mu1 = model.predict(np.hstack([ones, X]))
    mu0 = model.predict(np.hstack([zeros, X]))
    return dr_scores(y, a, mu0, mu1, propensity)


def actionable_heterogeneity(
    learners: Sequence[str],
    *,
    X: np.ndarray,
    y: np.ndarray,
    arm: np.ndarray,
    folds: np.ndarray,
    kind: str,
    learner: str,
    propensity: float,
    n_bootstraps: int,
    random_state: int,
    n_jobs: int | None,
) -> dict[str, pd.DataFrame]:
    """RATE, TOC, benefit calibration per learner and the nested-CV test (``predictive()``).

    The CATE learners are re-run with :func:`sequential_cross_fit` on ``predictive()``'s
    folds; every check uses those scores (subjects of fold 0 are not scored).
    """
    if int((folds > 0).sum()) < 8 or np.bincount(folds).min() < 2:
        logger.warning("predictive: too few subjects for RATE / benefit calibration; skipped")
        return {}
    seq = sequential_cross_fit(
        X, y, arm, folds, binary=kind == "binary", learner=learner, propensity=propensity,
        methods=learners, seed=random_state,
    )  # fmt: skip
    scored = folds > 0
    rates, tocs, calib = [], [], []
    for key in learners:
        score = seq["cate_dr" if key == "dr_learner" else "cate_t"][scored]
        phi = seq["phi"][scored]
        rate, toc = rank_average_treatment_effect(
            score, phi, folds[scored], arm=arm[scored], n_bootstraps=n_bootstraps,
            random_state=seed_for(random_state, "hte_bootstrap", len(rates)),
        )  # fmt: skip
        rates.append(rate.assign(learner=key))
        tocs.append(toc.assign(learner=key))
        part = benefit_calibration(score, phi, arm[scored], y=y[scored])
        calib.append(part.assign(learner=key))
    first = ["learner"]
    test = heterogeneity_test(
        X, y, arm, kind="binary" if kind == "binary" else "continuous", propensity=propensity,
        n_folds=int(np.unique(folds).size), random_state=random_state, n_jobs=n_jobs,
    )  # fmt: skip
    return {
        "rate": _front(pd.concat(rates, ignore_index=True), first),
        "toc": _front(pd.concat(tocs, ignore_index=True), first),
        "benefit_calibration": _front(pd.concat(calib, ignore_index=True), first),
        "heterogeneity_test": test,
    }


def _front(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return df[cols + [c for c in df.columns if c not in cols]]
