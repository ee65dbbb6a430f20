"""Prediction instability plot (Riley & Collins 2023): bootstrap-model vs original predictions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from biomarkers.pl._style import OKABE_ITO, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from biomarkers.models import InstabilityResult

__all__ = ["instability"]


def instability(result: InstabilityResult, *, ax: Axes | None = None) -> Figure:
    """Each subject's prediction by every bootstrap model against the original model's.

    Parameters
    ----------
    result
        From :func:`biomarkers.models.prediction_instability`.
    ax
        Axes to draw into; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Points = (original, bootstrap) predictions; the diagonal is perfect stability; the
        title gives the mean absolute prediction error (MAPE).
    """
    fig, ax = new_axes(ax, figsize=(4.8, 4.5))
    df = result.predictions
    ax.scatter(df["original"], df["prediction"], s=4, alpha=0.15, color=OKABE_ITO[1], lw=0)
    lo = float(min(df["original"].min(), df["prediction"].min()))
    hi = float(max(df["original"].max(), df["prediction"].max()))
    ax.plot([lo, hi], [lo, hi], color="black", lw=1, ls="--")
    ax.set_xlabel("prediction of the original model")
    ax.set_ylabel(f"prediction of {result.settings['n_bootstraps']} bootstrap models")
    ax.set_title(f"Prediction instability ({result.settings['model']}): MAPE = {result.mape:.3f}")
    return fig
