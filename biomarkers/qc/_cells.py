from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers._validation import did_you_mean
from biomarkers.exceptions import SchemaError

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["cell_qc"]


def cell_qc(
    adata: ad.AnnData,
    *,
    layer: str | None = None,
    min_genes: int = 200,
    max_genes: int | None = None,
    min_counts: int = 0,
    max_pct_mt: float = 20.0,
    mt_prefix: str = "MT-",
    key_added: str = "qc",
) -> pd.DataFrame:
    """Per-cell QC metrics (``scanpy.pp.calculate_qc_metrics``) and a pass/fail flag.

    Parameters
    ----------
    adata
        Cells × genes with raw counts, in memory; annotated in place (``obs`` gets the metric
        columns and ``obs[key_added + "_pass"]``; ``uns[key_added]["params"]``). ``var`` is not
        modified.
    layer
        Layer with the counts; ``None`` uses ``X``.
    min_genes, max_genes
        Allowed range of detected genes per cell (``None`` = no upper limit).
    min_counts
        Smallest total count per cell.
    max_pct_mt
        Largest percentage of counts from mitochondrial genes (names starting with ``mt_prefix``).
    mt_prefix
        Prefix of mitochondrial gene symbols (``"MT-"`` human, ``"mt-"`` mouse).
    key_added
        Prefix of the pass column and ``uns`` key.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``n_genes_by_counts, total_counts, pct_counts_mt, pass, reason``
        (``reason`` names the first failed filter, empty when passed).

    Examples
    --------
    >>> import anndata as ad, numpy as np, pandas as pd
    >>> a = ad.AnnData(
    ...     np.array([[5.0, 0, 1], [1.0, 1, 8]]),
    ...     obs=pd.DataFrame(index=["c1", "c2"]),
    ...     var=pd.DataFrame(index=["CD3E", "LYZ", "MT-CO1"]),
    ... )
    >>> cell_qc(a, min_genes=1, max_pct_mt=50)[["pct_counts_mt", "pass"]]
        pct_counts_mt   pass
    c1      16.666667   True
    c2      80.000000  False
    """
    import scanpy as sc

    if layer is not None and layer not in adata.layers:
        msg = f"layer {layer!r} not found{did_you_mean(layer, adata.layers.keys())}"
        raise SchemaError(msg)
    adata = _same_index_dtypes(adata, layer)
    obs_metrics, _ = sc.pp.calculate_qc_metrics(
        adata, layer=layer, percent_top=None, inplace=False, log1p=False
    )
    mat = adata.layers[layer] if layer is not None else adata.X
    mt = np.asarray(adata.var_names.astype(str).str.startswith(mt_prefix))
    total = obs_metrics["total_counts"].to_numpy(dtype=float)
    mt_counts = np.asarray(mat[:, mt].sum(axis=1)).ravel() if mt.any() else np.zeros_like(total)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct_mt = np.where(total > 0, 100 * mt_counts / total, np.nan)  # as scanpy
    table = pd.DataFrame(
        {
            "n_genes_by_counts": obs_metrics["n_genes_by_counts"].to_numpy(),
            "total_counts": total,
            "pct_counts_mt": pct_mt,
        },
        index=adata.obs_names,
    )
    checks = [
        (table["n_genes_by_counts"] < min_genes, f"fewer than {min_genes} genes"),
        (
            table["n_genes_by_counts"] > (max_genes if max_genes is not None else np.inf),
            f"more than {max_genes} genes",
        ),
        (table["total_counts"] < min_counts, f"fewer than {min_counts} counts"),
        (table["pct_counts_mt"] > max_pct_mt, f"more than {max_pct_mt}% mitochondrial"),
    ]
    reason = pd.Series("", index=table.index, dtype=object)
    for failed, why in reversed(checks):  # the first failing filter wins
        reason[failed.to_numpy()] = why
    table["pass"] = (reason == "").to_numpy()
    table["reason"] = reason
    for col in ("n_genes_by_counts", "total_counts", "pct_counts_mt"):
        adata.obs[col] = table[col].to_numpy()
    adata.obs[f"{key_added}_pass"] = table["pass"].to_numpy()
    adata.uns[key_added] = {
        "params": {
            "min_genes": min_genes,
            "max_genes": max_genes,
            "min_counts": min_counts,
            "max_pct_mt": max_pct_mt,
            "mt_prefix": mt_prefix,
            "layer": layer,
        }
    }
    return table


def _same_index_dtypes(adata, layer: str | None):
    """An AnnData whose sparse matrix has a single index dtype; the input is unchanged.

    Large files store int64 ``indptr`` with int32 ``indices``, which some scipy kernels used by
    scanpy refuse.
    """
    import anndata as ad
    import scipy.sparse as sp

    mat = adata.layers[layer] if layer is not None else adata.X
    if not sp.issparse(mat) or mat.indptr.dtype == mat.indices.dtype:
        return adata
    fixed = mat.copy()
    dtype = np.int32 if fixed.nnz < np.iinfo(np.int32).max else np.int64
    fixed.indptr = fixed.indptr.astype(dtype)
    fixed.indices = fixed.indices.astype(dtype)
    out = adata.copy() if layer is not None else ad.AnnData(fixed, obs=adata.obs, var=adata.var)
    if layer is not None:
        out.layers[layer] = fixed
    return out
