"""Biomarker panels: export a fitted model as versioned plain-data JSON, read it back, score.

See ``docs/panel.md`` for the file format (``biomarkers.panel``, ``format_version`` 2; version-1
files are read by migrating them, :func:`upgrade_panel` rewrites them).
"""

from __future__ import annotations

from biomarkers.panel._benefit import benefit_panel
from biomarkers.panel._drift import DriftReport, panel_drift
from biomarkers.panel._eligible import marker_eligibility
from biomarkers.panel._evaluate import PanelEvaluation, calibration_measures
from biomarkers.panel._panel import BiomarkerPanel, upgrade_panel
from biomarkers.panel._synonyms import match_markers
from biomarkers.panel._threshold import choose_threshold
from biomarkers.panel._update import UpdateResult

__all__ = [
    "BiomarkerPanel",
    "DriftReport",
    "PanelEvaluation",
    "UpdateResult",
    "benefit_panel",
    "calibration_measures",
    "choose_threshold",
    "marker_eligibility",
    "match_markers",
    "panel_drift",
    "upgrade_panel",
]
