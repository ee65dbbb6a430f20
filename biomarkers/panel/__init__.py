"""Biomarker panels: export a fitted model as versioned plain-data JSON, read it back, score.

See ``docs/panel.md`` for the file format (``biomarkers.panel``, ``format_version`` 1).
"""

from __future__ import annotations

from biomarkers.panel._benefit import benefit_panel
from biomarkers.panel._eligible import marker_eligibility
from biomarkers.panel._panel import BiomarkerPanel
from biomarkers.panel._synonyms import match_markers
from biomarkers.panel._threshold import choose_threshold

__all__ = [
    "BiomarkerPanel",
    "benefit_panel",
    "choose_threshold",
    "marker_eligibility",
    "match_markers",
]
