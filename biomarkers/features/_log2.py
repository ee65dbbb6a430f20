from __future__ import annotations

import numpy as np

from biomarkers.features._transforms import RowwiseTransformer

__all__ = ["Log2Transformer"]


class Log2Transformer(RowwiseTransformer):
    """``log2(x + offset)``, element-wise; ``±inf`` (censored) and ``NaN`` pass through.

    Learns nothing, so it is safe before or inside cross-validation. Negative values are an
    error (not silently turned into NaN), as is a zero with ``offset=0``.

    Parameters
    ----------
    offset
        Added before the log (1 for concentrations with zeros; 0 for strictly positive data).

    Examples
    --------
    >>> import numpy as np
    >>> Log2Transformer(offset=1.0).fit_transform(np.array([[0.0, 3.0], [-np.inf, 7.0]]))
    array([[  0.,   2.],
           [-inf,   3.]])
    """

    def __init__(self, offset: float = 1.0) -> None:
        self.offset = offset

    def _check_params(self) -> None:
        if not np.isfinite(self.offset) or self.offset < 0:
            msg = f"Log2Transformer: offset={self.offset!r} must be a finite number >= 0"
            raise ValueError(msg)

    def transform(self, X):
        """Return ``log2(X + offset)`` with ``-inf``/``+inf``/``NaN`` kept.

        Parameters
        ----------
        X
            Array-like of non-negative values (or censored ``±inf``).

        Returns
        -------
        numpy.ndarray
        """
        X = self._validate(X)
        finite = np.isfinite(X)
        bad = finite & (X + self.offset <= 0)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            msg = (
                f"Log2Transformer: value {float(X[r, c])} at row {r}, column {c} has no log with "
                f"offset={self.offset}; use offset > 0 for data with zeros"
            )
            raise ValueError(msg)
        out = X.copy()
        out[finite] = np.log2(X[finite] + self.offset)
        return out
