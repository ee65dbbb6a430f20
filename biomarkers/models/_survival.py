"""Survival learners used by the registry: Coxnet on a scale-free alpha grid, XGBoost-Cox."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["RatioCoxnet", "XGBCox"]


def surv_xgb_label(y) -> np.ndarray:
    """XGBoost ``survival:cox`` label: time, negative when censored."""
    names = y.dtype.names
    t = np.asarray(y[names[1]], dtype=float)
    return np.where(y[names[0]].astype(bool), t, -t)


def _surv_arrays(y):
    names = y.dtype.names
    return np.asarray(y[names[0]]).astype(bool), np.asarray(y[names[1]], dtype=float)


class RatioCoxnet(RegressorMixin, BaseEstimator):
    """Elastic-net Cox model with ``alpha = ratio * alpha_max`` (scikit-survival's Coxnet path).

    Parameters
    ----------
    ratio
        Penalty as a fraction of the smallest alpha that zeroes every coefficient.
    l1_ratio
        Elastic-net mixing.
    n_alphas
        Length of the warm-started path from ``alpha_max`` down to ``ratio * alpha_max``.
    path_ratios
        Ignored by :meth:`fit` except for its length and minimum (used by the inner search).
    """

    def __init__(
        self, ratio: float = 0.1, l1_ratio: float = 0.5, n_alphas: int = 12, path_ratios=None
    ) -> None:
        self.ratio = ratio
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas
        self.path_ratios = path_ratios

    def fit(self, X, y):
        """Fit the path down to ``ratio * alpha_max``.

        Parameters
        ----------
        X
            Training matrix.
        y
            Structured (event, time) array.

        Returns
        -------
        self
        """
        from sksurv.linear_model import CoxnetSurvivalAnalysis

        X = np.asarray(X, dtype=float)
        n = len(self.path_ratios) if self.path_ratios is not None else self.n_alphas
        lo = min(self.path_ratios) if self.path_ratios is not None else self.ratio
        with warnings.catch_warnings():
            # alpha_max is on every path by design: all-zero coefficients are expected there
            warnings.filterwarnings("ignore", message="all coefficients are zero")
            self.model_ = CoxnetSurvivalAnalysis(
                l1_ratio=self.l1_ratio, n_alphas=max(n, 2), alpha_min_ratio=lo, max_iter=100000
            ).fit(X, y)
        self.coef_ = np.asarray(self.model_.coef_[:, -1])
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X, ratio: float | None = None):
        """Risk score (linear predictor) at ``ratio`` (default: the fitted one).

        Parameters
        ----------
        X
            Matrix with the training columns.
        ratio
            A point of the fitted path (as a fraction of ``alpha_max``).

        Returns
        -------
        numpy.ndarray
        """
        check_is_fitted(self)
        X = np.asarray(X, dtype=float)
        alphas = self.model_.alphas_
        if ratio is None:
            j = len(alphas) - 1
        else:
            j = int(np.argmin(np.abs(np.log(alphas / alphas[0]) - np.log(ratio))))
        return X @ self.model_.coef_[:, j]


class XGBCox(RegressorMixin, BaseEstimator):
    """XGBoost with the Cox partial likelihood (``survival:cox``); predicts log relative hazard.

    Parameters
    ----------
    n_estimators, max_depth, learning_rate, subsample, colsample_bytree, min_child_weight,
    tree_method, n_jobs, random_state, verbosity
        As in :class:`xgboost.XGBRegressor`.
    """

    def __init__(
        self,
        n_estimators: int = 200,
        max_depth: int = 3,
        learning_rate: float = 0.1,
        subsample: float = 0.8,
        colsample_bytree: float = 0.5,
        min_child_weight: float = 1.0,
        tree_method: str = "hist",
        n_jobs: int = 1,
        random_state: int = 0,
        verbosity: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.tree_method = tree_method
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbosity = verbosity

    def _params(self) -> dict:
        return {
            "objective": "survival:cox",
            "eval_metric": "cox-nloglik",
            "max_depth": self.max_depth,
            "eta": self.learning_rate,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
            "tree_method": self.tree_method,
            "nthread": self.n_jobs,
            "seed": self.random_state,
            "verbosity": self.verbosity,
        }

    @staticmethod
    def _dmatrix(X, y=None):
        import xgboost as xgb

        label = None if y is None else surv_xgb_label(y)
        return xgb.DMatrix(np.asarray(X, dtype=float), label=label, nthread=1)

    def fit(self, X, y):
        """Fit ``n_estimators`` rounds.

        Parameters
        ----------
        X
            Training matrix.
        y
            Structured (event, time) array.

        Returns
        -------
        self
        """
        import xgboost as xgb

        self.booster_ = xgb.train(
            self._params(), self._dmatrix(X, y), num_boost_round=self.n_estimators
        )
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def fit_curve(self, X, y, X_val, y_val, *, early_stopping_rounds=None) -> np.ndarray:
        """Fit and return the validation ``-cox-nloglik`` after each round (higher is better)."""
        import xgboost as xgb

        res: dict = {}
        self.booster_ = xgb.train(
            self._params(),
            self._dmatrix(X, y),
            num_boost_round=self.n_estimators,
            evals=[(self._dmatrix(X_val, y_val), "val")],
            evals_result=res,
            verbose_eval=False,
            early_stopping_rounds=early_stopping_rounds,
        )
        self.n_features_in_ = np.asarray(X).shape[1]
        return -np.asarray(res["val"]["cox-nloglik"])

    def get_booster(self):
        """The fitted :class:`xgboost.Booster`."""
        check_is_fitted(self)
        return self.booster_

    def predict(self, X):
        """Log relative hazard (higher = higher risk).

        Parameters
        ----------
        X
            Matrix with the training columns.

        Returns
        -------
        numpy.ndarray
        """
        check_is_fitted(self)
        return self.booster_.predict(self._dmatrix(X), output_margin=True)
