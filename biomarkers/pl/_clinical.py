"""Clinical plots: Kaplan–Meier curves and the CONSORT-style cohort overview."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers.pl._labels import check_column_args
from biomarkers.pl._style import OKABE_ITO, arm_color, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["cohort_overview", "kaplan_meier"]


def kaplan_meier(
    data: pd.DataFrame,
    *,
    time: str = "time_days",
    event: str = "event",
    groupby: str = "arm",
    horizon: float | None = None,
    ylabel: str = "event-free probability",
    ax: Axes | None = None,
) -> Figure:
    """Kaplan–Meier curves with 95% pointwise CIs by group (arm, or panel-score group).

    Parameters
    ----------
    data
        One row per subject with time, event (1 = event) and group columns.
    time, event
        Column names.
    groupby
        Column of the groups (one curve each).
    horizon
        Cut the x axis at this time.
    ylabel
        Label of the y axis, in the study's words (e.g. ``"transplant-free survival"``).
    ax
        Axes to draw into; default a new figure.
    """
    from sksurv.nonparametric import kaplan_meier_estimator

    check_column_args(data, "kaplan_meier", time=time, event=event, groupby=groupby)
    fig, ax = new_axes(ax)
    for i, (g, df) in enumerate(data.dropna(subset=[time, event]).groupby(groupby, sort=True)):
        t, s, (lo, hi) = kaplan_meier_estimator(
            df[event].astype(bool).to_numpy(), df[time].to_numpy(float), conf_type="log-log"
        )
        color = arm_color(str(g)) if groupby == "arm" else OKABE_ITO[i % len(OKABE_ITO)]
        ax.step(np.r_[0, t], np.r_[1, s], where="post", color=color, label=f"{g} (n={len(df)})")
        ax.fill_between(
            np.r_[0, t], np.r_[1, lo], np.r_[1, hi], step="post", color=color, alpha=0.15, lw=0
        )
    ax.set(xlabel="days", ylabel=ylabel, ylim=(0, 1.02), title="Kaplan–Meier")
    if horizon is not None:
        ax.set_xlim(0, horizon)
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    return fig


def cohort_overview(counts: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """CONSORT-style flow: randomised → treated → analysed, per arm.

    Parameters
    ----------
    counts
        One row per arm; columns are the stages in order (e.g. ``randomised, treated, analysed``)
        with an ``arm`` column or index.
    ax
        Axes to draw into; default a new figure.
    """
    df = counts.set_index("arm") if "arm" in counts else counts
    stages = list(df.columns)
    fig, ax = new_axes(ax, figsize=(2.2 * len(df) + 1.5, 1.2 * len(stages) + 0.8))
    for j, (arm, row) in enumerate(df.iterrows()):
        color = arm_color(str(arm))
        for i, stage in enumerate(stages):
            y = len(stages) - i
            ax.text(j, y, f"{stage}\nn = {int(row[stage])}", ha="center", va="center", fontsize=8,
                    bbox={"boxstyle": "round", "fc": "white", "ec": color})  # fmt: skip
            if i:
                ax.annotate(
                    "", (j, y + 0.3), (j, y + 0.7), arrowprops={"arrowstyle": "->", "color": color}
                )
        ax.text(j, len(stages) + 0.8, str(arm), ha="center", fontsize=9, weight="bold", color=color)
    ax.set(xlim=(-0.7, len(df) - 0.3), ylim=(0.3, len(stages) + 1.2), title="Cohort")
    ax.axis("off")
    return fig
