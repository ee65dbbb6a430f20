"""The self-contained HTML report of a run folder."""

from biomarkers.report._report import write_report

__all__ = ["write_report"]
