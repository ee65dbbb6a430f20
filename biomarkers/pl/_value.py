"""Added value of each assay (paired Δ with CIs) and the performance/cost frontier."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers.pl._style import OKABE_ITO, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["added_value", "cost_frontier"]


def added_value(table: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Paired difference of every candidate to its reference, with its interval.

    Parameters
    ----------
    table
        ``AddedValue.table`` of :func:`biomarkers.models.added_value` or ``added_value.csv``.
    ax
        Axes to draw into; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        One row per candidate with a reference (``clinical+…`` against the clinical scores,
        ``all-…`` against everything); the vertical line is no difference.
    """
    rows = table[table["reference"].notna()].reset_index(drop=True)
    fig, ax = new_axes(ax, figsize=(5.5, 0.4 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    colors = [OKABE_ITO[1] if k.startswith("all-") else OKABE_ITO[0] for k in rows["candidate"]]
    err = np.vstack([rows["delta"] - rows["delta_ci_low"], rows["delta_ci_high"] - rows["delta"]])
    ax.errorbar(rows["delta"], y, xerr=np.abs(err), fmt="none", ecolor=colors, lw=1.5)
    ax.scatter(rows["delta"], y, color=colors, zorder=3, s=20)
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(
        y, [f"{c} vs {r}" for c, r in zip(rows["candidate"], rows["reference"], strict=True)]
    )
    metric = str(table["metric"].iloc[0]) if len(table) else "metric"
    ax.set(xlabel=f"paired Δ {metric} (95% CI)", title="Added value of each assay")
    return fig


def cost_frontier(
    frontier: pd.DataFrame, *, budget: float | None = None, unit: str = "", ax: Axes | None = None
) -> Figure:
    """Expected performance (with CI) of every candidate against its cost; the frontier joined.

    Parameters
    ----------
    frontier
        Table of :func:`biomarkers.models.cost_frontier` (or ``cost_frontier.csv``).
    budget
        Draws the budget as a vertical line when given.
    unit
        Currency unit of the cost axis.
    ax
        Axes to draw into; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Grey points = dominated candidates; the steps = the frontier (labelled by its blocks):
        the best expected performance at each cost.
    """
    fig, ax = new_axes(ax, figsize=(6.0, 4.5))
    on = frontier["on_frontier"].astype(bool).to_numpy()
    ax.scatter(frontier.loc[~on, "cost"], frontier.loc[~on, "estimate"], color="0.7", s=12,
               label="dominated")  # fmt: skip
    front = frontier[on].sort_values("cost")
    err = np.vstack([front["estimate"] - front["ci_low"], front["ci_high"] - front["estimate"]])
    ax.errorbar(front["cost"], front["estimate"], yerr=np.abs(err), color=OKABE_ITO[0],
                marker="o", ms=4, lw=1.5, capsize=2, label="frontier",
                drawstyle="steps-post")  # fmt: skip
    for r in front.itertuples():
        ax.annotate(f"{r.blocks} (k={r.k})", (r.cost, r.estimate), fontsize=6,
                    xytext=(3, -9), textcoords="offset points")  # fmt: skip
    if budget is not None:
        ax.axvline(float(budget), color=OKABE_ITO[5], ls="--", lw=1, label="budget")
    metric = str(frontier["metric"].iloc[0]) if len(frontier) else "metric"
    ax.set(xlabel=f"cost per patient{f' ({unit})' if unit else ''}",
           ylabel=f"CV {metric} (95% CI)", title="Performance against cost")  # fmt: skip
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    return fig
