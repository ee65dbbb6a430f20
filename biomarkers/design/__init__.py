"""Design a trial before it starts: simulation-based power of the analyses, sample-size criteria.

:func:`power` runs a grid of simulated trials (:func:`biomarkers.datasets.simulate_trial`)
through the analyses and scores them against the planted truth; :func:`sample_size` and
:func:`interaction_power` are the analytic companions shown next to the simulated figures.

:func:`validation_sample_size` gives the size of an external-validation cohort needed to estimate
a panel's C-statistic, calibration slope, O/E (and net benefit) precisely (Riley et al. 2021).
"""

from __future__ import annotations

from biomarkers.design._grid import GRID_KEYS
from biomarkers.design._power import power
from biomarkers.design._replicate import FAST_SETTINGS
from biomarkers.design._result import PowerResult
from biomarkers.design._sample_size import InteractionPower, interaction_power, sample_size
from biomarkers.design._validation_size import validation_sample_size
from biomarkers.models._sample_size import MinimumSampleSize

__all__ = [
    "FAST_SETTINGS",
    "GRID_KEYS",
    "InteractionPower",
    "MinimumSampleSize",
    "PowerResult",
    "interaction_power",
    "power",
    "sample_size",
    "validation_sample_size",
]
