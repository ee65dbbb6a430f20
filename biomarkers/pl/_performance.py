"""ROC, precision-recall, calibration and decision curves from out-of-fold predictions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers._stats import DECISION_THRESHOLDS, decision_curve_table
from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError
from biomarkers.pl._labels import check_column_args, check_models
from biomarkers.pl._style import OKABE_ITO, new_axes

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["calibration", "decision_curve", "pr_curve", "roc_curve"]

_GRID = np.linspace(0, 1, 101)


def _per_model(oof: pd.DataFrame, model: str | list[str] | None, fn: str = "roc_curve"):
    check_column_args(oof, fn, oof=["model", "y_true", "y_pred"])
    for i, name in enumerate(check_models(oof, model, fn)):
        yield i, name, oof[oof["model"] == name]


def _repeats(df: pd.DataFrame):
    if "repeat" not in df:
        yield df
        return
    for _, rep in df.groupby("repeat", sort=True):
        yield rep


def _mean_band(ax, curves: np.ndarray, *, color: str, label: str) -> None:
    """Mean curve over repeats, with the band holding 95% of the repeats' curves."""
    ax.plot(_GRID, curves.mean(0), color=color, label=label)
    if len(curves) > 1:
        low, high = np.quantile(curves, [0.025, 0.975], axis=0)
        ax.fill_between(_GRID, low, high, color=color, alpha=0.2, lw=0)


def _metric_label(name: str, metric: str, repeats: list, performance) -> str:
    """Legend text of one model's curve.

    With ``performance``: the headline estimate, its 95% CI and the interval method; else the
    pooled value averaged over repeats (the title then says it has no CI).
    """
    if performance is not None:
        from biomarkers.models._metrics import INTERVAL_LABELS

        rows = performance[(performance["model"] == name) & (performance["metric"] == metric)]
        if len(rows):
            r = rows.iloc[0]
            how = INTERVAL_LABELS.get(str(r.get("interval")), str(r.get("interval")))
            return f"{name}: {metric.upper()} {r.estimate:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}], {how}"
    return f"{name} ({metric.upper()} {np.mean(repeats):.2f})"


def roc_curve(
    oof: pd.DataFrame,
    *,
    model: str | list[str] | None = None,
    ax: Axes | None = None,
    performance: pd.DataFrame | None = None,
) -> Figure:
    """ROC curves of out-of-fold predictions: mean over repeats with a band spanning the repeats.

    Parameters
    ----------
    oof
        Out-of-fold predictions (``model, repeat, y_true, y_pred``), e.g. ``result.oof_predictions``.
    model
        Model name(s) to draw; default all.
    ax
        Axes to draw into; default a new figure.
    performance
        ``result.performance``: the legend then shows each model's AUROC with its 95% CI and
        names the interval method; without it, the pooled AUROC averaged over repeats (no CI).
        The band is the spread of the repeats' curves, not a confidence band.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.metrics import roc_curve as _roc

    fig, ax = new_axes(ax)
    for i, name, df in _per_model(oof, model):
        curves, aucs = [], []
        for rep in _repeats(df):
            if rep["y_true"].nunique() < 2:
                continue
            fpr, tpr, _ = _roc(rep["y_true"], rep["y_pred"])
            curves.append(np.interp(_GRID, fpr, tpr, left=0.0))
            aucs.append(roc_auc_score(rep["y_true"], rep["y_pred"]))
        if not curves:
            continue
        _mean_band(
            ax,
            np.vstack(curves),
            color=OKABE_ITO[i % len(OKABE_ITO)],
            label=_metric_label(name, "auroc", aucs, performance),
        )
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    ax.set(
        xlabel="1 − specificity",
        ylabel="sensitivity",
        xlim=(0, 1),
        ylim=(0, 1.01),
        title="ROC (out-of-fold; band: spread over repeats)"
        + ("" if performance is not None else "\nlegend: AUROC pooled per repeat, no CI"),
    )
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return fig


def pr_curve(
    oof: pd.DataFrame, *, model: str | list[str] | None = None, ax: Axes | None = None
) -> Figure:
    """Precision-recall curves of out-of-fold predictions, mean and band over repeats.

    Parameters
    ----------
    oof
        Out-of-fold predictions (``model, repeat, y_true, y_pred``).
    model
        Model name(s) to draw; default all.
    ax
        Axes to draw into; default a new figure.
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig, ax = new_axes(ax)
    prevalence = None
    for i, name, df in _per_model(oof, model, "pr_curve"):
        curves, aps = [], []
        for rep in _repeats(df):
            if rep["y_true"].nunique() < 2:
                continue
            precision, recall, _ = precision_recall_curve(rep["y_true"], rep["y_pred"])
            curves.append(np.interp(_GRID, recall[::-1], precision[::-1]))
            aps.append(average_precision_score(rep["y_true"], rep["y_pred"]))
            prevalence = rep["y_true"].mean()
        if not curves:
            continue
        _mean_band(
            ax,
            np.vstack(curves),
            color=OKABE_ITO[i % len(OKABE_ITO)],
            label=f"{name} (AUPRC {np.mean(aps):.2f})",
        )
    if prevalence is not None:
        ax.axhline(prevalence, ls=":", color="grey", lw=1, label=f"prevalence {prevalence:.2f}")
    ax.set(
        xlabel="recall",
        ylabel="precision",
        xlim=(0, 1),
        ylim=(0, 1.01),
        title="Precision-recall (out-of-fold)",
    )
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    return fig


def calibration(
    oof: pd.DataFrame,
    *,
    model: str | list[str] | None = None,
    n_bins: int = 5,
    ax: Axes | None = None,
) -> Figure:
    """Calibration plot: observed event rate per bin of predicted probability (quantile bins).

    Parameters
    ----------
    oof
        Out-of-fold predictions (``model, y_true, y_pred`` with probabilities).
    model
        Model name(s) to draw; default all.
    n_bins
        Number of quantile bins.
    ax
        Axes to draw into; default a new figure.
    """
    from sklearn.calibration import calibration_curve

    fig, ax = new_axes(ax)
    for i, name, df in _per_model(oof, model, "calibration"):
        if df["y_true"].nunique() < 2:
            continue
        observed, predicted = calibration_curve(
            df["y_true"], df["y_pred"].clip(0, 1), n_bins=n_bins, strategy="quantile"
        )
        ax.plot(predicted, observed, marker="o", color=OKABE_ITO[i % len(OKABE_ITO)], label=name)
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1, label="ideal")
    ax.set(
        xlabel="predicted probability",
        ylabel="observed frequency",
        xlim=(0, 1),
        ylim=(0, 1),
        title="Calibration",
    )
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def decision_curve(
    data: pd.DataFrame,
    *,
    model: str | list[str] | None = None,
    thresholds: Sequence[float] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Decision curve: net benefit of acting on the model vs treat-all and treat-none.

    Net benefit at threshold p is TP/n − FP/n · p/(1 − p) (Vickers & Elkin 2006), computed by
    :func:`biomarkers._stats.decision_curve_table` only.

    Parameters
    ----------
    data
        Either a stored decision-curve table (``threshold, treat_all, treat_none`` and one column
        per prediction, e.g. ``DiscoveryResult.decision_curve`` or ``decision_curve.csv``), drawn
        as it is; or out-of-fold predictions (``model, y_true, y_pred`` with probabilities), from
        which the table is computed.
    model
        Name(s) to draw (models of the predictions, or columns of the table); default all.
    thresholds
        Threshold probabilities for out-of-fold predictions; default the ones ``discover``
        stores (``0.05, 0.10, …, 0.60``). A stored table keeps its own.
    ax
        Axes to draw into; default a new figure.
    """
    if "threshold" in data.columns:
        if thresholds is not None:
            msg = (
                "decision_curve: thresholds= applies to out-of-fold predictions; a stored "
                "decision-curve table is drawn at its own thresholds; drop thresholds="
            )
            raise ConfigError(msg)
        table = data
    else:
        table = _oof_decision_table(
            data, model, DECISION_THRESHOLDS if thresholds is None else thresholds
        )
    curves = [c for c in table.columns if c not in ("threshold", "treat_all", "treat_none")]
    if model is not None:
        wanted = [model] if isinstance(model, str) else list(model)
        for name in wanted:
            check_choice("model", name, curves, source="bm.pl.decision_curve")
        curves = [c for c in curves if c in wanted]
    return _draw_decision_curve(table, curves, ax=ax)


def _oof_decision_table(
    oof: pd.DataFrame, model: str | list[str] | None, thresholds: Sequence[float]
) -> pd.DataFrame:
    table = None
    for _, name, df in _per_model(oof, model, "decision_curve"):
        one = decision_curve_table(df["y_true"], {name: df["y_pred"]}, thresholds)
        table = one if table is None else table.assign(**{name: one[name]})
    return decision_curve_table([], {}, thresholds) if table is None else table


def _draw_decision_curve(table: pd.DataFrame, curves: list[str], *, ax: Axes | None) -> Figure:
    fig, ax = new_axes(ax)
    t = table["threshold"].to_numpy(float)
    for i, name in enumerate(curves):
        ax.plot(t, table[name].to_numpy(float), color=OKABE_ITO[i % len(OKABE_ITO)], label=name)
    treat_all = table["treat_all"].to_numpy(float)
    if curves and np.isfinite(treat_all).any():
        ax.plot(t, treat_all, color="grey", ls="--", lw=1, label="treat all")
        ax.axhline(0, color="black", lw=1, label="treat none")
        # no strategy beats the prevalence, and treat-all at a low threshold is close to it
        top = float(np.nanmax(table[[*curves, "treat_all"]].to_numpy(float), initial=0))
        ax.set_ylim(
            min(-0.05, float(np.nanmin(treat_all[treat_all > -0.2], initial=0))),
            max(top, 0.05) * 1.1,
        )
    ax.set(xlabel="threshold probability", ylabel="net benefit", title="Decision curve")
    ax.legend(fontsize=8, frameon=False)
    return fig
