"""Analytic sample sizes beside the simulated power, one row per grid point."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers.design._sample_size import interaction_power, sample_size
from biomarkers.exceptions import ConfigError

if TYPE_CHECKING:
    from biomarkers.design._result import PowerResult

__all__ = ["MARKER_CORRELATION", "companions"]

#: Loading of the measured Treg marker (flow:Treg@D0) on the simulator's Treg latent: the
#: correlation used to turn the planted per-latent-SD interaction into a per-marker-SD one.
MARKER_CORRELATION = 0.7


def _mean(df: pd.DataFrame, col: str) -> float:
    return float(pd.to_numeric(df[col], errors="coerce").mean()) if col in df else float("nan")


def _riley(g: pd.DataFrame) -> float:
    """Riley's minimum n for the discovery model, anticipating the simulated AUROC and events."""
    auc, prev, p = _mean(g, "auroc"), _mean(g, "prevalence"), _mean(g, "n_candidates")
    if not (0.5 < auc < 1 and 0 < prev < 1 and p >= 1):
        return float("nan")
    try:
        return float(sample_size("binary", parameters=round(p), c_statistic=auc, prevalence=prev).n)
    except ConfigError:
        return float("nan")


def companions(result: PowerResult) -> pd.DataFrame:
    """Per grid point: events, analytic interaction power and Riley's minimum sample size.

    The analytic interaction power sits next to the simulated one; Riley's minimum sample size
    is for a discovery model with the simulated AUROC and outcome proportion.

    Columns ``point_id, <grid keys>, events, interaction_power_analytic,
    interaction_events_for_80, riley_min_n``; the interaction power uses the point's
    ``predictive_effect`` × :data:`MARKER_CORRELATION` per marker SD and its allocation.
    """
    rows = []
    for pid, g in result.records.groupby("point_id", sort=False):
        first = g.iloc[0]
        row = {"point_id": pid, **{k: first[k] for k in result.grid_keys}}
        events = _mean(g, "events")
        row["events"] = events
        effect = float(first.get("predictive_effect", np.nan))
        if np.isfinite(events) and events > 0 and np.isfinite(effect):
            ip = interaction_power(effect, events=events, allocation=float(first["allocation"]),
                                   marker_correlation=MARKER_CORRELATION,
                                   alpha=result.settings.get("alpha", 0.05))  # fmt: skip
            row["interaction_power_analytic"] = ip.power
            row["interaction_events_for_80"] = ip.required
        row["riley_min_n"] = _riley(g)
        rows.append(row)
    return pd.DataFrame(rows)
