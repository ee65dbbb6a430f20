"""Mechanism plots: volcano per cell type, composition by arm × visit, cytokine trajectories."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers.io._visits import visit_order
from biomarkers.pl._style import OKABE_ITO, arm_color

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["composition", "trajectories", "volcano"]


def _grid(n: int, *, ncols: int = 4, size: float = 3.0):
    from biomarkers.pl._style import new_figure

    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig = new_figure(figsize=(size * ncols, size * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def volcano(
    de: pd.DataFrame,
    *,
    groupby: str = "cell_type",
    lfc: str = "log2fc",
    q: str = "q_value",
    fdr: float = 0.1,
    n_labels: int = 5,
    ncols: int = 4,
) -> Figure:
    """Volcano plots (log2 fold change vs −log10 q), one panel per cell type.

    Parameters
    ----------
    de
        Tidy DE table (``cell_type, gene, log2fc, q_value``).
    groupby
        Column defining the panels.
    lfc, q
        Columns of log2 fold change and q-value.
    fdr
        Significance threshold (coloured points, dashed line).
    n_labels
        Genes labelled per panel (smallest q).
    ncols
        Panels per row.
    """
    groups = list(de[groupby].unique()) if groupby in de else [None]
    fig, axes = _grid(len(groups), ncols=ncols)
    for ax, group in zip(axes, groups, strict=False):
        df = de if group is None else de[de[groupby] == group]
        y = -np.log10(df[q].clip(lower=1e-300).fillna(1.0))
        sig = df[q] < fdr
        ax.scatter(
            df[lfc],
            y,
            s=6,
            lw=0,
            color=np.where(sig, np.where(df[lfc] > 0, OKABE_ITO[1], OKABE_ITO[0]), "#BBBBBB"),
        )
        ax.axhline(-np.log10(fdr), ls="--", color="grey", lw=0.8)
        for row in df[sig].nsmallest(n_labels, q).itertuples():
            ax.annotate(
                str(row.gene),
                (getattr(row, lfc), -np.log10(max(getattr(row, q), 1e-300))),
                fontsize=6,
            )
        ax.set(
            title=str(group) if group is not None else "",
            xlabel="log2 fold change",
            ylabel="−log10 q",
        )
    return fig


def composition(
    props: pd.DataFrame,
    *,
    cell_types: list[str] | None = None,
    value: str = "proportion",
    arm_key: str = "arm",
    visit_key: str = "visit",
    subject_key: str = "subject_id",
    visits: list[str] | None = None,
    ncols: int = 4,
) -> Figure:
    """Cell-type proportions by arm × visit: boxes, points and lines pairing each subject's visits.

    Parameters
    ----------
    props
        Tidy table: one row per sample × cell type with ``cell_type``, ``value``, arm, visit, subject.
    cell_types
        Which cell types (panels); default all.
    value, arm_key, visit_key, subject_key
        Column names.
    visits
        Visit order on the x axis; default by study day (``biomarkers.io._visits.visit_order``).
    ncols
        Panels per row.
    """
    cell_types = cell_types or list(props["cell_type"].unique())
    visits = visits or visit_order(props[visit_key].unique())
    arms = list(props[arm_key].unique())
    fig, axes = _grid(len(cell_types), ncols=ncols)
    width = 0.8 / max(len(arms), 1)
    for ax, ct in zip(axes, cell_types, strict=False):
        df = props[props["cell_type"] == ct]
        for j, a in enumerate(arms):
            color = arm_color(str(a))
            offset = (j - (len(arms) - 1) / 2) * width
            data = [
                df[(df[arm_key] == a) & (df[visit_key] == v)][value].dropna().to_numpy()
                for v in visits
            ]
            pos = np.arange(len(visits)) + offset
            ax.boxplot(data, positions=pos, widths=width * 0.8, showfliers=False, patch_artist=True,
                       boxprops={"facecolor": color, "alpha": 0.25, "edgecolor": color},
                       medianprops={"color": color}, whiskerprops={"color": color}, capprops={"color": color})  # fmt: skip
            sub = df[df[arm_key] == a].pivot_table(
                index=subject_key, columns=visit_key, values=value, aggfunc="mean"
            )
            sub = sub.reindex(columns=visits)
            for _, row in sub.iterrows():
                ax.plot(pos, row.to_numpy(float), color=color, alpha=0.25, lw=0.5, marker=".", ms=2)
            ax.plot([], [], color=color, label=str(a))
        ax.set_xticks(range(len(visits)), visits)
        ax.set(title=str(ct), ylabel=value)
    axes[0].legend(fontsize=7, frameon=False)
    return fig


def trajectories(
    means: pd.DataFrame,
    *,
    features: list[str] | None = None,
    estimate: str = "mean",
    ci: tuple[str, str] = ("ci_low", "ci_high"),
    groupby: str | None = None,
    visit_key: str = "visit",
    visits: list[str] | None = None,
    ncols: int = 4,
) -> Figure:
    """Mean ± 95% CI by arm over visits, one panel per feature (cytokine, population, score).

    Parameters
    ----------
    means
        Tidy table: ``feature``, group, visit, ``mean``, ``ci_low``, ``ci_high``.
    features
        Panels to draw; default all.
    estimate, ci, visit_key
        Column names.
    groupby
        Column of the arms (default ``arm``, or ``group`` as in ``TrajectoryResult.means``, of
        which the by-arm rows are drawn).
    visits
        Visit order; default the order of appearance.
    ncols
        Panels per row.
    """
    if groupby is None:  # TrajectoryResult.means names it "group"; hand-made tables "arm"
        groupby = "arm" if "arm" in means else "group"
    if "comparison" in means and groupby == "group":
        means = means[means["comparison"] == "arm"]
    features = features or list(means["feature"].unique())
    visits = visits or list(dict.fromkeys(means[visit_key]))
    fig, axes = _grid(len(features), ncols=ncols)
    x_of = {v: i for i, v in enumerate(visits)}
    for ax, feat in zip(axes, features, strict=False):
        df = means[means["feature"] == feat]
        for g, sub in df.groupby(groupby, sort=True):
            sub = sub.assign(_x=sub[visit_key].map(x_of)).sort_values("_x")
            color = arm_color(str(g))
            ax.plot(sub["_x"], sub[estimate], marker="o", ms=3, color=color, label=str(g))
            ax.fill_between(sub["_x"], sub[ci[0]], sub[ci[1]], color=color, alpha=0.2, lw=0)
        ax.set_xticks(range(len(visits)), visits)
        ax.set(title=str(feat))
    axes[0].legend(fontsize=7, frameon=False)
    return fig
