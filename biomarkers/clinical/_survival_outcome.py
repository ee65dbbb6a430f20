"""A time-to-event outcome read from an event column and a time column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biomarkers._validation import format_ids
from biomarkers.clinical._columns import canonical, column_of, numeric_of
from biomarkers.clinical._outcome import Outcome
from biomarkers.exceptions import SchemaError

__all__ = ["survival_outcome"]


def _event_flags(values: pd.Series, column: str) -> np.ndarray:
    canon = values.map(canonical)
    bad = canon.map(lambda v: not pd.isna(v) and v not in (0.0, 1.0))
    if bad.any():
        seen = sorted({str(values[i]) for i in bad.index[bad.to_numpy()]})[:8]
        msg = (
            f"clinical: event column {column!r} holds {', '.join(map(repr, seen))}; an event "
            "column must be 1/True (event) or 0/False (censored); recode it, or use kind: binary "
            "with positive: for a labelled status"
        )
        raise SchemaError(msg)
    return canon.astype(float).to_numpy()


def survival_outcome(
    clinical: pd.DataFrame,
    *,
    event: str,
    time: str,
    horizon_days: int | None = None,
    label: str = "survival",
    name: str | None = None,
    assessed_day: int | None = None,
    description: str | None = None,
) -> Outcome:
    """Time-to-event outcome from an event column (1/True = event) and a time column in days.

    Days count from the time origin (randomisation, or study entry for a cohort).

    Parameters
    ----------
    clinical
        Subject table (``subject_id`` column or index).
    event
        Event column: 1/True/"yes" = the event, 0/False/"no" = censored, empty = unknown; any
        other code is refused.
    time
        Column with the day of the event or of the last follow-up (non-negative numbers).
    horizon_days
        Administrative censoring at this day: an event after it becomes censored (0) and every
        time longer than it becomes ``horizon_days``. Required for ``label="binary"``.
    label
        ``"survival"`` (``event``, ``time_days``) or ``"binary"``: class 1 = the event on or
        before the horizon, 0 = event-free and followed up to the horizon, NaN = censored
        earlier (as in :func:`transplant_free_survival`, whose class 1 is the opposite state).
    name
        Outcome name; default the event column's name (``"{event}_d{H}"`` when that is
        ``"event"`` and there is a horizon, as the table already holds an ``event`` column).
    assessed_day
        Study day the outcome is known on; default ``horizon_days``, else the end of follow-up
        (the longest time, rounded up) — the convention of :func:`transplant_free_survival`.
    description
        Words for reports (default: the name).

    Returns
    -------
    Outcome of kind ``label``; table columns ``event`` (float), ``time_days`` and, with a
    horizon, the binary label ``name``. ``positive`` reads ``"{event} = 1"`` (``" by day H"``
    with a horizon).

    Raises
    ------
    SchemaError
        Missing columns, event codes other than 0/1, a negative or non-numeric time, an event
        without a time, ``label="binary"`` without ``horizon_days``.

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.clinical import survival_outcome
    >>> clin = pd.DataFrame({"subject_id": ["a", "b", "c"], "dead": [True, True, False],
    ...                      "days": [30, 400, 100]})
    >>> o = survival_outcome(clin, event="dead", time="days", horizon_days=365)
    >>> o.table["event"].tolist(), o.table["time_days"].tolist()
    ([1.0, 0.0, 0.0], [30.0, 365.0, 100.0])
    """
    if label not in ("survival", "binary"):
        msg = f"survival outcome: label={label!r} is not supported; use 'survival' or 'binary'"
        raise SchemaError(msg)
    if horizon_days is not None and (
        isinstance(horizon_days, bool)
        or not isinstance(horizon_days, int | np.integer)
        or horizon_days <= 0
    ):
        msg = (
            f"survival outcome: horizon_days={horizon_days!r}; give a positive whole number of days"
        )
        raise SchemaError(msg)
    if label == "binary" and horizon_days is None:
        msg = "survival outcome: label='binary' needs horizon_days (class 1 = event by that day)"
        raise SchemaError(msg)
    flags = _event_flags(column_of(clinical, event, role="event"), event)
    t = numeric_of(column_of(clinical, time, role="time"), what=f"time column {time!r}")
    ids = t.index
    times = t.to_numpy(dtype=float)
    if (times < 0).any():
        msg = f"clinical: time column {time!r} is negative for {format_ids(ids[times < 0])}; days count from the time origin (day 0)"
        raise SchemaError(msg)
    lost = (flags == 1) & np.isnan(times)
    if lost.any():
        msg = f"clinical: {event}=1 but {time!r} is empty for {format_ids(ids[lost])}; fill in the day of the event"
        raise SchemaError(msg)
    if name in ("event", "time_days") and horizon_days is not None:
        msg = f"survival outcome: name={name!r} clashes with a table column; choose another name"
        raise SchemaError(msg)
    if name is None:
        name = f"{event}_d{int(horizon_days)}" if event in ("event", "time_days") else event
        name = name if horizon_days is not None else event
    columns: dict[str, np.ndarray] = {}
    phrase = f"{event} = 1"
    if horizon_days is not None:
        h = float(horizon_days)
        with np.errstate(invalid="ignore"):
            late = times > h
            flags = np.where(late & ~np.isnan(flags), 0.0, flags)
            times = np.where(late, h, times)
            by_h = np.where(flags == 1, 1.0, np.where(times >= h, 0.0, np.nan))
        columns[name] = np.where(np.isnan(flags) | np.isnan(times), np.nan, by_h)
        phrase = f"{event} = 1 by day {int(horizon_days)}"
    columns["event"], columns["time_days"] = flags, times
    table = pd.DataFrame(columns, index=ids)
    if assessed_day is None:
        finite = times[np.isfinite(times)]
        assessed_day = int(horizon_days or (np.ceil(finite.max()) if finite.size else 1))
    cut = f", censored at day {int(horizon_days)}" if horizon_days is not None else ""
    definition = (
        f"{name}: event = clinical column {event!r} (1 = event), time_days = {time!r}{cut}"
        + (
            f"; binary label 1 = event by day {int(horizon_days)}, 0 = followed event-free to it, "
            "missing = censored earlier"
            if label == "binary"
            else ""
        )
    )
    return Outcome(
        name=name,
        kind=label,
        table=table,
        assessed_day=int(assessed_day),
        definition=definition,
        positive=phrase,
        description=description,
    )
