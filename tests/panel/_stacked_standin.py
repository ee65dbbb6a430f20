"""A minimal stand-in for ``biomarkers.models.StackedModel`` (tests only, until fusion lands).

Same interface and ``to_dict`` layout (blocks, block_models, meta per pattern); simpler fits.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression


class StandInStackedModel(BaseEstimator):
    def __init__(self, base="enet", task="classification", inner_cv=3, blocks=None, random_state=0):
        self.base = base
        self.task = task
        self.inner_cv = inner_cv
        self.blocks = blocks
        self.random_state = random_state

    def missing_blocks(self, X):
        return pd.DataFrame(
            {b: X.loc[:, f].isna().all(axis=1).to_numpy() for b, f in self.blocks_.items()},
            index=X.index,
        )

    def fit(self, X, y):
        y = np.asarray(y, dtype=float)
        blocks = {}
        for c in X.columns:
            blocks.setdefault(c.split(":")[0], []).append(c)
        self.blocks_ = blocks if self.blocks is None else dict(self.blocks)
        have = ~self.missing_blocks(X).to_numpy()
        self.block_models_ = {}
        S = np.full((len(y), len(self.blocks_)), np.nan)
        for j, (b, feats) in enumerate(self.blocks_.items()):
            x = X.loc[have[:, j], feats].to_numpy(dtype=float)
            finite = np.where(np.isfinite(x), x, np.nan)
            lo = np.nanmin(finite, axis=0)
            med = np.nanmedian(finite, axis=0)
            x = np.where(np.isneginf(x), lo, np.where(np.isnan(x), med, x))
            mu, sd = x.mean(0), x.std(0)
            fit = LogisticRegression(C=0.5).fit((x - mu) / sd, y[have[:, j]])
            self.block_models_[b] = {
                "features": feats, "coefficients": fit.coef_[0].tolist(),
                "intercept": float(fit.intercept_[0]), "below_limit_fill": lo.tolist(),
                "above_limit_fill": [None] * len(feats), "missing_fill": med.tolist(),
                "center": mu.tolist(), "scale": sd.tolist(),
            }  # fmt: skip
            S[have[:, j], j] = self._block_score(b, X.loc[have[:, j]])
        self.meta_ = {}
        names = list(self.blocks_)
        for r in range(1, len(names) + 1):
            for cols in itertools.combinations(range(len(names)), r):
                rows = have[:, list(cols)].all(axis=1)
                fit = LogisticRegression(C=1.0).fit(S[np.ix_(rows, list(cols))], y[rows])
                w = np.clip(fit.coef_[0], 0.0, None)
                key = frozenset(names[c] for c in cols)
                self.meta_[key] = (float(fit.intercept_[0]), w.tolist(), int(rows.sum()))
        self._weights()
        return self

    def _weights(self):
        _, w, _ = self.meta_[frozenset(self.blocks_)]
        self.weights_ = pd.Series(w, index=list(self.blocks_), name="weight")

    def _block_score(self, b, X):
        m = self.block_models_[b]
        x = X.loc[:, m["features"]].to_numpy(dtype=float)
        fill = lambda v: np.array([np.nan if a is None else a for a in v])  # noqa: E731
        x = np.where(np.isneginf(x), fill(m["below_limit_fill"]), x)
        x = np.where(np.isnan(x), fill(m["missing_fill"]), x)
        z = (x - np.array(m["center"])) / np.array(m["scale"])
        return z @ np.array(m["coefficients"]) + m["intercept"]

    def contributions(self, X):
        miss = self.missing_blocks(X).to_numpy()
        out = pd.DataFrame(np.nan, index=X.index, columns=list(self.blocks_))
        self._icpt = np.zeros(len(X))
        names = list(self.blocks_)
        for pat in np.unique(miss, axis=0) if len(X) else []:
            rows = np.flatnonzero((miss == pat).all(axis=1))
            avail = [b for b, m in zip(names, pat, strict=True) if not m]
            icpt, w, _ = self.meta_[frozenset(avail)]
            self._icpt[rows] = icpt
            for b, wb in zip(avail, w, strict=True):
                out.iloc[rows, names.index(b)] = wb * self._block_score(b, X.iloc[rows])
        return out

    def decision_function(self, X):
        c = self.contributions(X)
        return self._icpt + np.nansum(c.to_numpy(), axis=1)

    def predict_proba(self, X):
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def to_dict(self):
        return {
            "format": "biomarkers.stacked_model", "format_version": 1,
            "params": {k: v for k, v in self.get_params().items() if k != "blocks"},
            "blocks": {b: list(f) for b, f in self.blocks_.items()},
            "block_models": self.block_models_,
            "meta": [
                {"blocks": [b for b in self.blocks_ if b in k], "intercept": i, "weights": w, "n_train": n}
                for k, (i, w, n) in self.meta_.items()
            ],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d):
        model = cls(**d["params"])
        model.blocks_ = {b: list(f) for b, f in d["blocks"].items()}
        model.block_models_ = d["block_models"]
        model.meta_ = {
            frozenset(e["blocks"]): (e["intercept"], e["weights"], e["n_train"]) for e in d["meta"]
        }
        model._weights()
        return model
