"""A continuous outcome read from a clinical column."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from biomarkers.clinical._columns import after_last_visit, column_of, numeric_of
from biomarkers.clinical._outcome import Outcome

__all__ = ["continuous_outcome"]


def continuous_outcome(
    clinical: pd.DataFrame,
    *,
    column: str,
    name: str | None = None,
    assessed_day: int | None = None,
    visits: Mapping[str, float] | None = None,
    description: str | None = None,
) -> Outcome:
    """Continuous outcome from a numeric clinical column.

    Parameters
    ----------
    clinical
        Subject table (``subject_id`` column or index).
    column
        Numeric column holding the outcome (empty cells are missing).
    name
        Outcome name (label column); default ``column``.
    assessed_day
        Study day the outcome is known on; default the day after the last study visit
        (``max(visits.values()) + 1``).
    visits
        Visit label → study day (defaults to D0=0 … D90=90).
    description
        Words for reports (default: the name).

    Returns
    -------
    Continuous Outcome; table column ``name`` (float, NaN when missing).

    Raises
    ------
    SchemaError
        If the column is missing or holds a value that is not a number (named with its subject).

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.clinical import continuous_outcome
    >>> clin = pd.DataFrame({"subject_id": ["a", "b"], "fev1": ["2.5", 3]})
    >>> continuous_outcome(clin, column="fev1").table["fev1"].tolist()
    [2.5, 3.0]
    """
    values = numeric_of(column_of(clinical, column, role="outcome"), what=f"column {column!r}")
    name = name or column
    day = after_last_visit(visits) if assessed_day is None else int(assessed_day)
    definition = f"{name}: clinical column {column!r} as a number; assessed on study day {day}"
    return Outcome(
        name=name,
        kind="continuous",
        table=pd.DataFrame({name: values.to_numpy()}, index=values.index),
        assessed_day=day,
        definition=definition,
        description=description,
    )
