"""Performance metrics with subject-bootstrap CIs, vectorised over bootstrap replicates.

Every binary/continuous metric takes a weight matrix ``W`` (replicates × subjects) of bootstrap
counts, so 1,000 replicates × 10 repeats cost a handful of array operations. With ``W`` all ones
the metrics equal scikit-learn's / statsmodels' (pinned by the tests).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

__all__ = [
    "binary_metrics",
    "bootstrap_performance",
    "continuous_metrics",
    "default_horizon",
    "survival_metrics",
]

BINARY_METRICS = (
    "auroc",
    "auprc",
    "balanced_accuracy",
    "brier",
    "calibration_slope",
    "calibration_intercept",
)
CONTINUOUS_METRICS = ("r2", "mae")
SURVIVAL_METRICS = ("harrell_c", "uno_c", "td_auc")
PRIMARY = {"binary": "auroc", "survival": "harrell_c", "continuous": "r2"}


def _auroc(y, s, W):
    order = np.argsort(s, kind="mergesort")
    ys, ss = y[order], s[order]
    Ws = W[:, order]
    pos = Ws * ys
    neg = Ws * (1 - ys)
    # tie blocks of equal scores
    new = np.r_[True, ss[1:] != ss[:-1]]
    block = np.cumsum(new) - 1
    nb = block[-1] + 1
    neg_b = np.zeros((W.shape[0], nb))
    np.add.at(neg_b.T, block, neg.T)
    cum_before = np.cumsum(neg_b, axis=1) - neg_b  # negatives strictly below each block
    below = cum_before[:, block] + 0.5 * neg_b[:, block]
    n1 = pos.sum(1)
    n0 = neg.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * below).sum(1) / (n1 * n0)


def _auprc(y, s, W):
    # average precision as scikit-learn defines it (step-wise, distinct thresholds)
    order = np.argsort(-s, kind="mergesort")
    ys, ss = y[order], s[order]
    Ws = W[:, order]
    tp = np.cumsum(Ws * ys, axis=1)
    fp = np.cumsum(Ws * (1 - ys), axis=1)
    last = np.r_[ss[1:] != ss[:-1], True]
    tp, fp = tp[:, last], fp[:, last]
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(tp + fp > 0, tp / (tp + fp), 1.0)
        d_tp = np.diff(np.concatenate([np.zeros((W.shape[0], 1)), tp], axis=1), axis=1)
        return (d_tp * prec).sum(1) / tp[:, -1]


def _logit(p):
    p = np.clip(p, 1e-8, 1 - 1e-8)
    return np.log(p / (1 - p))


def _converged(step: np.ndarray, tol: float = 1e-10) -> bool:
    finite = np.abs(step[np.isfinite(step)])
    return finite.size == 0 or float(finite.max()) < tol


def _calibration(y, p, W, *, n_iter: int = 50):
    # a bootstrap replicate can be perfectly separated: its Newton steps diverge and the
    # replicate ends as NaN (left out of the percentile CI) instead of warning
    with np.errstate(all="ignore"):
        slope, c = _calibration_newton(y, p, W, n_iter=n_iter)
    bad = ~np.isfinite(slope) | (np.abs(slope) > 1e6)
    return np.where(bad, np.nan, slope), np.where(np.isfinite(c), c, np.nan)


def _calibration_newton(y, p, W, *, n_iter: int):
    """Weighted logistic recalibration slope and calibration-in-the-large, for all replicates.

    Slope of ``y ~ a + b logit(p)``; intercept of ``y ~ a + offset(logit(p))``. Newton steps
    start at the intercept-only fit (slope 0) and are halved while they lower the
    likelihood: started at slope 1, overconfident uninformative predictions (a lasso fold
    model on noise) made plain Newton diverge to NaN.
    """
    x = _logit(p)
    B = W.shape[0]
    ybar = np.clip((W * y).sum(1) / W.sum(1), 1e-6, 1 - 1e-6)
    a = np.log(ybar / (1 - ybar))
    b = np.zeros(B)
    ll = _loglik(y, x, W, a, b)
    det = np.ones(B)
    for _ in range(n_iter):
        mu = expit(a[:, None] + b[:, None] * x)
        w = W * mu * (1 - mu)
        r = W * (y - mu)
        g0, g1 = r.sum(1), (r * x).sum(1)
        h00, h01, h11 = w.sum(1), (w * x).sum(1), (w * x * x).sum(1)
        det = h00 * h11 - h01**2
        with np.errstate(invalid="ignore", divide="ignore"):
            da = np.nan_to_num((h11 * g0 - h01 * g1) / det)
            db = np.nan_to_num((-h01 * g0 + h00 * g1) / det)
        step = np.ones(B)
        for _ in range(30):
            new = _loglik(y, x, W, a + step * da, b + step * db)
            worse = ~(new >= ll - 1e-12)
            if not worse.any():
                break
            step = np.where(worse, step / 2, step)
        a, b, ll = a + step * da, b + step * db, np.maximum(ll, new)
        if _converged(np.r_[step * da, step * db]):
            break
    c = np.zeros(B)
    for _ in range(n_iter):
        mu = expit(c[:, None] + x)
        g = (W * (y - mu)).sum(1)
        h = (W * mu * (1 - mu)).sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            dc = g / h
        c = c + np.nan_to_num(dc)
        if _converged(dc):
            break
    slope = np.where(np.isfinite(det) & (det > 0), b, np.nan)
    return slope, c


def _loglik(y, x, W, a, b):
    eta = a[:, None] + b[:, None] * x
    return (W * (y * eta - np.logaddexp(0, eta))).sum(1)


def binary_metrics(y, p, W=None, *, threshold: float = 0.5) -> dict[str, np.ndarray]:
    """AUROC, AUPRC, balanced accuracy, Brier, calibration slope/intercept per weight row.

    Parameters
    ----------
    y
        0/1 labels (n,).
    p
        Predicted probabilities of class 1 (n,).
    W
        Bootstrap counts (B, n); ``None`` means one replicate of unit weights.
    threshold
        Probability cut-off for balanced accuracy.

    Returns
    -------
    dict
        Metric name → array of length B.
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    W = np.ones((1, len(y))) if W is None else np.asarray(W, dtype=float)
    pred = (p >= threshold).astype(float)
    n1 = (W * y).sum(1)
    n0 = (W * (1 - y)).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sens = (W * y * pred).sum(1) / n1
        spec = (W * (1 - y) * (1 - pred)).sum(1) / n0
        brier = (W * (p - y) ** 2).sum(1) / W.sum(1)
    slope, intercept = _calibration(y, p, W)
    auroc = _auroc(y, p, W)
    return {
        "auroc": auroc,
        "auprc": _auprc(y, p, W),
        "balanced_accuracy": (sens + spec) / 2,
        "brier": brier,
        "calibration_slope": slope,
        "calibration_intercept": intercept,
    }


def continuous_metrics(y, pred, W=None) -> dict[str, np.ndarray]:
    """R² and MAE per weight row (see :func:`binary_metrics` for ``W``)."""
    y = np.asarray(y, dtype=float)
    pred = np.asarray(pred, dtype=float)
    W = np.ones((1, len(y))) if W is None else np.asarray(W, dtype=float)
    sw = W.sum(1)
    ybar = (W * y).sum(1) / sw
    ss_res = (W * (y - pred) ** 2).sum(1)
    ss_tot = (W * (y[None, :] - ybar[:, None]) ** 2).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"r2": 1 - ss_res / ss_tot, "mae": (W * np.abs(y - pred)).sum(1) / sw}


def survival_metrics(y, risk, idx=None, *, horizon: float) -> dict[str, np.ndarray]:
    """Harrell's C, Uno's C (truncated at ``horizon``) and cumulative/dynamic AUC at ``horizon``.

    Parameters
    ----------
    y
        Structured (event, time) array.
    risk
        Risk scores (higher = earlier event).
    idx
        Bootstrap index rows (B, n); ``None`` = the data as is.
    horizon
        Time point of the time-dependent AUC and Uno's truncation.

    Returns
    -------
    dict
        Metric name → array of length B.
    """
    from sksurv.metrics import (
        concordance_index_censored,
        concordance_index_ipcw,
        cumulative_dynamic_auc,
    )

    names = y.dtype.names
    ev = np.asarray(y[names[0]]).astype(bool)
    tm = np.asarray(y[names[1]], dtype=float)
    idx = np.arange(len(tm))[None, :] if idx is None else np.asarray(idx)
    out = {k: np.full(idx.shape[0], np.nan) for k in SURVIVAL_METRICS}
    for b, rows in enumerate(idx):
        e, t, r = ev[rows], tm[rows], np.asarray(risk)[rows]
        if e.sum() < 1:
            continue
        yb = np.empty(len(t), dtype=[("event", bool), ("time", float)])
        yb["event"], yb["time"] = e, t
        out["harrell_c"][b] = concordance_index_censored(e, t, r)[0]
        try:
            out["uno_c"][b] = concordance_index_ipcw(yb, yb, r, tau=horizon)[0]
            out["td_auc"][b] = cumulative_dynamic_auc(yb, yb, r, [horizon])[0][0]
        except ValueError:
            # the bootstrap sample has no event before / no subject at risk after the horizon
            pass
    return out


def default_horizon(y) -> float:
    """Survival horizon strictly inside follow-up: the 75th percentile of the event times.

    Time-dependent AUC and Uno's C need subjects still at risk after the horizon; the median
    follow-up time is often the end of follow-up itself (every event-free subject censored at
    the same administrative horizon), where both are undefined. The 75th percentile of the event
    times is lowered, when needed, to the longest observed time below the end of follow-up.

    Parameters
    ----------
    y
        Structured (event, time) array.

    Returns
    -------
    float
        The horizon, in the unit of the times.
    """
    names = y.dtype.names
    ev = np.asarray(y[names[0]]).astype(bool)
    tm = np.asarray(y[names[1]], dtype=float)
    end = float(np.max(tm))
    h = float(np.percentile(tm[ev], 75)) if ev.any() else float(np.median(tm))
    if h >= end:
        below = tm[tm < end]
        h = float(below.max()) if below.size else end
    return h


def _nanmean0(a: np.ndarray) -> np.ndarray:
    """Column means ignoring NaN, NaN (without a warning) where a column has no finite value."""
    ok = np.isfinite(a)
    cnt = ok.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, np.where(ok, a, 0.0).sum(0) / cnt, np.nan)


def _ci(values: np.ndarray) -> tuple[float, float]:
    v = values[np.isfinite(values)]
    if v.size < 2:
        return float("nan"), float("nan")
    lo, hi = np.percentile(v, [2.5, 97.5])
    return float(lo), float(hi)


def bootstrap_performance(
    y, preds: np.ndarray, *, task: str, n_bootstraps: int, rng: np.random.Generator, horizon=None
) -> pd.DataFrame:
    """Metrics of out-of-fold predictions with 95% percentile CIs (subject bootstrap).

    Parameters
    ----------
    y
        Outcome of the n subjects.
    preds
        Out-of-fold predictions, shape (n_repeats, n): every subject once per repeat.
    task
        Outcome kind.
    n_bootstraps
        Bootstrap replicates; each resamples subjects once and averages the metric over repeats.
    rng
        Generator for the resampling.
    horizon
        Survival horizon.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric, estimate, ci_low, ci_high, n`` (estimate = mean over repeats).
    """
    preds = np.atleast_2d(preds)
    n = preds.shape[1]
    idx = rng.integers(0, n, size=(n_bootstraps, n)) if n_bootstraps else np.empty((0, n), int)
    if task == "survival":
        est = [survival_metrics(y, r, horizon=horizon) for r in preds]
        boot = [survival_metrics(y, r, idx, horizon=horizon) for r in preds]
        names = SURVIVAL_METRICS
    else:
        W = np.zeros((idx.shape[0], n))
        if idx.shape[0]:
            np.add.at(W, (np.repeat(np.arange(idx.shape[0]), n), idx.ravel()), 1.0)
        fn = binary_metrics if task == "binary" else continuous_metrics
        est = [fn(y, r) for r in preds]
        boot = [fn(y, r, W) for r in preds]
        names = BINARY_METRICS if task == "binary" else CONTINUOUS_METRICS
    rows = []
    for m in names:
        estimate = float(_nanmean0(np.array([[e[m][0]] for e in est]))[0])
        if idx.shape[0] and np.isfinite(estimate):
            dist = _nanmean0(np.vstack([b[m] for b in boot]))
            lo, hi = _ci(dist)
        else:
            # no interval around an undefined estimate
            lo = hi = float("nan")
        rows.append({"metric": m, "estimate": estimate, "ci_low": lo, "ci_high": hi, "n": n})
    return pd.DataFrame(rows)


def bootstrap_counts(n: int, n_bootstraps: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap weight matrix (n_bootstraps, n) of resampling counts."""
    idx = rng.integers(0, n, size=(n_bootstraps, n))
    W = np.zeros((n_bootstraps, n))
    np.add.at(W, (np.repeat(np.arange(n_bootstraps), n), idx.ravel()), 1.0)
    return W


# --- cross-validation-aware intervals (issue 19) ---------------------------------------------

INTERVALS = ("nested_cv", "corrected_t", "bbc", "bootstrap")
INTERVAL_LABELS = {
    "nested_cv": "nested-CV, Bates et al. 2023",
    "corrected_t": "corrected resampled t, Nadeau & Bengio 2003",
    "bbc": "bootstrap bias-corrected CV, Tsamardinos et al. 2018",
    "bootstrap": "subject bootstrap of pooled out-of-fold predictions",
}
CHANCE = {"auroc": 0.5, "harrell_c": 0.5, "r2": 0.0}


def primary_point(task: str, y, pred, horizon=None) -> float:
    """The primary metric (AUROC, Harrell's C or R²) of one set of predictions."""
    if task == "binary":
        y = np.asarray(y, dtype=float)
        if y.min() == y.max():
            return float("nan")
        return float(_auroc(y, np.asarray(pred, dtype=float), np.ones((1, len(y))))[0])
    if task == "continuous":
        return float(continuous_metrics(y, pred)["r2"][0])
    from sksurv.metrics import concordance_index_censored

    names = y.dtype.names
    ev = np.asarray(y[names[0]]).astype(bool)
    if not ev.any():
        return float("nan")
    return float(concordance_index_censored(ev, np.asarray(y[names[1]], float), pred)[0])


def fold_estimates(task: str, y, preds: np.ndarray, splits, horizon=None) -> np.ndarray:
    """Primary metric of every test fold, shape (n_repeats, n_splits).

    ``preds[r]`` are the out-of-fold predictions of repeat ``r`` and ``splits[r][f]`` its
    ``(train, test)`` rows; a fold whose test rows hold one class (or no event) is NaN.
    """
    out = np.full((len(splits), len(splits[0])), np.nan)
    for r, folds in enumerate(splits):
        for f, (_, te) in enumerate(folds):
            out[r, f] = primary_point(task, y[te], preds[r][te], horizon)
    return out


def fold_auc_variance(task: str, y, preds: np.ndarray, splits) -> np.ndarray:
    """Hanley–McNeil sampling variance of every fold's AUROC / C-index (0 for R²)."""
    est = fold_estimates(task, y, preds, splits)
    out = np.zeros_like(est)
    if task == "continuous":
        return out
    lab = np.asarray(y).astype(int) if task == "binary" else np.asarray(y[y.dtype.names[0]])
    for r, folds in enumerate(splits):
        for f, (_, te) in enumerate(folds):
            n1 = float(np.sum(lab[te] == 1))
            out[r, f] = _hanley_mcneil(est[r, f], n1, float(len(te)) - n1)
    return out


def _hanley_mcneil(a: float, n1: float, n0: float) -> float:
    if not np.isfinite(a) or n1 < 1 or n0 < 1:
        return float("nan")
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    return float((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0))


def corrected_t_interval(
    est: np.ndarray, *, n_train: float, n_test: float, level: float = 0.95
) -> tuple[float, float, float]:
    """Nadeau–Bengio corrected resampled t interval of the mean of J fold estimates.

    ``var = (1/J + n_test/n_train) · s²`` with ``s²`` the sample variance of the J =
    repeats × folds estimates, and a t quantile with J − 1 degrees of freedom.

    Returns
    -------
    tuple
        ``(mean, ci_low, ci_high)``; NaN bounds with fewer than 2 finite estimates.
    """
    from scipy.stats import t as student_t

    e = np.asarray(est, dtype=float)
    e = e[np.isfinite(e)]
    if e.size < 2:
        m = float(e.mean()) if e.size else float("nan")
        return m, float("nan"), float("nan")
    m = float(e.mean())
    se = float(np.sqrt((1 / e.size + n_test / n_train) * e.var(ddof=1)))
    q = float(student_t.ppf(0.5 + level / 2, e.size - 1))
    return m, m - q * se, m + q * se


def nested_cv_interval(
    outer: np.ndarray, inner: np.ndarray, outer_var: np.ndarray, *, level: float = 0.95
) -> tuple[float, float, float]:
    """Bates, Hastie & Tibshirani (2023) nested-CV interval, per-fold metric as the loss.

    ``outer[r, k]`` is the metric of outer fold k of repeat r (model fitted on the other K − 1
    folds), ``inner[r, k]`` the mean metric of the K − 1 inner folds of the inner CV run on
    those K − 1 folds, ``outer_var[r, k]`` the sampling variance of ``outer[r, k]`` (the
    analogue of their ``var(e_out)/n_k``). ``MSE = mean (inner − outer)² − mean outer_var``;
    the interval is ``Err_NCV − bias ± z · sqrt((K−1)/K) · sqrt(MSE)`` with
    ``bias = (1 + (K−2)/K) (Err_NCV − Err_CV)``, ``Err_NCV`` the mean of ``inner``,
    ``Err_CV`` the mean of ``outer``; the standard error is kept between the naive one
    ``sqrt(mean outer_var / K)`` and √K times it, as the paper does.

    Returns
    -------
    tuple
        ``(center, ci_low, ci_high)``.
    """
    from scipy.stats import norm

    outer, inner, outer_var = (np.asarray(a, dtype=float) for a in (outer, inner, outer_var))
    ok = np.isfinite(outer) & np.isfinite(inner) & np.isfinite(outer_var)
    if ok.sum() < 2:
        return float(np.nanmean(outer)) if np.isfinite(outer).any() else np.nan, np.nan, np.nan
    k = outer.shape[1]
    mse = float(np.mean((inner[ok] - outer[ok]) ** 2) - np.mean(outer_var[ok]))
    err_ncv, err_cv = float(np.mean(inner[ok])), float(np.mean(outer[ok]))
    center = err_ncv - (1 + (k - 2) / k) * (err_ncv - err_cv)
    naive = float(np.sqrt(np.mean(outer_var[ok]) / k))
    se = float(np.sqrt(max(mse, 0.0)) * np.sqrt((k - 1) / k))
    if naive > 0:
        se = float(np.clip(se, naive, naive * np.sqrt(k)))
    z = float(norm.ppf(0.5 + level / 2))
    return center, center - z * se, center + z * se


def within_fold_ranks(preds: np.ndarray, splits) -> np.ndarray:
    """Predictions replaced by their mid-rank within their test fold, scaled to (0, 1].

    Pooling ranks rather than raw scores keeps differently calibrated fold models from
    distorting a pooled AUROC / C-index: each fold contributes only its ordering.
    """
    from scipy.stats import rankdata

    out = np.full(np.shape(preds), np.nan)
    for r, folds in enumerate(splits):
        for _, te in folds:
            out[r, te] = rankdata(preds[r][te]) / len(te)
    return out


def bbc_interval(
    task: str, y, preds: np.ndarray, splits, *, n_bootstraps: int, rng: np.random.Generator,
    level: float = 0.95,
) -> tuple[float, float, float]:  # fmt: skip
    """Bootstrap bias-corrected CV (Tsamardinos et al. 2018) with one configuration per fold.

    With a single final configuration, BBC-CV's in-bag selection is trivial and the method
    reduces to the out-of-bag metric of the pooled out-of-fold predictions over subject
    bootstrap samples; the predictions are first ranked within their fold
    (:func:`within_fold_ranks`, AUROC / C-index) so fold calibration cannot bias them.

    Returns
    -------
    tuple
        ``(mean of the out-of-bag metrics, percentile ci_low, ci_high)``.
    """
    preds = np.atleast_2d(preds)
    n = preds.shape[1]
    idx = rng.integers(0, n, size=(n_bootstraps, n))
    vals = bbc_replicates(task, y, preds, splits, idx)
    v = vals[np.isfinite(vals)]
    if v.size < 2:
        return float("nan"), float("nan"), float("nan")
    a = (1 - level) / 2
    lo, hi = np.percentile(v, [100 * a, 100 * (1 - a)])
    return float(v.mean()), float(lo), float(hi)


def bbc_replicates(task: str, y, preds: np.ndarray, splits, idx: np.ndarray) -> np.ndarray:
    """Out-of-bag primary metric of every bootstrap sample ``idx[b]`` (BBC-CV's replicates).

    The metric of the within-fold ranks (:func:`within_fold_ranks`; raw predictions for R²)
    of the subjects left out of sample ``b``, averaged over repeats; NaN when fewer than 4
    are left out. Two prediction sets given the same ``idx`` are compared pairwise.
    """
    preds = np.atleast_2d(preds)
    scores = preds if task == "continuous" else within_fold_ranks(preds, splits)
    n = preds.shape[1]
    vals = np.full(len(idx), np.nan)
    for b in range(len(idx)):
        oob = np.setdiff1d(np.arange(n), idx[b])
        if oob.size >= 4:
            vals[b] = _nanmean0(np.array([[primary_point(task, y[oob], s[oob])] for s in scores]))[
                0
            ]
    return vals


def verdict(metric: str, ci_low: float, estimate: float) -> str:
    """``"evidence of discrimination"`` only when the whole CI lies above chance.

    A CI below chance, or an estimate below chance, is "no evidence of discrimination": a
    model cannot be significantly worse than chance, only uninformative (its sign is
    learned on the training folds).
    """
    chance = CHANCE.get(metric)
    if chance is None:
        return ""
    word = "prediction" if metric == "r2" else "discrimination"
    if np.isfinite(ci_low) and ci_low > chance and estimate > chance:
        return f"evidence of {word}"
    return f"no evidence of {word}"


def cv_performance(
    y, preds: np.ndarray, splits, *, task: str, interval: str, n_bootstraps: int,
    rng: np.random.Generator, horizon=None, inner: np.ndarray | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Performance table whose primary row carries the CV-aware interval ``interval``.

    Every metric keeps its pooled out-of-fold estimate and subject-bootstrap CI
    (:func:`bootstrap_performance`, ``interval = "bootstrap"``). With another ``interval``
    the primary row (``auroc``, ``harrell_c``, ``r2``) becomes the per-fold metric averaged
    over folds and repeats with that interval, and the pooled value moves to
    ``<primary>_pooled``. ``inner`` (repeats × folds mean inner-CV metric) feeds
    ``"nested_cv"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric, estimate, ci_low, ci_high, n, interval, verdict``.
    """
    if interval not in INTERVALS:
        msg = f"interval={interval!r} is not known; choose one of {', '.join(INTERVALS)}"
        raise ValueError(msg)
    table = bootstrap_performance(
        y, preds, task=task, n_bootstraps=n_bootstraps, rng=rng, horizon=horizon
    )
    table["interval"] = "bootstrap"
    metric = PRIMARY[task]
    if interval != "bootstrap":
        est = fold_estimates(task, y, preds, splits, horizon)
        mean = float(_nanmean0(est.reshape(-1, 1))[0])
        lo, hi = _cv_interval(
            task, y, preds, splits, est, interval=interval, n_bootstraps=n_bootstraps,
            rng=rng, inner=inner,
        )  # fmt: skip
        at = int(np.flatnonzero(table["metric"] == metric)[0])
        pooled = table.iloc[[at]].assign(metric=f"{metric}_pooled")
        table.loc[at, ["estimate", "ci_low", "ci_high", "interval"]] = [mean, lo, hi, interval]
        table = pd.concat([table.iloc[: at + 1], pooled, table.iloc[at + 1 :]], ignore_index=True)
    table["verdict"] = [
        verdict(m, lo, e) if m == metric else np.nan
        for m, lo, e in zip(table["metric"], table["ci_low"], table["estimate"], strict=True)
    ]
    return table


def _cv_interval(task, y, preds, splits, est, *, interval, n_bootstraps, rng, inner):
    n = np.shape(preds)[1]
    if interval == "corrected_t":
        n_test = n / len(splits[0])
        _, lo, hi = corrected_t_interval(est, n_train=n - n_test, n_test=n_test)
    elif interval == "bbc":
        _, lo, hi = bbc_interval(task, y, preds, splits, n_bootstraps=n_bootstraps, rng=rng)
    else:
        if inner is None:
            msg = "interval='nested_cv' needs the inner-CV fold metrics (inner=)"
            raise ValueError(msg)
        var = fold_auc_variance(task, y, preds, splits)
        _, lo, hi = nested_cv_interval(est, inner, var)
    # normal and t intervals can leave the metric's range: AUROC / C in [0, 1], R² <= 1
    floor = -np.inf if task == "continuous" else 0.0
    return float(np.clip(lo, floor, 1.0)), float(np.clip(hi, floor, 1.0))
