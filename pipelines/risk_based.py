"""The risk-based (PATH) step of the ``discover`` job, run for every comparison.

Writes ``risk_based.csv`` (effects by risk group), ``risk_based_continuous.csv``,
``risk_based_interaction.csv``, ``risk_scores.csv`` and ``risk_based.json`` into the comparison's
folder, next to the predictive-marker tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from biomarkers._logging import logger
from pipelines._steps import outcome_arg, save_result

if TYPE_CHECKING:
    from anndata import AnnData

    from biomarkers.clinical import Outcome
    from pipelines.config import DiscoverConfig
    from pipelines.run import RunFolder

__all__ = ["risk_step"]

#: subjects of the smaller arm a risk group needs on average (the library's own minimum)
_PER_GROUP = 5


def risk_step(
    cfg: DiscoverConfig,
    table: AnnData,
    outcome: Outcome,
    run: RunFolder,
    *,
    arm: str,
    treated: str,
    folder: str = ".",
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """Run :func:`biomarkers.models.risk_based` on one comparison and save it into ``folder``.

    With too few subjects for ``predictive.risk_groups`` groups the step uses fewer groups
    (at least 2) and says so in the log; below that it is skipped.
    """
    from biomarkers.models import risk_based

    p = cfg.predictive
    if p.risk_model is None:
        return {"skipped": "predictive.risk_model is null"}
    sides = table.obs[arm].dropna().astype(str)  # outside the comparison: NaN
    smallest = int(min((sides == treated).sum(), (sides != treated).sum()))
    n_groups = min(p.risk_groups, smallest // _PER_GROUP)
    if n_groups < 2:
        reason = f"only {smallest} subjects in the smaller arm; too few for 2 risk groups"
        logger.warning("risk-based analysis skipped: %s", reason)
        return {"skipped": reason}
    if n_groups < p.risk_groups:
        logger.warning(
            "risk-based analysis: %d risk groups instead of %d (%d subjects in the smaller arm)",
            n_groups, p.risk_groups, smallest,
        )  # fmt: skip
    res = save_result(
        run,
        lambda: risk_based(
            table,
            outcome=outcome_arg(outcome),
            arm=arm,
            treated=treated,
            risk=p.risk_model,
            markers=p.markers,
            covariates=tuple(p.covariates),
            n_groups=n_groups,
            random_state=cfg.seed,
            n_jobs=n_jobs,
            treatment_day=p.treatment_day,
        ),
        description=f"risk-based analysis (PATH; baseline risk: {p.risk_model})",
        folder=folder,
    )
    test = res.interaction.set_index("scale")
    key = "relative" if "relative" in test.index else "additive"
    return {
        "risk": res.params["risk"],
        "n_groups": n_groups,
        "interaction_scale": key,
        "interaction_p": float(test.loc[key, "p_value"]),
    }
