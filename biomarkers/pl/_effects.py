"""Treatment-effect plots: forest plots and uplift (Qini) curves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers.pl._style import OKABE_ITO, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["forest", "qini"]


def forest(
    table: pd.DataFrame,
    *,
    label: str | list[str] = "marker",
    estimate: str = "effect",
    ci: tuple[str, str] = ("ci_low", "ci_high"),
    null: float | None = None,
    log_scale: bool = False,
    top: int = 30,
    ax: Axes | None = None,
) -> Figure:
    """Forest plot of estimates with confidence intervals (subgroups, interactions).

    Parameters
    ----------
    table
        One row per estimate.
    label
        Column(s) joined into the row label (e.g. ``["marker", "subgroup"]``).
    estimate, ci
        Columns of the point estimate and the CI bounds.
    null
        Reference line (0 for differences, 1 for ratios; default chosen from ``log_scale``).
    log_scale
        Log x axis (odds or hazard ratios).
    top
        Maximum number of rows shown (in table order).
    ax
        Axes to draw into; default a new figure.
    """
    df = table.head(top).iloc[::-1]
    labels = (
        df[label].astype(str).agg(" · ".join, axis=1)
        if isinstance(label, list)
        else df[label].astype(str)
    )
    fig, ax = new_axes(ax, figsize=(5.5, 0.28 * len(df) + 1.2))
    y = np.arange(len(df))
    lo, hi, est = df[ci[0]].to_numpy(float), df[ci[1]].to_numpy(float), df[estimate].to_numpy(float)
    ax.hlines(y, lo, hi, color=OKABE_ITO[0], lw=1.2)
    ax.plot(est, y, "s", color=OKABE_ITO[0], ms=4)
    ax.axvline(
        null if null is not None else (1.0 if log_scale else 0.0), color="grey", ls=":", lw=1
    )
    if log_scale:
        ax.set_xscale("log")
    ax.set_yticks(y, labels.tolist(), fontsize=7)
    ax.set(xlabel=estimate.replace("_", " "), title="Forest plot")
    return fig


def qini(
    curve: pd.DataFrame,
    *,
    x: str = "fraction",
    y: str = "qini",
    random: str | None = "random",
    ax: Axes | None = None,
) -> Figure:
    """Uplift (Qini) curve: cumulative incremental gain when treating by decreasing predicted benefit.

    Parameters
    ----------
    curve
        ``result.uplift["curve"]``: fraction treated (``x``), cumulative gain (``y``) and optionally
        the random-targeting line.
    x, y, random
        Column names.
    ax
        Axes to draw into; default a new figure.
    """
    fig, ax = new_axes(ax)
    ax.plot(curve[x], curve[y], color=OKABE_ITO[0], label="model")
    if random is not None and random in curve:
        ax.plot(curve[x], curve[random], color="grey", ls="--", lw=1, label="random")
    else:
        ax.plot(
            [curve[x].iloc[0], curve[x].iloc[-1]],
            [curve[y].iloc[0], curve[y].iloc[-1]],
            color="grey",
            ls="--",
            lw=1,
            label="random",
        )
    ax.set(
        xlabel="fraction targeted (by predicted benefit)",
        ylabel="cumulative uplift",
        title="Qini curve",
    )
    ax.legend(fontsize=8, frameon=False)
    return fig
