"""The study's own words for the report and its summary: arms, outcome, class 1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["Words", "study_words"]


def _side(value: Any) -> str | None:
    """An arm label, or several pooled labels as ``"A+B"`` (the Study's name of a pooled side)."""
    if value is None or isinstance(value, str):
        return value
    return "+".join(map(str, value)) or None


@dataclass(frozen=True)
class Words:
    """The study's own words: run name, arms compared, outcome and what its class 1 is."""

    trial: str
    outcome: str
    positive: str
    kind: str | None = None
    treated: str = "treated"
    control: str = "control"
    cohort: bool = False
    allocation: float | None = None

    @property
    def comparison(self) -> str:
        return f"{self.treated} vs {self.control}"

    @property
    def event(self) -> str:
        """The outcome with its class-1 phrase, e.g. ``"death (status = 1)"``."""
        if not self.positive or self.positive == self.outcome:
            return self.outcome
        return f"{self.outcome} ({self.positive})"


def _arms_of(counts: pd.DataFrame | None) -> list[str]:
    if counts is None or "arm" not in counts:
        return []
    return [str(a) for a in counts["arm"].dropna().unique()]


def study_words(
    config: dict[str, Any], outcome: dict | None, counts: pd.DataFrame | None, name: str
) -> Words:
    """Arm, outcome and trial words from the run's config, ``outcome.json`` and arm counts."""
    study = config.get("study") or {}
    outcome = outcome or {}
    arms = _arms_of(counts)
    treated = _side(study.get("treated_arm")) or _side(study.get("treated"))
    control = _side(study.get("control_arm")) or _side(study.get("control"))
    if treated is not None and control is None and len(arms) == 2 and treated in arms:
        control = next(a for a in arms if a != treated)
    label = outcome.get("name") or "the outcome"
    positive = outcome.get("positive")
    if positive is None:
        positive = {"binary": f"{label} = 1", "survival": "event"}.get(outcome.get("kind"), "")
    return Words(
        trial=name,
        outcome=outcome.get("description") or label,
        positive=str(positive),
        kind=outcome.get("kind"),
        treated=treated or "treated",
        control=control or "control",
        cohort=treated is None and len(arms) <= 1,
        allocation=study.get("allocation"),
    )
