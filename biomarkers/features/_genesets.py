from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import did_you_mean
from biomarkers.exceptions import InputFileError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import anndata as ad

__all__ = ["geneset_scores", "load_gene_sets", "read_gmt"]


def read_gmt(path: str | Path) -> dict[str, list[str]]:
    """Read a GMT gene-set file (one set per line: name, description, genes, tab-separated).

    Parameters
    ----------
    path
        Path of the ``.gmt`` file (MSigDB format).

    Returns
    -------
    dict
        Set name → list of gene symbols (order kept, duplicates removed).

    Examples
    --------
    >>> from biomarkers.features import read_gmt
    >>> from biomarkers.features._genesets import BUNDLED_GMT
    >>> read_gmt(BUNDLED_GMT)["TREG_PROGRAM"][:3]
    ['FOXP3', 'IL2RA', 'CTLA4']
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: gene-set file not found; pass the path of a .gmt file"
        raise InputFileError(msg)
    sets: dict[str, list[str]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) < 3:
            msg = (
                f"{path}, line {lineno}: expected 'name<TAB>description<TAB>gene...', got "
                f"{len(fields)} tab-separated field(s); is the file tab-delimited GMT?"
            )
            raise InputFileError(msg)
        name = fields[0].strip()
        if name in sets:
            msg = f"{path}, line {lineno}: gene set {name!r} appears twice; names must be unique"
            raise InputFileError(msg)
        sets[name] = list(dict.fromkeys(g.strip() for g in fields[2:] if g.strip()))
    if not sets:
        msg = f"{path}: no gene sets found"
        raise InputFileError(msg)
    return sets


BUNDLED_GMT = Path(str(resources.files("biomarkers.features") / "data" / "immune_genesets.gmt"))


def load_gene_sets() -> dict[str, list[str]]:
    """Small curated immune gene sets bundled with the toolkit (``data/immune_genesets.gmt``).

    Returns
    -------
    dict
        Set name → genes: inflammatory and immunosuppressive monocyte programmes reported in
        ACLF, antigen presentation (HLA class II), Treg, Th17, cytotoxicity, interferon response.
    """
    return read_gmt(BUNDLED_GMT)


def geneset_scores(
    pdata: ad.AnnData,
    gene_sets: Mapping[str, Sequence[str]],
    *,
    layer: str | None = None,
    min_genes: int = 2,
) -> pd.DataFrame:
    """Score gene sets in each pseudobulk sample: mean log1p-CPM of the set minus the sample mean.

    The score of set *S* in sample *i* is ``mean_{g in S} e_ig - mean_{all g} e_ig`` with
    ``e = log1p(CPM)``; it uses the sample's own profile only (no reference learned across
    samples), so it can be computed before cross-validation.

    Parameters
    ----------
    pdata
        Pseudobulk AnnData (samples × genes), e.g. from :func:`pseudobulk`.
    gene_sets
        Set name → genes (:func:`read_gmt`, :func:`load_gene_sets`).
    layer
        Layer that already holds log1p-CPM values; ``None`` computes it from the counts in ``X``.
    min_genes
        Sets with fewer genes present in ``pdata`` are skipped (logged).

    Returns
    -------
    pandas.DataFrame
        ``pdata.obs_names`` × set names.

    Examples
    --------
    >>> import anndata as ad, numpy as np, pandas as pd
    >>> pdata = ad.AnnData(
    ...     np.array([[10.0, 10.0, 80.0]]), var=pd.DataFrame(index=["A", "B", "C"])
    ... )
    >>> geneset_scores(pdata, {"AB": ["A", "B"]}).round(2)
         AB
    0 -0.69
    """
    if layer is None:
        X = np.asarray(pdata.X.toarray() if hasattr(pdata.X, "toarray") else pdata.X, float)
        totals = X.sum(axis=1, keepdims=True)
        expr = np.log1p(np.divide(X, totals, out=np.zeros_like(X), where=totals > 0) * 1e6)
    else:
        if layer not in pdata.layers:
            msg = f"layer {layer!r} not found{did_you_mean(layer, pdata.layers.keys())}"
            raise SchemaError(msg)
        expr = np.asarray(pdata.layers[layer], dtype=float)
    centre = expr.mean(axis=1)
    out = {}
    names = pd.Index(pdata.var_names)
    for name, genes in gene_sets.items():
        idx = names.get_indexer([g for g in dict.fromkeys(genes)])
        idx = idx[idx >= 0]
        if idx.size < min_genes:
            logger.info(
                "gene set %r: %d of its genes present (< %d); skipped", name, idx.size, min_genes
            )
            continue
        out[name] = expr[:, idx].mean(axis=1) - centre
    return pd.DataFrame(out, index=pdata.obs_names)
