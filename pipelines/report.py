"""The ``report`` command: (re)build the self-contained ``report.html`` of a run folder."""

from __future__ import annotations

import os
from pathlib import Path

from biomarkers.exceptions import ConfigError

__all__ = ["build_report"]


def build_report(run_dir: str | os.PathLike) -> Path:
    """Write ``report.html`` (and ``figures/``) into ``run_dir`` from the results it holds."""
    from biomarkers.report import write_report
    from pipelines.run import read_manifest

    manifest = read_manifest(run_dir)  # refuses folders that are not runs
    if manifest.get("status") == "running":
        msg = (
            f"{run_dir}: status is 'running' (the run was killed or is still running); "
            "rerun the job to get a complete run folder"
        )
        raise ConfigError(msg)
    return write_report(Path(run_dir))
