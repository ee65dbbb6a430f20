"""Quality control per assay: cells, samples, cell-type labels, cytokine censoring and plates."""

from __future__ import annotations

from biomarkers.qc._cells import cell_qc
from biomarkers.qc._celltypes import UNASSIGNED, assign_cell_types, load_markers
from biomarkers.qc._cytokines import cytokine_qc
from biomarkers.qc._samples import sample_qc

__all__ = [
    "UNASSIGNED",
    "assign_cell_types",
    "cell_qc",
    "cytokine_qc",
    "load_markers",
    "sample_qc",
]
