"""Feature ranking plots: stability vs importance, coefficients, SHAP summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers.pl._labels import check_column_args, label_points, repel_labels
from biomarkers.pl._style import OKABE_ITO, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["coefficients", "shap_summary", "stability"]


def stability(
    ranking: pd.DataFrame,
    *,
    frequency: str = "stability",
    importance: str = "importance",
    threshold: float | None = None,
    n_labels: int = 10,
    ax: Axes | None = None,
) -> Figure:
    """Selection frequency across outer folds vs mean |importance|, with the stability threshold.

    Parameters
    ----------
    ranking
        ``result.ranking`` (one row per feature, ``feature`` column or index).
    frequency, importance
        Column names of selection frequency (0–1) and importance.
    threshold
        The noise-calibrated stability threshold (drawn as a dashed line).
    n_labels
        Label the top features by frequency.
    ax
        Axes to draw into; default a new figure.
    """
    fig, ax = new_axes(ax, figsize=(5.5, 4.5))
    df = ranking.reset_index() if "feature" not in ranking else ranking
    check_column_args(df, "stability", frequency=frequency, importance=importance)
    stable = df[frequency] >= threshold if threshold is not None else np.zeros(len(df), bool)
    ax.scatter(
        df[importance],
        df[frequency],
        s=14,
        color=np.where(stable, OKABE_ITO[1], "#999999"),
        alpha=0.8,
        lw=0,
    )
    if threshold is not None:
        ax.axhline(
            threshold,
            ls="--",
            color=OKABE_ITO[1],
            lw=1,
            label=f"stability threshold {threshold:.2f}",
        )
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set(
        xlabel="mean |importance|",
        ylabel="selection frequency",
        ylim=(-0.02, 1.05),
        title="Stability of selection",
    )
    top = df.nlargest(n_labels, frequency)
    texts = label_points(ax, top[importance], top[frequency], top["feature"])
    return repel_labels(fig, texts)


def coefficients(
    table: pd.DataFrame,
    *,
    value: str = "coefficient",
    ci: tuple[str, str] | None = None,
    top: int = 20,
    ax: Axes | None = None,
) -> Figure:
    """Horizontal bar plot of (standardised) coefficients, largest |value| first.

    Parameters
    ----------
    table
        One row per feature with ``feature`` and ``value`` columns (e.g. a model's coefficients).
    value
        Column with the coefficient.
    ci
        Optional (low, high) columns drawn as error bars.
    top
        Number of features shown.
    ax
        Axes to draw into; default a new figure.
    """
    df = table.reset_index() if "feature" not in table else table
    check_column_args(df, "coefficients", value=value, ci=list(ci) if ci else None)
    df = df.loc[df[value].abs().sort_values(ascending=False).index[:top]].iloc[::-1]
    fig, ax = new_axes(ax, figsize=(5.5, 0.25 * len(df) + 1.2))
    colors = np.where(df[value] > 0, OKABE_ITO[1], OKABE_ITO[0])
    xerr = None
    if ci is not None:
        xerr = np.vstack([df[value] - df[ci[0]], df[ci[1]] - df[value]])
    ax.barh(df["feature"].astype(str), df[value], color=colors, xerr=xerr, error_kw={"lw": 0.8})
    ax.axvline(0, color="black", lw=0.8)
    ax.tick_params(axis="y", labelsize=7)
    ax.set(xlabel=value.replace("_", " "), title="Coefficients")
    return fig


def shap_summary(
    contributions: pd.DataFrame, values: pd.DataFrame, *, top: int = 15, ax: Axes | None = None
) -> Figure:
    """SHAP summary (beeswarm-style): per feature, each subject's contribution coloured by value.

    Parameters
    ----------
    contributions
        Subjects × features TreeSHAP contributions (xgboost ``pred_contribs``; bias column dropped).
    values
        Subjects × features values, same shape and labels (colour scale, ranked within feature).
    top
        Number of features (largest mean |contribution|) shown.
    ax
        Axes to draw into; default a new figure.
    """
    order = contributions.abs().mean().sort_values(ascending=False).index[:top][::-1]
    fig, ax = new_axes(ax, figsize=(5.5, 0.3 * len(order) + 1.2))
    rng = np.random.default_rng(0)  # jitter only; fixed so figures are reproducible
    for i, feature in enumerate(order):
        x = contributions[feature].to_numpy(float)
        v = (
            values[feature].rank(pct=True).to_numpy(float)
            if feature in values
            else np.full(len(x), 0.5)
        )
        y = i + rng.uniform(-0.25, 0.25, len(x))
        sc = ax.scatter(x, y, c=v, cmap="cividis", s=8, lw=0, vmin=0, vmax=1)
    ax.set_yticks(range(len(order)), [str(f) for f in order], fontsize=7)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set(xlabel="SHAP contribution (log-odds)", title="SHAP summary")
    if len(order):
        fig.colorbar(sc, ax=ax, label="feature value (rank)", shrink=0.6)
    return fig
