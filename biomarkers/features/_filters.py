from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["MissingnessFilter", "VarianceFilter"]


class VarianceFilter(SelectorMixin, BaseEstimator):
    """Keep features whose training-fold variance exceeds a threshold (or the top ``top_k``).

    NaN is ignored when computing variances and ``±inf`` (censored) values count as missing, so
    it can sit before or after :class:`CensoredValueImputer`. Variances are learned in
    :meth:`fit`; inside a pipeline that is refitted per fold, gene/feature selection by
    variance never sees the test rows.

    Parameters
    ----------
    threshold
        Keep features with variance strictly above this.
    top_k
        If set, keep (at most) the ``top_k`` most variable features above ``threshold``.

    Attributes
    ----------
    variances_
        Per-feature variance in the training fold (NaN if fewer than two finite values).

    Examples
    --------
    >>> import numpy as np
    >>> VarianceFilter(top_k=1).fit_transform(np.array([[1.0, 0.0], [1.0, 5.0], [2.0, 1.0]]))
    array([[0.],
           [5.],
           [1.]])
    """

    def __init__(self, threshold: float = 0.0, *, top_k: int | None = None) -> None:
        self.threshold = threshold
        self.top_k = top_k

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X, y=None):
        """Compute per-feature variances on the training rows.

        Parameters
        ----------
        X
            Array-like (n_samples, n_features).
        y
            Ignored.

        Returns
        -------
        self
        """
        if self.top_k is not None and int(self.top_k) < 1:
            msg = f"VarianceFilter: top_k={self.top_k!r} must be a positive integer or None"
            raise ValueError(msg)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite=False, reset=True)
        Xf = np.where(np.isfinite(X), X, np.nan)
        n_ok = np.isfinite(Xf).sum(axis=0)
        with np.errstate(all="ignore"):
            mean = np.nansum(Xf, axis=0) / np.maximum(n_ok, 1)
            var = np.nansum((Xf - mean) ** 2, axis=0) / np.maximum(n_ok - 1, 1)
        self.variances_ = np.where(n_ok >= 2, var, np.nan)
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        v = np.nan_to_num(self.variances_, nan=-np.inf)
        mask = v > self.threshold
        if self.top_k is not None and mask.sum() > self.top_k:
            order = np.argsort(-v, kind="stable")[: int(self.top_k)]
            mask = np.zeros_like(mask)
            mask[order] = True
        return mask


class MissingnessFilter(SelectorMixin, BaseEstimator):
    """Drop features missing (``NaN``) in more than ``max_missing`` of the training rows.

    Censored values (``±inf``) are observed, not missing: they are not counted here (see
    ``var["censored_fraction"]`` of the FeatureTable for those).

    Parameters
    ----------
    max_missing
        Largest allowed fraction of ``NaN`` per feature, in [0, 1].

    Attributes
    ----------
    missing_fraction_
        Per-feature fraction of ``NaN`` in the training fold.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, 1.0]])
    >>> MissingnessFilter(max_missing=0.5).fit(X).get_support()
    array([ True, False])
    """

    def __init__(self, max_missing: float = 0.2) -> None:
        self.max_missing = max_missing

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X, y=None):
        """Compute the fraction of ``NaN`` per feature on the training rows.

        Parameters
        ----------
        X
            Array-like (n_samples, n_features).
        y
            Ignored.

        Returns
        -------
        self
        """
        if not 0 <= self.max_missing <= 1:
            msg = f"MissingnessFilter: max_missing={self.max_missing!r} must be in [0, 1]"
            raise ValueError(msg)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite=False, reset=True)
        self.missing_fraction_ = np.isnan(X).mean(axis=0)
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.missing_fraction_ <= self.max_missing
