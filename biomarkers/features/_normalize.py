from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from biomarkers._validation import check_choice

__all__ = ["PseudobulkNormalizer"]

_METHODS = ("log1p_cpm", "cpm", "median_ratio")


class PseudobulkNormalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Library-size normalisation of pseudobulk counts (samples × genes).

    ``"cpm"`` and ``"log1p_cpm"`` scale each row by its own total (nothing learned);
    ``"median_ratio"`` uses DESeq2 median-of-ratios size factors (its zero-tolerant
    ``"poscounts"`` variant) against the per-gene geometric mean of the **training fold**
    (learned in :meth:`fit`, reused for test rows), then ``log1p``.

    Parameters
    ----------
    method
        ``"log1p_cpm"`` (default), ``"cpm"`` or ``"median_ratio"``.
    target_sum
        Total per row after scaling for the CPM methods (1e6 = counts per million).

    Attributes
    ----------
    log_geomeans_
        Per-gene log of the "poscounts" geometric mean of the training rows (sum of the logs of
        the positive counts / number of rows); NaN for genes that are zero in every row.
    log_size_center_
        Mean log size factor of the training rows (size factors are scaled to geometric mean 1).

    Examples
    --------
    >>> import numpy as np
    >>> PseudobulkNormalizer(method="cpm", target_sum=10).fit_transform(np.array([[1.0, 4.0]]))
    array([[2., 8.]])
    """

    def __init__(self, method: str = "log1p_cpm", *, target_sum: float = 1e6) -> None:
        self.method = method
        self.target_sum = target_sum

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags

    def fit(self, X, y=None):
        """Learn the reference profile (``median_ratio``) from the training rows.

        Parameters
        ----------
        X
            Non-negative counts (samples × genes).
        y
            Ignored.

        Returns
        -------
        self
        """
        check_choice("method", self.method, _METHODS, source="PseudobulkNormalizer")
        X = validate_data(self, X, dtype=np.float64, reset=True)
        self._check_counts(X)
        logx = np.log(np.where(X > 0, X, 1.0))
        lgm = logx.sum(axis=0) / X.shape[0]
        self.log_geomeans_ = np.where((X > 0).any(axis=0), lgm, np.nan)
        self.log_size_center_ = 0.0
        self.log_size_center_ = float(np.mean(self._log_size_factors(X)))
        return self

    def _log_size_factors(self, X) -> np.ndarray:
        usable = ~np.isnan(self.log_geomeans_)
        ratios = np.log(np.where(X > 0, X, 1.0))[:, usable] - self.log_geomeans_[usable]
        ratios[X[:, usable] <= 0] = np.nan
        has = ~np.isnan(ratios).all(axis=1)
        out = np.zeros(X.shape[0])
        if has.any():
            out[has] = np.nanmedian(ratios[has], axis=1)
        return out - self.log_size_center_

    @staticmethod
    def _check_counts(X) -> None:
        if (X < 0).any():
            r, c = np.argwhere(X < 0)[0]
            msg = (
                f"PseudobulkNormalizer: Negative values in data ({X[r, c]} at row {r}, "
                f"column {c}); pass raw counts"
            )
            raise ValueError(msg)

    def transform(self, X):
        """Normalise each row.

        Parameters
        ----------
        X
            Non-negative counts with the genes seen in :meth:`fit`.

        Returns
        -------
        numpy.ndarray
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        self._check_counts(X)
        if self.method == "median_ratio":
            return np.log1p(X / np.exp(self._log_size_factors(X))[:, None])
        totals = X.sum(axis=1, keepdims=True)
        scaled = np.divide(X, totals, out=np.zeros_like(X), where=totals > 0) * self.target_sum
        return np.log1p(scaled) if self.method == "log1p_cpm" else scaled
