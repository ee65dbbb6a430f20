"""The ``biomarkers`` logger and a timed-step helper.

The library never attaches handlers: the CLI (or the user) does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["logger", "timed"]

logger = logging.getLogger("biomarkers")
logger.addHandler(logging.NullHandler())


@contextmanager
def timed(step: str, *, level: int = logging.INFO) -> Iterator[None]:
    """Log the start and the duration of a step.

    Parameters
    ----------
    step
        Human-readable name of the step, e.g. ``"pseudobulk"``.
    level
        Logging level of the two messages.
    """
    logger.log(level, "%s ...", step)
    start = time.perf_counter()
    try:
        yield
    finally:
        logger.log(level, "%s done in %.1f s", step, time.perf_counter() - start)
