"""Mechanism plots: volcano per cell type, composition by arm × visit, cytokine trajectories."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers._validation import check_choice
from biomarkers.io._visits import visit_order
from biomarkers.pl._labels import check_column_args, label_points, repel_labels
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
    groupby: str | list[str] | None = None,
    lfc: str = "log2fc",
    q: str = "q_value",
    gene: str = "gene",
    fdr: float = 0.1,
    n_labels: int = 5,
    ncols: int = 4,
) -> Figure:
    """Volcano plots (log2 fold change vs −log10 q), one panel per cell type and contrast.

    Contrasts are never pooled: a table with a ``contrast`` column (``"visit: D7 vs D0"``,
    ``"arm: A vs B"``) gets one panel per cell type × contrast; each gene is labelled once per
    panel, labels placed without overlap.

    Parameters
    ----------
    de
        Tidy DE table (``cell_type, gene, log2fc, q_value`` and optionally ``contrast``).
    groupby
        Column(s) defining the panels; default ``cell_type`` and ``contrast`` where present.
    lfc, q, gene
        Columns of log2 fold change, q-value and gene label.
    fdr
        Significance threshold (coloured points, dashed line).
    n_labels
        Genes labelled per panel (smallest q).
    ncols
        Panels per row.
    """
    if groupby is None:
        groupby = [c for c in ("cell_type", "contrast") if c in de]
    keys = [groupby] if isinstance(groupby, str) else list(groupby)
    check_column_args(de, "volcano", groupby=keys, lfc=lfc, q=q, gene=gene)
    groups = list(de.groupby(keys, sort=False)) if keys else [((), de)]
    fig, axes = _grid(len(groups), ncols=ncols, size=3.4)
    texts = []
    for ax, (key, df) in zip(axes, groups, strict=False):
        texts += _volcano_panel(ax, df, lfc=lfc, q=q, gene=gene, fdr=fdr, n_labels=n_labels)
        key = key if isinstance(key, tuple) else (key,)
        ax.set_title("\n".join(map(str, key)), fontsize=8)
    return repel_labels(fig, texts)


def _volcano_panel(ax, df: pd.DataFrame, *, lfc, q, gene, fdr, n_labels) -> list:
    y = -np.log10(df[q].clip(lower=1e-300).fillna(1.0))
    sig = (df[q] < fdr).to_numpy()
    up = (df[lfc] > 0).to_numpy()
    ax.scatter(
        df[lfc], y, s=6, lw=0,
        color=np.where(sig, np.where(up, OKABE_ITO[1], OKABE_ITO[0]), "#BBBBBB"),
    )  # fmt: skip
    ax.axhline(-np.log10(fdr), ls="--", color="grey", lw=0.8)
    ax.set(xlabel="log2 fold change", ylabel="−log10 q")
    top = df[sig].sort_values(q).drop_duplicates(gene).head(n_labels)
    return label_points(ax, top[lfc], -np.log10(top[q].clip(lower=1e-300)), top[gene])


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
    check_column_args(
        props, "composition", value=value, arm_key=arm_key, visit_key=visit_key,
        subject_key=subject_key,
    )  # fmt: skip
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
    units: str | Mapping[str, str] | None = None,
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
    units
        The y-axis unit: one for all panels (``"pg/mL"``) or ``{feature: unit}`` (e.g. from
        the feature table's ``var["unit"]``); default a ``unit`` column of ``means``.
    ncols
        Panels per row.
    """
    check_column_args(means, "trajectories", estimate=estimate, ci=list(ci), visit_key=visit_key)
    if groupby is None:  # TrajectoryResult.means names it "group"; hand-made tables "arm"
        groupby = "arm" if "arm" in means else "group"
    if "comparison" in means and groupby == "group":
        means = means[means["comparison"] == "arm"]
    check_column_args(means, "trajectories", groupby=groupby)
    features = features or list(means["feature"].unique())
    for feat in features:
        check_choice(
            "features", feat, list(dict.fromkeys(means["feature"])), source="bm.pl.trajectories"
        )
    unit_of = _units(means, units)
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
        ax.set(
            title=str(feat),
            xlabel="visit",
            ylabel=unit_of.get(str(feat)) or "value (unit not recorded)",
        )
    axes[0].legend(fontsize=7, frameon=False)
    return fig


def _units(means: pd.DataFrame, units: str | Mapping[str, str] | None) -> dict[str, str]:
    """``{feature: unit}`` from the argument, or from a ``unit`` column of the table."""
    feats = [str(f) for f in dict.fromkeys(means["feature"])]
    if isinstance(units, str):
        return dict.fromkeys(feats, units)
    if units is not None:
        return {str(k): str(v) for k, v in units.items() if v}
    if "unit" in means:
        first = means.dropna(subset=["unit"]).groupby("feature")["unit"].first()
        return {str(k): str(v) for k, v in first.items()}
    return {}
