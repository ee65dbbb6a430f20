"""The Outcome result object shared by every outcome definition."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from biomarkers._validation import check_choice

__all__ = ["Outcome"]

_KINDS = ("binary", "survival", "continuous")


@dataclass(frozen=True, eq=False, kw_only=True)  # a DataFrame field has no truthy ==
class Outcome:
    """An outcome (label) per subject and how it was defined.

    Attributes
    ----------
    name
        Outcome name, also the label column for binary/continuous outcomes (e.g. ``"tfs90"``).
    kind
        ``"binary"``, ``"survival"`` or ``"continuous"``.
    table
        DataFrame indexed by ``subject_id`` (str). Binary: ``name`` (1 = the class named by
        ``positive``, 0 = not, NaN = unknown/censored); survival: ``event`` (1 = the event named
        by ``positive``) and ``time_days``; extra descriptive columns may follow the label
        columns.
    assessed_day
        Study day on which the outcome is assessed; features from this day on leak the outcome.
    definition
        One human-readable sentence saying exactly how the label was derived.
    positive
        A short phrase naming class 1 of a binary label or the event of a survival outcome
        (e.g. ``"status = 'Dead'"``, ``"death or transplant by day 90"``); metrics, thresholds,
        PPV/NPV and the report's event counts refer to it. Default: ``"{name} = 1"`` (binary),
        ``"event"`` (survival), ``""`` (continuous).
    description
        Words for reports (e.g. ``"distant metastasis"``); default: the name.
    """

    name: str
    kind: str
    table: pd.DataFrame = field(repr=False)
    assessed_day: int
    definition: str
    positive: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, _KINDS, source="Outcome")
        if self.positive is None:
            default = {"binary": f"{self.name} = 1", "survival": "event", "continuous": ""}
            object.__setattr__(self, "positive", default[self.kind])  # frozen dataclass
        if self.description is None:
            object.__setattr__(self, "description", self.name)

    @property
    def columns(self) -> list[str]:
        """The label column(s): ``[name]``, or ``["event", "time_days"]`` for survival."""
        return ["event", "time_days"] if self.kind == "survival" else [self.name]

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the per-subject table."""
        return self.table.copy()

    def to_dict(self) -> dict:
        """Metadata as stored in ``FeatureTable.uns["outcomes"][name]``."""
        return {
            "kind": self.kind,
            "columns": self.columns,
            "assessed_day": int(self.assessed_day),
            "definition": self.definition,
            "positive": self.positive,
            "description": self.description,
        }

    def _summary(self) -> dict[str, str]:
        t = self.table
        info = {"subjects": str(len(t))}
        if self.kind == "survival":
            info["event"] = str(self.positive)
            info["events"] = str(int(t["event"].sum()))
            info["median time (days)"] = f"{t['time_days'].median():.0f}"
        elif self.kind == "binary":
            label = t[self.name]
            info["positive"] = str(self.positive)
            info["responders (1)"] = str(int((label == 1).sum()))
            info["non-responders (0)"] = str(int((label == 0).sum()))
            info["missing / censored"] = str(int(label.isna().sum()))
        else:
            info["mean"] = f"{t[self.name].mean():.3g}"
            info["missing"] = str(int(t[self.name].isna().sum()))
        return info

    def __repr__(self) -> str:
        summary = ", ".join(f"{k}={v}" for k, v in self._summary().items())
        return f"Outcome({self.name!r}, kind={self.kind!r}, assessed_day={self.assessed_day}, {summary})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in {
                "kind": self.kind,
                "assessed on study day": str(self.assessed_day),
                **self._summary(),
            }.items()
        )
        return (
            f"<div><strong>Outcome {html.escape(self.name)}</strong>"
            f"<p>{html.escape(self.definition)}</p><table>{rows}</table></div>"
        )
