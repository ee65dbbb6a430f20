"""Steps shared by the jobs: read the study, build the outcome, save a result, write the report.

``discover``, ``mechanism``, ``score`` and the CLI's ``validate`` all start from these; keeping
them here (below the job modules) means no job module imports another job's internals.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biomarkers._logging import logger, timed
from biomarkers.exceptions import SchemaError

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from biomarkers.clinical import Outcome
    from biomarkers.study import Study
    from pipelines.config import DiscoverConfig, MechanismConfig, ScoreConfig
    from pipelines.run import RunFolder

__all__ = [
    "build_outcome",
    "comparisons",
    "load_study",
    "record_saved",
    "save_result",
    "side_labels",
    "write_report",
]

#: Why the treatment-effect steps do not run in a cohort (logged and put in the run summary).
COHORT_REASON = "the study is a cohort (no arms to compare)"


def load_study(
    cfg: DiscoverConfig | MechanismConfig | ScoreConfig, *, blind_seed: int | None = None
) -> Study:
    """Read and validate every input the config names into a :class:`~biomarkers.study.Study`.

    ``study:`` maps onto the design keywords of :meth:`~biomarkers.study.Study.from_files`
    (``treated_arm``/``control_arm`` for two arms, ``treated``/``control`` for a comparison among
    more arms, ``allocation``); ``study.arms`` is checked against the clinical table's arms.
    With ``blind_seed`` (a blinded run) the arms are replaced here, the one place they enter
    the jobs, by a dummy randomisation within ``study.strata``
    (:func:`biomarkers.study.blind_study`), so every later step sees the dummy arms only.
    """
    from biomarkers.study import Study

    data, design = cfg.data, cfg.study
    cytokines = {name: {"path": a.path, "format": a.format} for name, a in data.cytokines.items()}
    tables = {name: t.model_dump(exclude_none=True) for name, t in data.tables.items()}
    with timed("reading inputs"):
        study = Study.from_files(
            clinical=data.clinical,
            labs=data.labs,
            samples=data.samples,
            dosing=data.dosing,
            singlecell=data.singlecell,
            cytokines=cytokines or None,
            flow=data.flow,
            tables=tables or None,
            visits=design.visits,
            treated_arm=design.treated_arm,
            control_arm=design.control_arm,
            treated=design.treated,
            control=design.control,
            allocation=design.allocation,
            columns=data.columns or None,
            allow_identifiers=data.allow_identifiers,
        )
    _check_arms(study, design.arms, source=str(data.clinical))
    if blind_seed is not None:
        from biomarkers.study import blind_study

        study = blind_study(study, seed=blind_seed, strata=getattr(design, "strata", None))
        logger.info("blinded run: arms replaced by a dummy randomisation (seed %d)", blind_seed)
    return study


def _check_arms(study: Study, expected: list[str] | None, *, source: str) -> None:
    """The arms the config expects are the arms of the clinical table."""
    if expected is None or sorted(map(str, expected)) == sorted(study.arms):
        return
    msg = (
        f"{source}: study.arms lists {', '.join(map(repr, expected))} but the arm column holds "
        f"{', '.join(map(repr, study.arms)) or 'no arms (a cohort)'}; fix study.arms or the "
        "clinical table"
    )
    raise SchemaError(msg)


def comparisons(cfg: DiscoverConfig | MechanismConfig, study: Study) -> dict[str, Study]:
    """The arm comparisons the treatment-effect steps run on, by run sub-folder.

    A cohort has none; two arms, or ``comparison: pooled``, one (``"."``: the run folder);
    ``comparison: pairwise`` one per treated × control pair (``predictive/<treated>_vs_<control>``),
    each with the configured ``allocation`` (default: equal allocation within the pair).
    """
    if study.study_design == "cohort":
        return {}
    if cfg.study.comparison == "pooled" or study.study_design == "two_arm":
        return {".": study}
    return {
        f"predictive/{_folder_name(t)}_vs_{_folder_name(c)}": study.with_comparison(
            treated=t, control=c, allocation=cfg.study.allocation
        )
        for t in study.treated_arms
        for c in study.control_arms
    }


def side_labels(study: Study, arm: pd.Series | None = None) -> pd.Series:
    """The side of the comparison of each subject (the labels of ``study.treatment``).

    ``study.treated_arm`` (``"A+B"`` when pooled), ``study.control_arm``, or NaN for arms
    outside the comparison. ``arm`` holds the arm label per row (default ``study.clinical["arm"]``), e.g. the ``arm``
    column of a pseudonymised FeatureTable.
    """
    arm = study.clinical["arm"] if arm is None else arm
    arm = arm.astype(str)
    sides = arm.where(~arm.isin(study.treated_arms), study.treated_arm)
    sides = sides.where(arm.isin([*study.treated_arms, *study.control_arms]))
    return sides.where(~arm.isin(study.control_arms), study.control_arm).rename("comparison")


def _folder_name(label: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", str(label)).strip("_") or "arm"


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


def outcome_arg(outcome: Outcome) -> str | tuple[str, str]:
    if outcome.kind == "survival":
        return ("event", "time_days")
    return outcome.name
