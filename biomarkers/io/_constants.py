"""Constants shared by the readers and the Study (censor codes, tidy columns).

The visit schedule lives in :mod:`biomarkers.io._visits`.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["CENSOR_CODES", "TIDY_COLUMNS"]

#: Censoring flag -> small integer code (the order of the pandas Categorical in tidy tables).
CENSOR_CODES = MappingProxyType({"ok": 0, "below": 1, "above": 2, "extrapolated": 3, "missing": 4})

#: Columns of the tidy assay table returned by ``read_cytokines`` and ``read_flow``, in order.
TIDY_COLUMNS = (
    "sample_id",
    "analyte",
    "value",
    "censor",
    "raw",
    "unit",
    "lod",
    "lloq",
    "uloq",
    "plate",
    "well",
    "replicate",
    "assay",
)
