"""discover(fusion=...): the fusion models fitted inside the outer folds, and their tables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from biomarkers.models._cooperative import CooperativeModel
from biomarkers.models._fusion import StackedModel, assay_blocks

__all__: list[str] = []

# ---------------------------------------------------------------- discover() integration

#: ``discover(fusion=...)`` / config ``models.fusion`` choices
FUSIONS = ("none", "stacking", "cooperative")


def fusion_model(fusion: str, spec, cfg, seed: int, features: Sequence[str]):
    """The unfitted fusion model of one discover fit (internal)."""
    blocks = assay_blocks(features)
    if fusion == "stacking":
        return StackedModel(base=spec.name, task=cfg.task, inner_cv=max(cfg.n_inner, 2),
                            blocks=blocks, random_state=seed, screen_k=cfg.screen_k,
                            n_inner=cfg.n_inner)  # fmt: skip
    return CooperativeModel(task=cfg.task, inner_cv=max(cfg.n_inner, 2), blocks=blocks,
                            random_state=seed)  # fmt: skip


def _score(model, task: str, X: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(X)[:, 1] if task == "binary" else model.predict(X)


def fusion_outer_fit(X, y, groups, train, test, spec, cfg, seed, *, features, fusion,
                     want_importance: bool = True) -> dict:  # fmt: skip
    """One outer fold of ``discover(fusion=...)``: the fusion model fitted on ``train`` only.

    The returned dict has the keys of :func:`~biomarkers.models._engine.outer_fit` plus
    ``weights`` (block → weight) and ``contributions`` (test subjects × blocks).
    """
    cols = list(features)
    model = fusion_model(fusion, spec, cfg, seed, cols)
    model.fit(pd.DataFrame(X[train], columns=cols), y[train])
    Xte = pd.DataFrame(X[test], columns=cols)
    out = {"test": test, "pred": _score(model, cfg.task, Xte), "params": model.summary_params()}
    out["weights"] = model.weights_.to_dict()
    out["contributions"] = model.contributions(Xte)
    if want_importance:
        signed = model.feature_coefficients().reindex(cols).fillna(0.0).to_numpy()
        out.update(cols=np.arange(len(cols)), signed=signed, mag=np.abs(signed),
                   selected=signed != 0)  # fmt: skip
    return out


def fusion_final_fit(X, y, groups, spec, cfg, seed, *, features, fusion):
    """The fusion model refitted on every subject; returns ``(model, params)``."""
    model = fusion_model(fusion, spec, cfg, seed, list(features))
    model.fit(pd.DataFrame(X, columns=list(features)), y)
    return model, model.summary_params()


def fusion_tables(outer: list[dict], keys, subjects) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-fold block weights and out-of-fold contributions of ``discover(fusion=...)``.

    Returns
    -------
    ``model, repeat, fold, block, weight`` and ``subject_id, repeat, fold, model, <blocks>``
    (empty frames when no fit carries fusion output).
    """
    weights, contrib = [], []
    for (m, r, f), res in zip(keys, outer, strict=True):
        if "weights" not in res:
            continue
        weights += [
            {"model": m, "repeat": r, "fold": f, "block": b, "weight": w}
            for b, w in res["weights"].items()
        ]
        c = res["contributions"].reset_index(drop=True)
        c.insert(0, "model", m)
        c.insert(0, "fold", f)
        c.insert(0, "repeat", r)
        c.insert(0, "subject_id", np.asarray(subjects)[res["test"]])
        contrib.append(c)
    w = pd.DataFrame(weights, columns=["model", "repeat", "fold", "block", "weight"])
    cdf = pd.concat(contrib, ignore_index=True) if contrib else pd.DataFrame()
    return w, cdf
