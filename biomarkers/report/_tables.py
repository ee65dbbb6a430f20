"""HTML tables of the report (one helper shared by its sections)."""

from __future__ import annotations

import pandas as pd


def html_table(df: pd.DataFrame, *, max_rows: int = 30, digits: int = 3) -> str:
    shown = df.head(max_rows).copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
    html = shown.to_html(index=False, border=0, classes="tbl", escape=True)
    if len(df) > max_rows:
        html += f"<p class='note'>{len(df) - max_rows} more rows in the CSV file.</p>"
    return html
