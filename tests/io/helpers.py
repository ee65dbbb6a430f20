from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_as(df: pd.DataFrame, path: Path, fmt: str) -> Path:
    """Write ``df`` (all strings) in one of the supported container formats."""
    if fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "tsv":
        df.to_csv(path, sep="\t", index=False)
    elif fmt == "xlsx":
        df.to_excel(path, index=False, sheet_name="data")
    elif fmt == "parquet":
        df.to_parquet(path, index=False)
    return path
