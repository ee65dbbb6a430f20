"""The self-contained HTML report of a run folder, opening with a summary of the results."""

from biomarkers.report._markdown import markdown_html
from biomarkers.report._report import write_report
from biomarkers.report._status import update_status
from biomarkers.report._summary import RULES, Finding, Summary, summarize

__all__ = [
    "RULES",
    "Finding",
    "Summary",
    "markdown_html",
    "summarize",
    "update_status",
    "write_report",
]
