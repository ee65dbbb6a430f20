"""landmark_population(): who can be predicted from features known at a landmark day."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers.exceptions import SchemaError
from biomarkers.models._inputs import _feature_days, _frame_of
from biomarkers.models._population import population, resolve_landmark

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["landmark_population"]


def landmark_population(
    table: ad.AnnData | pd.DataFrame,
    *,
    outcome: str | tuple[str, str],
    landmark_day: float | str | None = "auto",
    arm_key: str = "arm",
) -> tuple[np.ndarray, pd.DataFrame]:
    """Subjects event-free and still under follow-up at a landmark day, and who was removed why.

    A model whose features are known at day ``L`` (the landmark, e.g. 7 for ``@D7`` or
    ``@D7-D0`` features) can only be applied to patients alive, event-free and followed at day
    ``L`` who had their day-``L`` visit. Subjects are removed, in this order, for an event at or
    before ``L`` (death or transplant, or the survival outcome's event), follow-up ending at or
    before ``L`` without an event, or no measurement at all at day ``L``.

    Parameters
    ----------
    table
        FeatureTable (AnnData; outcome and clinical columns in ``obs``) or a DataFrame with one
        row per subject (features and outcome columns).
    outcome
        Name in ``uns["outcomes"]``, a column name or an ``(event, time)`` pair of columns. The
        event times come from the outcome's ``(event, time)`` columns (survival outcomes, and
        the ``event``/``time_days`` columns of transplant-free-survival outcomes), else from the
        ``death``, ``death_day``, ``transplant``, ``transplant_day``, ``last_followup_day``
        columns; without either, only a missing landmark visit removes a subject.
    landmark_day
        Day of the landmark (days since the time origin, randomisation / first dose), or
        ``"auto"``: the latest day any feature is known at (``var["day"]``, else the day of
        its name). ``None`` or a day ≤ 0 (baseline features) keeps everybody.
    arm_key
        Column of the arm; the report has one row per arm (and ``all``).

    Returns
    -------
    mask
        Boolean array, one entry per table row: ``True`` = in the landmark population.
    report
        One row per arm and ``all``: ``arm, n_before, event_before_landmark,
        censored_before_landmark, missing_landmark_visit, n_after``; ``report.attrs`` holds
        ``landmark_day``, ``source`` (where event times came from) and ``removed`` (subject ID →
        reason, for the subjects left out).

    Raises
    ------
    LeakageError
        A feature is known after an explicit ``landmark_day``, or the landmark is on or after
        the outcome's assessment day.

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.models import landmark_population
    >>> df = pd.DataFrame({"arm": ["A", "A", "B"], "cytokine:IL6@D7": [1.0, None, 2.0],
    ...                    "event": [1, 0, 0], "time_days": [5, 90, 90]}, index=["a", "b", "c"])
    >>> mask, report = landmark_population(df, outcome=("event", "time_days"))
    >>> mask.tolist(), report["n_after"].tolist()
    ([False, False, True], [0, 1, 1])
    """
    feats, obs, var, outcomes = _frame_of(table)
    visit_days = None
    if var is not None:
        visit_days = table.uns.get("feature_table", {}).get("params", {}).get("visit_days")
    else:
        drop = [str(c) for c in (outcome if isinstance(outcome, tuple | list) else [outcome])]
        feats = feats.drop(columns=[c for c in feats.columns if c in {*drop, arm_key}])
        feats = feats.select_dtypes("number")
    names = [str(c) for c in feats.columns]
    days = _feature_days(names, var, visit_days)
    assessed = outcomes.get(outcome, {}).get("assessed_day") if isinstance(outcome, str) else None
    day = resolve_landmark(landmark_day, days, assessed_day=assessed, names=names)
    if arm_key not in obs.columns and arm_key != "arm":
        msg = f"arm column {arm_key!r} not found in the table; pass arm_key= naming it"
        raise SchemaError(msg)
    lm = population(obs, feats, days, outcome=outcome, outcomes=outcomes, landmark_day=day,
                    arm_key=arm_key)  # fmt: skip
    lm.report.attrs["removed"] = dict(
        zip(lm.removed["subject_id"], lm.removed["reason"], strict=True)
    )
    return lm.keep, lm.report
