"""Report parts of the predictive section: shrunk marker effects, then the credibility card."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from biomarkers.report._tables import Section, by_evidence, html_table

__all__: list[str] = []

SHRUNK = ("interaction_shrunk", "interaction_shrunk_ci_low", "interaction_shrunk_ci_high")
_METHOD_WORDS = {
    "eb": "empirical Bayes (normal–normal, Paule–Mandel τ², Morris-corrected intervals)",
    "ridge": "one ridge-penalised model over all marker × arm terms (λ by cross-validation, "
    "bootstrap interval at that λ)",
    "horseshoe": "a horseshoe prior on the interactions (Gibbs sampler)",
}
CARD_SHOWN = [
    "marker", "prespecified", "direction_as_hypothesised", "n_modifiers_tried",
    "relative_scale", "interaction", "p_interaction", "absolute_scale", "interaction_abs",
    "consistency", "continuous_as_continuous", "rating", "evidence",
]  # fmt: skip


def _ci(lo: pd.Series, hi: pd.Series) -> list[str]:
    return ["" if pd.isna(a) else f"{a:.3g} to {b:.3g}" for a, b in zip(lo, hi, strict=True)]


def shrunk_parts(
    s: Section, pred: pd.DataFrame, figs: Any, *, prefix: str, params: dict[str, Any]
) -> None:
    """Append the raw-vs-shrunk table and forest plot (if ``pred`` has shrunk columns)."""
    import biomarkers.pl as pl

    if not set(SHRUNK) <= set(pred.columns) or pred.empty:
        return
    q = "q_value_interaction" if "q_value_interaction" in pred else None
    top = by_evidence(pred, q=q, effect="interaction")
    top = top[top["interaction_shrunk"].notna()]
    shown = pd.DataFrame(
        {
            "marker": top["marker"],
            "raw": top["interaction"],
            "raw 95% CI": _ci(top["ci_low"], top["ci_high"]),
            "shrunk": top["interaction_shrunk"],
            "shrunk 95% interval": _ci(top[SHRUNK[1]], top[SHRUNK[2]]),
            "scale": top["scale"],
        }
    )
    method = str(params.get("shrinkage_method", ""))
    note = params.get("shrinkage_note") or ""
    words = _METHOD_WORDS.get(method, method)
    s.tables.append(
        (
            "Shrunk marker effects: raw and shrunk interactions (by evidence)",
            html_table(shown, max_rows=20)
            + f"<p class='note'>Shrinkage: {html.escape(words)}"
            + (f" ({html.escape(str(note))})" if note else "")
            + ". With few patients per arm the largest raw interactions overstate the "
            "truth; the shrunk value is what the whole family of markers supports.</p>",
        )
    )
    s.figure(
        figs, f"{prefix}interactions_shrunk", "Treatment × marker interactions: raw and shrunk",
        lambda: pl.forest(top, estimate="interaction", measure="scale", top=20, shrunk=SHRUNK),
    )  # fmt: skip


def credibility_parts(s: Section, folder: Path) -> None:
    """Append the credibility card (``credibility.csv``) when the run wrote one."""
    path = folder / "credibility.csv"
    if not path.is_file():
        return
    try:
        card = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        card = pd.DataFrame(columns=CARD_SHOWN)
    shown = card[[c for c in CARD_SHOWN if c in card.columns]]
    body = (
        html_table(shown, max_rows=30)
        if not card.empty
        else "<p>No marker is labelled predictive and none was pre-specified.</p>"
    )
    s.tables.append(
        (
            "Credibility card (ICEMAN-style) of the reported predictive markers",
            body + "<p class='note'>Rating: <b>very low</b> when the interaction p ≥ 0.05, "
            "the direction is opposite to a pre-specified hypothesis or a related outcome "
            "disagrees; <b>moderate</b> needs pre-specification with the hypothesised "
            "direction, p &lt; 0.01 and at most 5 modifiers tried or consistency in a related "
            "outcome; <b>high</b> also needs p &lt; 0.005, both of those and a Phase-III trial; "
            "otherwise <b>low</b>. A Phase-II finding is hypothesis-generating.</p>",
        )
    )
