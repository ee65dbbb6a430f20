from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import check_columns, did_you_mean
from biomarkers.exceptions import SchemaError

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["UNASSIGNED", "assign_cell_types", "load_markers"]

UNASSIGNED = "unassigned"
# shipped with the features package data (setup.cfg package_data); located without importing
# biomarkers.features, which is downstream of qc
_MARKERS = Path(__file__).resolve().parent.parent / "features" / "data" / "pbmc_markers.csv"


def load_markers(path: str | Path | None = None) -> pd.DataFrame:
    """The PBMC marker table (``cell_type, gene``) bundled with the toolkit, or one from ``path``.

    Parameters
    ----------
    path
        CSV with columns ``cell_type``, ``gene`` and optionally ``weight`` (1 = marker, −1 =
        should be absent; default 1), one row per marker; ``None`` loads the bundled table (CD4_T, CD8_T, Treg, NK, B, CD14_mono, CD16_mono, DC, pDC, platelet).

    Returns
    -------
    pandas.DataFrame
    """
    src = _MARKERS if path is None else Path(path)
    table = pd.read_csv(src, dtype=str)
    check_columns(table, ["cell_type", "gene"], source=str(src), hint="one row per marker gene")
    return table


def assign_cell_types(
    adata: ad.AnnData,
    *,
    markers: pd.DataFrame | dict | str | Path | None = None,
    key_added: str = "cell_type",
    layer: str | None = None,
    min_score: float = 0.25,
    min_margin: float = 0.05,
    chunk_size: int = 20_000,
) -> pd.DataFrame:
    """Label cells by marker-gene scores when ``obs['cell_type']`` is absent.

    Scorer (documented and deterministic): counts are normalised per cell to 10,000 and
    ``log1p``-transformed; each marker gene is scaled by its 99th percentile over cells with
    expression (clipped to [0, 1]); a cell type's score is the weighted sum of its markers'
    scaled expression divided by the sum of its positive weights (weight 1 = marker, −1 =
    should be absent, e.g. CD3D for NK cells). A cell gets the best-scoring type when that score is at least ``min_score`` and
    beats the runner-up by ``min_margin``; otherwise ``"unassigned"``. Rows are processed in
    chunks, so backed AnnData work too.

    Parameters
    ----------
    adata
        Cells × genes with raw counts (gene symbols as ``var_names``); annotated in place.
    markers
        Marker table (``cell_type, gene[, weight]``), dict ``{cell_type: [genes]}``, a CSV path, or
        ``None`` for the bundled PBMC table (:func:`load_markers`).
    key_added
        ``obs`` column written with the labels (categorical); ``obs[key_added + "_score"]`` gets
        the winning score and ``uns[key_added]["params"]`` the parameters.
    layer
        Layer with the counts; ``None`` uses ``X``.
    min_score
        Smallest winning score for an assignment.
    min_margin
        Smallest lead over the second-best type.
    chunk_size
        Cells per chunk.

    Returns
    -------
    pandas.DataFrame
        Cells × cell types of scores (plus the assigned label in column ``key_added``).
    """
    if markers is None or isinstance(markers, (str, Path)):
        table = load_markers(markers)
    elif isinstance(markers, dict):
        table = pd.DataFrame(
            [(ct, g) for ct, genes in markers.items() for g in genes], columns=["cell_type", "gene"]
        )
    else:
        table = markers
        check_columns(table, ["cell_type", "gene"], source="markers", hint="one row per marker")
    var_names = pd.Index(adata.var_names.astype(str))
    present = table[table["gene"].isin(var_names)]
    missing = sorted(set(table["gene"]) - set(present["gene"]))
    if missing:
        logger.info(
            "assign_cell_types: %d marker genes not in var_names: %s", len(missing), missing
        )
    types = list(dict.fromkeys(present["cell_type"]))
    if not types:
        msg = (
            "assign_cell_types: no marker gene found in var_names "
            f"(e.g. {table['gene'].iloc[0]!r}{did_you_mean(table['gene'].iloc[0], var_names)}); "
            "are var_names gene symbols?"
        )
        raise SchemaError(msg)
    genes = list(dict.fromkeys(present["gene"]))
    gidx = var_names.get_indexer(genes)
    mat = adata.layers[layer] if layer is not None else adata.X
    parts = []
    for start in range(0, adata.n_obs, chunk_size):
        block = mat[start : start + chunk_size]
        totals = np.asarray(block.sum(axis=1)).ravel()
        sub = block[:, gidx]
        sub = np.asarray(sub.toarray() if hasattr(sub, "toarray") else sub, dtype=np.float64)
        scale = np.divide(1e4, totals, out=np.zeros_like(totals, dtype=float), where=totals > 0)
        parts.append(np.log1p(sub * scale[:, None]))
    expr = np.vstack(parts) if parts else np.zeros((0, len(genes)))
    ref = np.array(
        [np.percentile(c[c > 0], 99) if (c > 0).any() else 1.0 for c in expr.T], dtype=float
    )
    scaled = np.clip(expr / ref, 0.0, 1.0)
    weights = np.zeros((len(genes), len(types)))
    gpos = {g: i for i, g in enumerate(genes)}
    w = (
        pd.to_numeric(present["weight"], errors="coerce").fillna(1.0)
        if "weight" in present
        else pd.Series(1.0, index=present.index)
    )
    for (ct, g), wt in zip(present[["cell_type", "gene"]].itertuples(index=False), w, strict=True):
        weights[gpos[g], types.index(ct)] = wt
    positive = np.clip(weights, 0, None).sum(axis=0)
    if (positive == 0).any():
        bad = [t for t, p in zip(types, positive, strict=True) if p == 0]
        msg = f"assign_cell_types: cell types {bad} have no positive marker in var_names"
        raise SchemaError(msg)
    scores = scaled @ (weights / positive)
    order = np.argsort(-scores, axis=1)
    best = scores[np.arange(len(scores)), order[:, 0]] if len(scores) else np.array([])
    second = scores[np.arange(len(scores)), order[:, 1]] if len(types) > 1 else np.zeros_like(best)
    ok = (best >= min_score) & (best - second >= min_margin)
    labels = np.where(ok, np.asarray(types, dtype=object)[order[:, 0]], UNASSIGNED)
    adata.obs[key_added] = pd.Categorical(labels, categories=[*types, UNASSIGNED])
    adata.obs[f"{key_added}_score"] = best
    adata.uns[key_added] = {
        "params": {
            "method": "marker mean of 99th-percentile-scaled log1p(CP10k)",
            "markers": "bundled pbmc_markers.csv" if markers is None else "user",
            "min_score": float(min_score),
            "min_margin": float(min_margin),
            "layer": layer,
        }
    }
    out = pd.DataFrame(scores, index=adata.obs_names, columns=types)
    out[key_added] = adata.obs[key_added].to_numpy()
    return out
