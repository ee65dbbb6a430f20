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
