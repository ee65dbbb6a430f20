"""Figure of the risk-based analysis: treatment effect by baseline risk, both scales."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from biomarkers.exceptions import ConfigError
from biomarkers.pl._style import OKABE_ITO, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["risk_based"]

_GROUP_COLUMNS = ("group", "absolute", "absolute_ci_low", "absolute_ci_high")


def risk_based(result: Any, continuous: pd.DataFrame | None = None) -> Figure:
    """Treatment effect by baseline-risk group and along continuous risk, with 95% CIs.

    One column of panels per scale: absolute (risk / mean / RMST difference, null line at 0)
    and relative (odds or hazard ratio, log axis, null line at 1; left out for continuous
    outcomes). The top row shows each risk group (lowest risk on the left) and all subjects;
    the bottom row, when the continuous-risk table is given, the effect along risk with its
    confidence band.

    Parameters
    ----------
    result
        A :class:`~biomarkers.models.RiskBasedResult`, or its ``groups`` table (the
        ``risk_based.csv`` of a run).
    continuous
        The ``continuous`` table (``risk_based_continuous.csv``); taken from ``result`` when
        that is a result object.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> groups = pd.DataFrame({"group": ["1", "2", "all"], "absolute": [-0.05, -0.2, -0.12],
    ...                        "absolute_ci_low": [-0.2, -0.35, -0.2],
    ...                        "absolute_ci_high": [0.1, -0.05, -0.04],
    ...                        "absolute_measure": "risk difference"})
    >>> fig = risk_based(groups)
    >>> len(fig.axes)
    1
    """
    groups = getattr(result, "groups", result)
    if continuous is None:
        continuous = getattr(result, "continuous", None)
    if not isinstance(groups, pd.DataFrame) or not set(_GROUP_COLUMNS) <= set(groups.columns):
        msg = (
            "risk_based() needs a RiskBasedResult or its groups table (risk_based.csv) with "
            f"columns {', '.join(_GROUP_COLUMNS)}"
        )
        raise ConfigError(msg)
    scales = ["absolute"]
    if "relative" in groups and groups["relative"].notna().any():
        scales.append("relative")
    rows = 2 if continuous is not None and len(continuous) else 1
    fig = new_figure(figsize=(4.2 * len(scales), 3.4 * rows))
    axes = fig.subplots(rows, len(scales), squeeze=False)
    for j, scale in enumerate(scales):
        _group_panel(axes[0, j], groups, scale)
        if rows == 2:
            _continuous_panel(axes[1, j], continuous, scale)
    return fig


def _measure(table: pd.DataFrame, scale: str) -> str:
    col = f"{scale}_measure"
    values = table[col].dropna().astype(str) if col in table else pd.Series(dtype=str)
    return values.iloc[0] if len(values) and values.iloc[0] else scale + " effect"


def _null_line(ax, scale: str) -> None:
    if scale == "relative":
        ax.set_yscale("log")
        ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    else:
        ax.axhline(0.0, color="grey", lw=0.8, ls="--")


def _drawable(scale: str, *arrays: np.ndarray) -> np.ndarray:
    """Rows whose estimate and CI can be drawn: finite, and positive on the ratio (log) axis."""
    ok = np.logical_and.reduce([np.isfinite(a) for a in arrays])
    if scale == "relative":
        ok &= np.logical_and.reduce([a > 0 for a in arrays])
    return ok


def _group_panel(ax, groups: pd.DataFrame, scale: str) -> None:
    labels = groups["group"].astype(str).tolist()
    x = np.arange(len(labels))
    est = groups[scale].to_numpy(dtype=float)
    lo = groups[f"{scale}_ci_low"].to_numpy(dtype=float)
    hi = groups[f"{scale}_ci_high"].to_numpy(dtype=float)
    ok = _drawable(scale, est, lo, hi)  # e.g. a ratio with an empty cell: not drawn
    overall = np.array([lab == "all" for lab in labels])
    for mask, color, marker in ((~overall, OKABE_ITO[0], "o"), (overall, "black", "D")):
        m = mask & ok
        ax.errorbar(x[m], est[m], yerr=[est[m] - lo[m], hi[m] - est[m]], fmt=marker,
                    color=color, capsize=3, lw=1.2)  # fmt: skip
    _null_line(ax, scale)
    ax.set_xticks(x, ["all" if lab == "all" else f"Q{lab}" for lab in labels])
    ax.set(xlabel="baseline risk group (low → high)", ylabel=_measure(groups, scale))
    ax.set_title(f"{scale.capitalize()} effect by risk group", fontsize=10)


def _continuous_panel(ax, continuous: pd.DataFrame, scale: str) -> None:
    risk = continuous["risk"].to_numpy(dtype=float)
    est = continuous[scale].to_numpy(dtype=float)
    lo = continuous[f"{scale}_ci_low"].to_numpy(dtype=float)
    hi = continuous[f"{scale}_ci_high"].to_numpy(dtype=float)
    ok = _drawable(scale, risk, est, lo, hi)
    if ok.any():
        ax.plot(risk[ok], est[ok], color=OKABE_ITO[0])
        ax.fill_between(risk[ok], lo[ok], hi[ok], color=OKABE_ITO[0], alpha=0.2, lw=0)
    _null_line(ax, scale)
    ax.set(xlabel="baseline risk", ylabel=_measure(continuous, scale))
    ax.set_title(f"{scale.capitalize()} effect along risk", fontsize=10)
