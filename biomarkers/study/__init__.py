"""The Study: subjects, arms, visits and samples, with every assay joined to them.

``Study.from_files(...)`` / ``Study.from_config(...)`` read the inputs with :mod:`biomarkers.io`,
check that every ID joins and turn tidy assay tables into AnnData (samples × analytes).
"""

from __future__ import annotations

from biomarkers.io._visits import DEFAULT_VISITS
from biomarkers.study._assay import tidy_to_anndata
from biomarkers.study._blinding import blind_study, dummy_randomisation
from biomarkers.study._study import Study
from biomarkers.study._summary import StudySummary

__all__ = [
    "DEFAULT_VISITS",
    "Study",
    "StudySummary",
    "blind_study",
    "dummy_randomisation",
    "tidy_to_anndata",
]
