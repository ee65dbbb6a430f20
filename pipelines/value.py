"""Added value of each assay and the cost frontier inside the ``discover`` job.

Writes ``added_value.csv``, ``decision_curves.csv`` (binary outcomes) and, when the config has
``assay_costs``, ``cost_frontier.csv`` (with the ``recommended`` candidate at ``panel.budget``, the
``budget`` and ``currency``)
the report draws their figures (``figures/added_value*``, ``figures/cost_frontier``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from biomarkers._logging import logger, timed
from pipelines._steps import outcome_arg

if TYPE_CHECKING:
    from anndata import AnnData

    from biomarkers.clinical import Outcome
    from pipelines.config import DiscoverConfig
    from pipelines.run import RunFolder

__all__ = ["check_assay_costs", "panel_provenance", "value_steps"]


def check_assay_costs(cfg: DiscoverConfig, table: AnnData) -> None:
    """Refuse ``assay_costs`` naming an assay the feature table does not have (before any fit)."""
    from biomarkers.models import assay_blocks
    from biomarkers.models._cost import check_costs

    if cfg.assay_costs:
        check_costs(cfg.assay_costs, list(assay_blocks(list(table.var_names))))


def panel_provenance(cfg: DiscoverConfig) -> dict[str, Any]:
    """What the panel records of the assay costs (the card lists them); empty without costs."""
    if not cfg.assay_costs:
        return {}
    return {"assay_costs": {"currency": cfg.panel.currency, "costs": dict(cfg.assay_costs)}}


def _interval(cfg: DiscoverConfig) -> str:
    from biomarkers.models._added_value import PAIRED_INTERVALS

    if cfg.models.interval in PAIRED_INTERVALS:
        return cfg.models.interval
    logger.info("added value: interval %s has no paired form here; using bbc", cfg.models.interval)
    return "bbc"


def value_steps(
    cfg: DiscoverConfig, table: AnnData, outcome: Outcome, run: RunFolder, *, n_jobs: int | None
) -> dict[str, Any]:
    """Added value per assay (``models.added_value``) and the cost frontier (``assay_costs``)."""
    from biomarkers.models import added_value, assay_blocks, cost_frontier, recommend_panel

    m, out = cfg.models, {}
    common = {
        "outcome": outcome_arg(outcome), "model": m.models[0], "cv": (m.n_splits, m.n_repeats),
        "interval": _interval(cfg), "n_bootstraps": m.n_bootstraps, "inner_cv": m.inner_cv,
        "landmark": cfg.landmark.day, "random_state": cfg.seed, "n_jobs": n_jobs,
    }  # fmt: skip
    blocks = assay_blocks(list(table.var_names))
    clinical = m.clinical_baseline or "clinical"
    if m.added_value and (m.clinical_baseline or "clinical" in blocks) and len(blocks) > 1:
        with timed("added value of each assay"):
            res = added_value(table, clinical=clinical, **common)
        run.write_table("added_value.csv", res.table)
        if len(res.decision_curves):
            run.write_table("decision_curves.csv", res.decision_curves)
        out["added_value"] = {
            r.candidate: [round(float(r.delta), 4), round(float(r.delta_ci_low), 4),
                          round(float(r.delta_ci_high), 4)]
            for r in res.table.itertuples() if r.reference is not None
        }  # fmt: skip
    elif m.added_value:
        logger.info("added value skipped: needs clinical scores and at least one other assay")
    if cfg.assay_costs:
        with timed("cost frontier"):
            front = cost_frontier(table, costs=cfg.assay_costs, **common)
        budget = cfg.panel.budget
        front["recommended"] = False
        if budget is not None:
            best = recommend_panel(front, budget)
            front.loc[front["candidate"] == best["candidate"], "recommended"] = True
            out["recommended"] = {"candidate": best["candidate"], "cost": float(best["cost"])}
            logger.info("cost frontier: at budget %g %s: %s (%s %.3f)", budget,
                        cfg.panel.currency, best["candidate"], best["metric"], best["estimate"])  # fmt: skip
        front["budget"], front["currency"] = budget, cfg.panel.currency
        run.write_table("cost_frontier.csv", front)
    return out
