"""Subject identifiers stay out of exported results unless a config sets ``export_ids: true``.

Results are computed on pseudonymised tables (``P0001``, ``P0002``, … in the order of the input);
the mapping is kept in memory only and never written.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from biomarkers._logging import logger

if TYPE_CHECKING:
    from anndata import AnnData

__all__ = ["find_identifiers", "pseudonymise_table", "pseudonyms", "scrub"]

ID_COLUMNS = ("subject_id", "sample_id")


def pseudonyms(ids: Iterable[str], *, prefix: str = "P") -> dict[str, str]:
    """Map each distinct ID (in order of first appearance) to ``P0001``, ``P0002``, ….

    The prefix is lengthened (``P`` → ``PP`` → …) until no pseudonym can equal a real ID, so a
    pseudonym never names another patient.
    """
    import re

    unique = list(dict.fromkeys(map(str, ids)))
    width = max(4, len(str(len(unique))))
    while any(re.fullmatch(rf"{re.escape(prefix)}\d+", i) for i in unique):
        prefix += prefix[-1]
    return {orig: f"{prefix}{i + 1:0{width}d}" for i, orig in enumerate(unique)}


def pseudonymise_table(table: AnnData, mapping: dict[str, str]) -> AnnData:
    """A copy of a FeatureTable whose subject index is replaced by pseudonyms."""
    out = table.copy()
    out.obs_names = [mapping[str(s)] for s in table.obs_names]
    if "subject_id" in out.obs:
        out.obs["subject_id"] = list(out.obs_names)
    return out


def scrub(df: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """Replace subject IDs (and sample IDs that embed them) in ID columns by pseudonyms."""
    out = df.copy()
    for col in ID_COLUMNS:
        if col in out:
            values = out[col].astype(str)
            mapped = values.map(mapping)
            if mapped.isna().any():  # sample IDs: replace the subject part they embed
                mapped = values.map(lambda v: _replace_embedded(v, mapping))
            out[col] = mapped
    return out


def _replace_embedded(value: str, mapping: dict[str, str]) -> str:
    for orig in sorted(mapping, key=len, reverse=True):
        if orig in value:
            return value.replace(orig, mapping[orig])
    return value


def find_identifiers(run_dir: Path, ids: Iterable[str]) -> list[str]:
    """Files in ``run_dir`` (text-like) that contain any of ``ids`` as a whole token."""
    import re

    ids = [i for i in map(str, ids) if len(i) >= 3]
    if not ids:
        return []
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ids)) + r")(?![\w])")
    hits = []
    for path in sorted(run_dir.rglob("*")):
        if path.is_file() and path.suffix in {
            ".csv",
            ".json",
            ".md",
            ".html",
            ".txt",
            ".yaml",
            ".tsv",
        }:
            text = path.read_text(encoding="utf-8", errors="ignore")
            if pattern.search(text):
                hits.append(str(path.relative_to(run_dir)))
    if hits:
        logger.warning("subject identifiers found in: %s", ", ".join(hits))
    return hits
