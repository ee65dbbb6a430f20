"""The ``evaluate`` job: a locked panel on a new cohort with outcomes (drift, performance, update).

The cohort is read from raw files exactly as ``score --config`` reads them (same readers, same
feature builders, the panel's visits); the outcome comes from the config's ``outcome:`` rule.
The run folder gets the evaluation tables, ``evaluation.html`` (drift before performance) and,
with ``evaluate.update`` / ``--update``, the updated panel under ``updated_panel/`` (a new
version whose lineage names the parent; the parent file is never touched).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from biomarkers.exceptions import ConfigError, InputFileError

if TYPE_CHECKING:
    from biomarkers.panel import PanelEvaluation
    from pipelines.config import EvaluateConfig
    from pipelines.run import RunFolder, RunResult

__all__ = ["evaluate_cli", "evaluate_cohort", "run_evaluate"]


def evaluate_cohort(cfg: EvaluateConfig) -> PanelEvaluation:
    """Read the config's cohort and outcome and evaluate its panel on them."""
    from biomarkers.panel import BiomarkerPanel
    from pipelines._steps import build_outcome
    from pipelines.score import table_from_config

    if cfg.panel is None:
        msg = (
            "evaluate: no panel to evaluate; set panel: in the config or pass it on the command "
            "line (biomarkers evaluate PANEL --config CONFIG)"
        )
        raise ConfigError(msg)
    panel = BiomarkerPanel.read(cfg.panel)
    table = table_from_config(panel, cfg)
    from pipelines._steps import load_study

    outcome = build_outcome(cfg, load_study(cfg))
    e = cfg.evaluate
    return panel.evaluate(
        table, outcome, subgroups=e.subgroups, lot_key=e.lot, candidates=e.candidates,
        alpha=e.alpha, n_bootstraps=e.n_bootstraps, allow_missing=e.allow_missing,
        cohort=cfg.cohort or cfg.name, random_state=cfg.seed,
    )  # fmt: skip


def run_evaluate(cfg: EvaluateConfig, run: RunFolder) -> dict[str, Any]:
    """Write the evaluation (and, with ``evaluate.update``, the updated panel) into ``run``."""
    from pipelines._steps import record_saved

    ev = evaluate_cohort(cfg)
    record_saved(run, ev.save(run.path))
    summary: dict[str, Any] = {
        "subjects": ev.n,
        "events": ev.n_events,
        "auroc": round(ev.metric("auroc"), 4),
        "calibration_slope": round(ev.metric("calibration_slope"), 4),
        "drift_flagged": ev.drift.flagged,
        "update": ev.update.chosen,
    }
    if cfg.evaluate.update and ev.updated_panel is not None:
        record_saved(run, ev.updated_panel.save(run.resolve("updated_panel")))
        summary["updated_panel"] = "updated_panel/panel.json"
        summary["updated_version"] = ev.updated_panel.version
    elif ev.update.note:
        summary["update_note"] = ev.update.note
    return summary


def evaluate_cli(
    panel: Path,
    config: Path,
    *,
    out: Path | None = None,
    update: bool = False,
    overrides: list[str] | None = None,
    command: list[str] | None = None,
) -> RunResult:
    """``biomarkers evaluate PANEL --config CONFIG``: run the job with the panel given."""
    from pipelines.config import EvaluateConfig, load_config
    from pipelines.run import run_job

    sets = [*(overrides or []), *(["evaluate.update=true"] if update else [])]
    cfg = load_config(config, overrides=sets)
    if not isinstance(cfg, EvaluateConfig):
        msg = f"{config}: --config needs a config with pipeline: evaluate (got {cfg.pipeline!r})"
        raise ConfigError(msg)
    cfg.panel = Path(panel).resolve()  # the user's own argument: not a YAML value to parse
    if not cfg.panel.exists():
        msg = f"panel {str(panel)!r} not found; pass the panel folder a discovery run wrote"
        raise InputFileError(msg)
    return run_job(cfg, config_dir=Path(config).parent, out=out, command=command)
