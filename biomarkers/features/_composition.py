from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

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
        Cells × genes AnnData (backed or not), the path of an ``.h5ad`` file, or a cell-level
        ``obs`` DataFrame.
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
    obs = obs_columns(adata_or_path_or_obs, [sample_key, groups_key])
    s_codes, samples = codes_of(obs[sample_key])
    if isinstance(obs[groups_key].dtype, pd.CategoricalDtype):
        # keep every category: a cell type absent from all samples is still a (zero) part
        g = obs[groups_key]
        g_codes, groups = g.cat.codes.to_numpy(np.int64), pd.Index(g.cat.categories.astype(str))
    else:
        g_codes, groups = codes_of(obs[groups_key])
    ok = (s_codes >= 0) & (g_codes >= 0)
    flat = np.bincount(
        s_codes[ok] * len(groups) + g_codes[ok], minlength=len(samples) * len(groups)
    )
    counts = flat.reshape(len(samples), len(groups)).astype(np.int64)
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
    out_obs = sample_annotations(obs, s_codes, samples, exclude=[sample_key, groups_key])
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
            "source": source_name(adata_or_path_or_obs),
        }
    }
    return result
