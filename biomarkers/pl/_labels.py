"""Point labels placed without overlap, and the argument checks every plot function shares.

:func:`repel_labels` nudges labels apart on their *rendered* extents (the figure is drawn, each
label's window box measured, overlapping pairs pushed apart) and then fixes the layout so saving
the figure does not move the axes again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from biomarkers._validation import check_choice

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from matplotlib.text import Text

__all__ = [
    "axis_units", "check_column_args", "check_models", "label_points", "repel_labels", "text_overlaps",
]  # fmt: skip

_PAD = 2.0  # display pixels kept between two labels


def axis_units(var: pd.DataFrame, transform: str | None = None) -> dict[str, str]:
    """``{feature: axis unit}`` from a feature table's ``var["unit"]`` and the transform applied.

    ``("pg/mL", "log2")`` → ``"log2 pg/mL"``; features without a recorded unit are left out.
    """
    if "unit" not in var:
        return {}
    units = var["unit"].dropna().astype(str)
    units = units[units.str.strip() != ""]
    return {str(f): f"{transform} {u}" if transform else u for f, u in units.items()}


def check_column_args(df: pd.DataFrame, fn: str, **columns: str | Iterable[str] | None) -> None:
    """Raise ``ConfigError`` (with did-you-mean) when an argument names a column ``df`` lacks."""
    for arg, value in columns.items():
        if value is None:
            continue
        for col in [value] if isinstance(value, str) else value:
            check_choice(arg, col, df.columns, source=f"bm.pl.{fn}")


def check_models(df: pd.DataFrame, model: str | list[str] | None, fn: str) -> list[str]:
    """The models to draw: all in ``df["model"]``, or the named ones (each checked)."""
    available = [str(m) for m in df["model"].unique()]
    if model is None:
        return available
    wanted = [model] if isinstance(model, str) else list(model)
    for name in wanted:
        check_choice("model", name, available, source=f"bm.pl.{fn}")
    return wanted


def label_points(ax, xs, ys, labels, *, fontsize: float = 6) -> list[Text]:
    """Label each point once (duplicate labels dropped), with a thin leader line."""
    texts, seen = [], set()
    for x, y, label in zip(xs, ys, labels, strict=True):
        if str(label) in seen or not (np.isfinite(x) and np.isfinite(y)):
            continue
        seen.add(str(label))
        texts.append(
            ax.annotate(
                str(label), (x, y), xytext=(x, y), fontsize=fontsize,
                arrowprops={"arrowstyle": "-", "color": "#888888", "lw": 0.5},
            )
        )  # fmt: skip
    return texts


def _renderer(fig: Figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _candidates(w: float, h: float, *, rings: int) -> list[tuple[float, float]]:
    """Offsets (display pixels) of a label's lower-left corner from its point, nearest first."""
    near = [(3.0, 2.0), (-w - 3.0, 2.0), (3.0, -h - 2.0), (-w - 3.0, -h - 2.0)]
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    ring = [
        (r * np.cos(a) - w / 2, r * np.sin(a) - h / 2)
        for r in h * np.arange(1.5, rings + 1.5) for a in angles
    ]  # fmt: skip
    return near + ring


def _free(box, frame, obstacles) -> bool:
    inside = box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1
    return inside and not any(box.overlaps(o) for o in obstacles)


def repel_labels(fig: Figure, texts: list[Text], *, rings: int = 40) -> Figure:
    """Place ``texts`` (annotations in data coordinates) so no two rendered boxes intersect.

    The figure is drawn once and its layout then fixed (so saving does not move the axes);
    each label, in order, takes the nearest free spot around its point inside its axes (away
    from earlier labels and the legend), joined to the point by its leader line. A label with
    no free spot within ``rings`` label heights is hidden rather than drawn over another.
    """
    from matplotlib.transforms import Bbox

    if not texts:
        return fig
    renderer = _renderer(fig)
    fig.set_layout_engine("none")  # the axes stay where the measurement found them
    placed: dict[int, list] = {}
    for text in texts:
        ax = text.axes
        obstacles = placed.setdefault(id(ax), _legend_boxes(ax, renderer))
        box = _text_box(text, renderer)
        anchor = ax.transData.transform(text.xy)
        frame = ax.get_window_extent(renderer)
        for dx, dy in _candidates(box.width, box.height, rings=rings):
            spot = Bbox.from_bounds(anchor[0] + dx, anchor[1] + dy, box.width, box.height)
            if _free(spot, frame, obstacles):
                break
        else:
            text.set_visible(False)
            continue
        text.set_horizontalalignment("left")
        text.set_verticalalignment("bottom")
        text.set_position(ax.transData.inverted().transform((spot.x0, spot.y0)))
        obstacles.append(spot.expanded(1.0, 1.0).padded(_PAD))
    return fig


def _text_box(text: Text, renderer):
    """The rendered box of the text itself (an annotation's own extent adds its arrow)."""
    from matplotlib.text import Text

    return Text.get_window_extent(text, renderer)


def _legend_boxes(ax, renderer) -> list:
    legend = ax.get_legend()
    return [legend.get_window_extent(renderer).padded(_PAD)] if legend is not None else []


def _drawn_tick_labels(fig: Figure) -> tuple[list[Text], set[int]]:
    """Tick labels matplotlib draws (ticks inside the view), and the ids of all tick labels."""
    drawn, every = [], set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            tol = 1e-9 * max(abs(lo), abs(hi), 1.0)
            for ticks in (axis.get_major_ticks(), axis.get_minor_ticks()):
                for tick in ticks:
                    every.update(id(t) for t in (tick.label1, tick.label2))
                    if ax.get_visible() and lo - tol <= tick.get_loc() <= hi + tol:
                        drawn += [t for t in (tick.label1, tick.label2) if t.get_visible()]
    return drawn, every


def text_overlaps(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of drawn, non-empty texts of ``fig`` whose rendered boxes intersect."""
    from matplotlib.text import Text

    renderer = _renderer(fig)
    ticks, every_tick = _drawn_tick_labels(fig)
    texts = [
        t for t in fig.findobj(Text)
        if id(t) not in every_tick and t.get_visible()
        and (t.axes is None or t.axes.get_visible())
    ] + ticks  # fmt: skip
    texts = [t for t in texts if t.get_text().strip()]
    boxes = [_text_box(t, renderer) for t in texts]
    found: list[tuple[str, str]] = []
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if boxes[i].width and boxes[j].width and boxes[i].overlaps(boxes[j]):
                found.append((texts[i].get_text(), texts[j].get_text()))
    return found
