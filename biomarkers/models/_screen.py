"""In-fold univariate pre-screening: keep the top-k features by a fast statistic."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from biomarkers._validation import check_choice

__all__ = ["UnivariateScreen"]

_TASKS = ("binary", "continuous", "survival")


def _group_moments(X: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-column count, mean and unbiased variance of the non-missing rows in ``mask``."""
    sub = X[mask]
    total = sub.sum(0)
    # no NaN in the column sums means none in the columns (a NaN sum from inf − inf takes the
    # NaN-aware path, which gives the same values): skip the mask and the masked copies
    dense = not np.isnan(total).any()
    ok = None if dense else ~np.isnan(sub)
    cnt = np.full(sub.shape[1], float(sub.shape[0])) if dense else ok.sum(0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (total if dense else np.where(ok, sub, 0.0).sum(0)) / cnt
        # ``sub`` is this function's own copy (fancy indexing): centre and square it in place
        dev = np.subtract(sub, mean, out=sub)
        if not dense:
            dev[~ok] = 0.0
        var = np.square(dev, out=dev).sum(0) / (cnt - 1)
    return cnt, mean, var


def _screen_scores(X: np.ndarray, y, task: str) -> np.ndarray:
    if task == "binary":
        classes = np.unique(y)
        pos = np.asarray(y) == classes[-1]
        na, ma, va = _group_moments(X, pos)
        nb, mb, vb = _group_moments(X, ~pos)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = (ma - mb) / np.sqrt(va / na + vb / nb)
        return np.nan_to_num(np.abs(t), nan=0.0, posinf=0.0)
    if task == "continuous":
        ok = ~np.isnan(X)
        yv = np.asarray(y, dtype=float)[:, None]
        cnt = ok.sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mx = np.where(ok, X, 0.0).sum(0) / cnt
            my = np.where(ok, yv, 0.0).sum(0) / cnt
            dx = np.where(ok, X - mx, 0.0)
            dy = np.where(ok, yv - my, 0.0)
            r = (dx * dy).sum(0) / np.sqrt((dx**2).sum(0) * (dy**2).sum(0))
        return np.nan_to_num(np.abs(r), nan=0.0)
    from biomarkers.models._univariate import cox_score

    names = y.dtype.names
    z, _ = cox_score(X, y[names[0]], y[names[1]])
    return np.nan_to_num(np.abs(z), nan=0.0)


class UnivariateScreen(SelectorMixin, BaseEstimator):
    """Keep the ``k`` features most associated with the outcome in the training fold.

    Sits inside the model pipeline, so the screening is refitted in every (inner and outer)
    training fold and never sees held-out subjects. The statistic is Welch's |t| (binary),
    |Pearson r| (continuous) or the |Cox score z| of the rank-transformed feature (survival),
    each on the non-missing values of the column (NaN allowed, so imputation can come after the
    screen and only touch the kept columns); ties keep the earlier column.

    Parameters
    ----------
    k
        Number of features kept (all when ``None`` or larger than the number of columns).
    task
        ``"binary"``, ``"continuous"`` or ``"survival"`` (``y`` a structured (event, time) array).
    keep
        Column indices always kept on top of the ``k`` (e.g. clinical covariates).

    Attributes
    ----------
    scores_
        Screening statistic per input column.
    support_
        Boolean mask of the kept columns.

    Examples
    --------
    >>> import numpy as np
    >>> from biomarkers.models import UnivariateScreen
    >>> X = np.array([[0.0, 5.0, 1.0], [0.1, 5.2, 3.0], [1.0, 5.1, 0.0], [1.2, 4.9, 2.0]])
    >>> UnivariateScreen(k=1).fit(X, [0, 0, 1, 1]).get_support().tolist()
    [True, False, False]
    """

    def __init__(self, k: int | None = 500, *, task: str = "binary", keep=()) -> None:
        self.k = k
        self.task = task
        self.keep = keep

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X, y):
        """Score every column on the training data and remember the kept ones.

        Parameters
        ----------
        X
            Training matrix (finite or NaN).
        y
            Outcome of the training subjects.

        Returns
        -------
        self
        """
        check_choice("task", self.task, _TASKS, source="UnivariateScreen")
        if self.task == "survival":
            X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        else:
            X, y = validate_data(
                self,
                X,
                y,
                dtype=np.float64,
                y_numeric=self.task != "binary",
                ensure_all_finite="allow-nan",
            )
        p = X.shape[1]
        self.scores_ = _screen_scores(X, y, self.task)
        support = np.zeros(p, dtype=bool)
        if self.k is None or self.k >= p:
            support[:] = True
        elif self.k > 0:
            top = np.argsort(-self.scores_, kind="stable")[: int(self.k)]
            support[top] = True
        keep = np.asarray(list(self.keep), dtype=int)
        if keep.size:
            support[keep[(keep >= 0) & (keep < p)]] = True
        if not support.any():
            support[int(np.argmax(self.scores_))] = True
        self.support_ = support
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_
