"""List the numeric value columns of a table (for ``labs: all`` and ``columns: all``)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["numeric_columns"]

#: Key columns that are never values.
KEY_COLUMNS = ("subject_id", "sample_id", "visit", "day")


def numeric_columns(df: pd.DataFrame, *, exclude: Iterable[str] = ()) -> list[str]:
    """Names of the numeric columns of ``df`` other than keys and ``exclude``, in file order.

    Parameters
    ----------
    df
        A table as returned by the readers (numbers already converted, e.g.
        :func:`read_labs`).
    exclude
        Further columns to leave out (``subject_id``, ``sample_id``, ``visit`` and ``day`` are
        always left out).

    Returns
    -------
    Column names whose dtype is numeric (booleans included, as 0/1 indicators).

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.io import numeric_columns
    >>> labs = pd.DataFrame({"subject_id": ["a"], "visit": ["D0"], "day": [0],
    ...                      "inr": [1.2], "ascites": ["mild"]})
    >>> numeric_columns(labs)
    ['inr']
    """
    skip = {*KEY_COLUMNS, *map(str, exclude)}
    return [
        str(c)
        for c in df.columns
        if str(c) not in skip and pd.api.types.is_numeric_dtype(df[c].dtype)
    ]
