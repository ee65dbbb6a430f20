"""Clinical severity scores, outcome definitions, analysis sets and eligibility rules.

Scores accept scalars, NumPy arrays or pandas Series and return the same shape; see
``docs/clinical.md`` for formulas, sources, units, boundary conventions, outcome definitions
and the outcome rule language.
"""

from __future__ import annotations

from biomarkers.clinical._aarc import aarc
from biomarkers.clinical._aclf_course import aclf_course
from biomarkers.clinical._analysis_sets import analysis_sets
from biomarkers.clinical._binary_outcome import binary_outcome
from biomarkers.clinical._child_pugh import child_pugh
from biomarkers.clinical._clif_c_aclf import clif_c_aclf
from biomarkers.clinical._clif_c_ad import clif_c_ad
from biomarkers.clinical._clif_of import clif_of
from biomarkers.clinical._compute_scores import compute_scores
from biomarkers.clinical._continuous_outcome import continuous_outcome
from biomarkers.clinical._eligibility import eligibility
from biomarkers.clinical._meld import meld
from biomarkers.clinical._meld3 import meld3
from biomarkers.clinical._meld_na import meld_na
from biomarkers.clinical._outcome import Outcome
from biomarkers.clinical._outcome_from_rule import outcome_from_rule
from biomarkers.clinical._score_change import score_change
from biomarkers.clinical._survival_outcome import survival_outcome
from biomarkers.clinical._transplant_free_survival import transplant_free_survival

__all__ = [
    "Outcome",
    "aarc",
    "aclf_course",
    "analysis_sets",
    "binary_outcome",
    "child_pugh",
    "clif_c_aclf",
    "clif_c_ad",
    "clif_of",
    "compute_scores",
    "continuous_outcome",
    "eligibility",
    "meld",
    "meld3",
    "meld_na",
    "outcome_from_rule",
    "score_change",
    "survival_outcome",
    "transplant_free_survival",
]
