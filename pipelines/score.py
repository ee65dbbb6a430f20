"""The ``score`` command: apply a locked panel to new patients' data."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from biomarkers import _atomic
from biomarkers._validation import format_ids
from biomarkers.exceptions import InputFileError, SchemaError

if TYPE_CHECKING:
    from biomarkers.panel import BiomarkerPanel

__all__ = ["score_files", "table_from_config"]


def _read_table(path: Path):
    if not path.is_file():
        msg = f"input file not found: {path}"
        raise InputFileError(msg)
    suffix = path.suffix.lower()
    if suffix == ".h5ad":
        from biomarkers.io import read_h5ad_safe

        return read_h5ad_safe(path)
    if suffix not in {".csv", ".tsv", ".txt", ".parquet"}:
        msg = f"{path}: unsupported feature-table format {suffix!r}; use CSV, TSV, Parquet or .h5ad"
        raise InputFileError(msg)
    try:
        if suffix == ".parquet":
            df = pd.read_parquet(path)
        else:
            sep = "\t" if suffix in {".tsv", ".txt"} else ","
            df = pd.read_csv(path, sep=sep, dtype={"subject_id": str})
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, OSError) as err:
        reason = " ".join(str(err).split()) or "empty file"
        msg = f"{path}: cannot read the feature table ({reason})"
        raise InputFileError(msg) from None
    except (ValueError, ImportError) as err:  # pyarrow: not a Parquet file
        msg = f"{path}: cannot read the feature table ({' '.join(str(err).split())})"
        raise InputFileError(msg) from None
    if "subject_id" not in df.columns:
        msg = f"{path}: a feature table needs a 'subject_id' column and one column per panel marker"
        raise SchemaError(msg)
    duplicated = df["subject_id"][df["subject_id"].duplicated()].unique()
    if len(duplicated):
        msg = f"{path}: duplicate subject_id {format_ids(duplicated)}; one row per subject"
        raise SchemaError(msg)
    return df.set_index("subject_id")


def table_from_config(panel: BiomarkerPanel, config: Path):
    """Build the panel's features from raw assay files with the same readers and builders."""
    from biomarkers.features import build_feature_table
    from pipelines.config import load_config
    from pipelines.discover import load_study

    cfg = load_config(config)
    study = load_study(cfg)
    visits = sorted(
        {f.get("visit") for f in panel.features if f.get("visit")}, key=study.visits.get
    )
    features_cfg = getattr(cfg, "features", None)
    return build_feature_table(
        study,
        visits=visits,
        blocks=features_cfg.blocks if features_cfg is not None else None,
    )


def score_files(
    panel_path: str | os.PathLike,
    inputs: list[Path],
    *,
    out: str | os.PathLike = "scores.csv",
    config: Path | None = None,
    allow_missing: str | None = None,
) -> Path:
    """Score the subjects in ``inputs`` with the panel at ``panel_path``; write ``out`` atomically.

    ``scores.csv`` keeps the subject IDs of the input: it goes back to the user who supplied them.
    """
    from biomarkers.panel import BiomarkerPanel

    panel = BiomarkerPanel.read(panel_path)
    if config is not None:
        table = table_from_config(panel, Path(config))
    else:
        if len(inputs) != 1:
            msg = "give one feature table, or raw assay files together with --config CONFIG"
            raise SchemaError(msg)
        table = _read_table(Path(inputs[0]))
    scores = panel.score(table, allow_missing=allow_missing)
    scores.index.name = "subject_id"
    scores = scores.reset_index()
    for col in scores.columns:  # flag tuples → "a;b" in the CSV
        if scores[col].map(lambda v: isinstance(v, tuple | list)).any():
            scores[col] = scores[col].map(
                lambda v: ";".join(map(str, v)) if isinstance(v, tuple | list) else v
            )
    return _atomic.write_table(out, scores)
