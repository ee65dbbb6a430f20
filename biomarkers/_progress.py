"""Progress bars: rich in a terminal, tqdm.auto in Jupyter, nothing when quiet or in CI."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from biomarkers._settings import settings

__all__ = ["progress"]

T = TypeVar("T")


def _in_jupyter() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython() if hasattr(shell, "get_ipython") else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def progress(
    iterable: Iterable[T],
    *,
    total: int | None = None,
    description: str = "",
    show: bool | None = None,
) -> Iterator[T]:
    """Wrap an iterable in a progress bar suited to where the code runs.

    Parameters
    ----------
    iterable
        What to iterate over.
    total
        Number of items, when ``iterable`` has no ``len``.
    description
        Label shown next to the bar.
    show
        Force the bar on or off; default follows ``biomarkers.settings.progress`` and
        ``settings.verbosity`` (0 disables).
    """
    if show is None:
        show = settings.progress and settings.verbosity > 0
    if not show:
        yield from iterable
        return
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if _in_jupyter():
        from tqdm.auto import tqdm

        yield from tqdm(iterable, total=total, desc=description, leave=False)
        return
    if not sys.stderr.isatty():
        yield from iterable
        return
    from rich.progress import track

    yield from track(iterable, total=total, description=description, transient=True)
