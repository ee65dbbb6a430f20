"""A binary outcome read from a clinical column: class 1 is a named value."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from biomarkers.clinical._columns import after_last_visit, canonical, column_of
from biomarkers.clinical._outcome import Outcome
from biomarkers.exceptions import SchemaError

__all__ = ["binary_outcome"]


def binary_outcome(
    clinical: pd.DataFrame,
    *,
    column: str,
    positive: object,
    name: str | None = None,
    assessed_day: int | None = None,
    visits: Mapping[str, float] | None = None,
    description: str | None = None,
) -> Outcome:
    """Binary outcome from a clinical column: 1 where it equals ``positive``, else 0.

    Values are compared in one canonical form, so ``"1"``, ``1``, ``1.0`` and ``True`` are the
    same value, as are ``"yes"``/``"true"``; text is compared after stripping spaces (case
    matters). Missing cells give NaN.

    Parameters
    ----------
    clinical
        Subject table (``subject_id`` column or index).
    column
        Column holding the outcome.
    positive
        The value that is class 1 (the event or the response of interest): every metric,
        threshold, PPV/NPV and count of the report refers to it.
    name
        Outcome name (label column); default ``column``.
    assessed_day
        Study day the outcome is known on; features from that day on leak it. Default: the day
        after the last study visit (``max(visits.values()) + 1``), as a column without a date is
        taken to be assessed at the end of the study.
    visits
        Visit label → study day (defaults to D0=0 … D90=90); used for the default
        ``assessed_day``.
    description
        Words for reports (default: the name).

    Returns
    -------
    Binary Outcome; table column ``name`` (1.0 / 0.0 / NaN); ``positive`` reads
    ``"{column} = {positive!r}"``.

    Raises
    ------
    SchemaError
        If the column is missing or ``positive`` never occurs in it (the message lists the
        values seen).

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.clinical import binary_outcome
    >>> clin = pd.DataFrame({"subject_id": ["a", "b", "c"], "status": ["Dead", "Alive", None]})
    >>> o = binary_outcome(clin, column="status", positive="Dead")
    >>> o.table["status"].tolist(), o.positive
    ([1.0, 0.0, nan], "status = 'Dead'")
    """
    values = column_of(clinical, column, role="outcome")
    canon = values.map(canonical)
    target = canonical(positive)
    if target is None:
        msg = f"binary outcome {column!r}: positive={positive!r} is a missing value; name the value of class 1"
        raise SchemaError(msg)
    if not (canon == target).any():
        seen = sorted({str(v) for v in values.dropna().unique()})[:12]
        msg = (
            f"binary outcome {column!r}: positive value {positive!r} never occurs; values seen: "
            f"{', '.join(map(repr, seen)) or '(none)'}; set positive: to one of them"
        )
        raise SchemaError(msg)
    label = np.where(canon.isna(), np.nan, (canon == target).astype(float))
    name = name or column
    table = pd.DataFrame({name: label}, index=values.index)
    day = after_last_visit(visits) if assessed_day is None else int(assessed_day)
    phrase = f"{column} = {positive!r}"
    definition = (
        f"{name}: 1 when clinical column {column!r} equals {positive!r}, 0 for other values, "
        f"missing when empty; assessed on study day {day}"
    )
    return Outcome(
        name=name,
        kind="binary",
        table=table,
        assessed_day=day,
        definition=definition,
        positive=phrase,
        description=description,
    )
