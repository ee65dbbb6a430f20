"""Elastic-net logistic regression by glmnet-style coordinate descent (numba), with paths.

The objective is scikit-learn's ``LogisticRegression(C, l1_ratio)``::

    C * sum_i logloss_i + (1 - l1_ratio) / 2 * ||w||^2 + l1_ratio * ||w||_1

(intercept unpenalised), i.e. glmnet's ``lambda = 1 / (C * n)``. One call solves a whole path of
``C`` values with warm starts and an active set, which is what makes nested CV cheap.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["ElasticNetLogistic", "logistic_enet_path"]


def _kernel():
    from biomarkers.models._glmnet_kernel import enet_logistic_path

    return enet_logistic_path


def logistic_enet_path(
    X: np.ndarray,
    y: np.ndarray,
    *,
    Cs,
    l1_ratio: float,
    tol: float = 1e-7,
    max_iter: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit the elastic-net logistic regression for every ``C`` (warm-started, ascending ``C``).

    Parameters
    ----------
    X
        Design matrix (n_samples, n_features), already scaled as wanted.
    y
        0/1 labels.
    Cs
        Inverse regularisation strengths (any order; solved in ascending order).
    l1_ratio
        Mixing parameter in [0, 1] (1 = lasso).
    tol
        Convergence tolerance on the weighted squared coefficient change.
    max_iter
        Maximum number of quadratic-approximation (IRLS) steps per ``C``.

    Returns
    -------
    coefs, intercepts
        Arrays of shape (len(Cs), n_features) and (len(Cs),), in the order of ``Cs``.
    """
    # one compiled signature: C-contiguous, writeable float64 (read-only memmaps are copied)
    X = np.require(X, dtype=np.float64, requirements=["C", "W"])
    y = np.require(y, dtype=np.float64, requirements=["C", "W"])
    Cs = np.asarray(Cs, dtype=np.float64)
    order = np.argsort(Cs)
    lambdas = 1.0 / (Cs[order] * X.shape[0])
    coefs, intercepts, _ = _kernel()(X, y, lambdas, float(l1_ratio), float(tol), int(max_iter))
    out_c = np.empty_like(coefs)
    out_i = np.empty_like(intercepts)
    out_c[order] = coefs
    out_i[order] = intercepts
    return out_c, out_i


class ElasticNetLogistic(ClassifierMixin, BaseEstimator):
    """Binary elastic-net logistic regression (same objective as scikit-learn's, faster paths).

    Parameters
    ----------
    C
        Inverse regularisation strength, as in :class:`sklearn.linear_model.LogisticRegression`.
    l1_ratio
        Elastic-net mixing (0 = ridge, 1 = lasso).
    tol
        Convergence tolerance of the coordinate descent.
    max_iter
        Maximum number of IRLS steps.

    Attributes
    ----------
    coef_
        Coefficients, shape (1, n_features).
    intercept_
        Intercept, shape (1,).
    classes_
        The two class labels.

    Examples
    --------
    >>> import numpy as np
    >>> from biomarkers.models import ElasticNetLogistic
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> clf = ElasticNetLogistic(C=10.0, l1_ratio=0.5).fit(X, [0, 0, 1, 1])
    >>> clf.predict([[0.0], [3.0]]).tolist()
    [0, 1]
    """

    def __init__(
        self, C: float = 1.0, *, l1_ratio: float = 0.5, tol: float = 1e-9, max_iter: int = 100
    ) -> None:
        self.C = C
        self.l1_ratio = l1_ratio
        self.tol = tol
        self.max_iter = max_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X, y):
        """Fit on ``X`` and binary labels ``y``.

        Parameters
        ----------
        X
            Training matrix.
        y
            Two-class labels.

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, yi = np.unique(y, return_inverse=True)
        if self.classes_.shape[0] != 2:
            k = self.classes_.shape[0]
            msg = (
                "Only binary classification is supported by ElasticNetLogistic; y has "
                f"{k} class{'' if k == 1 else 'es'}: use it for binary outcomes only"
            )
            raise ValueError(msg)
        if not self.C > 0:
            msg = f"ElasticNetLogistic: C must be > 0, got {self.C!r}"
            raise ValueError(msg)
        if not 0.0 <= self.l1_ratio <= 1.0:
            msg = f"ElasticNetLogistic: l1_ratio must be in [0, 1], got {self.l1_ratio!r}"
            raise ValueError(msg)
        coefs, intercepts = logistic_enet_path(
            X, yi, Cs=[self.C], l1_ratio=self.l1_ratio, tol=self.tol, max_iter=self.max_iter
        )
        self.coef_ = coefs[:1]
        self.intercept_ = intercepts[:1]
        self.n_iter_ = np.array([1], dtype=np.int32)  # IRLS steps are not exposed per C
        return self

    def decision_function(self, X):
        """Linear predictor (log-odds of ``classes_[1]``).

        Parameters
        ----------
        X
            Matrix with the training columns.

        Returns
        -------
        numpy.ndarray
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_[0] + self.intercept_[0]

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X
            Matrix with the training columns.

        Returns
        -------
        numpy.ndarray
        """
        eta = self.decision_function(X)
        p1 = 1.0 / (1.0 + np.exp(-eta))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X):
        """Most probable class.

        Parameters
        ----------
        X
            Matrix with the training columns.

        Returns
        -------
        numpy.ndarray
        """
        d = self.decision_function(X)
        return self.classes_[(d > 0).astype(int)]
