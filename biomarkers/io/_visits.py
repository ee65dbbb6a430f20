"""Private helper: turn a user's visit schedule into an ordered ``{label: study day}`` dict."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np

from biomarkers.exceptions import SchemaError
from biomarkers.io._constants import DEFAULT_VISITS

__all__: list[str] = []

_DAY_LABEL = re.compile(r"[Dd](?:ay)?[ _-]?(-?\d+)")


def resolve_visits(visits: Mapping[str, float] | Iterable[str] | None) -> dict[str, float]:
    """Return visits as ``{label: day}`` ordered by day.

    ``None`` gives :data:`DEFAULT_VISITS`; a list of labels takes the day from the default
    schedule or from labels such as ``D7`` / ``Day 7``.
    """
    if visits is None:
        return dict(DEFAULT_VISITS)
    if isinstance(visits, str):
        visits = [visits]
    if not isinstance(visits, Mapping):
        out = {}
        for label in visits:
            label = str(label)
            if label in DEFAULT_VISITS:
                out[label] = DEFAULT_VISITS[label]
                continue
            m = _DAY_LABEL.fullmatch(label.strip())
            if m is None:
                msg = (
                    f"visit {label!r} has no study day; give visits as a mapping, e.g. "
                    f"{{{label!r}: 7}}"
                )
                raise SchemaError(msg)
            out[label] = int(m.group(1))
        visits = out
    result = {}
    for label, day in visits.items():
        try:
            day = float(day)
        except (TypeError, ValueError):
            day = np.nan
        if not np.isfinite(day):
            msg = f"visit {label!r}: study day {visits[label]!r} is not a number; give e.g. {{{label!r}: 7}}"
            raise SchemaError(msg)
        result[str(label)] = int(day) if float(day).is_integer() else day
    if len(set(result.values())) != len(result):
        msg = f"visits: two labels share one study day ({result}); give each visit its own day"
        raise SchemaError(msg)
    return dict(sorted(result.items(), key=lambda kv: kv[1]))
