"""Gene-set activity on differential-expression statistics with decoupler."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._validation import check_choice, check_columns
from biomarkers.exceptions import SchemaError
from biomarkers.features._genesets import as_network
from biomarkers.mechanism._result import DEResult, EnrichmentResult

__all__ = ["enrichment"]

_SOURCE = "enrichment"
# decoupler methods that take one signed statistic per gene
_METHODS = ("ulm", "mlm", "zscore", "waggr", "viper", "gsea")
_COLUMNS = ["cell_type", "contrast", "source", "score", "q_value", "n_genes", "method"]


def enrichment(
    de_result: DEResult | pd.DataFrame | Sequence[DEResult],
    *,
    gene_sets: str | os.PathLike | pd.DataFrame | Mapping[str, Sequence[str]] | None = None,
    method: str = "ulm",
    stat: str = "stat",
    tmin: int = 5,
) -> EnrichmentResult:
    """Gene-set activity per cell type × contrast from DE statistics, with decoupler.

    For every cell type × contrast, the vector of per-gene ``stat`` (genes with a finite
    value) is passed to ``decoupler.mt.<method>`` with the gene-set network; e.g. ``ulm``
    regresses the statistic on set membership and reports the slope's t-value as ``score``
    (positive = the set's genes go up in the contrast).

    Parameters
    ----------
    de_result
        A :class:`DEResult`, a list of them (e.g. several contrasts), or a tidy DataFrame
        with ``cell_type``, ``gene``, ``stat`` (and optionally ``contrast``) columns.
    gene_sets
        ``None`` (or ``"immune_modules"``) for the bundled immune modules
        (:func:`biomarkers.features.bundled_gene_sets`), a GMT path, a
        CSV path or DataFrame network (``source, target[, weight]``), or a mapping
        ``{set name: genes}``.
    method
        decoupler method: ``"ulm"`` (default), ``"mlm"``, ``"zscore"``, ``"waggr"``,
        ``"viper"`` or ``"gsea"``.
    stat
        Column of the DE table to use (``"stat"`` = Wald statistic, or ``"log2fc"``).
    tmin
        Sets with fewer tested genes are skipped (decoupler's ``tmin``); listed in
        ``tables["skipped"]``.

    Returns
    -------
    :class:`EnrichmentResult` with ``.table`` (``cell_type, contrast, source, score, q_value``
    (decoupler's p-value, BH-adjusted across the sets of one cell type × contrast; NaN for
    methods without a test), ``n_genes`` (set genes tested), ``method``) and
    ``tables["skipped"]`` (``cell_type, contrast, source, n_genes``).

    Examples
    --------
    >>> res = enrichment(de)  # doctest: +SKIP
    >>> res.table.query("q_value < 0.1")  # doctest: +SKIP
    """
    check_choice("method", method, _METHODS)
    de = _de_table(de_result, stat=stat)
    net = as_network(gene_sets, source=_SOURCE)
    import decoupler as dc

    func = getattr(dc.mt, method)
    rows, skipped = [], []
    for (ct, contrast), df in de.groupby(["cell_type", "contrast"], sort=False):
        df = df[np.isfinite(df[stat].to_numpy(float))].drop_duplicates("gene")
        genes = set(df["gene"])
        overlap = net[net["target"].isin(genes)].groupby("source")["target"].nunique()
        sizes = overlap.reindex(net["source"].unique(), fill_value=0)
        small = sizes[sizes < tmin]
        skipped.extend(
            {"cell_type": ct, "contrast": contrast, "source": s, "n_genes": int(n)}
            for s, n in small.items()
        )
        if len(small) == len(sizes):
            continue
        mat = pd.DataFrame([df[stat].to_numpy(float)], index=[f"{ct}|{contrast}"],
                           columns=df["gene"].to_numpy())  # fmt: skip
        es, pv = func(mat, net, tmin=tmin, verbose=False)
        for source in es.columns:
            rows.append(
                {
                    "cell_type": ct,
                    "contrast": contrast,
                    "source": source,
                    "score": float(es.iloc[0][source]),
                    "q_value": float(pv.iloc[0][source]) if pv is not None else np.nan,
                    "n_genes": int(sizes[source]),
                    "method": method,
                }
            )
    table = pd.DataFrame(rows, columns=_COLUMNS)
    skipped_df = pd.DataFrame(skipped, columns=["cell_type", "contrast", "source", "n_genes"])
    params = {
        "gene_sets": str(gene_sets) if isinstance(gene_sets, str | Path) else
        ("bundled" if gene_sets is None else type(gene_sets).__name__),
        "method": method,
        "stat": stat,
        "tmin": tmin,
    }  # fmt: skip
    return EnrichmentResult(table, extra={"skipped": skipped_df}, params=params)


def _de_table(de_result: Any, *, stat: str) -> pd.DataFrame:
    if isinstance(de_result, DEResult):
        de = de_result.table
    elif isinstance(de_result, pd.DataFrame):
        de = de_result
    elif isinstance(de_result, Sequence) and all(isinstance(d, DEResult) for d in de_result):
        de = pd.concat([d.table for d in de_result], ignore_index=True)
    else:
        msg = (
            f"{_SOURCE}: de_result must be a DEResult, a list of them or a DataFrame, "
            f"got {type(de_result).__name__}"
        )
        raise SchemaError(msg)
    check_columns(de, ["gene", stat], source=f"{_SOURCE}: DE table", hint="pass stat=")
    de = de.copy()
    if "cell_type" not in de.columns:
        de["cell_type"] = "all"
    if "contrast" not in de.columns:
        de["contrast"] = ""
    de["gene"] = de["gene"].astype(str)
    return de
