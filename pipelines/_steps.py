"""Steps shared by the jobs: read the study, build the outcome, save a result, write the report.

``discover``, ``mechanism``, ``score`` and the CLI's ``validate`` all start from these; keeping
them here (below the job modules) means no job module imports another job's internals.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biomarkers._logging import timed

if TYPE_CHECKING:
    from collections.abc import Callable

    from biomarkers.clinical import Outcome
    from biomarkers.study import Study
    from pipelines.config import DiscoverConfig, MechanismConfig, ScoreConfig
    from pipelines.run import RunFolder

__all__ = ["build_outcome", "load_study", "record_saved", "save_result", "write_report"]


def load_study(cfg: DiscoverConfig | MechanismConfig | ScoreConfig) -> Study:
    """Read and validate every input the config names into a :class:`~biomarkers.study.Study`."""
    from biomarkers.study import Study

    data = cfg.data
    cytokines = {name: {"path": a.path, "format": a.format} for name, a in data.cytokines.items()}
    with timed("reading inputs"):
        return Study.from_files(
            clinical=data.clinical,
            labs=data.labs,
            samples=data.samples,
            dosing=data.dosing,
            singlecell=data.singlecell,
            cytokines=cytokines or None,
            flow=data.flow,
            visits=cfg.study.visits,
            treated_arm=cfg.study.treated_arm,
            control_arm=cfg.study.control_arm,
            columns=data.columns or None,
            allow_identifiers=data.allow_identifiers,
        )


def build_outcome(cfg: DiscoverConfig | MechanismConfig, study: Study) -> Outcome:
    """The outcome the config's ``outcome:`` rule defines."""
    from biomarkers.clinical import outcome_from_rule

    return outcome_from_rule(
        dict(cfg.outcome), clinical=study.clinical, labs=study.labs, visits=study.visits
    )


def save_result(
    run: RunFolder,
    step: Callable[[], Any],
    *,
    description: str,
    folder: str = ".",
) -> Any:
    """Call one step, save the result it returns into ``run/folder`` and record what was written.

    Parameters
    ----------
    run
        The run folder being written.
    step
        Zero-argument callable returning a result object with ``save(directory) -> list[Path]``.
    description
        What the step does, for the log's timing line.
    folder
        Sub-folder of the run (``"."`` is the run folder itself).

    Returns
    -------
    The result object.
    """
    with timed(description):
        result = step()
    record_saved(run, result.save(run.resolve(folder) if folder != "." else run.path))
    return result


def record_saved(run: RunFolder, written: Any) -> list[Path]:
    """Register the paths a result's ``save(dir)`` returned in the run's outputs.

    Raises
    ------
    TypeError
        When ``written`` is not a list of paths (a ``save`` that does not follow the contract).
    """
    if not isinstance(written, list | tuple) or not all(
        isinstance(p, str | os.PathLike) for p in written
    ):
        msg = (
            f"save() returned {type(written).__name__}, not the list of paths it wrote; "
            "result objects follow save(dir) -> list[Path]"
        )
        raise TypeError(msg)
    base = run.path.resolve()
    # add_output refuses a path outside the run folder (a relative path starting with ..)
    return [run.add_output(os.path.relpath(Path(p).resolve(), base)) for p in written]


def write_report(run: RunFolder) -> None:
    """Write ``report.html`` (and ``figures/``) from the results in ``run`` and record it."""
    from biomarkers.report import write_report as _write

    with timed("report"):
        path = _write(run.path)
    run.add_output(str(path.relative_to(run.path)))
