"""Early-response markers and mediation inside the discover job (issue 18).

When ``features.visits`` holds an on-treatment visit (study day > 0) and the study compares arms,
``early_response`` runs on the landmark population of that visit and writes ``early_response/``;
``mediation`` then asks whether the treatment's effect goes through the top early marker and
writes ``mediation/``. Each skip is logged with its reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from biomarkers._logging import logger
from pipelines._steps import COHORT_REASON, comparisons, outcome_arg, save_result, side_labels

if TYPE_CHECKING:
    from anndata import AnnData

    from biomarkers.clinical import Outcome
    from biomarkers.study import Study
    from pipelines.config import DiscoverConfig
    from pipelines.run import RunFolder

__all__ = ["early_steps", "top_early_marker"]

# labels that qualify a marker as mediator, best first
_MEDIATOR_LABELS = ("both", "response-associated")


def _visits(cfg: DiscoverConfig) -> tuple[str, str] | None:
    """The (on-treatment, baseline) visits of the early-response analysis, or None."""
    days = cfg.study.visits
    er = cfg.early_response
    on = [v for v in cfg.features.visits if days.get(v, 0) > 0]
    visit = er.visit or (min(on, key=lambda v: days[v]) if on else None)
    base = er.baseline or next((v for v, d in days.items() if d == 0), None)
    if visit is None or base is None:
        return None
    return visit, base


def top_early_marker(table: pd.DataFrame) -> str | None:
    """The on-treatment feature of the marker with the smallest association q-value.

    Among markers labelled ``both``, else ``response-associated``; ``None`` when none is.
    """
    for label in _MEDIATOR_LABELS:
        rows = table[table["label"] == label]
        if len(rows):
            return str(rows.sort_values("q_value_assoc")["feature"].iloc[0])
    return None


def early_steps(
    cfg: DiscoverConfig, table: AnnData, outcome: Outcome, study: Study, run: RunFolder
) -> dict[str, Any]:
    """Run early response (and mediation of its top marker) per comparison of the design."""
    visits = _visits(cfg)
    if visits is None:
        reason = "features.visits has no on-treatment visit (study day > 0) or no day-0 visit"
        logger.info("early response skipped: %s", reason)
        return {"skipped": reason}
    found = comparisons(cfg, study)
    if not found:
        logger.info("early response skipped: %s", COHORT_REASON)
        return {"skipped": COHORT_REASON}
    out = {
        folder: _one_comparison(cfg, table, outcome, one, run, visits=visits, folder=folder)
        for folder, one in found.items()
    }
    return out["."] if list(out) == ["."] else out


def _one_comparison(
    cfg: DiscoverConfig,
    table: AnnData,
    outcome: Outcome,
    study: Study,
    run: RunFolder,
    *,
    visits: tuple[str, str],
    folder: str,
) -> dict[str, Any]:
    from biomarkers.models import early_response, landmark_population

    visit, base = visits
    table = table.copy()
    table.obs["comparison"] = side_labels(study, table.obs["arm"]).to_numpy()
    target = outcome_arg(outcome)
    day = cfg.study.visits[visit]
    mask, _ = landmark_population(table, outcome=target, landmark_day=day, arm_key="comparison")
    at_risk = pd.Series(mask, index=table.obs_names)
    sub = "early_response" if folder == "." else f"{folder}/early_response"
    res = save_result(
        run,
        lambda: early_response(
            table,
            outcome=target,
            arm="comparison",
            treated=study.treated_arm,
            visit=visit,
            baseline=base,
            fdr=cfg.early_response.fdr,
            at_risk=at_risk,
            visits=cfg.study.visits,
        ),
        description=f"early response ({visit} vs {base})",
        folder=sub,
    )
    labels = res.table["label"].value_counts().to_dict()
    found: dict[str, Any] = {"visit": visit, "labels": {str(k): int(v) for k, v in labels.items()}}
    if cfg.mediation.enabled:
        found["mediation"] = _mediation(cfg, table, outcome, study, run, res=res, at_risk=at_risk,
                                        folder=folder)  # fmt: skip
    return found


def _mediation(
    cfg: DiscoverConfig,
    table: AnnData,
    outcome: Outcome,
    study: Study,
    run: RunFolder,
    *,
    res: Any,
    at_risk: pd.Series,
    folder: str,
) -> dict[str, Any]:
    from biomarkers.models import mediation

    if outcome.kind == "survival":
        reason = "mediation supports binary and continuous outcomes, not survival"
        logger.info("mediation skipped: %s", reason)
        return {"skipped": reason}
    m = cfg.mediation
    mediator = top_early_marker(res.table) if m.mediator == "auto" else m.mediator
    if mediator is None:
        reason = "no early marker is labelled 'both' or 'response-associated'"
        logger.info("mediation skipped: %s", reason)
        return {"skipped": reason}
    sub = "mediation" if folder == "." else f"{folder}/mediation"
    med = save_result(
        run,
        lambda: mediation(
            table,
            outcome=outcome.name,
            mediator=mediator,
            arm="comparison",
            treated=study.treated_arm,
            n_bootstraps=m.n_bootstraps,
            random_state=cfg.seed,
            kind=m.kind,
            at_risk=at_risk,
            visits=cfg.study.visits,
        ),
        description=f"mediation through {mediator}",
        folder=sub,
    )
    return {"mediator": mediator, "rho_explaining_away": float(med.rho_explaining_away)}
