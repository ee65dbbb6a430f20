"""Transplant-free survival at a horizon (binary label and time-to-event)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from biomarkers._validation import check_choice, check_columns, format_ids
from biomarkers.clinical._common import coerce_bool, subject_table
from biomarkers.clinical._outcome import Outcome
from biomarkers.exceptions import DataQualityWarning, SchemaError

__all__ = ["transplant_free_survival"]


def event_days(clinical: pd.DataFrame) -> pd.DataFrame:
    """Per subject: ``death_day``, ``transplant_day`` (inf when none) and ``last_followup_day``.

    Shared by the outcome definitions; checks flags, days and their consistency.
    """
    clin = subject_table(clinical, source="clinical")
    check_columns(
        clin,
        ["death", "last_followup_day"],
        source="clinical",
        hint="outcomes need death (0/1), death_day, transplant (0/1), transplant_day, last_followup_day",
    )
    out = pd.DataFrame(index=clin.index)
    kinds = ["death"]
    if "transplant" in clin.columns:
        kinds.append("transplant")
    else:
        warnings.warn(
            "clinical: no 'transplant' column; assuming no subject was transplanted",
            DataQualityWarning,
            stacklevel=3,
        )
        out["transplant_day"] = np.inf
    for kind in kinds:
        flag = coerce_bool(clin[kind], f"clinical column {kind!r}")
        day_col = f"{kind}_day"
        if day_col not in clin.columns:
            if np.nansum(flag) > 0:
                msg = f"clinical: {kind}=1 for some subjects but there is no {day_col!r} column; add it"
                raise SchemaError(msg)
            day = np.full(len(clin), np.nan)
        else:
            day = pd.to_numeric(clin[day_col], errors="coerce").to_numpy(dtype=float)
        bad = (flag == 1) & np.isnan(day)
        if bad.any():
            ids = format_ids(clin.index[bad])
            msg = f"clinical: {kind}=1 but {day_col} is missing for {ids}; fill in {day_col}"
            raise SchemaError(msg)
        out[day_col] = np.where(flag == 1, day, np.inf)
        unknown = np.isnan(flag)
        if unknown.any():
            out.loc[unknown, day_col] = np.nan
    out["last_followup_day"] = pd.to_numeric(clin["last_followup_day"], errors="coerce").astype(
        float
    )
    for col in ("death_day", "transplant_day", "last_followup_day"):
        neg = out[col] < 0
        if neg.any():
            ids = format_ids(out.index[neg])
            msg = f"clinical: {col} is negative for {ids} (days count from randomisation, day 0)"
            raise SchemaError(msg)
    return out


def transplant_free_survival(
    clinical: pd.DataFrame, *, horizon_days: int, kind: str = "binary"
) -> Outcome:
    """Transplant-free survival at ``horizon_days`` after randomisation.

    Death and liver transplantation are both events (transplant is a failure of medical therapy;
    no competing-risk split). Days count from randomisation (day 0).

    Parameters
    ----------
    clinical
        Subject table (``subject_id`` column or index) with ``death`` (0/1), ``death_day``,
        ``transplant`` (0/1), ``transplant_day`` and ``last_followup_day``. Without a
        ``transplant`` column nobody is taken as transplanted (with a DataQualityWarning).
    horizon_days
        Horizon, e.g. 28 or 90.
    kind
        Which label the Outcome declares as its target: ``"binary"`` (column ``tfs{h}``) or
        ``"survival"`` (``event``, ``time_days``). The table always holds all three.

    Returns
    -------
    Outcome named ``tfs{h}`` (``positive``: "alive and transplant-free at day {h}" for the
    binary label, whose class 1 is the favourable state, or "death or transplant by day {h}" for
    the survival event) with ``assessed_day = horizon_days`` and table columns
    ``tfs{h}`` (1 = alive and transplant-free at the horizon, 0 = died or transplanted on or
    before it, NaN = censored before the horizon without an event), ``event`` (1 = death or
    transplant on or before the horizon) and ``time_days`` (day of the first event, or of last
    follow-up, censored at the horizon).

    Raises
    ------
    SchemaError
        If columns are missing, an event has no day, or a day is negative.

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.clinical import transplant_free_survival
    >>> clin = pd.DataFrame({"subject_id": ["a", "b", "c"], "death": [1, 0, 0],
    ...                      "death_day": [10, None, None], "transplant": [0, 0, 0],
    ...                      "transplant_day": [None] * 3, "last_followup_day": [10, 90, 40]})
    >>> transplant_free_survival(clin, horizon_days=90).table["tfs90"].tolist()
    [0.0, 1.0, nan]
    """
    check_choice("kind", kind, ("binary", "survival"))
    if not isinstance(horizon_days, (int, np.integer)) or horizon_days <= 0:
        msg = f"horizon_days must be a positive whole number of days; got {horizon_days!r}"
        raise SchemaError(msg)
    h = float(horizon_days)
    ev = event_days(clinical)
    first = np.fmin(ev["death_day"].to_numpy(), ev["transplant_day"].to_numpy())
    first = np.where(ev[["death_day", "transplant_day"]].isna().any(axis=1), np.nan, first)
    fu = ev["last_followup_day"].to_numpy()
    with np.errstate(invalid="ignore"):
        event = first <= h
        alive_at_h = (first > h) & ((fu >= h) | np.isfinite(first))
        label = np.where(event, 0.0, np.where(alive_at_h, 1.0, np.nan))
        time = np.where(event, first, np.fmin(np.where(np.isfinite(first), h, fu), h))
    event_f = np.where(np.isnan(first), np.nan, event.astype(float))
    name = f"tfs{int(horizon_days)}"
    table = pd.DataFrame({name: label, "event": event_f, "time_days": time}, index=ev.index)
    definition = (
        f"{name}: 1 = alive and transplant-free at day {int(horizon_days)} after randomisation, "
        f"0 = died or transplanted on or before day {int(horizon_days)}, missing = censored "
        f"earlier; event/time_days = first of death or transplant, censored at day "
        f"{int(horizon_days)} or at last follow-up"
    )
    h_int = int(horizon_days)
    positive = (
        f"alive and transplant-free at day {h_int}"
        if kind == "binary"
        else f"death or transplant by day {h_int}"
    )
    return Outcome(
        name=name,
        kind=kind,
        table=table,
        assessed_day=h_int,
        definition=definition,
        positive=positive,
        description=f"transplant-free survival at day {h_int}",
    )
