"""Private base helpers for the stateless, row-wise transformers."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["RowwiseTransformer"]


class RowwiseTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Base of transformers that learn nothing but the number of columns (safe in any fold)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.positive_only = True
        return tags

    def _check_params(self) -> None:  # overridden
        pass

    def fit(self, X, y=None):
        """Check ``X`` and record its width; nothing is learned.

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
        self._check_params()
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite=False, reset=True)
        self._check_nonnegative(X)
        self.fitted_ = True
        return self

    def _check_nonnegative(self, X) -> None:
        neg = X < 0  # NaN and -inf (censored below a limit) are allowed
        neg &= np.isfinite(X)
        if neg.any():
            r, c = np.argwhere(neg)[0]
            msg = (
                f"{type(self).__name__}: Negative values in data (value {float(X[r, c])} at row {r}, "
                f"column {c}); expected concentrations, counts or proportions >= 0"
            )
            raise ValueError(msg)

    def _validate(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite=False, reset=False)
        self._check_nonnegative(X)
        return X
