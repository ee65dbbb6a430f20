"""Late fusion across assays: one model per assay block, stacked by a non-negative meta-learner.

A block is the features of one assay (the modality of the feature-name grammar,
:mod:`biomarkers._names`). Each block gets its own registry model, fitted on the subjects who
have that block; the block models' out-of-fold predictions (an inner cross-validation inside
the training data) are the inputs of a meta-learner whose weights are constrained to be
non-negative. Missing assays are handled by design: one meta model per pattern of available
blocks, fitted on the training subjects who have those blocks, so no block is ever imputed.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from biomarkers._names import parse_feature_name
from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError, SchemaError, SmallSampleWarning
from biomarkers.models._cv import grouped_folds, seed_for, strata
from biomarkers.panel._stacked import LinearBlock, combine_blocks, meta_for, plain_array

__all__ = ["StackedModel", "assay_blocks"]

FORMAT = "biomarkers.stacked_model"
FORMAT_VERSION = 1

#: block of the names that do not follow the grammar (covariates such as ``age``, ``sex_M``)
OTHER_BLOCK = "other"

#: ``task=`` spellings → the registry's outcome kinds
_TASKS = {
    "classification": "binary",
    "binary": "binary",
    "regression": "continuous",
    "continuous": "continuous",
}

#: every pattern of available blocks gets a meta model up to this many blocks (2**B - 1 fits)
_MAX_ENUMERATED_BLOCKS = 12

#: the meta-learner's ridge on its weights per SD of each block's score: keeps them finite when
#: blocks separate the classes and shrinks the weight of a block that only fits noise
#: (``benchmarks/README.md``, "Multi-assay fusion")
_META_RIDGE = 1.0

#: clip of probabilities turned into log-odds (non-linear block models may predict 0 or 1)
_EPS = 1e-6


def assay_blocks(feature_names: Sequence[str]) -> dict[str, list[str]]:
    """Group features into assay blocks by the modality of their name.

    Parameters
    ----------
    feature_names
        Feature names such as ``cytokine:IL6@D0`` or ``pseudobulk:CD14_mono:S100A8@D0``.

    Returns
    -------
    Block name (the modality: ``cytokine``, ``olink``, ``flow``, ``composition``,
    ``pseudobulk``, ``clinical``, ...) → its features, blocks and features in input order.
    Names that do not follow the grammar (covariates such as ``age``) form the block ``"other"``.

    Examples
    --------
    >>> from biomarkers.models import assay_blocks
    >>> assay_blocks(["cytokine:IL6@D0", "flow:Treg@D0", "cytokine:IL10@D0", "age"])
    {'cytokine': ['cytokine:IL6@D0', 'cytokine:IL10@D0'], 'flow': ['flow:Treg@D0'], 'other': ['age']}
    """
    out: dict[str, list[str]] = {}
    for name in feature_names:
        try:
            block = parse_feature_name(str(name)).modality
        except SchemaError:
            block = OTHER_BLOCK
        out.setdefault(block, []).append(str(name))
    return out


def committee_block(members: Sequence[LinearBlock]) -> LinearBlock:
    """One :class:`LinearBlock` whose linear predictor is the mean of ``members``'.

    Each member standardises with its own centre and scale and fills with its own values;
    the mean of linear functions is linear, so the committee is written on the raw scale
    (centre 0, scale 1) with the fill ``x'`` that gives the members' mean contribution.
    """
    feats = list(dict.fromkeys(f for m in members for f in m.features))  # first-seen order
    pos = {f: i for i, f in enumerate(feats)}
    k, M = len(feats), len(members)
    coef, icpt = np.zeros(k), 0.0
    fills = {name: np.zeros(k) for name in ("lower_fill", "upper_fill", "missing_fill")}
    finite = {name: np.ones(k, dtype=bool) for name in fills}
    for m in members:
        idx = [pos[f] for f in m.features]
        slope = m.coef / m.scale  # per raw unit
        coef[idx] += slope / M
        icpt += (m.intercept - slope @ m.center) / M
        for name in fills:
            v = getattr(m, name)
            finite[name][idx] &= np.isfinite(v)
            fills[name][idx] += np.where(np.isfinite(v), slope * v, 0.0) / M
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            name: np.where(finite[name] & (coef != 0), fills[name] / coef, np.nan) for name in fills
        }
    return LinearBlock(features=feats, coef=coef, intercept=float(icpt), center=np.zeros(k),
                       scale=np.ones(k), **out)  # fmt: skip


def linear_block(pipe, features: Sequence[str]) -> LinearBlock:
    """Reduce a fitted registry pipeline with a linear estimator to its non-zero terms.

    Reads the pipeline through :func:`~biomarkers.models._result.pipeline_to_dict`, the one
    plain-data reading of a registry pipeline, and keeps the features with a coefficient.
    """
    from biomarkers.models._result import pipeline_to_dict

    d = pipeline_to_dict(pipe, list(features))
    pre = d["preprocessing"]
    coef = np.asarray(d["coefficients"], dtype=float)
    nz = np.flatnonzero(coef != 0)
    return LinearBlock(
        features=[d["features"][i] for i in nz],
        coef=coef[nz],
        intercept=float(d["intercept"]),
        lower_fill=np.asarray(pre["below_limit_fill"], dtype=float)[nz],
        upper_fill=np.asarray(pre["above_limit_fill"], dtype=float)[nz],
        missing_fill=np.asarray(pre["missing_fill"], dtype=float)[nz],
        center=np.asarray(pre["center"], dtype=float)[nz],
        scale=np.asarray(pre["scale"], dtype=float)[nz],
    )


# ---------------------------------------------------------------- non-negative meta-learners


def _fit_meta(task: str, S: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Intercept and non-negative weights of the meta model on standardised block scores ``S``."""
    if S.shape[1] == 0:
        if task == "binary":
            p = np.clip(np.mean(y), _EPS, 1 - _EPS)
            return float(np.log(p / (1 - p))), np.zeros(0)
        return float(np.mean(y)), np.zeros(0)
    if task == "continuous":
        from scipy.optimize import lsq_linear

        # ridge as extra rows: sqrt(lambda) * I on the weights, 0 on the intercept
        k = S.shape[1]
        A = np.vstack(
            [
                np.column_stack([np.ones(len(y)), S]),
                np.column_stack([np.zeros(k), np.sqrt(_META_RIDGE) * np.eye(k)]),
            ]
        )
        lb = np.r_[-np.inf, np.zeros(k)]
        res = lsq_linear(A, np.r_[y, np.zeros(k)], bounds=(lb, np.full(k + 1, np.inf)),
                         method="bvls")  # fmt: skip
        return float(res.x[0]), np.maximum(res.x[1:], 0.0)
    return _nonneg_logistic(S, y)


def _nonneg_logistic(S: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Logistic regression of ``y`` on ``S`` with weights ≥ 0 (L-BFGS-B; free intercept)."""
    from scipy.optimize import minimize
    from scipy.special import expit, log1p

    A = np.column_stack([np.ones(len(y)), S])
    k = S.shape[1]

    def loss(beta):
        eta = A @ beta
        # log(1 + e^eta) - y * eta, stable for large |eta|
        ll = np.maximum(eta, 0) + log1p(np.exp(-np.abs(eta))) - y * eta
        w = beta[1:]
        grad = A.T @ (expit(eta) - y)
        grad[1:] += _META_RIDGE * w
        return float(ll.sum() + 0.5 * _META_RIDGE * w @ w), grad

    p = np.clip(np.mean(y), _EPS, 1 - _EPS)
    x0 = np.r_[np.log(p / (1 - p)), np.full(k, 0.5)]
    bounds = [(None, None)] + [(0.0, None)] * k
    res = minimize(loss, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 500, "gtol": 1e-8, "ftol": 1e-12})  # fmt: skip
    return float(res.x[0]), np.maximum(res.x[1:], 0.0)


def _enough(task: str, y: np.ndarray, minimum: int) -> bool:
    """Whether ``y`` supports a fit: ``minimum`` subjects of each class (binary) or in all."""
    if task == "binary":
        counts = np.bincount(np.asarray(y, dtype=int), minlength=2)
        return bool(counts.min() >= minimum)
    return len(y) >= 2 * minimum


# ---------------------------------------------------------------- the stacked model


class StackedModel(BaseEstimator):
    """Late fusion: one registry model per assay block, stacked by a non-negative meta-learner.

    Parameters
    ----------
    base
        Registry model of every block (:func:`available_models`; default the elastic net).
    task
        ``"classification"`` (binary 0/1 outcome; alias ``"binary"``) or ``"regression"``
        (continuous; alias ``"continuous"``). Survival outcomes are not supported yet.
    inner_cv
        Folds of the inner cross-validation whose out-of-fold block predictions train the
        meta-learner (fewer for a small class).
    blocks
        Block name → features; default :func:`assay_blocks` of the columns of ``X``.
    random_state
        Seed of the inner folds and of the block models' tuning.
    screen_k
        Features kept by each block model's in-fold univariate screen (``None`` keeps all).
    n_inner
        Folds of each block model's hyperparameter search.

    Attributes
    ----------
    blocks_
        The fitted blocks (block → features); a block with too few subjects is dropped with a
        :class:`~biomarkers.exceptions.SmallSampleWarning`.
    weights_
        Non-negative meta weight per block of the all-blocks pattern, per standard deviation
        of the block's out-of-fold score (log-odds for classification, the prediction for
        regression), so weights compare across blocks.
    score_scale_
        SD of each block's out-of-fold score over the training subjects who have the block.
    meta_
        Dict frozenset of blocks → ``(intercept, weights)`` (one meta model per pattern).
    block_models_
        Block → the committee of its inner-fold models: one :class:`LinearBlock` (the mean of
        the inner-fold linear predictors) for linear base models, else the list of
        inner-fold pipelines.

    Notes
    -----
    A block is missing for a subject when all of its features are NaN (a censored ``±inf`` is a
    value). Block ``b``'s model is tuned and fitted in each of ``inner_cv`` folds of the
    subjects who have ``b``; its out-of-fold scores train the meta-learner and the block's
    score for new subjects is the mean over those inner-fold models (a cross-validation
    committee, so the weights apply to the scores they were fitted on). The meta model of a
    pattern ``P`` (a set of blocks) is a logistic (classification) or linear (regression)
    regression with weights ≥ 0 and a ridge penalty (1 per SD²) on the standardised
    out-of-fold scores of the blocks in ``P``, fitted on the training subjects who have every
    block of ``P``. A subject is predicted with the
    meta model of the blocks they have (a pattern with too few training subjects falls back to
    its largest fitted sub-pattern; no blocks at all gives the intercept-only model).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from biomarkers.models import StackedModel
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(80, 4)), columns=[
    ...     "cytokine:IL6@D0", "cytokine:IL8@D0", "flow:Treg@D0", "flow:CD4@D0"])
    >>> y = (X["cytokine:IL6@D0"] + rng.normal(size=80) > 0).astype(int)
    >>> X.loc[X.index[:20], ["flow:Treg@D0", "flow:CD4@D0"]] = np.nan  # no flow for 20
    >>> model = StackedModel(inner_cv=3).fit(X, y)
    >>> bool(model.weights_["cytokine"] > model.weights_["flow"])
    True
    >>> model.predict_proba(X).shape
    (80, 2)
    """

    def __init__(
        self,
        base: str = "enet",
        task: str = "classification",
        inner_cv: int = 5,
        *,
        blocks: Mapping[str, Sequence[str]] | None = None,
        random_state: int = 0,
        screen_k: int | None = 500,
        n_inner: int = 3,
    ) -> None:
        self.base = base
        self.task = task
        self.inner_cv = inner_cv
        self.blocks = blocks
        self.random_state = random_state
        self.screen_k = screen_k
        self.n_inner = n_inner

    # -- helpers -----------------------------------------------------------------------------

    @property
    def _kind(self) -> str:
        if self.task == "survival":
            msg = (
                "StackedModel(task='survival') is not supported yet: stack binary or continuous "
                "outcomes, or use models.fusion: none for survival"
            )
            raise ConfigError(msg)
        check_choice("task", self.task, list(_TASKS), source="StackedModel")
        return _TASKS[self.task]

    def _spec(self):
        from biomarkers.models._registry import get_spec, resolve_name

        return get_spec(resolve_name(self.base, self._kind), self._kind)

    def _fit_config(self):
        from biomarkers.models._engine import FitConfig

        return FitConfig(task=self._kind, screen_k=self.screen_k, n_inner=self.n_inner)

    def _frame(self, X) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            msg = (
                f"StackedModel needs a DataFrame with feature names as columns, got "
                f"{type(X).__name__}; the names tell the assay blocks apart"
            )
            raise SchemaError(msg)
        return X

    def missing_blocks(self, X: pd.DataFrame) -> pd.DataFrame:
        """Which blocks each subject lacks (all of the block's features NaN).

        Parameters
        ----------
        X
            Subjects × features, with the training columns.

        Returns
        -------
        Subjects × blocks, ``True`` where the block is missing.
        """
        check_is_fitted(self, "blocks_")
        X = self._frame(X)
        self._check_columns(X)
        return pd.DataFrame(
            {b: X.loc[:, f].isna().all(axis=1).to_numpy() for b, f in self.blocks_.items()},
            index=X.index,
        )

    def _check_columns(self, X: pd.DataFrame) -> None:
        need = [f for feats in self.blocks_.values() for f in feats]
        absent = [f for f in need if f not in X.columns]
        if absent:
            msg = (
                f"{len(absent)} feature(s) of the stacked model are not columns of X, e.g. "
                f"{absent[0]!r}; give every block's columns (NaN for a missing block)"
            )
            raise SchemaError(msg)

    def _block_fit(self, spec, cfg, Xb: np.ndarray, y: np.ndarray, seed: int):
        from biomarkers.models._engine import nested_fit

        pipe, _, _ = nested_fit(Xb, y, np.arange(len(y)), spec, cfg, seed)
        return pipe

    def _block_score(self, model, Xb) -> np.ndarray:
        """Block prediction on the meta-learner's scale: log-odds (binary) or the prediction."""
        if isinstance(model, LinearBlock):
            return model.linear_predictor(Xb)
        if isinstance(model, list):  # committee of non-linear inner-fold pipelines
            return np.mean([self._block_score(m, Xb) for m in model], axis=0)
        X = Xb.to_numpy(dtype=float) if isinstance(Xb, pd.DataFrame) else Xb
        if self._kind == "continuous":
            return np.asarray(model.predict(X), dtype=float)
        if hasattr(model.steps[-1][1], "decision_function"):
            return np.asarray(model.decision_function(X), dtype=float)
        p = np.clip(model.predict_proba(X)[:, 1], _EPS, 1 - _EPS)
        return np.log(p / (1 - p))

    # -- fit ---------------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, y) -> StackedModel:
        """Fit the block models, their out-of-fold predictions and one meta model per pattern.

        Parameters
        ----------
        X
            Subjects × features (column names follow the feature-name grammar unless
            ``blocks`` is given); a block whose features are all NaN for a subject is missing.
        y
            Binary 0/1 labels (classification) or values (regression).

        Returns
        -------
        self
        """
        X = self._frame(X)
        y = np.asarray(y, dtype=float)
        kind = self._kind
        if len(y) != len(X):
            msg = f"X has {len(X)} rows but y has {len(y)} values; give one label per subject"
            raise SchemaError(msg)
        blocks = assay_blocks(X.columns) if self.blocks is None else {
            str(b): [str(f) for f in feats] for b, feats in self.blocks.items()
        }  # fmt: skip
        self.blocks_ = blocks
        self._check_columns(X)
        spec, cfg = self._spec(), self._fit_config()
        have = self.missing_blocks(X).to_numpy() == 0
        oof = np.full((len(y), len(blocks)), np.nan)
        models: dict[str, object] = {}
        kept = []
        for j, (b, feats) in enumerate(blocks.items()):
            rows = np.flatnonzero(have[:, j])
            if not _enough(kind, y[rows], max(self.inner_cv, 3)):
                warnings.warn(
                    f"block {b!r}: too few subjects with it ({rows.size}) to fit and stack a "
                    "model; the block is left out",
                    SmallSampleWarning,
                    stacklevel=2,
                )
                continue
            Xb = X.iloc[rows][feats].to_numpy(dtype=float)
            oof[rows, j], models[b] = self._oof(spec, cfg, Xb, y[rows], j)
            kept.append(j)
        names = list(blocks)
        self.blocks_ = {names[j]: blocks[names[j]] for j in kept}
        self.block_models_ = models
        if spec.kind == "linear":  # plain arrays: the same arithmetic in and out of JSON
            self.block_models_ = {
                b: committee_block([linear_block(m, self.blocks_[b]) for m in members])
                for b, members in models.items()
            }  # fmt: skip
        self._fit_patterns(oof[:, kept], have[:, kept], y)
        self.n_features_in_ = X.shape[1]
        if kind == "binary":
            self.classes_ = np.array([0, 1])
        return self

    def _seed(self, stream: str, *key: int) -> int:
        return seed_for(int(self.random_state), "fusion_" + stream, *key)

    def _oof(self, spec, cfg, Xb, yb, j: int) -> tuple[np.ndarray, list]:
        """Out-of-fold predictions of block ``j`` (inner CV) and the inner-fold models.

        The block's model is the committee of the inner-fold models (their mean score), not
        a refit on all rows: the meta-learner's weights are then applied to scores of the
        models whose out-of-fold scores trained them. A refit on more rows is less shrunk, so
        its scores have another scale than the ones the weights were fitted on.
        """
        st = strata(yb, self._kind)
        _, counts = np.unique(st, return_counts=True)
        k = (
            int(max(2, min(self.inner_cv, counts.min())))
            if self._kind == "binary"
            else self.inner_cv
        )
        out = np.full(len(yb), np.nan)
        members = []
        for f, (tr, te) in enumerate(grouped_folds(st, np.arange(len(yb)), n_splits=k,
                                                   seed=self._seed("inner", j))):  # fmt: skip
            model = self._block_fit(spec, cfg, Xb[tr], yb[tr], self._seed("inner_fit", j, f))
            out[te] = self._block_score(model, Xb[te])
            members.append(model)
        return out, members

    def _fit_patterns(self, S: np.ndarray, have: np.ndarray, y: np.ndarray) -> None:
        """One non-negative meta model per pattern of available blocks."""
        names = list(self.blocks_)
        B = len(names)
        if B <= _MAX_ENUMERATED_BLOCKS:
            patterns = [c for r in range(B + 1) for c in itertools.combinations(range(B), r)]
        else:  # the observed patterns, every single block and all blocks
            seen = {tuple(np.flatnonzero(h)) for h in have}
            patterns = sorted(seen | {()} | {(j,) for j in range(B)} | {tuple(range(B))})
        # weights are fitted per SD of each block's out-of-fold score (comparable across
        # blocks, and what the ridge acts on) and stored per unit of the score
        center, sd = np.nanmean(S, axis=0), np.nanstd(S, axis=0)  # a kept block has scores
        sd = np.where(sd > 0, sd, 1.0)
        Z = (S - center) / sd
        self.meta_ = {}
        self.meta_n_ = {}
        self.score_scale_ = pd.Series(sd, index=names, name="score_sd", dtype=float)
        for pat in patterns:
            cols = list(pat)
            rows = np.flatnonzero(have[:, cols].all(axis=1)) if cols else np.arange(len(y))
            if cols and not _enough(self._kind, y[rows], 2):
                continue
            icpt, w = _fit_meta(self._kind, Z[np.ix_(rows, cols)], y[rows])
            key = frozenset(names[j] for j in cols)
            raw = w / sd[cols]
            self.meta_[key] = (icpt - float(raw @ center[cols]), raw)
            self.meta_n_[key] = int(rows.size)
        self._set_weights()

    def _set_weights(self) -> None:
        """:attr:`weights_`: the all-blocks pattern's weights per SD of each block's score."""
        names = list(self.blocks_)
        full = self._meta_for(frozenset(names))
        scale = getattr(self, "score_scale_", None)
        self.weights_ = pd.Series(
            {b: float(full[1].get(b, 0.0)) * (1.0 if scale is None else float(scale[b]))
             for b in names},
            name="weight", dtype=float,
        )  # fmt: skip
        self.weights_.index.name = "block"

    def _meta_for(self, available: frozenset) -> tuple[float, dict[str, float]]:
        """Intercept and block → weight of the meta model used for a set of available blocks."""
        return meta_for(self.meta_, self.meta_n_, list(self.blocks_), available)

    # -- predict -----------------------------------------------------------------------------

    def _parts(self, X) -> tuple[np.ndarray, pd.DataFrame]:
        """Per-subject intercept of its pattern and per-block contributions (NaN if missing)."""
        check_is_fitted(self, "meta_")
        X = self._frame(X)
        miss = self.missing_blocks(X)
        scores = {}
        for b, model in self.block_models_.items():
            rows = np.flatnonzero(~miss[b].to_numpy())
            s = np.full(len(X), np.nan)
            if rows.size:
                s[rows] = self._block_score(model, X.iloc[rows][self.blocks_[b]])
            scores[b] = s
        return combine_blocks(self.meta_, self.meta_n_, list(self.blocks_), miss, scores)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Each block's share of every subject's linear predictor.

        Parameters
        ----------
        X
            Subjects × features.

        Returns
        -------
        Subjects × blocks: meta weight × block prediction of the subject's pattern (NaN where
        the block is missing); their row sum plus the pattern's intercept is
        :meth:`decision_function`.
        """
        return self._parts(X)[1]

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The stacked linear predictor (log-odds for classification, prediction for regression).

        Parameters
        ----------
        X
            Subjects × features.

        Returns
        -------
        numpy.ndarray
        """
        icpt, contrib = self._parts(X)
        return icpt + np.nansum(contrib.to_numpy(), axis=1)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Class probabilities ``[P(y=0), P(y=1)]`` (classification).

        Parameters
        ----------
        X
            Subjects × features.

        Returns
        -------
        numpy.ndarray
        """
        if self._kind != "binary":
            msg = "predict_proba is for task='classification'; use predict for regression"
            raise ConfigError(msg)
        from scipy.special import expit

        p1 = expit(self.decision_function(X))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Class 0/1 at probability 0.5 (classification) or the predicted value (regression).

        Parameters
        ----------
        X
            Subjects × features.

        Returns
        -------
        numpy.ndarray
        """
        eta = self.decision_function(X)
        return (eta > 0).astype(int) if self._kind == "binary" else eta

    def feature_coefficients(self) -> pd.Series:
        """Each feature's coefficient in the all-blocks linear predictor (linear base models).

        Block coefficient (per unit of its stored scale) × the block's meta weight per unit
        of the block's score; 0 for features a block model left out; NaN for non-linear base
        models.
        """
        check_is_fitted(self, "meta_")
        out = {}
        for b, model in self.block_models_.items():
            if not isinstance(model, LinearBlock):
                out.update(dict.fromkeys(self.blocks_[b], np.nan))
                continue
            raw = self._meta_for(frozenset(self.blocks_))[1].get(b, 0.0)
            coef = dict(zip(model.features, model.coef * raw, strict=True))
            out.update({f: coef.get(f, 0.0) for f in self.blocks_[b]})
        return pd.Series(out, dtype=float, name="coefficient")

    def summary_params(self) -> dict:
        """What a discover run records per fit: base model and the all-blocks weights."""
        return {"fusion": "stacking", "base": self.base, "weights": self.weights_.to_dict()}

    # -- plain data --------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The fitted model as JSON-able plain data (linear base models only).

        Returns
        -------
        Dict with ``format``, ``format_version``, ``params``, ``blocks``, ``block_models``
        (per block: features with non-zero coefficient, coefficients, intercept and the
        preprocessing fills, centre and scale) and ``meta`` (one entry per pattern: ``blocks``,
        ``intercept``, ``weights``, ``n_train``).
        """
        check_is_fitted(self, "meta_")
        if not all(isinstance(m, LinearBlock) for m in self.block_models_.values()):
            msg = (
                f"StackedModel(base={self.base!r}).to_dict(): only linear base models have a "
                "plain-data form; use base='enet' or 'lasso' for an exportable stacked model"
            )
            raise ConfigError(msg)
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "params": {k: v for k, v in self.get_params().items() if k != "blocks"},
            "blocks": {b: list(f) for b, f in self.blocks_.items()},
            "block_models": {b: m.to_dict() for b, m in self.block_models_.items()},
            "score_scale": {b: float(self.score_scale_[b]) for b in self.blocks_},
            "meta": [
                {
                    "blocks": [b for b in self.blocks_ if b in key],
                    "intercept": float(icpt),
                    "weights": [float(v) for v in w],
                    "n_train": self.meta_n_.get(key, 0),
                }
                for key, (icpt, w) in self.meta_.items()
            ],
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> StackedModel:
        """Rebuild a fitted model from :meth:`to_dict` (predicts identically).

        Parameters
        ----------
        d
            Output of :meth:`to_dict` (e.g. read back from JSON).

        Returns
        -------
        StackedModel
        """
        if d.get("format") != FORMAT:
            msg = f"not a stacked model: format {d.get('format')!r}, expected {FORMAT!r}"
            raise SchemaError(msg)
        if int(d.get("format_version", 0)) > FORMAT_VERSION:
            msg = (
                f"stacked model format_version {d['format_version']} is newer than this "
                f"toolkit reads ({FORMAT_VERSION}); upgrade biomarkers"
            )
            raise SchemaError(msg)
        model = cls(**d["params"], blocks=d["blocks"])
        model.blocks_ = {b: list(f) for b, f in d["blocks"].items()}
        model.block_models_ = {b: LinearBlock.from_dict(m) for b, m in d["block_models"].items()}
        model.meta_, model.meta_n_ = {}, {}
        for entry in d["meta"]:
            key = frozenset(entry["blocks"])
            model.meta_[key] = (float(entry["intercept"]), plain_array(entry["weights"]))
            model.meta_n_[key] = int(entry["n_train"])
        if "score_scale" in d:  # absent in the first stacked panels: weights per score unit
            model.score_scale_ = pd.Series(d["score_scale"], name="score_sd", dtype=float)
        model._set_weights()
        model.n_features_in_ = sum(len(f) for f in model.blocks_.values())
        if model._kind == "binary":
            model.classes_ = np.array([0, 1])
        return model
