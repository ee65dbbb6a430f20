"""Report section of the risk-based analysis (PATH), the first of each comparison's sections."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pandas as pd

from biomarkers.report._tables import Section, html_table

__all__ = ["risk_section"]


def _read(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path, dtype={"group": str})
    except pd.errors.EmptyDataError:
        return None


def _ci(est: float, lo: float, hi: float) -> str:
    if pd.isna(est):
        return ""
    return f"{est:.3g} ({lo:.3g} to {hi:.3g})"


def _group_table(groups: pd.DataFrame) -> pd.DataFrame:
    """One readable row per risk group: n, events, both effects with their 95% CIs."""
    shown = pd.DataFrame({
        "risk group": ["all" if g == "all" else f"Q{g}" for g in groups["group"].astype(str)],
        "risk range": [f"{a:.3g} to {b:.3g}" for a, b in zip(groups["risk_low"],
                                                            groups["risk_high"], strict=True)],
        "n treated / control": [f"{a} / {b}" for a, b in zip(groups["n_treated"],
                                                             groups["n_control"], strict=True)],
    })  # fmt: skip
    if groups["events_treated"].notna().any():
        shown["events treated / control"] = [
            f"{int(a)} / {int(b)}"
            for a, b in zip(groups["events_treated"], groups["events_control"], strict=True)
        ]
    for scale in ("absolute", "relative"):
        if groups[scale].notna().any():
            name = str(groups[f"{scale}_measure"].dropna().iloc[0])
            shown[f"{name} (95% CI)"] = [
                _ci(*vals)
                for vals in groups[[scale, f"{scale}_ci_low", f"{scale}_ci_high"]].to_numpy()
            ]
    return shown


def _discrimination_text(meta: dict[str, Any]) -> str:
    disc = meta.get("risk_discrimination") or {}
    if disc.get("value") is None:
        return ""
    return (
        f" Discrimination of the baseline risk ({html.escape(str(disc.get('on')))}): "
        f"{html.escape(str(disc.get('metric')))} {float(disc['value']):.3g}."
    )


def _interaction_text(interaction: pd.DataFrame | None) -> str:
    if interaction is None or interaction.empty:
        return ""
    parts = []
    for _, row in interaction.iterrows():
        parts.append(
            f"{html.escape(str(row['scale']))} scale ({html.escape(str(row['measure']))}): "
            f"{_ci(row['estimate'], row['ci_low'], row['ci_high'])}, p = {row['p_value']:.3g}"
        )
    return " Risk × treatment interaction, " + "; ".join(parts) + "."


def risk_section(folder: Path, words: Any, figs: Any, *, root: Path) -> Section | None:
    """The risk-based analysis of one comparison, from ``risk_based.csv`` and its companions.

    Parameters
    ----------
    folder
        The comparison's folder (the run folder, or ``predictive/<treated>_vs_<control>``).
    words
        The study's words (arms, outcome) of this comparison.
    figs
        The report's figure store (``figs.add(name, make)``).
    root
        The run folder (links are written relative to it).

    Returns
    -------
    The section, or ``None`` when the folder has no ``risk_based.csv``.
    """
    import biomarkers.pl as pl

    groups = _read(folder / "risk_based.csv")
    if groups is None:
        return None
    continuous = _read(folder / "risk_based_continuous.csv")
    interaction = _read(folder / "risk_based_interaction.csv")
    meta_path = folder / "risk_based.json"
    meta = json.loads(meta_path.read_text()).get("params", {}) if meta_path.is_file() else {}
    pair = "" if folder == root else folder.name
    esc = html.escape
    s = Section(
        "risk-based" + (f"-{pair}" if pair else ""),
        "Risk-based analysis (PATH)" + (f": {words.comparison}" if pair else ""),
    )
    s.text = (
        (
            f"Effect of {esc(words.treated)} compared with {esc(words.control)} on "
            f"{esc(words.outcome)} across groups of baseline risk, on the absolute and the relative "
            f"scale (PATH statement, Kent et al. 2020), reported before any single-marker "
            f"analysis. Baseline risk: {esc(str(meta.get('risk_model', 'see risk_based.json')))}; "
            "groups cut at quantiles of everybody's risk, blind to arm."
        )
        + _discrimination_text(meta)
        + _interaction_text(interaction)
    )
    csv = (folder / "risk_based.csv").relative_to(root).as_posix()
    s.tables.append(
        (
            "Treatment effect by baseline-risk group (Q1 = lowest risk)",
            html_table(_group_table(groups), max_rows=20)
            + f"<p class='note'>All columns: <a href='{esc(csv)}'>{esc(csv)}</a>; effects "
            "along continuous risk in risk_based_continuous.csv.</p>",
        )
    )
    prefix = f"{pair}_" if pair else ""
    s.figure(figs, f"{prefix}risk_based", "Treatment effect by baseline risk (95% CIs)",
             lambda: pl.risk_based(groups, continuous))  # fmt: skip
    return s
