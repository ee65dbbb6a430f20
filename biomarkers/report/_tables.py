"""HTML pieces of the report shared by its sections: a section, a table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Section:
    key: str
    title: str
    text: str = ""
    body: str = ""  # safe HTML below the text (summary lists, the panel card)
    tables: list[tuple[str, str]] = field(default_factory=list)  # (caption, html)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (caption, data URI)

    def figure(self, figs: Any, name: str, caption: str, make) -> None:
        """Draw ``make()``, save it under figures/ and embed it; skipped if it cannot be drawn."""
        if (uri := figs.add(name, make)) is not None:
            self.figures.append((caption, uri))


def html_table(df: pd.DataFrame, *, max_rows: int = 30, digits: int = 3) -> str:
    shown = df.head(max_rows).copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
    html = shown.to_html(index=False, border=0, classes="tbl", escape=True)
    if len(df) > max_rows:
        html += f"<p class='note'>{len(df) - max_rows} more rows in the CSV file.</p>"
    return html


def by_evidence(df: pd.DataFrame, *, q: str | None, effect: str | None) -> pd.DataFrame:
    """Rows sorted by evidence: smallest ``q`` first, then largest ``|effect|`` (NaN last)."""
    keys = {}
    if q is not None and q in df:
        keys["_q"] = df[q].fillna(float("inf"))
    if effect is not None and effect in df:
        keys["_e"] = -df[effect].abs().fillna(0.0)
    if not keys:
        return df
    return df.assign(**keys).sort_values(list(keys), kind="stable").drop(columns=list(keys))


def _ci_text(lo: pd.Series, hi: pd.Series) -> list[str]:
    return ["" if pd.isna(a) else f"{a:.3g} to {b:.3g}" for a, b in zip(lo, hi, strict=True)]


def predictive_table(
    pred: pd.DataFrame, *, treated: str = "treated", control: str = "control"
) -> pd.DataFrame:
    """What a reader needs of ``predictive_markers.csv``, sorted by evidence.

    Marker, the interaction on its scale with 95% CI, the marker's effect under each arm (named
    ``treated`` / ``control``) with its CI, p, q and the verdict (label); the full table stays
    in the CSV.
    """
    q = next((c for c in pred.columns if c.startswith("q_value_inter")), None)
    p = next((c for c in pred.columns if c.startswith("p_inter")), None)
    df = by_evidence(pred, q=q, effect="interaction")
    out = pd.DataFrame({"marker": df.get("marker", df.iloc[:, 0])})
    scale = df["scale"].iloc[0] if "scale" in df and len(df) else None
    name = f"interaction ({scale})" if scale else "interaction"
    if {"interaction", "ci_low", "ci_high"} <= set(df):
        out[name] = df["interaction"]
        out["95% CI"] = _ci_text(df["ci_low"], df["ci_high"])
    for arm, words in (("treated", treated), ("control", control)):
        cols = (f"beta_{arm}", f"ci_{arm}_low", f"ci_{arm}_high")
        if set(cols) <= set(df):
            out[f"effect under {words}"] = df[cols[0]]
            out[f"95% CI ({words})"] = _ci_text(df[cols[1]], df[cols[2]])
    for col, shown in ((p, "p_value"), (q, "q_value"), ("label", "verdict")):
        if col is not None and col in df:
            out[shown] = df[col]
    return out.reset_index(drop=True)
