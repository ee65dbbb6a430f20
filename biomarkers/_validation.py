"""Shared input checks that produce the toolkit's one-line, actionable error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from biomarkers.exceptions import SchemaError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "check_columns",
    "check_random_state",
    "did_you_mean",
    "format_ids",
]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""`` when none is close."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def format_ids(ids: Sequence, *, limit: int = 5) -> str:
    """Format the first few IDs and the count, e.g. ``"'S1', 'S2', … (12 in all)"``."""
    ids = list(ids)
    shown = ", ".join(repr(str(i)) for i in ids[:limit])
    more = f", … ({len(ids)} in all)" if len(ids) > limit else ""
    return shown + more


def check_columns(
    df: pd.DataFrame, required: Iterable[str], *, source: str, hint: str = "map it with columns="
) -> None:
    """Raise :class:`SchemaError` naming the first missing column, the source and the fix."""
    for col in required:
        if col not in df.columns:
            available = ", ".join(map(str, list(df.columns)[:12]))
            msg = (
                f"{source}: required column {col!r} not found{did_you_mean(col, df.columns)}; "
                f"available: {available}; {hint}"
            )
            raise SchemaError(msg)


def check_random_state(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """Turn ``None``/int/Generator into a :class:`numpy.random.Generator` (``None`` uses settings)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        from biomarkers._settings import settings

        random_state = settings.random_state
    return np.random.default_rng(random_state)
