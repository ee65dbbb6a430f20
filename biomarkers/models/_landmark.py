"""Landmark populations: who can be predicted from features known at a landmark day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from biomarkers._validation import check_choice, format_ids
from biomarkers.exceptions import LeakageError, SchemaError

__all__ = ["landmark_population"]

#: why a subject leaves the landmark population, in the order the reasons are checked
REASONS = ("event_before_landmark", "censored_before_landmark", "missing_landmark_visit")
REPORT_COLUMNS = ["arm", "n_before", *REASONS, "n_after"]
TIME_FROM = ("origin", "landmark")


@dataclass
class Landmark:
    """A resolved landmark and its population (internal; ``Data.landmark``)."""

    day: float | None
    time_from: str
    keep: np.ndarray  # bool per table row
    report: pd.DataFrame  # REPORT_COLUMNS, one row per arm + "all"
    removed: pd.DataFrame  # subject_id, arm, reason, day

    def settings(self) -> dict:
        """Plain-data summary for a result's settings / params."""
        return {
            "landmark_day": self.day,
            "landmark_time_from": self.time_from,
            "landmark_source": self.report.attrs.get("source"),
        }


def resolve_landmark(landmark, days: np.ndarray, *, assessed_day, names) -> float | None:
    """The landmark day: ``"auto"`` = latest feature day; ``None``/≤ 0 = no landmark.

    Refuses (``LeakageError``) features known after an explicit landmark and a landmark on or
    after the outcome's assessment day.
    """
    finite = days[np.isfinite(days)]
    if isinstance(landmark, str):
        check_choice("landmark", landmark, ("auto",), source="landmark (or a day, or None)")
        day = float(finite.max()) if finite.size else None
    elif landmark is None:
        return None
    else:
        day = float(landmark)
        late = np.flatnonzero(np.isfinite(days) & (days > day))
        if late.size:
            msg = (
                f"{late.size} feature(s) are known after the landmark day {day:g}: "
                f"{format_ids([names[i] for i in late])}; a model at day {day:g} can only use "
                "features measured by then: drop them or set a later landmark"
            )
            raise LeakageError(msg)
    if day is None or day <= 0:
        return None
    # "auto" is the latest feature day: features on or after the assessment are refused by the
    # assessment-day guard with its own message
    if not isinstance(landmark, str) and assessed_day is not None and day >= float(assessed_day):
        msg = (
            f"landmark day {day:g} is on or after day {float(assessed_day):g}, when the outcome is "
            "assessed; choose an earlier landmark or a later outcome"
        )
        raise LeakageError(msg)
    return day


def _event_times(obs: pd.DataFrame, outcome, outcomes: dict):
    """Per row: day of the first event (inf = none), day follow-up ends, and where they came from.

    The outcome's own ``(event, time)`` (survival outcomes, and the ``event``/``time_days``
    columns that binary transplant-free-survival outcomes carry), else the clinical
    ``death``/``transplant``/``last_followup_day`` columns, else none (NaN).
    """
    pair = None
    if isinstance(outcome, tuple | list) and len(outcome) == 2:
        pair = (str(outcome[0]), str(outcome[1]))
    elif isinstance(outcome, str) and outcome in outcomes:
        cols = [str(c) for c in outcomes[outcome].get("columns", [])]
        if outcomes[outcome].get("kind") == "survival" and len(cols) >= 2:
            pair = (cols[0], cols[1])
        elif {"event", "time_days"} <= set(cols):
            pair = ("event", "time_days")
    if pair is not None and set(pair) <= set(obs.columns):
        ev = pd.to_numeric(obs[pair[0]], errors="coerce").to_numpy(dtype=float)
        tm = pd.to_numeric(obs[pair[1]], errors="coerce").to_numpy(dtype=float)
        event_day = np.where(ev == 1, tm, np.where(ev == 0, np.inf, np.nan))
        return event_day, tm, f"outcome columns {pair[0]!r}, {pair[1]!r}"
    if {"death", "last_followup_day"} <= set(obs.columns):
        from biomarkers.clinical._transplant_free_survival import event_days

        ev = event_days(obs.rename_axis("subject_id"))
        first = np.fmin(ev["death_day"].to_numpy(), ev["transplant_day"].to_numpy())
        follow = np.where(np.isfinite(first), first, ev["last_followup_day"].to_numpy())
        return first, follow, "clinical death/transplant/last_followup_day"
    nan = np.full(len(obs), np.nan)
    return nan, nan, "none (no event times in the table)"


def population(
    obs: pd.DataFrame,
    feats: pd.DataFrame,
    days: np.ndarray,
    *,
    outcome,
    outcomes: dict,
    landmark_day: float | None,
    arm_key: str = "arm",
    time_from: str = "origin",
) -> Landmark:
    """The landmark population of a table (internal form of :func:`landmark_population`)."""
    check_choice("landmark_time_from", time_from, TIME_FROM)
    n = len(obs)
    arms = (
        obs[arm_key].astype(object).where(obs[arm_key].notna(), "unknown").astype(str).to_numpy()
        if arm_key in obs.columns
        else np.full(n, "all")
    )
    reason = np.full(n, "", dtype=object)
    when = np.full(n, np.nan)
    source = "none (no landmark)"
    if landmark_day is not None:
        event_day, follow, source = _event_times(obs, outcome, outcomes)
        with np.errstate(invalid="ignore"):
            ev = event_day <= landmark_day
            cens = ~ev & (follow <= landmark_day)
        at = np.flatnonzero(np.isfinite(days) & (days == landmark_day))
        vals = feats.iloc[:, at].to_numpy(dtype=float)
        no_visit = np.isnan(vals).all(axis=1) if at.size else np.zeros(n, bool)
        for flag, why, day in (
            (ev, REASONS[0], event_day),
            (cens, REASONS[1], follow),
            (no_visit, REASONS[2], np.full(n, np.nan)),
        ):
            new = flag & (reason == "")
            reason[new] = why
            when[new] = day[new]
    keep = reason == ""
    removed = pd.DataFrame(
        {"subject_id": obs.index.astype(str), "arm": arms, "reason": reason, "day": when}
    )[~keep].reset_index(drop=True)
    report = _report(arms, reason)
    report.attrs.update({"landmark_day": landmark_day, "source": source, "time_from": time_from})
    return Landmark(landmark_day, time_from, keep, report, removed)


def _report(arms: np.ndarray, reason: np.ndarray) -> pd.DataFrame:
    rows = []
    labels = [*pd.unique(arms), "all"] if len(set(arms)) > 1 or "all" not in arms else ["all"]
    for label in labels:
        sel = np.ones(len(arms), bool) if label == "all" else arms == label
        row = {"arm": label, "n_before": int(sel.sum())}
        row.update({why: int((sel & (reason == why)).sum()) for why in REASONS})
        row["n_after"] = int((sel & (reason == "")).sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=REPORT_COLUMNS)


def shift_times(time: np.ndarray, lm: Landmark) -> np.ndarray:
    """Survival times from the landmark (``time_from="landmark"``) or unchanged (origin)."""
    if lm.day is None or lm.time_from == "origin":
        return time
    return time - lm.day


def landmark_population(
    table,
    *,
    outcome,
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
    from biomarkers.models._inputs import _feature_days, _frame_of

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
