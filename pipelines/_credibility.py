"""The discover job's credibility card: related outcomes' interactions → ``credibility.csv``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from biomarkers._logging import timed
from pipelines._privacy import pseudonyms
from pipelines._steps import build_outcome

if TYPE_CHECKING:
    from anndata import AnnData

    from biomarkers.models import PredictiveResult
    from biomarkers.study import Study
    from pipelines.config import DiscoverConfig
    from pipelines.run import RunFolder

__all__ = ["write_credibility"]


def related_results(
    cfg: DiscoverConfig, table: AnnData, study: Study, predict: Any
) -> dict[str, PredictiveResult]:
    """The interaction models of every ``predictive.related_outcomes`` rule, by name.

    Each rule is built like ``outcome:`` (:func:`biomarkers.clinical.outcome_from_rule`) and
    put in ``obs`` under its own columns; ``predict(table, outcome)`` runs the interaction
    models only (no learners, no shrinkage).
    """
    out = {}
    ids = None if cfg.export_ids else pseudonyms(study.clinical.index)
    for rule in cfg.predictive.related_outcomes:
        related = build_outcome(cfg.model_copy(update={"outcome": rule}), study)
        values = related.table.rename(index=ids) if ids else related.table
        values = values.reindex(table.obs_names.astype(str))
        t = table.copy()
        name = f"related__{related.name}"
        if related.kind == "survival":
            t.obs[f"{name}__event"] = values["event"].to_numpy()
            t.obs[f"{name}__time"] = values["time_days"].to_numpy()
            arg: Any = (f"{name}__event", f"{name}__time")
        else:
            t.obs[name] = values[related.name].to_numpy()
            arg = name
        with timed(f"predictive: related outcome {related.name!r}"):
            out[rule["name"]] = predict(t, arg)
    return out


def write_credibility(
    cfg: DiscoverConfig,
    result: PredictiveResult,
    related: dict[str, PredictiveResult],
    run: RunFolder,
    *,
    prefix: str = "",
) -> None:
    """``credibility.csv`` (one row per reported predictive marker) next to the markers table."""
    from biomarkers.models import credibility

    favourable = None if result.params.get("kind") == "survival" else cfg.panel.favourable
    card = credibility(
        result,
        prespecified=cfg.predictive.prespecified,
        related=related,
        phase="II",
        favourable=favourable,
    )
    run.write_table(f"{prefix}credibility.csv", card)
