"""The ``report`` command: (re)build the self-contained ``report.html`` of a run folder."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["build_report"]


def build_report(run_dir: str | os.PathLike) -> Path:
    """Write ``report.html`` (and ``figures/``) into ``run_dir`` from the results it holds."""
    from biomarkers.report import write_report
    from pipelines.run import read_manifest

    read_manifest(run_dir)  # refuses folders that are not runs, with a clear message
    return write_report(Path(run_dir))
