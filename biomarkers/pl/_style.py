"""Colour-blind-safe palette (Okabe & Ito 2008) and fixed colours for arms and visits."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "ARM_COLORS", "OKABE_ITO", "VISIT_COLORS", "arm_color", "new_axes", "new_figure", "visit_color",
]  # fmt: skip

OKABE_ITO = [
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#E69F00",  # orange
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
]
ARM_COLORS = {"ucMSC+SMT": "#0072B2", "SMT": "#D55E00"}
VISIT_COLORS = {
    "D0": "#000000", "D7": "#0072B2", "D14": "#009E73", "D21": "#E69F00",
    "D28": "#CC79A7", "D90": "#56B4E9",
}  # fmt: skip


def arm_color(arm: str, *, treated: str | None = None) -> str:
    """The colour of an arm: treated arms blue, control arms vermillion, always the same."""
    if arm in ARM_COLORS:
        return ARM_COLORS[arm]
    if treated is not None:
        return OKABE_ITO[0] if arm == treated else OKABE_ITO[1]
    return OKABE_ITO[hash(arm) % len(OKABE_ITO)]


def visit_color(visit: str) -> str:
    """The colour of a visit label (study-wide constant)."""
    return VISIT_COLORS.get(visit, OKABE_ITO[sum(map(ord, visit)) % len(OKABE_ITO)])


def new_axes(
    ax: Axes | None = None, *, figsize: tuple[float, float] = (4.5, 4.0)
) -> tuple[Figure, Axes]:
    """Return ``(figure, axes)``: the given axes and their figure, or a new pair."""
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(figsize=figsize)
    return fig, fig.add_subplot()


def new_figure(*, figsize: tuple[float, float]) -> Figure:
    """A bare Figure (not pyplot: no global state, nothing to close in batch jobs).

    In Jupyter, bare Figures only display once the inline backend's formatters are registered;
    this registers them on first use, so ``bm.pl.roc_curve(...)`` shows the plot in a cell.
    """
    from matplotlib.figure import Figure

    _enable_jupyter_display()
    return Figure(figsize=figsize, layout="constrained")


def _enable_jupyter_display() -> None:
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or getattr(shell, "_biomarkers_figures", False):
        return
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except ImportError:
        return
    shell._biomarkers_figures = True
