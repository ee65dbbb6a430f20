from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers._validation import format_ids
from biomarkers.exceptions import DataQualityWarning

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["sample_qc"]


def sample_qc(
    adata_or_path_or_obs: ad.AnnData | str | Path | pd.DataFrame,
    *,
    sample_key: str = "sample_id",
    groups_key: str = "cell_type",
    pass_key: str | None = "qc_pass",
    min_cells: int = 500,
    min_cells_per_type: int = 20,
) -> pd.DataFrame:
    """Per-sample cell counts, flagging samples with too few (passing) cells.

    Parameters
    ----------
    adata_or_path_or_obs
        Cells × genes AnnData (backed or not), an ``.h5ad`` path, or a cell-level ``obs`` table.
    sample_key, groups_key
        ``obs`` columns of sample IDs and cell types.
    pass_key
        Boolean ``obs`` column from :func:`cell_qc` (``"qc_pass"``); when present only passing
        cells count towards ``n_cells_pass``. Ignored when absent.
    min_cells
        Samples with fewer (passing) cells are flagged ``low_cells`` (and a
        :class:`DataQualityWarning` lists them).
    min_cells_per_type
        Cell types with fewer cells in a sample count in ``n_types_low``; their composition and
        pseudobulk features are unreliable.

    Returns
    -------
    pandas.DataFrame
        Indexed by sample: ``n_cells, n_cells_pass, n_types, n_types_low, low_cells`` plus the
        sample-level columns (``subject_id``, ``visit`` ...).
    """
    from biomarkers.qc._source import (
        SAMPLE_LEVEL_COLUMNS,
        codes_of,
        obs_columns,
        sample_annotations,
    )

    optional = (*SAMPLE_LEVEL_COLUMNS, pass_key) if pass_key else SAMPLE_LEVEL_COLUMNS
    obs = obs_columns(
        adata_or_path_or_obs, [sample_key, groups_key], optional=optional, index=False
    )
    s_codes, samples = codes_of(obs[sample_key])
    g_codes, groups = codes_of(obs[groups_key])
    ok = (s_codes >= 0) & (g_codes >= 0)
    counts = np.bincount(
        s_codes[ok] * len(groups) + g_codes[ok], minlength=len(samples) * len(groups)
    ).reshape(len(samples), len(groups))
    table = sample_annotations(obs, s_codes, samples, exclude=[sample_key, groups_key])
    table.insert(0, "n_cells", counts.sum(axis=1))
    table["n_types"] = (counts > 0).sum(axis=1)
    table["n_types_low"] = ((counts > 0) & (counts < min_cells_per_type)).sum(axis=1)
    table["n_cells_pass"] = table["n_cells"]
    if pass_key and pass_key in obs.columns:
        passed = obs[obs[pass_key].astype(bool).to_numpy()]
        n_pass = passed.groupby(passed[sample_key].astype(str), observed=True).size()
        table["n_cells_pass"] = n_pass.reindex(table.index, fill_value=0).to_numpy()
    table["low_cells"] = table["n_cells_pass"] < min_cells
    low = table.index[table["low_cells"]]
    if len(low):
        warnings.warn(
            f"{len(low)} samples have fewer than {min_cells} cells (flagged low_cells): "
            f"{format_ids(list(low))}",
            DataQualityWarning,
            stacklevel=2,
        )
    first = ["n_cells", "n_cells_pass", "n_types", "n_types_low", "low_cells"]
    return table[first + [c for c in table.columns if c not in first]]
