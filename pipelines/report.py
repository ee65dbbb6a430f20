"""The ``report`` command: (re)build the self-contained ``report.html`` of a run folder.

A report of a run that did not complete (status ``failed`` or ``running``) is written with a
banner saying so at the top; :func:`build_report` then raises :class:`IncompleteRunError`
(a user-fixable error: CLI exit code 2 with a one-line message) unless ``allow_incomplete``.
"""

from __future__ import annotations

import os
from pathlib import Path

from biomarkers.exceptions import BiomarkersError

__all__ = ["IncompleteRunError", "build_report"]


class IncompleteRunError(BiomarkersError):
    """The report was written, but of a run that did not complete (CLI exit code 2)."""


def build_report(run_dir: str | os.PathLike, *, allow_incomplete: bool = False) -> Path:
    """Write ``report.html`` (and ``figures/``) into ``run_dir`` from the results it holds.

    Parameters
    ----------
    run_dir
        A run folder.
    allow_incomplete
        Do not raise for a failed or incomplete run (its report still carries the banner).

    Raises
    ------
    IncompleteRunError
        After writing the report, when the run's status is not ``complete``.
    """
    from biomarkers.report import write_report
    from pipelines.run import read_manifest

    manifest = read_manifest(run_dir)  # refuses folders that are not runs
    path = write_report(Path(run_dir))
    status = manifest.get("status")
    if status != "complete" and not allow_incomplete:
        why = "the run was killed or is still running" if status == "running" else "see log.txt"
        msg = (
            f"{run_dir}: status is {status!r} ({why}); {path.name} was written with a banner "
            "saying so; rerun the job for a complete run, or pass --allow-incomplete to accept it"
        )
        raise IncompleteRunError(msg)
    return path
