"""Study design: sample sizes for validating a locked panel (and, with the power module, planning).

``validation_sample_size`` gives the size of an external-validation cohort needed to estimate a
panel's C-statistic, calibration slope, O/E (and net benefit) precisely (Riley et al. 2021).
"""

from __future__ import annotations

from biomarkers.design._validation_size import validation_sample_size

__all__ = ["validation_sample_size"]
