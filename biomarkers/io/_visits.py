"""The visit schedule: default visits, resolving a user's schedule, ordering and day lookup.

The one home of the visit vocabulary (docs/contracts.md, "Vocabulary"). Every layer that needs
a visit's study day (readers, Study, clinical outcomes, features, models, mechanism) asks here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import numpy as np

from biomarkers._validation import did_you_mean
from biomarkers.exceptions import SchemaError

__all__ = ["DEFAULT_VISITS", "resolve_visits", "visit_day", "visit_order"]

#: Default visit labels -> study day (``D0`` is baseline, before the first infusion). Read-only.
DEFAULT_VISITS: Mapping[str, int] = MappingProxyType(
    {"D0": 0, "D7": 7, "D14": 14, "D21": 21, "D28": 28, "D90": 90}
)

# "D-7" is day -7 (screening), as in trial protocols; "Day 7", "Day_7", "d7" are day 7
_DAY_LABEL = re.compile(r"[Dd](?:ay)?[ _]?(-?\d+)")


def visit_day(label: str, visits: Mapping[str, float] | None = None) -> float:
    """Study day of a visit label; NaN when it cannot be known.

    Parameters
    ----------
    label
        A visit label such as ``"D28"``.
    visits
        Visit schedule ``{label: study day}``; default :data:`DEFAULT_VISITS`. A label that is
        not in it still has a day when it reads as one (``D7``, ``d7``, ``Day 7``, ``Day_7``).

    Returns
    -------
    The study day as a float, or NaN for a label such as ``"baseline"`` outside ``visits``.

    Examples
    --------
    >>> visit_day("D28"), visit_day("Day 3"), visit_day("W2", {"W2": 14})
    (28.0, 3.0, 14.0)
    """
    mapping = DEFAULT_VISITS if visits is None else visits
    label = str(label)
    if label in mapping:
        try:
            return float(mapping[label])
        except (TypeError, ValueError):
            return np.nan
    m = _DAY_LABEL.fullmatch(label.strip())
    return float(m.group(1)) if m else np.nan


def _labels_to_days(labels: Iterable[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for label in map(str, labels):
        day = visit_day(label)
        if np.isnan(day):
            msg = (
                f"visit {label!r} has no study day; give visits as a mapping, e.g. {{{label!r}: 7}}"
            )
            raise SchemaError(msg)
        out[label] = day
    return out


def resolve_visits(
    visits: Mapping[str, float] | Iterable[str] | None = None, *required: str
) -> dict[str, float]:
    """Return a visit schedule as ``{label: study day}`` ordered by day.

    Parameters
    ----------
    visits
        ``None`` (:data:`DEFAULT_VISITS`), a mapping ``{label: study day}``, or a list of labels
        whose days come from the default schedule or from the label (``D7`` / ``Day 7``).
    *required
        Labels that must be in the schedule (e.g. the ``from_visit`` and ``to_visit`` of an
        outcome).

    Returns
    -------
    A new dict ordered by study day; whole days are ``int``.

    Raises
    ------
    SchemaError
        A label without a day, a day that is not a number, two labels on one day, or a
        required label outside the schedule.

    Examples
    --------
    >>> resolve_visits(["D28", "D0"])
    {'D0': 0, 'D28': 28}
    """
    if visits is None:
        visits = DEFAULT_VISITS
    elif isinstance(visits, str):
        visits = _labels_to_days([visits])
    elif not isinstance(visits, Mapping):
        visits = _labels_to_days(visits)
    result: dict[str, float] = {}
    for label, raw in visits.items():
        try:
            day = float(raw)
        except (TypeError, ValueError):
            day = np.nan
        if not np.isfinite(day):
            msg = f"visit {label!r}: study day {raw!r} is not a number; give e.g. {{{label!r}: 7}}"
            raise SchemaError(msg)
        result[str(label)] = int(day) if day.is_integer() else day
    if len(set(result.values())) != len(result):
        msg = f"visits: two labels share one study day ({result}); give each visit its own day"
        raise SchemaError(msg)
    for label in required:
        if label not in result:
            msg = (
                f"visit {label!r} is not defined{did_you_mean(str(label), result)}; "
                f"known visits: {', '.join(result)}; pass visits={{label: study_day}}"
            )
            raise SchemaError(msg)
    return dict(sorted(result.items(), key=lambda kv: kv[1]))


def visit_order(labels: Iterable[str], visits: Mapping[str, float] | None = None) -> list[str]:
    """Unique visit labels ordered by study day; labels without a day keep first-seen order, last.

    Parameters
    ----------
    labels
        Visit labels, possibly repeated.
    visits
        Visit schedule; default :data:`DEFAULT_VISITS` (days are looked up with
        :func:`visit_day`).

    Returns
    -------
    The labels, each once, ``D7`` before ``D14``.

    Examples
    --------
    >>> visit_order(["D14", "D7", "D14", "end"])
    ['D7', 'D14', 'end']
    """
    uniq = list(dict.fromkeys(map(str, labels)))
    days = {label: visit_day(label, visits) for label in uniq}

    def key(label: str) -> tuple[int, float, int]:
        day = days[label]
        return (1, 0.0, uniq.index(label)) if np.isnan(day) else (0, day, 0)

    return sorted(uniq, key=key)
