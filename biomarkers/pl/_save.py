"""Save a figure as PNG and SVG, atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from biomarkers._atomic import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["save_figure"]


def save_figure(
    fig: Figure,
    path: str | os.PathLike,
    *,
    formats: tuple[str, ...] = ("png", "svg"),
    dpi: int = 150,
) -> list[Path]:
    """Write ``fig`` as ``path.<fmt>`` for each format (atomically); return the paths written.

    SVGs get a fixed hash salt and no date so the same figure gives the same bytes.
    """
    import matplotlib as mpl

    base = Path(path)
    written = []
    for fmt in formats:
        target = base.with_suffix(f".{fmt}")
        with mpl.rc_context({"svg.hashsalt": "biomarkers"}), atomic_path(target) as tmp:
            metadata = {"Date": None} if fmt == "svg" else {"Software": None}
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)
        written.append(target)
    return written
