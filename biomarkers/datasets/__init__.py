"""The simulated ACLF–MSC trial: :func:`simulate_trial` writes it, :class:`Truth` says what is in it."""

from __future__ import annotations

from biomarkers.datasets._load_truth import load_truth
from biomarkers.datasets._simulate import simulate_trial
from biomarkers.datasets._trial import SimulatedTrial
from biomarkers.datasets._truth import Truth

__all__ = ["SimulatedTrial", "Truth", "load_truth", "simulate_trial"]
