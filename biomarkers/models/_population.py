"""Landmark population rules shared by discover, predictive and landmark_population (internal)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from biomarkers._validation import check_choice, format_ids
from biomarkers.exceptions import LeakageError

__all__: list[str] = []

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
        if {"event", "time_days"} <= set(cols):  # survival and tfs outcomes
            pair = ("event", "time_days")
        elif outcomes[outcome].get("kind") == "survival" and len(cols) == 2:
            pair = (cols[0], cols[1])
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
    """The landmark population of a table (see :func:`biomarkers.models.landmark_population`)."""
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
