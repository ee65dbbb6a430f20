"""Process-wide defaults (verbosity, n_jobs, random_state, figure directory)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings", "settings"]


def _default_progress() -> bool:
    # CI logs and non-interactive jobs get no progress bars
    return not os.environ.get("CI")


@dataclass
class Settings:
    """Defaults used when a function's own argument is left at ``None``.

    Attributes
    ----------
    verbosity
        0 quiet, 1 info (default), 2 debug.
    n_jobs
        Default parallelism for joblib (``None`` = 1 process).
    random_state
        Default seed for functions that take ``random_state=None``.
    figdir
        Where :mod:`biomarkers.pl` saves figures when asked to.
    progress
        Show progress bars (off when the ``CI`` environment variable is set).
    """

    verbosity: int = 1
    n_jobs: int | None = None
    random_state: int = 0
    figdir: Path = field(default_factory=lambda: Path("figures"))
    progress: bool = field(default_factory=_default_progress)


settings = Settings()
