"""Shared input checks that produce the toolkit's one-line, actionable error messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from biomarkers.exceptions import ConfigError, SchemaError, did_you_mean, one_line

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "check_choice",
    "check_columns",
    "check_random_state",
    "did_you_mean",
    "format_ids",
]


def check_choice(
    name: str, value: Any, allowed: Iterable[Any], *, source: str | None = None
) -> None:
    """Raise :class:`ConfigError` when the argument ``name=value`` is not one of ``allowed``.

    The one check for a bad *choice* of an argument or config value (``method="ulmm"``); the
    message names the argument, shows the value, suggests the closest choice and lists them
    all. Problems with the data themselves raise :class:`SchemaError` instead.

    Parameters
    ----------
    name
        Argument (or config key) name, shown as ``name=value``.
    value
        The value given.
    allowed
        The accepted values.
    source
        Optional prefix naming where the value came from (a function, a file).

    Examples
    --------
    >>> check_choice("method", "ulmm", ["ulm", "mlm"])
    Traceback (most recent call last):
    ...
    biomarkers.exceptions.ConfigError: method='ulmm' is not supported; did you mean 'ulm'?; use one of: 'ulm', 'mlm'
    """
    allowed = list(allowed)
    try:
        ok = value in allowed
    except TypeError:  # unhashable / incomparable value
        ok = False
    if not ok:
        prefix = f"{source}: " if source else ""
        msg = (
            f"{prefix}{name}={value!r} is not supported{did_you_mean(str(value), map(str, allowed))}; "
            f"use one of: {', '.join(map(repr, allowed))}"
        )
        raise ConfigError(msg)


def format_ids(ids: Sequence, *, limit: int = 5) -> str:
    """Format the first few IDs and the count, e.g. ``"'S1', 'S2', … (12 in all)"``."""
    ids = list(ids)
    shown = ", ".join(repr(one_line(i, 60)) for i in ids[:limit])
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
