"""Private helper: turn a checked subject × visit table into an assay AnnData."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers.io import CENSOR_CODES

if TYPE_CHECKING:
    import anndata as ad

__all__: list[str] = []


def table_to_anndata(
    table: pd.DataFrame, *, name: str, visits: Mapping[str, float], arm: pd.Series | None
) -> ad.AnnData:
    """AnnData (subject × visit rows) × value columns, shaped like the other assays.

    ``obs`` index ``"{subject_id}@{visit}"`` with ``subject_id, visit, day`` (+ ``arm``);
    ``var["unit"]``; ``layers["censor"]`` ``ok`` where a value exists, ``missing`` elsewhere.
    """
    import anndata as ad

    values = table.drop(columns=["subject_id", "visit"])
    X = values.to_numpy(dtype=np.float64)
    obs = pd.DataFrame(
        {"subject_id": table["subject_id"].to_numpy(), "visit": table["visit"].to_numpy()},
        index=pd.Index(table["subject_id"] + "@" + table["visit"], name="sample_id"),
    )
    obs["day"] = obs["visit"].map(visits)
    if arm is not None:
        obs["arm"] = obs["subject_id"].map(arm).to_numpy()
    for col in ("subject_id", "visit", "arm"):
        if col in obs.columns:
            obs[col] = obs[col].astype("category")
    units = table.attrs.get("unit", {})
    var = pd.DataFrame(
        {"unit": [str(units.get(c, "")) for c in values.columns]},
        index=pd.Index([str(c) for c in values.columns], name="analyte"),
    )
    censor = np.where(np.isnan(X), CENSOR_CODES["missing"], CENSOR_CODES["ok"]).astype(np.int8)
    var["n_ok"] = (censor == CENSOR_CODES["ok"]).sum(axis=0).astype(np.int64)
    var["n_missing"] = (censor == CENSOR_CODES["missing"]).sum(axis=0).astype(np.int64)
    adata = ad.AnnData(X=X, obs=obs, var=var)
    adata.layers["censor"] = censor
    adata.uns["censor_codes"] = dict(CENSOR_CODES)
    adata.uns["assay"] = name
    adata.uns["source"] = "table"
    return adata
