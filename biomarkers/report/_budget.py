"""Report section: how many candidate parameters the data support, and prediction instability.

Reads what the discover job wrote: ``sample_size_budget.csv`` (Riley et al. BMJ 2020,
:meth:`biomarkers.models.DiscoveryResult.sample_size_budget`) and ``instability.csv`` /
``instability_predictions.csv`` / ``instability.json`` (Riley & Collins 2023,
:func:`biomarkers.models.prediction_instability`); ``panel/panel.json`` for the panel size.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["budget_section"]


def _budget_text(budget: pd.DataFrame, k: int | None) -> str:
    row = budget.iloc[0]
    events = "" if pd.isna(row.get("events")) else f", {int(row['events'])} events"
    text = (
        f"n = {int(row['n'])}{events}: the minimum-sample-size criteria of Riley et al. "
        "(BMJ 2020; expected shrinkage ≥ 0.9, optimism in Nagelkerke R² ≤ 0.05, a precise "
        f"overall risk) support about <b>{int(row['parameters'])} candidate parameters</b> "
        f"at an anticipated Cox-Snell R² of {float(row['r2_cs']):.3f}."
    )
    if k is not None:
        verdict = "within" if k <= int(row["parameters"]) else "<b>larger than</b>"
        text += f" The exported panel has {k} markers, {verdict} that budget."
    return text


def _instability_text(info: dict[str, Any]) -> str:
    return (
        f" Prediction instability (Riley &amp; Collins 2023): the whole {html.escape(info['model'])} "
        f"pipeline refitted on {info['n_bootstraps']} bootstrap samples predicts the "
        f"{info['n_subjects']} subjects with a mean absolute prediction error (MAPE) of "
        f"{float(info['mape']):.3f} from the original model's predictions."
    )


def _panel_size(run: Path) -> int | None:
    path = run / "panel" / "panel.json"
    try:
        return len(json.loads(path.read_text(encoding="utf-8"))["features"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _instability_figure(run: Path, info: dict[str, Any]):
    from biomarkers import pl
    from biomarkers.models import InstabilityResult

    per = pd.read_csv(run / "instability.csv")
    res = InstabilityResult(
        predictions=pd.read_csv(run / "instability_predictions.csv"), per_subject=per,
        mape=float(info["mape"]), settings=info,
    )  # fmt: skip
    return pl.instability(res)


def budget_section(run: Path, figs, *, read_csv, read_json, table, section_type):
    """The "How much the data support" section, or ``None`` without ``sample_size_budget.csv``.

    Parameters
    ----------
    run
        Run folder.
    figs
        The report's figure store (``figs.add(name, make)``).
    read_csv, read_json, table, section_type
        The report's readers, HTML table and section class (passed in: no import cycle).

    Returns
    -------
    The section, or ``None``.
    """
    budget = read_csv(run / "sample_size_budget.csv")
    if budget is None or budget.empty:
        return None
    s = section_type("budget", "How much the data support")
    s.text = _budget_text(budget, _panel_size(run))
    s.tables.append(("Riley et al. (2020) criteria: supported candidate parameters", table(
        budget[["criterion", "supported_parameters", "detail"]])))  # fmt: skip
    info = read_json(run / "instability.json")
    if info:
        s.text += _instability_text(info)
        s.figure(figs, "instability", "Prediction instability: every bootstrap model's prediction "
                 "of each subject against the original model's (diagonal: stable)",
                 lambda: _instability_figure(run, info))  # fmt: skip
    return s
