"""Cooperative learning (Ding, Tibshirani et al., PNAS 2022): early to late fusion by one parameter.

For views (assay blocks) ``X_1 … X_M`` with coefficients ``θ_m`` the objective is::

    ½ ||y - Σ_m X_m θ_m||² + ρ/2 Σ_{m<m'} ||X_m θ_m - X_m' θ_m'||² + λ P_α(θ)

solved as an elastic net on augmented data: the rows ``[X_1 … X_M]`` with target ``y``, and for
every pair of views the rows ``√ρ (… -X_m … X_m' …)`` with target 0. ``ρ = 0`` is early fusion
(one elastic net on all features); larger ``ρ`` asks the views' predictions to agree.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.models._cv import grouped_folds, seed_for, strata
from biomarkers.models._fusion import _TASKS, assay_blocks

__all__ = ["CooperativeModel"]

#: default agreement penalties searched by the inner CV (0 = early fusion)
DEFAULT_RHOS = (0.0, 0.2, 0.5, 1.0, 2.0, 5.0)


def _preprocessing():
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from biomarkers.features import CensoredValueImputer

    return Pipeline(
        [
            ("censor", CensoredValueImputer("min")),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
    )


def augmented(Z: np.ndarray, y: np.ndarray, views: list[np.ndarray], rho: float):
    """The augmented design and target of cooperative learning (``Z`` and ``y`` centred)."""
    rows, zeros = [Z], [y]
    for a, b in itertools.combinations(range(len(views)), 2):
        block = np.zeros_like(Z)
        block[:, views[a]] = -np.sqrt(rho) * Z[:, views[a]]
        block[:, views[b]] = np.sqrt(rho) * Z[:, views[b]]
        rows.append(block)
        zeros.append(np.zeros(len(y)))
    return np.vstack(rows), np.concatenate(zeros)


class CooperativeModel(BaseEstimator):
    """Cooperative learning of two or more assay blocks (linear, elastic-net penalty).

    Parameters
    ----------
    task
        ``"classification"`` (0/1 outcome; alias ``"binary"``) or ``"regression"`` (alias
        ``"continuous"``).
    rhos
        Agreement penalties searched, jointly with the elastic-net strength, by the inner CV
        (``(0.0,)`` is early fusion).
    l1_ratio
        Elastic-net mixing (1 = lasso).
    inner_cv
        Folds of the inner cross-validation choosing ``ρ`` and the penalty.
    blocks
        Block (view) name → features; default :func:`assay_blocks` of the columns of ``X``.
    random_state
        Seed of the inner folds.

    Attributes
    ----------
    rho_, alpha_
        The chosen agreement and elastic-net penalties.
    coef_, intercept_
        Coefficients on the standardised features (in the order of ``features_``) and intercept.
    weights_
        Per block, the standard deviation of its part ``X_m θ_m`` of the linear predictor in the
        training data (how much each block moves the prediction).

    Notes
    -----
    The paper's squared-error formulation is used for both tasks; for classification it fits
    the 0/1 outcome (a linear probability score, what the AUROC ranks) and turns the score into
    a probability by a logistic recalibration fitted on the inner-CV predictions. The model is
    trained on the subjects who have every block (complete cases; a block is missing when all
    its features are NaN). A subject missing a block at prediction gets that block's training
    mean (a zero contribution): unlike :class:`StackedModel`, cooperative learning does not
    handle missing blocks by design.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from biomarkers.models import CooperativeModel
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(80, 4)), columns=[
    ...     "cytokine:IL6@D0", "cytokine:IL8@D0", "flow:Treg@D0", "flow:CD4@D0"])
    >>> y = (X["cytokine:IL6@D0"] + X["flow:Treg@D0"] + rng.normal(size=80) > 0).astype(int)
    >>> model = CooperativeModel(inner_cv=3).fit(X, y)
    >>> model.predict_proba(X).shape, model.rho_ in model.rhos
    ((80, 2), True)
    """

    def __init__(
        self,
        task: str = "classification",
        rhos: Sequence[float] = DEFAULT_RHOS,
        l1_ratio: float = 0.5,
        inner_cv: int = 5,
        blocks: Mapping[str, Sequence[str]] | None = None,
        random_state: int = 0,
    ) -> None:
        self.task = task
        self.rhos = rhos
        self.l1_ratio = l1_ratio
        self.inner_cv = inner_cv
        self.blocks = blocks
        self.random_state = random_state

    @property
    def _kind(self) -> str:
        check_choice("task", self.task, list(_TASKS), source="CooperativeModel")
        return _TASKS[self.task]

    def _views(self, features: list[str]) -> list[np.ndarray]:
        pos = {f: i for i, f in enumerate(features)}
        return [np.array([pos[f] for f in feats], dtype=int) for feats in self.blocks_.values()]

    def _present(self, X: pd.DataFrame) -> np.ndarray:
        return np.column_stack(
            [X.loc[:, f].notna().any(axis=1).to_numpy() for f in self.blocks_.values()]
        )

    def _path(self, Z, y, views, rho, ratios) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients (features × ratios) of the augmented elastic net, and the alphas."""
        from sklearn.linear_model import enet_path

        from biomarkers.models._registry import _alpha_max

        amax = _alpha_max(Z, y, self.l1_ratio)
        alphas = np.asarray(ratios) * amax
        Xa, ya = augmented(Z, y, views, rho)
        # sklearn divides the loss by the number of rows: rescale the penalty so that ρ = 0 is
        # exactly the elastic net on the n real rows (the extra rows are then all zero)
        scale = len(y) / len(ya)
        _, coefs, _ = enet_path(Xa, ya, l1_ratio=self.l1_ratio, alphas=alphas * scale,
                                max_iter=10000, tol=1e-7)  # fmt: skip
        return coefs, alphas

    def fit(self, X: pd.DataFrame, y) -> CooperativeModel:
        """Choose ``ρ`` and the penalty by inner CV, then fit on the complete-case subjects.

        Parameters
        ----------
        X
            Subjects × features (names follow the feature-name grammar unless ``blocks``).
        y
            0/1 labels (classification) or values (regression).

        Returns
        -------
        self
        """
        from biomarkers.models._registry import _RATIOS, _auroc

        if not isinstance(X, pd.DataFrame):
            msg = f"CooperativeModel needs a DataFrame with feature names, got {type(X).__name__}"
            raise SchemaError(msg)
        kind = self._kind
        y = np.asarray(y, dtype=float)
        blocks = assay_blocks(X.columns) if self.blocks is None else self.blocks
        self.blocks_ = {str(b): [str(f) for f in fs] for b, fs in blocks.items()}
        if len(self.blocks_) < 2:
            msg = (
                f"cooperative learning needs two or more assay blocks; X has "
                f"{list(self.blocks_)}: add another assay or use fusion: none"
            )
            raise ConfigError(msg)
        self.features_ = [f for fs in self.blocks_.values() for f in fs]
        views = self._views(self.features_)
        rows = np.flatnonzero(self._present(X).all(axis=1))
        Xc = X.iloc[rows][self.features_].to_numpy(dtype=float)
        yc = y[rows]
        self.n_complete_ = int(rows.size)
        st = strata(yc, kind)
        k = self.inner_cv
        if kind == "binary":
            k = int(max(2, min(k, np.bincount(st.astype(int), minlength=2).min())))
        ratios = list(_RATIOS)
        total = np.zeros((len(self.rhos), len(ratios)))
        oof = np.full((len(self.rhos), len(ratios), len(yc)), np.nan)
        seed = seed_for(int(self.random_state), "fusion_inner", 0)
        for tr, te in grouped_folds(st, np.arange(len(yc)), n_splits=k, seed=seed):
            pre = _preprocessing().fit(Xc[tr])
            Ztr, Zte = pre.transform(Xc[tr]), pre.transform(Xc[te])
            ym = yc[tr].mean()
            for i, rho in enumerate(self.rhos):
                coefs, _ = self._path(Ztr, yc[tr] - ym, views, rho, ratios)
                pred = Zte @ coefs + ym
                oof[i][:, te] = pred.T
                for j in range(len(ratios)):
                    total[i, j] += (
                        _auroc(yc[te], pred[:, j]) if kind == "binary"
                        else -float(np.mean((yc[te] - pred[:, j]) ** 2))
                    )  # fmt: skip
        i, j = np.unravel_index(int(np.argmax(np.where(np.isfinite(total), total, -np.inf))),
                                total.shape)  # fmt: skip
        self.rho_ = float(self.rhos[i])
        self.pre_ = _preprocessing().fit(Xc)
        Z = self.pre_.transform(Xc)
        self.intercept_ = float(yc.mean())
        coefs, alphas = self._path(Z, yc - self.intercept_, views, self.rho_, ratios)
        self.alpha_ = float(alphas[j])
        self.coef_ = coefs[:, j]
        if kind == "binary":
            from sklearn.linear_model import LogisticRegression

            cal = LogisticRegression(C=1e4).fit(oof[i, j][:, None], yc.astype(int))
            self.calibration_ = (float(cal.intercept_[0]), float(cal.coef_[0, 0]))
            self.classes_ = np.array([0, 1])
        parts = self._block_parts(Z)
        self.weights_ = pd.Series(parts.std(axis=0, ddof=0), index=list(self.blocks_),
                                  name="weight", dtype=float)  # fmt: skip
        self.weights_.index.name = "block"
        return self

    def _block_parts(self, Z: np.ndarray) -> np.ndarray:
        views = self._views(self.features_)
        return np.column_stack([Z[:, v] @ self.coef_[v] for v in views])

    def _standardised(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "coef_")
        if not isinstance(X, pd.DataFrame):
            msg = f"CooperativeModel needs a DataFrame with feature names, got {type(X).__name__}"
            raise SchemaError(msg)
        absent = [f for f in self.features_ if f not in X.columns]
        if absent:
            msg = f"feature {absent[0]!r} of the cooperative model is not a column of X"
            raise SchemaError(msg)
        present = self._present(X)
        Z = self.pre_.transform(X[self.features_].to_numpy(dtype=float))
        for b, v in enumerate(self._views(self.features_)):
            Z[np.ix_(~present[:, b], v)] = 0.0  # a missing block: the training mean
        return Z, present

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Each block's part ``X_m θ_m`` of every subject's score (NaN where it is missing).

        Parameters
        ----------
        X
            Subjects × features.

        Returns
        -------
        Subjects × blocks.
        """
        Z, present = self._standardised(X)
        parts = np.where(present, self._block_parts(Z), np.nan)
        return pd.DataFrame(parts, index=X.index, columns=list(self.blocks_))

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The linear score ``intercept + Σ_m X_m θ_m``.

        Parameters
        ----------
        X
            Subjects × features.

        Returns
        -------
        numpy.ndarray
        """
        Z, _ = self._standardised(X)
        return Z @ self.coef_ + self.intercept_

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Recalibrated class probabilities ``[P(y=0), P(y=1)]`` (classification).

        Parameters
        ----------
        X
            Subjects × features.

        Returns
        -------
        numpy.ndarray
        """
        from scipy.special import expit

        if self._kind != "binary":
            msg = "predict_proba is for task='classification'; use predict for regression"
            raise ConfigError(msg)
        a, b = self.calibration_
        p1 = expit(a + b * self.decision_function(X))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Class 0/1 (classification) or the predicted value (regression).

        Parameters
        ----------
        X
            Subjects × features.

        Returns
        -------
        numpy.ndarray
        """
        if self._kind == "binary":
            return (self.predict_proba(X)[:, 1] > 0.5).astype(int)
        return self.decision_function(X)

    def feature_coefficients(self) -> pd.Series:
        """Coefficient of every feature (standardised scale)."""
        check_is_fitted(self, "coef_")
        return pd.Series(self.coef_, index=self.features_, name="coefficient", dtype=float)

    def summary_params(self) -> dict:
        """What a discover run records per fit: the chosen penalties and block weights."""
        return {"fusion": "cooperative", "rho": self.rho_, "alpha": self.alpha_,
                "weights": self.weights_.to_dict()}  # fmt: skip

    def to_dict(self) -> dict:
        """Not available yet: cooperative models have no plain-data export."""
        msg = "CooperativeModel has no plain-data export yet; export a stacked model instead"
        raise ConfigError(msg)
