"""Report section: the added value of each assay and the performance/cost frontier.

Reads what the discover job wrote: ``added_value.csv`` and ``decision_curves.csv``
(:func:`biomarkers.models.added_value`), ``cost_frontier.csv``
(:func:`biomarkers.models.cost_frontier`, with the ``recommended`` row at ``panel.budget``).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["value_section"]

_SHOWN = ["candidate", "estimate", "ci_low", "ci_high", "reference", "delta", "delta_ci_low",
          "delta_ci_high"]  # fmt: skip


def _value_text(value: pd.DataFrame) -> str:
    metric = html.escape(str(value["metric"].iloc[0]))
    interval = html.escape(str(value["interval"].iloc[0]))
    text = (
        f"Every candidate feature set is cross-validated under the same outer folds; Δ {metric} "
        f"is the paired difference to its reference with a {interval} 95% interval from the "
        "same resamples. "
    )
    rows = value[value["reference"] == "clinical"]
    adds = [r for r in rows.itertuples() if r.delta_ci_low > 0]
    names = ", ".join(html.escape(r.candidate.removeprefix("clinical+")) for r in adds)
    text += (
        f"Assays whose interval lies above 0: {names}." if adds
        else "No assay's interval lies above 0 over the clinical scores."
    )  # fmt: skip
    return text


def _frontier_text(front: pd.DataFrame) -> str:
    unit = html.escape(str(front["currency"].iloc[0])) if "currency" in front else ""
    n_front = int(front["on_frontier"].astype(bool).sum())
    text = (
        f"{len(front)} candidates (assay combinations × panel sizes, the top k chosen inside the "
        f"training folds); {n_front} are on the frontier (no cheaper candidate does as well)."
    )
    if "recommended" in front and front["recommended"].astype(bool).any():
        r = front[front["recommended"].astype(bool)].iloc[0]
        text += (
            f" Recommended at the budget: <b>{html.escape(str(r['candidate']))}</b>, cost "
            f"{float(r['cost']):g} {unit} per patient, {html.escape(str(r['metric']))} "
            f"{float(r['estimate']):.3f} [{float(r['ci_low']):.3f}, {float(r['ci_high']):.3f}]."
        )
    return text


def value_section(run: Path, figs: Any, *, read_csv, table, section_type) -> Any | None:
    """The "Added value of each assay" section, or ``None`` when the run wrote neither table."""
    from biomarkers import pl

    value = read_csv(run / "added_value.csv")
    front = read_csv(run / "cost_frontier.csv")
    if (value is None or not len(value)) and (front is None or not len(front)):
        return None
    s = section_type("value", "Added value of each assay")
    parts = []
    if value is not None and len(value):
        parts.append(_value_text(value))
        s.tables.append(("Added value (paired Δ)", table(value[[c for c in _SHOWN if c in value]])))
        s.figure(figs, "added_value", "Paired Δ of each candidate (95% CI)",
                 lambda: pl.added_value(value))  # fmt: skip
        curves = read_csv(run / "decision_curves.csv")
        if curves is not None and len(curves):
            s.figure(figs, "added_value_decision_curves", "Decision curves of the candidates",
                     lambda: pl.decision_curve(curves))  # fmt: skip
    if front is not None and len(front):
        parts.append(_frontier_text(front))
        shown = front[front["on_frontier"].astype(bool)]
        s.tables.append(("Cost frontier", table(shown.drop(columns=["interval"], errors="ignore"))))
        unit = str(front["currency"].iloc[0]) if "currency" in front else ""
        budget = None
        if "budget" in front and front["budget"].notna().any():
            budget = float(front["budget"].dropna().iloc[0])
        s.figure(figs, "cost_frontier", "Performance against cost per patient",
                 lambda: pl.cost_frontier(front, budget=budget, unit=unit))  # fmt: skip
    s.text = " ".join(parts)
    return s
