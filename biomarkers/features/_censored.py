from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from biomarkers._validation import check_choice
from biomarkers.exceptions import SchemaError

__all__ = ["CensoredValueImputer"]

_RULES = ("keep", "lod_sqrt2", "lod_half", "lowest_standard", "min")


def _per_column(values, n_features: int, *, name: str, column: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.shape[0] != n_features:
        msg = (
            f"CensoredValueImputer: {name} has {arr.shape[0]} entries but X has {n_features} "
            f"columns; pass one value per column (e.g. FeatureTable var[{column!r}])"
        )
        raise SchemaError(msg)
    return arr


class CensoredValueImputer(TransformerMixin, BaseEstimator):
    """Replace censored values (``-inf`` below a limit, ``+inf`` above) with numbers.

    The FeatureTable stores a value reported only as "below the detection limit" as ``-inf`` and
    one reported as "above the upper limit" as ``+inf``; ``NaN`` is missing and is left as ``NaN``
    (impute it later, e.g. with :class:`~sklearn.impute.SimpleImputer`). Everything estimated from
    data (minimum, maximum, limits when none are given) is learned in :meth:`fit`, so the imputer
    can sit first in a pipeline that is refitted inside each cross-validation training fold.

    Parameters
    ----------
    rule
        Substitute for ``-inf`` (per column):

        ``"keep"``
            the smallest finite value of the training fold (``+inf`` by the largest; ``upper``
            is ignored): the observed range is kept, nothing is invented.
        ``"lod_sqrt2"``
            limit / √2 (Hornung & Reed 1990).
        ``"lod_half"``
            limit / 2.
        ``"lowest_standard"``
            the limit itself (e.g. the lowest standard × dilution, LabKey style).
        ``"min"``
            the smallest finite value of the training fold (``limits`` ignored).

        The *limit* is ``limits[j]`` when given (and not NaN), else the smallest finite value
        of column ``j`` in the training fold. ``limits`` must be on the scale of ``X``; for
        log-transformed columns pass ``log2_offset`` so the division happens on the
        concentration scale.
    limits
        Per-column lower limit (LOD/LLOQ) on the scale of ``X``, e.g.
        ``feature_table.var["lod"].to_numpy()``; ``None`` or NaN entries are learned as the
        training-fold minimum.
    upper
        Substitute for ``+inf``: ``"max"`` (largest finite training value per column) or a
        per-column array of upper limits (ULOQ); NaN entries fall back to the training maximum.
    add_indicator
        Append one 0/1 column ``<name>_below_limit`` for every column that had ``-inf`` values in
        the training fold.
    log2_offset
        When ``X`` (and ``limits``) are ``log2(x + c)`` values, the offset ``c`` (scalar or
        per column, e.g. ``feature_table.var["log2_offset"]``; NaN = that column is not logged).
        ``lod_sqrt2``/``lod_half`` then divide the limit on the concentration scale
        (``log2(LOD / √2 + c)``), not the log value. ``None``: ``X`` is on the linear scale.

    Attributes
    ----------
    lower_fill_
        Value substituted for ``-inf`` per input column (NaN if nothing finite was seen).
    upper_fill_
        Value substituted for ``+inf`` per input column.
    indicator_features_
        Indices of the columns that get a below-limit indicator.
    n_features_in_
        Number of input columns.

    Examples
    --------
    >>> import numpy as np
    >>> from biomarkers.features import CensoredValueImputer
    >>> X = np.array([[-np.inf, 5.0], [2.0, np.inf], [4.0, np.nan]])
    >>> CensoredValueImputer("lowest_standard", limits=[1.0, 1.0]).fit_transform(X)
    array([[ 1.,  5.],
           [ 2.,  5.],
           [ 4., nan]])
    """

    def __init__(
        self,
        rule: str = "lod_sqrt2",
        *,
        limits=None,
        upper="max",
        add_indicator: bool = False,
        log2_offset=None,
    ) -> None:
        self.rule = rule
        self.limits = limits
        self.upper = upper
        self.add_indicator = add_indicator
        self.log2_offset = log2_offset

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X, y=None):
        """Learn the per-column substitutes from the training fold.

        Parameters
        ----------
        X
            Array-like (n_samples, n_features) that may contain ``-inf``, ``+inf`` and ``NaN``.
        y
            Ignored.

        Returns
        -------
        self
        """
        check_choice("rule", self.rule, _RULES, source="CensoredValueImputer")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite=False, reset=True)
        n = X.shape[1]
        finite = np.isfinite(X)
        any_finite = finite.any(axis=0)
        with np.errstate(invalid="ignore"):
            col_min = np.where(any_finite, np.where(finite, X, np.inf).min(axis=0), np.nan)
            col_max = np.where(any_finite, np.where(finite, X, -np.inf).max(axis=0), np.nan)

        if self.limits is None:
            limit = col_min.copy()
        else:
            limit = _per_column(self.limits, n, name="limits", column="lod")
            limit = np.where(np.isnan(limit), col_min, limit)
        if self.rule in ("keep", "min"):
            lower = col_min
        elif self.rule in ("lod_sqrt2", "lod_half"):
            divisor = np.sqrt(2.0) if self.rule == "lod_sqrt2" else 2.0
            if self.log2_offset is None:
                lower = limit / divisor
            else:
                # X = log2(x + c): divide the limit on the concentration scale, then map back
                c = np.asarray(self.log2_offset, dtype=float)
                c = _per_column(
                    np.full(n, float(c)) if c.ndim == 0 else c,
                    n,
                    name="log2_offset",
                    column="log2_offset",
                )
                linear = np.isnan(c)
                conc = np.exp2(limit) - np.where(linear, 0.0, c)
                with np.errstate(invalid="ignore", divide="ignore"):
                    logged = np.log2(conc / divisor + np.where(linear, 0.0, c))
                lower = np.where(linear, limit / divisor, logged)
        else:
            lower = limit

        if self.rule == "keep" or (isinstance(self.upper, str) and self.upper == "max"):
            upper = col_max
        elif isinstance(self.upper, str):
            msg = f"CensoredValueImputer: upper={self.upper!r} is not 'max' or a per-column array"
            raise ValueError(msg)
        else:
            upper = _per_column(self.upper, n, name="upper", column="uloq")
            upper = np.where(np.isnan(upper), col_max, upper)

        self.lower_fill_ = np.asarray(lower, dtype=float)
        self.upper_fill_ = np.asarray(upper, dtype=float)
        self.indicator_features_ = (
            np.flatnonzero(np.isneginf(X).any(axis=0)) if self.add_indicator else np.array([], int)
        )
        return self

    def transform(self, X):
        """Replace ``-inf``/``+inf`` by the learned substitutes (``NaN`` is kept).

        Parameters
        ----------
        X
            Array-like with the columns seen in :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            Float array; with ``add_indicator`` the indicator columns are appended on the right.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite=False, reset=False)
        below = np.isneginf(X)
        out = np.where(below, self.lower_fill_, X)
        out = np.where(np.isposinf(out), self.upper_fill_, out)
        if self.add_indicator and self.indicator_features_.size:
            out = np.hstack([out, below[:, self.indicator_features_].astype(np.float64)])
        return out

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns (inputs, then ``<name>_below_limit`` indicators).

        Parameters
        ----------
        input_features
            Input names; default the names seen in :meth:`fit` or ``x0, x1, ...``.

        Returns
        -------
        numpy.ndarray of str
        """
        from sklearn.utils.validation import _check_feature_names_in

        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        extra = [f"{names[j]}_below_limit" for j in self.indicator_features_]
        return np.asarray([*names, *extra], dtype=object)
