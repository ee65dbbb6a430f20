from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers._validation import check_columns
from biomarkers.qc._source import codes_of, obs_columns, sample_annotations, source_name

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["composition"]


def composition(
    adata_or_path_or_obs: ad.AnnData | str | Path | pd.DataFrame,
    *,
    sample_key: str = "sample_id",
    groups_key: str = "cell_type",
    pseudocount: float = 0.5,
    tidy: bool = False,
) -> ad.AnnData | pd.DataFrame:
    """Cell-type counts, proportions and centred log-ratios (CLR) per sample.

    Only ``obs`` is read (for a path, just the two key columns and the sample-level columns), so
    this is cheap even for atlas-scale files. The CLR of sample *i* is
    ``log(n_ij + pseudocount) - mean_j log(n_ij + pseudocount)`` over **all** cell types
    (categories of ``groups_key``), natural log; it is computed within each sample and learns
    nothing across samples, so it is safe to compute before cross-validation.

    Parameters
    ----------
    adata_or_path_or_obs
        Cells × genes AnnData (backed or not), the path of an ``.h5ad`` file, a cell-level
        ``obs`` DataFrame, or the output of :func:`~biomarkers.features.pseudobulk` (with
        ``min_cells=0``): its ``n_cells`` are the counts, so a job that already streamed the
        cells for pseudobulk does not read them again. From a pseudobulk, a cell type no cell
        belongs to is not a part (it is not a profile).
    sample_key
        Column of sample identifiers.
    groups_key
        Column of cell types.
    pseudocount
        Added to every count before the log (0.5 is the usual choice for compositional counts
        with zeros); must be > 0.
    tidy
        Return a long DataFrame (``sample_key, groups_key, count, proportion, clr``) instead of an
        AnnData.

    Returns
    -------
    anndata.AnnData or pandas.DataFrame
        AnnData samples × cell types: ``X`` counts (int64), ``layers["proportion"]``,
        ``layers["clr"]``; ``obs`` has ``n_cells`` and the sample-level columns constant within a
        sample (``subject_id``, ``visit``, ``arm`` ...); ``uns["composition"]["params"]``.
        With ``tidy=True`` a DataFrame with one row per sample × cell type.

    Examples
    --------
    >>> import pandas as pd
    >>> obs = pd.DataFrame({"sample_id": ["a", "a", "a", "b"], "cell_type": ["T", "T", "B", "B"]})
    >>> comp = composition(obs)
    >>> comp.to_df().to_dict("index")
    {'a': {'B': 1, 'T': 2}, 'b': {'B': 1, 'T': 0}}
    >>> comp.layers["proportion"].tolist()
    [[0.3333333333333333, 0.6666666666666666], [1.0, 0.0]]
    """
    import anndata as ad

    if not pseudocount > 0:
        msg = f"composition: pseudocount={pseudocount!r} must be > 0 (the log of 0 is undefined)"
        raise ValueError(msg)
    counts, samples, groups, annot = _cell_counts(
        adata_or_path_or_obs, sample_key=sample_key, groups_key=groups_key
    )
    n_cells = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        prop = counts / n_cells[:, None]
    logc = np.log(counts + float(pseudocount))
    clr = logc - logc.mean(axis=1, keepdims=True)

    if tidy:
        return pd.DataFrame(
            {
                sample_key: np.repeat(samples.to_numpy(), len(groups)),
                groups_key: np.tile(groups.to_numpy(), len(samples)),
                "count": counts.ravel(),
                "proportion": prop.ravel(),
                "clr": clr.ravel(),
            }
        )
    out_obs = annot
    out_obs.insert(0, "n_cells", n_cells)
    out_obs.index.name = None
    result = ad.AnnData(
        X=counts,
        obs=out_obs,
        var=pd.DataFrame(index=groups),
        layers={"proportion": prop, "clr": clr},
    )
    result.uns["composition"] = {
        "params": {
            "sample_key": sample_key,
            "groups_key": groups_key,
            "pseudocount": float(pseudocount),
            "log": "natural",
            "source": _source_name(adata_or_path_or_obs),
        }
    }
    return result


def _is_pseudobulk(source) -> bool:
    return hasattr(source, "uns") and "pseudobulk" in source.uns and "n_cells" in source.obs


def _source_name(source) -> str:
    if _is_pseudobulk(source):
        return str(source.uns["pseudobulk"]["params"].get("source", "pseudobulk"))
    return source_name(source)


def _cell_counts(
    source, *, sample_key: str, groups_key: str
) -> tuple[np.ndarray, pd.Index, pd.Index, pd.DataFrame]:
    """Counts (samples × cell types), sample and cell-type labels, per-sample annotations.

    From cells (one row per cell) or from a pseudobulk (one row per sample × cell type,
    weighted by its ``n_cells``); both give the same table for the same cells.
    """
    weights = None
    if _is_pseudobulk(source):
        params = source.uns["pseudobulk"].get("params", {})
        if int(params.get("min_cells", 0)) > 0:
            msg = (
                f"composition: the pseudobulk was built with min_cells={params['min_cells']}, so "
                "small sample × cell type groups are missing; build it with min_cells=0"
            )
            raise ValueError(msg)
        obs = source.obs
        check_columns(
            obs, [sample_key, groups_key], source="composition: pseudobulk obs",
            hint="pass the sample_key=/groups_key= the pseudobulk used",
        )  # fmt: skip
        weights = obs["n_cells"].to_numpy(np.float64)
    else:
        obs = obs_columns(source, [sample_key, groups_key])
    s_codes, samples = _codes(obs[sample_key], keep_unused=weights is not None)
    # keep every cell-type category: a cell type absent from all samples is still a (zero) part
    g_codes, groups = _codes(obs[groups_key], keep_unused=True)
    ok = (s_codes >= 0) & (g_codes >= 0)
    flat = np.bincount(
        s_codes[ok] * len(groups) + g_codes[ok],
        weights=None if weights is None else weights[ok],
        minlength=len(samples) * len(groups),
    )
    counts = flat.reshape(len(samples), len(groups)).astype(np.int64)
    annot = sample_annotations(obs, s_codes, samples, exclude=[sample_key, groups_key])
    return counts, samples, groups, annot


def _codes(values: pd.Series, *, keep_unused: bool) -> tuple[np.ndarray, pd.Index]:
    if keep_unused and isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(np.int64), pd.Index(values.cat.categories.astype(str))
    return codes_of(values)
