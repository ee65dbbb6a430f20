"""Stacked panels: per-assay block models and a meta model per pattern of available blocks.

A stacked panel stores a fitted :class:`biomarkers.models.StackedModel` (``to_dict()``, plain
numbers only) in ``model.stacked.state`` of ``panel.json`` (format version 2) together with its
blocks, its per-block meta weights and, per pattern of available blocks, the cross-fitted
performance of the model when a patient has only those blocks. Scoring uses whichever blocks a
patient has (a block is missing when all of its markers are); the scores say which blocks were
missing and how much that costs in AUROC and Brier score (see ``docs/panel.md``, "Stacked
panels").

This module holds the plain-data arithmetic the model and the panel share (:class:`LinearBlock`,
:func:`meta_for`, :func:`combine_blocks`): the model (``biomarkers.models._fusion``) uses it to
predict and the panel to score without importing the model. Export (fitting) lives in
``biomarkers.models._stacked_panel``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._validation import format_ids
from biomarkers.exceptions import SchemaError

__all__ = [
    "LinearBlock",
    "block_missing",
    "combine_blocks",
    "meta_for",
    "replay_parts",
    "stacked_predict",
]


def plain_number(v: float) -> float | None:
    return None if not np.isfinite(v) else float(v)


def plain_array(values) -> np.ndarray:
    return np.asarray([np.nan if v is None else float(v) for v in values], dtype=float)


@dataclass
class LinearBlock:
    """A fitted block pipeline reduced to plain arrays (linear base models only; internal).

    ``eta = intercept + sum_j coef_j * (x_j' - center_j) / scale_j`` where ``x'`` is ``x`` with
    ``-inf`` / ``+inf`` replaced by the censored-value fills and NaN by the training median:
    the same arithmetic as the registry pipeline (censor → screen → impute → scale → model),
    restricted to the features with a non-zero coefficient.
    """

    features: list[str]
    coef: np.ndarray
    intercept: float
    lower_fill: np.ndarray
    upper_fill: np.ndarray
    missing_fill: np.ndarray
    center: np.ndarray
    scale: np.ndarray

    def linear_predictor(self, X: pd.DataFrame) -> np.ndarray:
        """The block's linear predictor for the rows of ``X`` (which holds :attr:`features`)."""
        x = X.loc[:, self.features].to_numpy(dtype=float)
        x = np.where(np.isneginf(x), self.lower_fill, x)
        x = np.where(np.isposinf(x), self.upper_fill, x)
        x = np.where(np.isnan(x), self.missing_fill, x)
        return ((x - self.center) / self.scale) @ self.coef + self.intercept

    def to_dict(self) -> dict:
        """JSON-able form (non-finite fills become ``null``)."""
        return {
            "features": list(self.features),
            "coefficients": self.coef.tolist(),
            "intercept": self.intercept,
            "below_limit_fill": [plain_number(v) for v in self.lower_fill],
            "above_limit_fill": [plain_number(v) for v in self.upper_fill],
            "missing_fill": [plain_number(v) for v in self.missing_fill],
            "center": self.center.tolist(),
            "scale": self.scale.tolist(),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> LinearBlock:
        """Inverse of :meth:`to_dict`."""
        return cls(
            features=list(d["features"]),
            coef=plain_array(d["coefficients"]),
            intercept=float(d["intercept"]),
            lower_fill=plain_array(d["below_limit_fill"]),
            upper_fill=plain_array(d["above_limit_fill"]),
            missing_fill=plain_array(d["missing_fill"]),
            center=plain_array(d["center"]),
            scale=plain_array(d["scale"]),
        )


# ----------------------------------------------------------------


# ---------------------------------------------------------------------- meta models


def meta_for(
    meta: Mapping[frozenset, tuple[float, np.ndarray]],
    meta_n: Mapping[frozenset, int],
    order: Sequence[str],
    available: frozenset,
) -> tuple[float, dict[str, float]]:
    """Intercept and block → weight of the meta model used for a set of available blocks.

    The pattern's own meta model when one was fitted, else the largest fitted pattern inside
    ``available`` (ties: more training subjects, then block names).
    """
    key = available if available in meta else max(
        (k for k in meta if k <= available),
        key=lambda k: (len(k), meta_n.get(k, 0), sorted(k)),
    )  # fmt: skip
    icpt, w = meta[key]
    kept = [b for b in order if b in key]
    return icpt, dict(zip(kept, (float(v) for v in w), strict=True))


def combine_blocks(
    meta: Mapping[frozenset, tuple[float, np.ndarray]],
    meta_n: Mapping[frozenset, int],
    order: Sequence[str],
    missing: pd.DataFrame,
    scores: Mapping[str, np.ndarray],
) -> tuple[np.ndarray, pd.DataFrame]:
    """Per-subject intercept of its pattern and per-block contributions (NaN if missing).

    ``missing``: subjects × blocks (``True`` = block missing); ``scores``: block → its
    prediction per subject (NaN where missing).
    """
    contrib = pd.DataFrame(np.nan, index=missing.index, columns=list(order))
    icpt = np.zeros(len(missing))
    pats = missing.loc[:, list(order)].to_numpy()
    for pat in np.unique(pats, axis=0) if len(missing) else []:
        rows = np.flatnonzero((pats == pat).all(axis=1))
        avail = frozenset(b for b, m in zip(order, pat, strict=True) if not m)
        a, w = meta_for(meta, meta_n, order, avail)
        icpt[rows] = a
        for b, wb in w.items():
            contrib.iloc[rows, contrib.columns.get_loc(b)] = wb * scores[b][rows]
    return icpt, contrib


def replay_parts(state: Mapping[str, Any], X: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """:func:`combine_blocks` of a stacked model's plain data (``StackedModel.to_dict()``)."""
    blocks = {b: list(f) for b, f in state["blocks"].items()}
    models = {b: LinearBlock.from_dict(m) for b, m in state["block_models"].items()}
    meta = {frozenset(e["blocks"]): (float(e["intercept"]), plain_array(e["weights"]))
            for e in state["meta"]}  # fmt: skip
    meta_n = {frozenset(e["blocks"]): int(e["n_train"]) for e in state["meta"]}
    missing = pd.DataFrame(
        {b: X.loc[:, f].isna().all(axis=1).to_numpy() for b, f in blocks.items()}, index=X.index
    )
    scores = {}
    for b, model in models.items():
        rows = np.flatnonzero(~missing[b].to_numpy())
        s = np.full(len(X), np.nan)
        if rows.size:
            s[rows] = model.linear_predictor(X.iloc[rows])
        scores[b] = s
    return combine_blocks(meta, meta_n, list(blocks), missing, scores)


# ---------------------------------------------------------------------- scoring


def block_missing(doc: dict[str, Any], raw: np.ndarray) -> np.ndarray:
    """Subjects × features: ``True`` where the feature's whole block is missing for the subject.

    All ``False`` for a panel that is not stacked (its missing values follow the usual rules).
    """
    out = np.zeros(raw.shape, dtype=bool)
    if doc["model"]["type"] != "stacked":
        return out
    index = {f["name"]: k for k, f in enumerate(doc["features"])}
    for feats in doc["model"]["stacked"]["blocks"].values():
        cols = [index[f] for f in feats]
        out[:, cols] = np.isnan(raw[:, cols]).all(axis=1)[:, None]
    return out


def _state_frame(doc: dict[str, Any], raw: np.ndarray, ids: Sequence[str]) -> pd.DataFrame:
    """The model's input table: the panel markers, plus NaN for block markers it never uses."""
    names = [f["name"] for f in doc["features"]]
    frame = pd.DataFrame(raw, columns=names, index=pd.Index(ids, name="subject_id"))
    state_blocks = doc["model"]["stacked"]["state"]["blocks"]
    extra = [f for feats in state_blocks.values() for f in feats if f not in frame.columns]
    if extra:  # features of a block the model does not use: absent from the panel, never read
        frame = pd.concat([frame, pd.DataFrame(np.nan, index=frame.index, columns=extra)], axis=1)
    return frame


def stacked_predict(
    doc: dict[str, Any], raw: np.ndarray, ids: Sequence[str], missing: np.ndarray
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Score, probability and the missing-block columns of the subjects of ``raw``.

    ``raw`` holds the panel's markers (censored ±inf and NaN in a present block are handled by
    the block models' own fills, as when the model was fitted); ``missing`` is
    :func:`block_missing`.
    """
    from scipy.special import expit

    st = doc["model"]["stacked"]
    # the panel's blocks decide missingness: pass NaN for every feature of a missing block
    frame = _state_frame(doc, np.where(missing, np.nan, raw), ids)
    blocks = list(st["blocks"])
    names = [f["name"] for f in doc["features"]]
    first = {b: names.index(st["blocks"][b][0]) for b in blocks}
    lacks = np.column_stack([missing[:, first[b]] for b in blocks])
    none = lacks.all(axis=1)
    if none.any():
        msg = (
            f"scoring input: {int(none.sum())} subject(s) ({format_ids(np.asarray(ids)[none])}) "
            f"have none of the stacked panel's assay blocks ({', '.join(blocks)}); give at least "
            "one block's markers"
        )
        raise SchemaError(msg)
    icpt, contrib = replay_parts(st["state"], frame)
    score = icpt + np.nansum(contrib.to_numpy(), axis=1)
    contrib = contrib.reindex(columns=blocks)
    extra = _pattern_columns(st, blocks, lacks)
    for b in blocks:
        extra[f"contribution_{b}"] = contrib[b].to_numpy()
    return score, expit(score), extra


def _pattern_columns(st: dict[str, Any], blocks: list[str], lacks: np.ndarray) -> pd.DataFrame:
    """Per subject: missing blocks, and the AUROC/Brier of their pattern vs all blocks."""
    recorded = {frozenset(p["available"]): p["metrics"] for p in st["patterns"]}
    full = recorded.get(frozenset(blocks), {})

    def est(metrics: dict, key: str, field: str = "estimate") -> float:
        value = (metrics.get(key) or {}).get(field)
        return np.nan if value is None else float(value)

    rows = []
    for row in lacks:
        have = frozenset(b for b, m in zip(blocks, row, strict=True) if not m)
        m = recorded.get(have, {})
        rows.append(
            {
                "missing_blocks": tuple(b for b, miss in zip(blocks, row, strict=True) if miss),
                "pattern_auroc": est(m, "auroc"),
                "pattern_auroc_low": est(m, "auroc", "ci_low"),
                "pattern_auroc_high": est(m, "auroc", "ci_high"),
                "auroc_loss": est(full, "auroc") - est(m, "auroc"),
                "pattern_brier": est(m, "brier"),
                "brier_increase": est(m, "brier") - est(full, "brier"),
            }
        )
    return pd.DataFrame(rows)
