"""Calibration-for-benefit plot and targeting operator characteristic (TOC) curve."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers._validation import check_choice
from biomarkers.pl._labels import check_column_args
from biomarkers.pl._style import OKABE_ITO, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["benefit_calibration", "toc"]


def _one_learner(table: pd.DataFrame, learner: str | None, fn: str) -> pd.DataFrame:
    """Rows of ``learner`` (default the DR-learner when present, else the first one)."""
    if "learner" not in table.columns:
        return table
    learners = list(dict.fromkeys(table["learner"]))
    if learner is None:
        learner = "dr_learner" if "dr_learner" in learners else learners[0]
    check_choice("learner", learner, learners, source=f"bm.pl.{fn}")
    return table[table["learner"] == learner]


def benefit_calibration(
    table: pd.DataFrame, *, learner: str | None = None, ax: Axes | None = None
) -> Figure:
    """Observed against predicted treatment benefit by group of predicted benefit.

    Parameters
    ----------
    table
        ``result.benefit_calibration`` (or ``benefit_calibration.csv``): the ``group`` rows
        give one point each (mean predicted, mean DR score with its CI); the ``slope`` and
        ``intercept`` rows go in the legend.
    learner
        Which learner's rows to draw (default ``dr_learner`` when present).
    ax
        Axes to draw into; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_column_args(table, "benefit_calibration", columns=["kind", "predicted", "observed"])
    rows = _one_learner(table, learner, "benefit_calibration")
    groups = rows[rows["kind"] == "group"]
    fig, ax = new_axes(ax)
    x, y = groups["predicted"].to_numpy(float), groups["observed"].to_numpy(float)
    err = np.vstack([y - groups["ci_low"].to_numpy(float), groups["ci_high"].to_numpy(float) - y])
    label = "observed (DR score mean, 95% CI)"
    summary = rows.set_index("kind")
    if {"slope", "intercept"} <= set(summary.index):
        label += (
            f"\nslope {summary.loc['slope', 'observed']:.2f}, "
            f"intercept {summary.loc['intercept', 'observed']:.2f}"
        )
    ax.errorbar(x, y, yerr=err, fmt="o", color=OKABE_ITO[0], capsize=3, label=label)
    lo = float(np.nanmin(np.r_[x, groups["ci_low"]]))
    hi = float(np.nanmax(np.r_[x, groups["ci_high"]]))
    ax.plot([lo, hi], [lo, hi], color="grey", ls="--", lw=1, label="perfect calibration")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set(
        xlabel="predicted benefit (out-of-fold CATE, group mean)",
        ylabel="observed benefit",
        title="Calibration for benefit",
    )
    ax.legend(fontsize=8, frameon=False)
    return fig


def toc(table: pd.DataFrame, *, learner: str | None = None, ax: Axes | None = None) -> Figure:
    """Targeting operator characteristic: extra benefit of treating the top ``q`` by priority.

    Parameters
    ----------
    table
        ``result.toc`` (or ``toc.csv``): ``share`` (q), ``toc, ci_low, ci_high`` (per ``learner``).
    learner
        Which learner's curve to draw (default ``dr_learner`` when present).
    ax
        Axes to draw into; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_column_args(table, "toc", columns=["share", "toc", "ci_low", "ci_high"])
    rows = _one_learner(table, learner, "toc")
    fig, ax = new_axes(ax)
    ax.fill_between(rows["share"], rows["ci_low"], rows["ci_high"], color=OKABE_ITO[0], alpha=0.2,
                    lw=0, label="95% CI (pointwise)")  # fmt: skip
    ax.plot(rows["share"], rows["toc"], color=OKABE_ITO[0], marker=".", label="TOC")
    ax.axhline(0, color="grey", ls="--", lw=1)
    ax.set(
        xlabel="share treated, by decreasing predicted benefit (q)",
        ylabel="benefit in the top q minus average benefit",
        title="Targeting operator characteristic",
        xlim=(0, 1),
    )
    ax.legend(fontsize=8, frameon=False)
    return fig
