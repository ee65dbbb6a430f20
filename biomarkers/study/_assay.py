"""Turn a tidy assay table into an AnnData of samples × analytes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers._validation import check_columns, format_ids
from biomarkers.exceptions import SchemaError
from biomarkers.io import CENSOR_CODES, average_replicates

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["tidy_to_anndata"]

_MISSING = CENSOR_CODES["missing"]


def tidy_to_anndata(
    tidy: pd.DataFrame, *, design: pd.DataFrame | None = None, name: str | None = None
) -> ad.AnnData:
    """Pivot a tidy assay table into an AnnData of samples × analytes.

    Replicate wells are averaged first (:func:`biomarkers.io.average_replicates`).

    Parameters
    ----------
    tidy
        Table from :func:`biomarkers.io.read_cytokines` / :func:`biomarkers.io.read_flow`.
    design
        Sample design indexed by ``sample_id`` (``subject_id, visit, day, arm``, ...); its
        columns are copied to ``obs`` and its order sets the order of the samples.
    name
        Assay name stored in ``uns["assay"]``.

    Returns
    -------
    AnnData with ``obs`` index ``sample_id`` (design columns + ``plate``), ``var`` index analyte
    (``unit``, ``lod``, ``lloq``, ``uloq`` as the median over plates, ``n_ok``, ``n_censored_below``,
    ``n_censored_above``, ``n_extrapolated``, ``n_missing``), ``X`` float64 values (NaN where no
    number was written or no measurement exists), ``layers["censor"]`` int8 codes and
    ``uns["censor_codes"]`` the mapping ``{flag: code}``.

    Raises
    ------
    SchemaError
        An analyte reported in two different units.

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.study import tidy_to_anndata
    >>> tidy = pd.DataFrame({"sample_id": ["a", "b"], "analyte": "IL6", "value": [1.0, 2.0],
    ...                      "censor": ["ok", "ok"]})
    >>> tidy_to_anndata(tidy).X.ravel().tolist()
    [1.0, 2.0]
    """
    import anndata as ad

    check_columns(
        tidy, ["sample_id", "analyte", "value", "censor"], source=f"assay {name or ''}".strip()
    )
    avg = average_replicates(tidy)
    samples = pd.Index(pd.unique(avg["sample_id"].astype(str)))
    if design is not None:
        present = set(samples)
        samples = pd.Index([s for s in design.index if s in present])
    analytes = pd.Index(pd.unique(avg["analyte"].astype(str)))
    si = samples.get_indexer(avg["sample_id"].astype(str))
    ai = analytes.get_indexer(avg["analyte"].astype(str))
    X = np.full((len(samples), len(analytes)), np.nan)
    censor = np.full(X.shape, _MISSING, dtype=np.int8)
    codes = pd.Categorical(avg["censor"], categories=list(CENSOR_CODES)).codes.astype(np.int8)
    X[si, ai] = avg["value"].to_numpy(dtype=np.float64)
    censor[si, ai] = codes

    var = pd.DataFrame(index=analytes)
    var.index.name = "analyte"
    if "unit" in avg.columns:
        units = avg.dropna(subset=["unit"]).groupby("analyte", sort=False)["unit"].unique()
        clash = units[units.map(len) > 1]
        if len(clash):
            first = clash.index[0]
            msg = (
                f"assay {name!r}: analyte {first!r} is reported in several units "
                f"({', '.join(map(repr, clash.iloc[0]))}); convert to one unit before combining "
                f"(analytes affected: {format_ids(list(clash.index))})"
            )
            raise SchemaError(msg)
        var["unit"] = units.map(lambda u: u[0]).reindex(analytes).astype(object)
    for col in ("lod", "lloq", "uloq"):
        if col in avg.columns:
            var[col] = (
                avg.groupby("analyte", sort=False)[col].median().reindex(analytes).astype(float)
            )
    for flag, col in (
        ("ok", "n_ok"),
        ("below", "n_censored_below"),
        ("above", "n_censored_above"),
        ("extrapolated", "n_extrapolated"),
        ("missing", "n_missing"),
    ):
        var[col] = (censor == CENSOR_CODES[flag]).sum(axis=0).astype(np.int64)

    obs = pd.DataFrame(index=samples)
    obs.index.name = "sample_id"
    if design is not None:
        obs = design.reindex(samples).copy()
        obs.index.name = "sample_id"
    if "plate" in avg.columns:
        plate = avg.dropna(subset=["plate"]).groupby("sample_id", sort=False)["plate"].first()
        obs["plate"] = plate.reindex(samples).astype(object).to_numpy()
    for col in obs.columns:
        if obs[col].dtype == object:
            obs[col] = obs[col].astype("category")
    adata = ad.AnnData(X=X, obs=obs, var=var)
    adata.layers["censor"] = censor
    adata.uns["censor_codes"] = dict(CENSOR_CODES)
    if name is not None:
        adata.uns["assay"] = name
    return adata
