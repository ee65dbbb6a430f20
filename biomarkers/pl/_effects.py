"""Treatment-effect plots: forest plots and uplift (Qini) curves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers.exceptions import ConfigError
from biomarkers.pl._labels import check_column_args
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
    measure: str | None = "measure",
    null: float | None = None,
    log_scale: bool | None = None,
    top: int = 30,
    ax: Axes | None = None,
    shrunk: tuple[str, str, str] | None = None,
) -> Figure:
    """Forest plot of estimates with confidence intervals, one panel per effect scale.

    Absolute (differences: linear axis, null line at 0) and relative effects (ratios: log axis,
    null line at 1) never share an axis: a table with a ``measure`` column (``"risk
    difference"``, ``"odds ratio"``, ...) gets one panel per measure side by side, each row
    label written once on the left.

    Parameters
    ----------
    table
        One row per estimate (and measure).
    label
        Column(s) joined into the row label (e.g. ``["marker", "subgroup"]``).
    estimate, ci
        Columns of the point estimate and the CI bounds.
    measure
        Column naming each row's effect measure (``None``: one measure, titled by ``estimate``).
    null
        Reference line; default 1 for ratios and 0 for differences.
    log_scale
        Log x axis; default for measures named "... ratio". With several measures each panel
        takes the scale and null line of its own measure (``null`` and ``log_scale`` apply to a
        single-measure table only).
    top
        Maximum number of row labels shown (in table order).
    ax
        Axes to draw into (a table with one measure only); default a new figure.
    shrunk
        Columns ``(estimate, ci_low, ci_high)`` of a second, shrunk estimate drawn just below
        each raw one in another colour (e.g. ``("interaction_shrunk",
        "interaction_shrunk_ci_low", "interaction_shrunk_ci_high")`` of
        ``predictive_markers.csv``), with a legend raw / shrunk.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"marker": ["il6", "crp"], "effect": [0.8, -0.2],
    ...                   "ci_low": [0.1, -0.9], "ci_high": [1.5, 0.5], "s": [0.4, -0.1],
    ...                   "s_low": [0.0, -0.5], "s_high": [0.9, 0.3]})
    >>> fig = forest(t, measure=None, shrunk=("s", "s_low", "s_high"))
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['raw', 'shrunk']
    """
    labels_cols = [label] if isinstance(label, str) else list(label)
    check_column_args(table, "forest", label=labels_cols, estimate=estimate, ci=list(ci))
    if shrunk is not None:
        check_column_args(table, "forest", shrunk=list(shrunk))
    df = table.assign(_label=table[labels_cols].astype(str).agg(" · ".join, axis=1))
    measures = (
        list(dict.fromkeys(df[measure].astype(str)))
        if measure is not None and measure in df
        else [None]
    )
    rows = list(dict.fromkeys(df["_label"]))[:top]
    if ax is not None and len(measures) > 1:
        msg = (
            f"bm.pl.forest: the table holds {len(measures)} effect measures "
            f"({', '.join(map(str, measures))}), one panel each; drop ax= or pass one measure"
        )
        raise ConfigError(msg)
    if len(measures) > 1:  # each panel on its own measure's scale
        null, log_scale = None, None
    fig, axes = _forest_axes(ax, len(measures), len(rows))
    y_of = {r: len(rows) - 1 - i for i, r in enumerate(rows)}
    for k, (axis, name) in enumerate(zip(axes, measures, strict=True)):
        sub = df if name is None else df[df[measure].astype(str) == name]
        sub = sub[sub["_label"].isin(y_of)]
        _forest_panel(
            axis, sub, y_of, est=estimate, ci=ci, title=name or estimate.replace("_", " "),
            null=null, log_scale=log_scale, labels=k == 0, shrunk=shrunk,
        )  # fmt: skip
    return fig


def _forest_axes(ax: Axes | None, n_panels: int, n_rows: int):
    if ax is not None:
        return ax.figure, [ax]
    from biomarkers.pl._style import new_figure

    fig = new_figure(figsize=(3.2 * n_panels + 2.6, 0.28 * n_rows + 1.4))
    axes = fig.subplots(1, n_panels, sharey=True, squeeze=False).ravel()
    return fig, list(axes)


def _log_ratio_axis(ax: Axes, lo: np.ndarray, hi: np.ndarray) -> None:
    """Log x axis with plain ratio ticks (0.5, 1, 2): 1-2-5 steps inside about a decade."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    finite = np.r_[lo, hi][np.isfinite(np.r_[lo, hi]) & (np.r_[lo, hi] > 0)]
    decades = np.log10(finite.max() / finite.min()) if len(finite) else 2.0
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if decades < 1.5 else (1.0,)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _is_ratio(measure: str) -> bool:
    """Odds/risk/hazard ratios (log axis, null 1); a *log* ratio is a difference (null 0)."""
    words = measure.lower()
    return "ratio" in words and not words.startswith("log")


def _forest_panel(
    ax: Axes, df: pd.DataFrame, y_of: dict[str, int], *, est: str, ci: tuple[str, str],
    title: str, null: float | None, log_scale: bool | None, labels: bool,
    shrunk: tuple[str, str, str] | None = None,
) -> None:  # fmt: skip
    ratio = _is_ratio(title) if log_scale is None else log_scale
    y = df["_label"].map(y_of).to_numpy(float)
    lo, hi, e = (df[c].to_numpy(float) for c in (ci[0], ci[1], est))
    raw_y = y + (0.17 if shrunk else 0.0)  # raw just above, shrunk just below the row
    ax.hlines(raw_y, lo, hi, color=OKABE_ITO[0], lw=1.2)
    ax.plot(e, raw_y, "s", color=OKABE_ITO[0], ms=4, label="raw")
    if shrunk:
        se, slo, shi = (df[c].to_numpy(float) for c in shrunk)
        ax.hlines(y - 0.17, slo, shi, color=OKABE_ITO[3], lw=1.2)
        ax.plot(se, y - 0.17, "o", color=OKABE_ITO[3], ms=4, label="shrunk")
        lo, hi = np.fmin(lo, slo), np.fmax(hi, shi)
        if labels:
            ax.legend(loc="best", fontsize=7, frameon=False)
    ax.axvline(null if null is not None else (1.0 if ratio else 0.0), color="grey", ls=":", lw=1)
    if ratio:
        _log_ratio_axis(ax, lo, hi)
    if labels:  # the panels share the y axis: the labels are written once, on the left
        ax.set_yticks(list(y_of.values()), list(y_of), fontsize=7)
        ax.set_ylim(-0.7, len(y_of) - 0.3)
    else:
        ax.tick_params(axis="y", left=False, labelleft=False)
    ax.set(xlabel=title + (" (log scale)" if ratio else ""), title=title)


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
    check_column_args(curve, "qini", x=x, y=y)
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
