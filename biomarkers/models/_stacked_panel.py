"""Exporting a fitted :class:`~biomarkers.models.StackedModel` as a stacked panel.

The export fits (per-pattern cross-fitted performance, threshold on out-of-fold probabilities,
a self-check that the panel reproduces the model); the panel scores from plain data
(:mod:`biomarkers.panel._stacked`). See ``docs/panel.md``, "Stacked panels".
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._validation import format_ids
from biomarkers.exceptions import SchemaError
from biomarkers.panel._stacked import block_missing

__all__ = ["discovery_stacked_panel", "stacked_panel"]

#: every non-empty pattern of blocks is evaluated up to this many blocks (2**B - 1 patterns)
_MAX_ENUMERATED_BLOCKS = 6
_Z = 1.959963984540054  # 97.5% normal quantile


def _model_class() -> type:
    """The stacked model class (one home: :mod:`biomarkers.models._fusion`)."""
    from biomarkers.models._fusion import StackedModel

    return StackedModel


def _panel_blocks(state: Mapping[str, Any]) -> dict[str, list[str]]:
    """Block → the markers the panel needs: those the block model uses (all if it uses none).

    A block without a marker of non-zero weight still selects the meta model of the patients
    who have it, so its markers stay in the panel to tell whether a patient has the block.
    """
    out = {}
    for block, feats in state["blocks"].items():
        used = state["block_models"][block]["features"]
        out[block] = list(used) if used else list(feats)
    return out


def _patterns(blocks: Sequence[str], have: np.ndarray) -> list[tuple[str, ...]]:
    """Patterns of available blocks to evaluate: all non-empty ones, or the observed ones."""
    k = len(blocks)
    if k <= _MAX_ENUMERATED_BLOCKS:
        combos = [c for r in range(k, 0, -1) for c in itertools.combinations(range(k), r)]
    else:  # many blocks: the observed patterns, each block alone and all blocks
        seen = {tuple(np.flatnonzero(h)) for h in have if h.any()}
        combos = sorted(seen | {(j,) for j in range(k)} | {tuple(range(k))}, key=lambda c: -len(c))
    return [tuple(blocks[j] for j in c) for c in combos]


def _auroc(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    from biomarkers.panel._measures import delong_auroc

    if np.unique(y).size < 2:
        return {"estimate": None, "ci_low": None, "ci_high": None, "n": int(y.size)}
    auc, se = delong_auroc(y, p)
    lo, hi = (auc - _Z * se, auc + _Z * se) if np.isfinite(se) else (np.nan, np.nan)
    return {
        "estimate": float(auc),
        "ci_low": float(max(lo, 0.0)) if np.isfinite(lo) else None,
        "ci_high": float(min(hi, 1.0)) if np.isfinite(hi) else None,
        "n": int(y.size),
    }


def _brier(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Brier score with a normal-approximation 95% CI (mean of squared errors)."""
    sq = (p - y) ** 2
    est = float(sq.mean())
    se = float(sq.std(ddof=1) / np.sqrt(sq.size)) if sq.size > 1 else np.nan
    ok = np.isfinite(se)
    return {
        "estimate": est,
        "ci_low": max(est - _Z * se, 0.0) if ok else None,
        "ci_high": est + _Z * se if ok else None,
        "n": int(sq.size),
    }


def pattern_performance(
    model: Any, X: pd.DataFrame, y: np.ndarray, *, n_splits: int = 5, random_state: int = 0
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Cross-fitted AUROC and Brier score of ``model`` per pattern of available blocks.

    ``model`` is refitted (a clone, same parameters) in each training fold of a stratified
    ``n_splits``-fold split; in the held-out fold every subject who has all blocks of a pattern
    is predicted with the other blocks masked (as a new patient with only those blocks would
    be). Nothing of the held-out fold is seen by the fit.

    Returns
    -------
    patterns, oof
        One entry per pattern (``available`` blocks, ``n`` subjects evaluated, ``n_train``
        subjects of the final fit who have those blocks, ``metrics`` ``auroc`` and ``brier``),
        all-blocks first; and the out-of-fold probability of each subject with the blocks
        they have (for an honest threshold).
    """
    from sklearn.base import clone

    from biomarkers.models._cv import grouped_folds, root_seed, strata

    blocks = dict(model.blocks_)
    names = list(blocks)
    have = ~model.missing_blocks(X).to_numpy()
    patterns = _patterns(names, have)
    preds = {p: np.full(len(y), np.nan) for p in patterns}
    oof = np.full(len(y), np.nan)
    folds = grouped_folds(
        strata(y, "binary"), np.arange(len(y)), n_splits=n_splits, seed=root_seed(random_state)
    )
    for train, test in folds:
        fold_model = clone(model).fit(X.iloc[train], y[train])
        Xt = X.iloc[test]
        oof[test] = fold_model.predict_proba(Xt)[:, 1]
        for pattern in patterns:
            keep = have[np.ix_(test, [names.index(b) for b in pattern])].all(axis=1)
            if not keep.any():
                continue
            masked = Xt.iloc[np.flatnonzero(keep)].copy()
            drop = [f for b in names if b not in pattern for f in blocks[b]]
            masked.loc[:, drop] = np.nan
            preds[pattern][test[keep]] = fold_model.predict_proba(masked)[:, 1]
    out = []
    for pattern in patterns:
        rows = np.isfinite(preds[pattern])
        cols = [names.index(b) for b in pattern]
        out.append(
            {
                "available": list(pattern),
                "n": int(rows.sum()),
                "n_train": int(have[:, cols].all(axis=1).sum()),
                "metrics": {
                    "auroc": _auroc(y[rows], preds[pattern][rows]),
                    "brier": _brier(y[rows], preds[pattern][rows]) if rows.any() else _none(),
                },
            }
        )
    return out, oof


def _none() -> dict[str, Any]:
    return {"estimate": None, "ci_low": None, "ci_high": None, "n": 0}


def stacked_panel(
    model: Any,
    X: pd.DataFrame,
    y: Any,
    *,
    n_splits: int = 5,
    random_state: int = 0,
    threshold: str | float | Mapping[str, float] | None = "youden",
    var: pd.DataFrame | None = None,
    outcome: Any = None,
    population: Mapping[str, Any] | None = None,
    performance: Any = None,
    provenance: Mapping[str, Any] | None = None,
    name: str = "stacked biomarker panel",
    description: str | None = None,
    purpose: str | Mapping[str, Any] | None = None,
) -> Any:
    """Export a fitted :class:`~biomarkers.models.StackedModel` as a stacked panel.

    Parameters
    ----------
    model
        A ``StackedModel`` fitted on ``X``, ``y`` with a linear base model (``enet``,
        ``lasso``: the block models must have a plain-data form) for a binary outcome.
    X
        The training table it was fitted on (subjects × features, NaN for a missing block).
    y
        The binary 0/1 outcome it was fitted on.
    n_splits
        Folds of the cross-fitting that measures each pattern's AUROC and Brier score and the
        out-of-fold probabilities the threshold is chosen on.
    random_state
        Seed of those folds.
    threshold
        As in :meth:`BiomarkerPanel.from_estimator`, chosen on the out-of-fold probabilities.
    var, outcome, population, performance, provenance, name, description, purpose
        As in :meth:`BiomarkerPanel.from_estimator`.

    Returns
    -------
    BiomarkerPanel
        A panel with ``model.type`` ``"stacked"`` (``panel.json`` format version 2).
    """
    from biomarkers.panel import _panel as P

    if getattr(model, "task", "classification") not in ("classification", "binary"):
        msg = (
            f"stacked panels need a binary outcome (StackedModel task 'classification'); got "
            f"task={model.task!r}"
        )
        raise SchemaError(msg)
    state = P._jsonable(model.to_dict())  # refuses non-linear base models with the reason
    if not isinstance(X, pd.DataFrame):
        msg = "X must be the DataFrame the stacked model was fitted on (feature names as columns)"
        raise SchemaError(msg)
    y = np.asarray(y, dtype=float)
    blocks = _panel_blocks(state)
    names = [f for feats in blocks.values() for f in feats]
    raw, _, missing, _ = P.feature_matrix(X, names, source="X")
    if missing:
        msg = f"X lacks {len(missing)} of the stacked model's features: {format_ids(missing)}"
        raise SchemaError(msg)
    patterns, oof = pattern_performance(model, X, y, n_splits=n_splits, random_state=random_state)
    stats = P._training_stats(raw)
    feats = []
    for fname, st in zip(names, stats, strict=True):
        meta = P._feature_meta(fname, var)
        meta.pop("lod", None), meta.pop("uloq", None)
        entry = P._feature_entry(
            fname, meta, censoring=None, transform=meta.get("transform"), centre=None,
            scale=None, missing_fill=None, coefficient=None, training=st,
        )  # fmt: skip
        feats.append(entry)
    weights = {b: float(model.weights_.get(b, 0.0)) for b in blocks}
    doc_model = {
        "type": "stacked",
        "estimator": (
            f"stacked {state['params'].get('base', 'linear')} over {len(blocks)} assay blocks "
            "(non-negative meta model per pattern of available blocks)"
        ),
        "output": "probability",
        "classes": [0, 1],
        "pipeline": ["blocks", "stacking"],
        "inputs": [{"feature": f, "ops": []} for f in names],
        "stacked": {
            "blocks": blocks,
            "weights": weights,
            "patterns": patterns,
            "validation": (
                f"{n_splits}-fold cross-fitting (model refitted in each training fold; held-out "
                "subjects predicted with the blocks outside the pattern masked)"
            ),
            "state": state,
        },
    }
    th = P._threshold_block(threshold, y, oof, classes=[0, 1], applies_to="probability")
    if performance is None:  # the cross-fitted performance with the blocks each subject has
        performance = {
            "validation": doc_model["stacked"]["validation"] + "; each subject with its own blocks",
            "metrics": {"auroc": _auroc(y, oof), "brier": _brier(y, oof)},
        }
    if th is not None and th.get("source"):
        th["source"] = f"out-of-fold probabilities of the {n_splits}-fold cross-fitting"
    pop = dict(population or {})
    pop.setdefault("n_subjects", len(y))
    pop.setdefault("n_events", int(np.nansum(y)))
    visits = [f["visit"] for f in feats if f.get("visit")]
    if visits:
        pop.setdefault("visits", list(dict.fromkeys(visits)))
    outcome_block = P._outcome_block(outcome, X, [0, 1])
    outcome_block["kind"] = outcome_block.get("kind") or "binary"
    doc = P._document(
        name=name, description=description, outcome=outcome_block, population=pop,
        features=feats, model=doc_model, threshold=th, performance=performance,
        provenance=provenance, purpose=purpose,
    )  # fmt: skip
    panel = P.BiomarkerPanel(doc)
    _self_check(panel, model, X, raw, names)
    return panel


def discovery_stacked_panel(
    result: Any,
    *,
    candidates: Sequence[str] | None = None,
    base: str | None = None,
    threshold: str | float | Mapping[str, float] | None = "youden",
    name: str = "stacked biomarker panel",
    purpose: str | Mapping[str, Any] | None = None,
) -> Any:
    """A stacked panel from the data of a discovery run (``models.fusion: stacking``).

    A :class:`~biomarkers.models.StackedModel` is fitted on every subject of ``result`` with
    the markers in ``candidates`` (blocks from their names), the run's inner folds and seed, and
    exported with :func:`stacked_panel` (cross-fitted on the run's number of outer folds).

    Parameters
    ----------
    result
        A :class:`~biomarkers.models.DiscoveryResult` of a binary outcome.
    candidates
        The markers the panel may use (e.g. the eligible ones); default every feature.
    base
        Registry model of each block (``enet`` or ``lasso``; default ``enet``).
    threshold, name, purpose
        As in :func:`stacked_panel`.

    Returns
    -------
    BiomarkerPanel
    """
    from biomarkers.exceptions import ConfigError
    from biomarkers.models._fusion import StackedModel

    d, s = result._data, result.settings
    if s["task"] != "binary":
        msg = (
            f"models.fusion: stacking exports a stacked panel for a binary outcome; "
            f"{s['outcome']!r} is {s['task']}: use models.fusion: none for its panel"
        )
        raise ConfigError(msg)
    pool = None if candidates is None else {str(c) for c in candidates}
    features = [f for f in d.features if pool is None or f in pool]
    X = pd.DataFrame(d.X[:, [d.features.index(f) for f in features]], columns=features)
    X.index = pd.Index(np.asarray(d.subjects).astype(str), name="subject_id")
    seed = int(s["random_state"])
    model = StackedModel(base=base or "enet", inner_cv=int(s["inner_cv"]), random_state=seed)
    model.fit(X, d.y)
    outcome = {
        "name": s["outcome"], "kind": "binary", "assessed_day": s.get("assessed_day"),
        "definition": s.get("outcome_definition") or s["outcome"], "positive": s.get("positive"),
        "description": s.get("outcome_description") or s["outcome"],
    }  # fmt: skip
    return stacked_panel(
        model, X, d.y, n_splits=int(s["n_splits"]), random_state=seed, threshold=threshold,
        var=None if d.var is None else d.var.reindex(features), outcome=outcome,
        population=result._landmark_block(),
        provenance={"seed": seed, "model": f"stacked {base or 'enet'}"}, name=name,
        purpose=purpose,
    )  # fmt: skip


def _self_check(panel: Any, model: Any, X: pd.DataFrame, raw: np.ndarray, names: list[str]):
    """The exported panel reproduces the fitted model on its training subjects.

    Compared on the subjects whose missing blocks the model and the panel see alike (the panel
    keeps the markers a block model uses: a subject with only unused markers of a block has
    the block for the model, not for the panel).
    """
    expected = model.decision_function(X)
    frame = pd.DataFrame(raw, columns=names, index=[f"row{i}" for i in range(len(raw))])
    st = panel._doc["model"]["stacked"]
    lacks = block_missing(panel._doc, raw)
    first = {b: names.index(st["blocks"][b][0]) for b in st["blocks"]}
    panel_miss = np.column_stack([lacks[:, first[b]] for b in st["blocks"]])
    model_miss = model.missing_blocks(X).reindex(columns=list(st["blocks"])).to_numpy()
    rows = np.flatnonzero((panel_miss == model_miss).all(axis=1) & ~panel_miss.all(axis=1))
    got = panel.score(frame.iloc[rows], max_imputed_share=1.0)["score"].to_numpy()
    diff = np.abs(got - expected[rows])
    if diff.size and not np.nanmax(diff) <= 1e-9:
        msg = (
            f"stacked panel export does not reproduce the StackedModel (max difference "
            f"{np.nanmax(diff):.3g}); this is a bug in biomarkers.panel, please report it"
        )
        raise RuntimeError(msg)
