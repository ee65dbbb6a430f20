"""Exceptions and typed warnings.

Every error a user can fix is a :class:`BiomarkersError`; the CLI turns these into a one-line
message and exit code 2. Anything else is a bug (exit code 1, traceback in the run's log).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "BelowDetectionLimitWarning",
    "BiomarkersError",
    "BiomarkersWarning",
    "ConfigError",
    "DataQualityWarning",
    "InputFileError",
    "LeakageError",
    "NotBuiltError",
    "NotCountsWarning",
    "PanelFormatError",
    "SchemaError",
    "SettingsError",
    "SmallSampleWarning",
    "one_line",
]

#: Longest value shown in a message: a 200 MB cell must not become a 200 MB error line
MESSAGE_VALUE_LIMIT = 160


def one_line(value: object, limit: int = MESSAGE_VALUE_LIMIT) -> str:
    r"""``str(value)`` on one line (whitespace collapsed) and cut to ``limit`` characters with ``…``.

    The one helper every error message uses to show a value from a file.

    Examples
    --------
    >>> one_line("a\nb   c")
    'a b c'
    >>> one_line("x" * 500, limit=8)
    'xxxxxxx…'
    """
    text = str(value)
    if len(text) > 4 * limit:  # never split a huge value just to throw most of it away
        text = text[: 4 * limit]
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""`` when none is close."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


class BiomarkersError(Exception):
    """Base class of every error the user can act on (bad input, bad config, bad request)."""


class SchemaError(BiomarkersError, ValueError):
    """An input table or object does not follow the data contract (columns, types, IDs)."""


class InputFileError(BiomarkersError, OSError):
    """An input file is missing, empty, unreadable or not of the expected format."""


class ConfigError(BiomarkersError, ValueError):
    """A job configuration is invalid (unknown key, wrong type, bad value)."""


class SettingsError(ConfigError, AttributeError):
    """``biomarkers.settings`` has no such setting (a typo such as ``settings.progres``)."""


class LeakageError(BiomarkersError, ValueError):
    """A requested analysis would let information from the outcome leak into the features."""


class PanelFormatError(BiomarkersError, ValueError):
    """A biomarker panel file is malformed, tampered with, or of an unknown format version."""


class NotBuiltError(BiomarkersError, NotImplementedError):
    """A command or option exists as an entry point but its part of the toolkit is not built yet."""


class BiomarkersWarning(UserWarning):
    """Base class of the toolkit's warnings; filter by subclass."""


class SmallSampleWarning(BiomarkersWarning):
    """Too few subjects or events for the requested analysis to be reliable."""


class BelowDetectionLimitWarning(BiomarkersWarning):
    """Many values of an analyte are censored at a detection or quantification limit."""


class DataQualityWarning(BiomarkersWarning):
    """Something in the data looks suspicious but does not stop the analysis."""


class NotCountsWarning(DataQualityWarning):
    """A matrix summed as counts holds negative or non-integer (log-normalised, scaled) values."""
