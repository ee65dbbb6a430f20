"""Report sections about time (issue 18): landmark populations, early response, mediation.

Each builder reads the files a run folder holds and returns words or a section; ``None`` (or an
empty string) when the files are absent.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

from biomarkers.report._tables import html_table

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "BASELINE_ONLY",
    "ESTIMANDS",
    "early_response_tables",
    "landmark_text",
    "mediation_text",
    "survivor_aware_tables",
]

#: The sentence on predictive effect modifiers (the predictive section).
BASELINE_ONLY = (
    " Effect modifiers are baseline-only: every marker here was measured before treatment "
    "started, so the interaction has a randomised interpretation; markers measured on "
    "treatment are response markers and are in the early-response section."
)

#: Where the estimands are explained (methods).
ESTIMANDS = (
    " The estimands (what each analysis estimates, in whom and from when) are explained in "
    "<code>docs/estimands.md</code>."
)

_REASONS = {
    "event_before_landmark": "event before the landmark",
    "censored_before_landmark": "follow-up ended before the landmark",
    "missing_landmark_visit": "without the landmark visit",
}

_EARLY_COLUMNS = [
    "marker", "effect", "effect_ci_low", "effect_ci_high", "q_value_effect", "assoc",
    "assoc_ci_low", "assoc_ci_high", "q_value_assoc", "label", "n_treated", "n_control",
]  # fmt: skip


def landmark_text(landmark: pd.DataFrame | None, day: float | None) -> str:
    """Who the models analysed at their landmark, per arm, and who was removed why ("" if none)."""
    if landmark is None or not len(landmark) or day is None or float(day) <= 0:
        return ""
    rows = landmark.set_index("arm")
    arms = [a for a in rows.index if a != "all"]
    per_arm = ", ".join(f"{html.escape(str(a))} {int(rows.loc[a, 'n_after'])}" for a in arms)
    removed = _removed_words(rows.loc["all"] if "all" in rows.index else rows.sum())
    return (
        f" Analysed: subjects alive and event-free at day {float(day):g} (the landmark: the "
        f"latest day of the features), {per_arm}; removed: {removed}."
    )


def _removed_words(row: pd.Series) -> str:
    words = [f"{int(row[k])} {v}" for k, v in _REASONS.items() if k in row and int(row[k])]
    return ", ".join(words) or "none"


def early_response_tables(table: pd.DataFrame) -> list[tuple[str, str]]:
    """The early-response table, sorted by evidence (smallest of the two q-values first)."""
    cols = [c for c in _EARLY_COLUMNS if c in table.columns]
    evidence = table[["q_value_effect", "q_value_assoc"]].min(axis=1)
    shown = table.assign(_e=evidence).sort_values("_e")[cols]
    return [("Early-response markers (sorted by evidence)", _html(shown))]


def mediation_text(effects: pd.DataFrame, meta: dict) -> tuple[str, list[tuple[str, str]]]:
    """Words (mediator, n, sensitivity, assumptions) and the effects table of a mediation."""
    params, pop = meta.get("params") or {}, meta.get("population") or {}
    n = ", ".join(f"{k} {v}" for k, v in (pop.get("n_by_arm") or {}).items())
    rho = meta.get("rho_explaining_away")
    rho_words = (
        f"an unmeasured mediator–outcome confounder correlating the errors by ρ = {float(rho):.2f} "
        "would explain the indirect effect away"
        if rho is not None and pd.notna(rho)
        else "no confounding strength in the range examined explains the indirect effect away"
    )
    text = (
        f"Does the treatment's effect on the outcome go through "
        f"<code>{html.escape(str(params.get('mediator')))}</code>? "
        f"{html.escape(str(params.get('kind', '')))} (in)direct effects among subjects alive and "
        f"sampled at day {pop.get('landmark_day')} (n: {html.escape(n)}); {rho_words}. "
        f"<i>Assumptions:</i> {html.escape(str(meta.get('assumptions', '')))}"
    )
    return text, [("Indirect, direct and total effects, proportion mediated", _html(effects))]


def survivor_aware_tables(mech: Path) -> list[tuple[str, str]]:
    """Survivor-only vs survivor-aware (IPW) estimates and subjects per arm × visit."""
    found = []
    for path in sorted(mech.glob("*_survivor_aware.csv")):
        prefix = path.name.removesuffix("_survivor_aware.csv")
        found.append(
            (
                f"{prefix.replace('_', ' ')}: survivor-only estimate beside the estimate "
                "weighted by the inverse probability of being alive and sampled",
                _html(pd.read_csv(path), max_rows=20),
            )
        )
        counts = mech / f"{prefix}_counts.csv"
        if counts.is_file():
            found.append((f"{prefix.replace('_', ' ')}: subjects per arm and visit",
                          _html(pd.read_csv(counts), max_rows=40)))  # fmt: skip
    return found


def _html(df: pd.DataFrame, *, max_rows: int = 30) -> str:
    return html_table(df, max_rows=max_rows)
