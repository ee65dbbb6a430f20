"""Discovery engine (nested subject-grouped CV, metrics with CIs, ranking) and predictive markers."""

from __future__ import annotations

from biomarkers.models._discover import discover
from biomarkers.models._glmnet import ElasticNetLogistic
from biomarkers.models._landmark import landmark_population
from biomarkers.models._predictive import PredictiveResult, predictive
from biomarkers.models._registry import available_models
from biomarkers.models._result import DiscoveryResult
from biomarkers.models._screen import UnivariateScreen

__all__ = [
    "DiscoveryResult",
    "ElasticNetLogistic",
    "PredictiveResult",
    "UnivariateScreen",
    "available_models",
    "discover",
    "landmark_population",
    "predictive",
]
