"""Figures. Every function returns a :class:`matplotlib.figure.Figure` and never calls ``plt.show()``.

Colours are colour-blind safe (Okabe–Ito); arms and visits always get the same colour.
"""

from biomarkers.pl._benefit import benefit_calibration, toc
from biomarkers.pl._clinical import cohort_overview, kaplan_meier
from biomarkers.pl._effects import forest, qini
from biomarkers.pl._instability import instability
from biomarkers.pl._mechanism import composition, trajectories, volcano
from biomarkers.pl._performance import calibration, decision_curve, pr_curve, roc_curve
from biomarkers.pl._ranking import coefficients, shap_summary, stability
from biomarkers.pl._risk import risk_based
from biomarkers.pl._save import save_figure
from biomarkers.pl._style import ARM_COLORS, OKABE_ITO, VISIT_COLORS
from biomarkers.pl._umap import umap
from biomarkers.pl._value import added_value, cost_frontier

__all__ = [
    "ARM_COLORS",
    "OKABE_ITO",
    "VISIT_COLORS",
    "added_value",
    "benefit_calibration",
    "calibration",
    "coefficients",
    "cohort_overview",
    "composition",
    "cost_frontier",
    "decision_curve",
    "forest",
    "instability",
    "kaplan_meier",
    "pr_curve",
    "qini",
    "risk_based",
    "roc_curve",
    "save_figure",
    "shap_summary",
    "stability",
    "toc",
    "trajectories",
    "umap",
    "volcano",
]
