"""The result object of :meth:`Study.summary`."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

__all__ = ["StudySummary"]


@dataclass(frozen=True)
class StudySummary:
    """What a Study holds: subjects per arm, samples per visit and assay, missingness.

    Attributes
    ----------
    arms
        One row per arm: ``arm``, ``role`` (``treated``/``control``), ``n_subjects``.
    table
        One row per assay × visit: ``assay, visit, day, n_samples, n_subjects`` and the fraction
        of values ``ok, below, above, extrapolated, missing`` (NaN for tables without values).
    """

    arms: pd.DataFrame
    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """Return the assay × visit table (a copy)."""
        return self.table.copy()

    def __repr__(self) -> str:
        arms = ", ".join(f"{r.arm} ({r.role}): {r.n_subjects}" for r in self.arms.itertuples())
        return f"StudySummary(subjects: {arms})\n{self.table.to_string(index=False)}"

    def _repr_html_(self) -> str:
        arms = self.arms.to_html(index=False, border=0)
        table = self.table.to_html(
            index=False,
            border=0,
            float_format=lambda x: f"{x:.1%}" if x <= 1 else f"{x:g}",
            na_rep="",
        )
        return (
            f"<div><strong>{html.escape('Study summary')}</strong>"
            f"<p>Subjects per arm</p>{arms}<p>Samples per assay and visit (fractions of values)</p>{table}</div>"
        )
