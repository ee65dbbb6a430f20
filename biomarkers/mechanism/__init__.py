"""Mechanism of action: pseudobulk DE, composition change, trajectories, enrichment, links.

These analyses describe *how* the treatment acts (what changes on treatment, in which cells,
and what moves together); they are descriptive companions to the predictive models in
:mod:`biomarkers.models`.
"""

from __future__ import annotations

from biomarkers.features._genesets import bundled_gene_sets, read_gmt
from biomarkers.mechanism._composition import composition_change
from biomarkers.mechanism._de import pseudobulk_de
from biomarkers.mechanism._enrichment import enrichment
from biomarkers.mechanism._links import links
from biomarkers.mechanism._result import (
    CompositionResult,
    DEResult,
    EnrichmentResult,
    LinksResult,
    MechanismResult,
    TrajectoryResult,
)
from biomarkers.mechanism._trajectories import trajectories

__all__ = [
    "CompositionResult",
    "DEResult",
    "EnrichmentResult",
    "LinksResult",
    "MechanismResult",
    "TrajectoryResult",
    "bundled_gene_sets",
    "composition_change",
    "enrichment",
    "links",
    "pseudobulk_de",
    "read_gmt",
    "trajectories",
]
