"""The ``power`` job: a simulation-based power study over a design grid (issue 24).

Replicates are stored in a study folder outside the timestamped run folder (``power.study_dir``,
default ``<output>/<name>/power_study``), so running the same config again resumes the study;
the run folder gets the tables, the curves and the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.config import PowerConfig
    from pipelines.run import RunFolder

__all__ = ["run_power", "study_dir"]


def study_dir(cfg: PowerConfig) -> Path:
    """The resumable replicate store of a power config."""
    return cfg.power.study_dir or Path(cfg.output) / cfg.name / "power_study"


def run_power(cfg: PowerConfig, run: RunFolder, *, stop_after: int | None = None) -> dict[str, Any]:
    """Run (or resume) the study and write its tables, curves and report into the run folder.

    Writes ``power.csv``, ``replicates.csv``, ``power.json``, ``sample_size.csv``,
    ``figures/power_curves.png`` and ``report.html``.
    """
    from biomarkers.design import power
    from biomarkers.design._companions import companions

    p, backend = cfg.power, cfg.backend
    res = power(
        p.model_dump(exclude={"study_dir"}),
        random_state=cfg.seed,
        out_dir=study_dir(cfg),
        backend=backend.kind,
        n_jobs=backend.n_jobs,
        scheduler=backend.scheduler,
        stop_after=stop_after,
    )
    res.sample_sizes = companions(res)
    for path in res.save(run.path):
        run.add_output(str(path.relative_to(run.path)))
    report = res.report(run.path, title=f"Power study: {cfg.name}")
    run.add_output(str(report.relative_to(run.path)))
    run.add_output("figures/power_curves.png")
    return {
        "study_dir": str(study_dir(cfg)),
        "grid_points": int(res.records["point_id"].nunique()) if len(res.records) else 0,
        "replicates": len(res.records),
        "complete": res.complete,
    }
