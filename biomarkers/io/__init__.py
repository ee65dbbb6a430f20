"""Readers: clinical tables, single-cell counts, assay panels, flow, generic subject tables.

Readers read and validate; they never transform. Every reader raises a one-line
:class:`~biomarkers.exceptions.SchemaError` or :class:`~biomarkers.exceptions.InputFileError`
that names the file, the row or column, the value and the fix.
"""

from __future__ import annotations

from biomarkers.io._censor import parse_censored
from biomarkers.io._clinical import read_clinical
from biomarkers.io._constants import CENSOR_CODES, TIDY_COLUMNS
from biomarkers.io._cytokines import read_cytokines
from biomarkers.io._dosing import read_dosing
from biomarkers.io._feature_table import read_feature_table
from biomarkers.io._flow import read_flow
from biomarkers.io._labs import read_labs
from biomarkers.io._numeric_columns import numeric_columns
from biomarkers.io._replicates import average_replicates
from biomarkers.io._samples import read_samples
from biomarkers.io._singlecell import read_singlecell
from biomarkers.io._subject_table import read_subject_table
from biomarkers.io._visits import DEFAULT_VISITS

__all__ = [
    "CENSOR_CODES",
    "DEFAULT_VISITS",
    "TIDY_COLUMNS",
    "average_replicates",
    "numeric_columns",
    "parse_censored",
    "read_clinical",
    "read_cytokines",
    "read_dosing",
    "read_feature_table",
    "read_flow",
    "read_labs",
    "read_samples",
    "read_singlecell",
    "read_subject_table",
]
