"""Scoring new patients with a locked panel: the ``score`` command and the ``score`` job."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from biomarkers import _atomic
from biomarkers._logging import logger
from biomarkers._names import is_feature_name, parse_feature_name
from biomarkers.exceptions import InputFileError, SchemaError
from biomarkers.panel._data import spelled_as

if TYPE_CHECKING:
    from biomarkers.panel import BiomarkerPanel
    from pipelines.run import RunFolder

__all__ = ["run_score", "score_files", "table_from_config"]


def _read_table(path: Path):
    """A feature table file: ``.h5ad`` FeatureTable, or CSV/TSV/Parquet with ``subject_id``."""
    if not path.is_file():
        msg = f"input file not found: {path}"
        raise InputFileError(msg)
    _atomic.register_input(path)
    suffix = path.suffix.lower()
    if suffix == ".h5ad":  # HDF5 via anndata: no pickle involved
        import anndata as ad

        try:
            return ad.read_h5ad(path)
        except (OSError, KeyError, ValueError) as err:
            msg = f"{path}: not a readable .h5ad feature table ({' '.join(str(err).split())})"
            raise InputFileError(msg) from None
    if path.stat().st_size == 0:
        msg = f"{path}: the feature table is empty (0 bytes); export it again"
        raise InputFileError(msg)
    if suffix not in {".csv", ".tsv", ".txt", ".parquet"}:
        msg = f"{path}: unsupported feature-table format {suffix!r}; use CSV, TSV, Parquet or .h5ad"
        raise InputFileError(msg)
    from biomarkers.io import read_feature_table

    return read_feature_table(path)


def _panel_visits(panel: BiomarkerPanel, study_visits: dict[str, int]) -> list[str]:
    """The visits the panel's features name (``…@D7``, ``…@D7-D0``, ``…@slope(D0..D7)``), by day."""
    wanted = {
        v
        for name in panel.features
        if is_feature_name(name, study_visits)  # covariates such as 'age' have no visit
        for v in parse_feature_name(name, study_visits).visits
    }
    unknown = sorted(wanted - set(study_visits))
    if unknown:
        msg = f"the panel needs visits {unknown} that the scoring config's study.visits lacks"
        raise SchemaError(msg)
    return sorted(wanted, key=study_visits.get)


def table_from_config(panel: BiomarkerPanel, cfg: Any):
    """Build the panel's features from raw assay files with the same readers and builders."""
    from biomarkers.features import build_feature_table
    from pipelines._steps import load_study

    study = load_study(cfg)
    features = getattr(cfg, "features", None)
    return build_feature_table(
        study,
        visits=_panel_visits(panel, study.visits),
        blocks=features.blocks if features is not None else None,
    )


def _flat(scores: pd.DataFrame) -> pd.DataFrame:
    """Scores with ``subject_id`` as a column and flag tuples joined as ``a;b`` (CSV-friendly)."""
    scores = scores.copy()
    scores.index.name = "subject_id"
    scores = scores.reset_index()
    for col in scores.columns:
        if scores[col].map(lambda v: isinstance(v, tuple | list)).any():
            scores[col] = scores[col].map(
                lambda v: ";".join(map(str, v)) if isinstance(v, tuple | list) else v
            )
    return scores


def _log_missing_blocks(scored: pd.DataFrame) -> int:
    """Stacked panels: log how many patients were scored without some assay blocks."""
    if "missing_blocks" not in scored:
        return 0
    n = int(scored["missing_blocks"].map(bool).sum())
    if n:
        logger.info(
            "%d of %d patient(s) scored without some assay blocks (columns missing_blocks, "
            "auroc_loss)",
            n,
            len(scored),
        )
    return n


def score_files(
    panel_path: str | os.PathLike,
    inputs: list[Path],
    *,
    out: str | os.PathLike = "scores.csv",
    config: Path | None = None,
    allow_missing: str | None = None,
    max_imputed_share: float = 0.5,
) -> Path:
    """Score the subjects in ``inputs`` with the panel at ``panel_path``; write ``out`` atomically.

    With ``config`` (a config with ``data:`` and ``study:``, e.g. ``pipeline: score``) the raw
    assay files it names are read and turned into the panel's features. ``scores.csv`` keeps the
    subject IDs of the input: it goes back to the user who supplied them. Error messages name
    the command-line options (``--allow-missing impute_training_median``).
    """
    from biomarkers.panel import BiomarkerPanel
    from pipelines.config import DataConfig, load_config

    panel = BiomarkerPanel.read(panel_path)
    if config is not None:
        cfg = load_config(config)
        if not isinstance(getattr(cfg, "data", None), DataConfig):
            msg = f"{config}: --config needs a config with a data: section (e.g. pipeline: score)"
            raise SchemaError(msg)
        table = table_from_config(panel, cfg)
    else:
        if len(inputs) != 1:
            msg = "give one feature table, or raw assay files together with --config CONFIG"
            raise SchemaError(msg)
        table = _read_table(Path(inputs[0]))
    with spelled_as("cli"):
        scored = panel.score(
            table, allow_missing=allow_missing, max_imputed_share=max_imputed_share
        )
    _log_missing_blocks(scored)
    return _atomic.write_table(out, _flat(scored))


def run_score(cfg: Any, run: RunFolder) -> dict[str, Any]:
    """The ``score`` job: score the config's subjects with its panel into ``scores.csv``."""
    from biomarkers.panel import BiomarkerPanel

    panel = BiomarkerPanel.read(cfg.panel)
    with spelled_as("config"):
        scored = panel.score(
            table_from_config(panel, cfg),
            allow_missing=cfg.allow_missing,
            max_imputed_share=cfg.max_imputed_share,
        )
    scores = _flat(scored)
    run.write_table("scores.csv", scores)
    flagged = int(scores["flagged"].sum()) if "flagged" in scores else 0
    out = {"subjects": len(scores), "flagged": flagged}
    if "missing_blocks" in scored:
        out["missing_blocks"] = _log_missing_blocks(scored)
    return out
