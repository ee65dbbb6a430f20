"""Discovery engine (nested subject-grouped CV, metrics with CIs, ranking) and predictive markers."""

from __future__ import annotations

from biomarkers.models._added_value import AddedValue, added_value
from biomarkers.models._benefit_calibration import benefit_calibration
from biomarkers.models._cooperative import CooperativeModel
from biomarkers.models._cost import assay_cost, cost_frontier, recommend_panel
from biomarkers.models._credibility import credibility
from biomarkers.models._discover import discover
from biomarkers.models._early_response import EarlyResponseResult, early_response
from biomarkers.models._fusion import StackedModel, assay_blocks
from biomarkers.models._glmnet import ElasticNetLogistic
from biomarkers.models._heterogeneity import heterogeneity_test
from biomarkers.models._instability import InstabilityResult, prediction_instability
from biomarkers.models._landmark import landmark_population
from biomarkers.models._mediation import MediationResult, mediation
from biomarkers.models._predictive import PredictiveResult, predictive
from biomarkers.models._rate import rank_average_treatment_effect
from biomarkers.models._registry import available_models
from biomarkers.models._result import DiscoveryResult
from biomarkers.models._risk_based import RiskBasedResult, risk_based
from biomarkers.models._sample_size import SampleSizeBudget, sample_size_budget
from biomarkers.models._screen import UnivariateScreen
from biomarkers.models._shrinkage import shrink_estimates
from biomarkers.models._stabl import (
    decoy_threshold,
    stability_threshold,
    stabl_select,
    stabl_threshold,
)
from biomarkers.models._stacked_panel import stacked_panel
from biomarkers.models._treatment_effect import treatment_effect

__all__ = [
    "AddedValue",
    "CooperativeModel",
    "DiscoveryResult",
    "EarlyResponseResult",
    "ElasticNetLogistic",
    "InstabilityResult",
    "MediationResult",
    "PredictiveResult",
    "RiskBasedResult",
    "SampleSizeBudget",
    "StackedModel",
    "UnivariateScreen",
    "added_value",
    "assay_blocks",
    "assay_cost",
    "available_models",
    "benefit_calibration",
    "cost_frontier",
    "credibility",
    "decoy_threshold",
    "discover",
    "early_response",
    "heterogeneity_test",
    "landmark_population",
    "mediation",
    "prediction_instability",
    "predictive",
    "rank_average_treatment_effect",
    "recommend_panel",
    "risk_based",
    "sample_size_budget",
    "shrink_estimates",
    "stability_threshold",
    "stabl_select",
    "stabl_threshold",
    "stacked_panel",
    "treatment_effect",
]
