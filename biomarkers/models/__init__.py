"""Discovery engine (nested subject-grouped CV, metrics with CIs, ranking) and predictive markers."""

from __future__ import annotations

from biomarkers.models._cooperative import CooperativeModel
from biomarkers.models._discover import discover
from biomarkers.models._early_response import EarlyResponseResult, early_response
from biomarkers.models._fusion import StackedModel, assay_blocks
from biomarkers.models._glmnet import ElasticNetLogistic
from biomarkers.models._instability import InstabilityResult, prediction_instability
from biomarkers.models._landmark import landmark_population
from biomarkers.models._mediation import MediationResult, mediation
from biomarkers.models._predictive import PredictiveResult, predictive
from biomarkers.models._registry import available_models
from biomarkers.models._result import DiscoveryResult
from biomarkers.models._sample_size import SampleSizeBudget, sample_size_budget
from biomarkers.models._screen import UnivariateScreen
from biomarkers.models._stabl import (
    decoy_threshold,
    stability_threshold,
    stabl_select,
    stabl_threshold,
)
from biomarkers.models._treatment_effect import treatment_effect

__all__ = [
    "CooperativeModel",
    "DiscoveryResult",
    "EarlyResponseResult",
    "ElasticNetLogistic",
    "InstabilityResult",
    "MediationResult",
    "PredictiveResult",
    "SampleSizeBudget",
    "StackedModel",
    "UnivariateScreen",
    "assay_blocks",
    "available_models",
    "decoy_threshold",
    "discover",
    "early_response",
    "landmark_population",
    "mediation",
    "prediction_instability",
    "predictive",
    "sample_size_budget",
    "stability_threshold",
    "stabl_select",
    "stabl_threshold",
    "treatment_effect",
]
