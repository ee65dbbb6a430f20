from __future__ import annotations

import numpy as np

from biomarkers.features._transforms import RowwiseTransformer

__all__ = ["CLRTransformer"]


class CLRTransformer(RowwiseTransformer):
    """Centred log-ratio of each row (sample): ``log(x + p) - mean(log(x + p))``.

    For compositions such as cell-type counts or proportions. Each row is transformed on its own
    (the reference is the row's geometric mean), so nothing is learned across samples and the
    transform is safe before or inside cross-validation. Rows with any ``NaN`` become all ``NaN``
    (their geometric mean is undefined).

    Parameters
    ----------
    pseudocount
        Added before the natural log; 0.5 suits counts, use a small value such as 1e-3 for
        proportions. Must be > 0 unless every value is positive.

    Examples
    --------
    >>> import numpy as np
    >>> CLRTransformer(pseudocount=1.0).fit_transform(np.array([[0.0, 0.0, 6.0]])).round(3)
    array([[-0.649, -0.649,  1.297]])
    """

    def __init__(self, pseudocount: float = 0.5) -> None:
        self.pseudocount = pseudocount

    def _check_params(self) -> None:
        if not np.isfinite(self.pseudocount) or self.pseudocount < 0:
            msg = f"CLRTransformer: pseudocount={self.pseudocount!r} must be a finite number >= 0"
            raise ValueError(msg)

    def transform(self, X):
        """Return the row-wise CLR of ``X + pseudocount``.

        Parameters
        ----------
        X
            Non-negative counts or proportions (samples × parts).

        Returns
        -------
        numpy.ndarray
        """
        X = self._validate(X)
        shifted = X + self.pseudocount
        if np.any(shifted[~np.isnan(shifted)] <= 0) or np.isinf(X).any():
            msg = (
                "CLRTransformer: every value + pseudocount must be finite and > 0 "
                f"(pseudocount={self.pseudocount}); raise pseudocount or impute censored values"
            )
            raise ValueError(msg)
        logx = np.log(shifted)
        return logx - logx.mean(axis=1, keepdims=True)
