"""Responders defined by the change of a score between two visits."""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import check_columns, did_you_mean, format_ids
from biomarkers.clinical._outcome import Outcome
from biomarkers.exceptions import SchemaError
from biomarkers.io._visits import resolve_visits

__all__ = ["score_change"]

_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
_RULE = re.compile(r"^\s*(<=|>=|<|>)\s*([-+]?\d+(?:\.\d+)?)\s*(%?)\s*$")


def parse_threshold(threshold) -> tuple[str, float, bool]:
    """``-2`` → ``("<=", -2, False)``; ``"<=-15%"`` → ``("<=", -15, True)``."""
    if isinstance(threshold, (int, float, np.number)) and not isinstance(threshold, bool):
        if np.isnan(threshold):
            msg = "threshold is NaN; give a number such as -2 or a rule such as '<=-2'"
            raise SchemaError(msg)
        return "<=", float(threshold), False
    m = _RULE.match(str(threshold))
    if not m:
        msg = (
            f"threshold {threshold!r} is not understood; use a number (responder if change <= it) "
            "or a comparison such as '<=-2', '<0', '>=3' or '<=-15%' (relative change)"
        )
        raise SchemaError(msg)
    return m.group(1), float(m.group(2)), m.group(3) == "%"


def visit_values(labs: pd.DataFrame, column: str, visit: str) -> pd.Series:
    """Values of ``column`` at ``visit``, indexed by subject_id (unique per subject)."""
    rows = labs[labs["visit"].astype(str) == visit]
    ids = rows["subject_id"].astype(str)
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        msg = f"labs: several rows for visit {visit!r} of {format_ids(dup)}; keep one row per subject × visit"
        raise SchemaError(msg)
    return pd.Series(
        pd.to_numeric(rows[column], errors="coerce").to_numpy(float), index=ids.to_numpy()
    )


def ensure_score(labs: pd.DataFrame, score: str, clinical: pd.DataFrame | None) -> pd.DataFrame:
    """Return ``labs`` with ``score`` present, computing the scores when needed."""
    check_columns(labs, ["subject_id", "visit"], source="labs", hint="one row per subject × visit")
    if score in labs.columns:
        return labs
    from biomarkers.clinical._compute_scores import compute_scores

    scored = compute_scores(labs, clinical=clinical)
    if score not in scored.columns:
        skipped = scored.attrs.get("skipped_scores", {})
        base = "clif_of" if score in ("aclf_grade_easl", "n_organ_failures") else score
        base = "aarc" if score == "aarc_grade" else base
        base = "child_pugh" if score == "child_pugh_class" else base
        if base in skipped:
            need = ", ".join(skipped[base])
            msg = f"labs: cannot compute {score!r}: missing column(s) {need}; add them or supply the score"
        else:
            msg = (
                f"labs: {score!r} is neither a column nor a computable score"
                f"{did_you_mean(score, list(scored.columns))}"
            )
        raise SchemaError(msg)
    return scored


def stopped_before(clinical: pd.DataFrame | None, ids: pd.Index, day: float) -> np.ndarray:
    """Boolean per subject: died or was transplanted on or before ``day``.

    All False when ``clinical`` is absent or has no ``death`` column (deaths are then unknown).
    """
    if clinical is None:
        return np.zeros(len(ids), dtype=bool)
    if "death" not in clinical.columns:
        logger.info(
            "clinical has no 'death' column: subjects without a value at day %g are missing, "
            "not non-responders",
            day,
        )
        return np.zeros(len(ids), dtype=bool)
    import warnings

    from biomarkers.clinical._transplant_free_survival import event_days

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a missing transplant column is fine here
        ev = event_days(clinical)
    first = np.fmin(ev["death_day"], ev["transplant_day"]).reindex(ids)
    return (first <= day).to_numpy()


def score_change(
    labs: pd.DataFrame,
    *,
    score: str,
    from_visit: str,
    to_visit: str,
    threshold,
    clinical: pd.DataFrame | None = None,
    visits: Mapping[str, int] | None = None,
    name: str | None = None,
) -> Outcome:
    """Responders by the change of a score (or lab) between two visits.

    ``change = score[to_visit] − score[from_visit]`` (or ``100 × change / score[from_visit]`` for
    a relative threshold); responder (1) when the comparison holds, else 0.

    Parameters
    ----------
    labs
        Labs table (``subject_id``, ``visit``, lab columns); the score is computed with
        :func:`compute_scores` when it is not already a column.
    score
        Score or lab column, e.g. ``"meld"``, ``"aarc"``, ``"clif_c_aclf"``, ``"bilirubin_mg_dl"``.
    from_visit, to_visit
        Visit labels (``"D0"``, ``"D28"``).
    threshold
        A number ``t`` (responder if ``change <= t``, e.g. ``-2`` = a fall of at least 2 points) or
        a comparison string ``"<=-2"``, ``"<0"``, ``">=3"``, ``"<=-15%"`` (relative change).
    clinical
        Subject table with death/transplant days, and age/sex/etiology for the scores. Subjects
        who died or were transplanted on or before ``to_visit`` without a ``to_visit`` value are
        **non-responders (0)**; without ``clinical``, or when it has no ``death`` column (death
        columns are optional), deaths are unknown and such subjects are missing (NaN).
    visits
        Visit label → study day; defaults to ``D0=0, D7=7, D14=14, D21=21, D28=28, D90=90``.
    name
        Outcome name; default ``"{score}_change_{from}_{to}"``.

    Returns
    -------
    Binary Outcome, ``assessed_day`` = study day of ``to_visit``; table columns ``name`` and
    ``change``. NaN when the baseline value is missing or the subject is lost without an event.

    Raises
    ------
    SchemaError
        For unknown visits, an unreadable threshold or a score that cannot be computed.

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.clinical import score_change
    >>> labs = pd.DataFrame({"subject_id": ["a", "a", "b", "b"], "visit": ["D0", "D7"] * 2,
    ...                      "meld": [30, 25, 30, 31]})
    >>> score_change(labs, score="meld", from_visit="D0", to_visit="D7",
    ...              threshold=-2).table["meld_change_D0_D7"].tolist()
    [1.0, 0.0]
    """
    op, value, relative = parse_threshold(threshold)
    days = resolve_visits(visits, from_visit, to_visit)
    if days[to_visit] <= days[from_visit]:
        msg = f"to_visit {to_visit!r} (day {days[to_visit]}) must come after from_visit {from_visit!r}"
        raise SchemaError(msg)
    labs = ensure_score(labs, score, clinical)
    ids = pd.Index(pd.unique(labs["subject_id"].astype(str)), name="subject_id")
    before = visit_values(labs, score, from_visit).reindex(ids)
    after = visit_values(labs, score, to_visit).reindex(ids)
    change = after - before
    if relative:
        with np.errstate(divide="ignore", invalid="ignore"):
            change = 100.0 * change / before.where(before != 0)
    label = np.where(change.isna(), np.nan, _OPS[op](change, value).astype(float))
    stopped = stopped_before(clinical, ids, days[to_visit]) & after.isna().to_numpy()
    label = np.where(stopped & before.notna().to_numpy(), 0.0, label)
    name = name or f"{score}_change_{from_visit}_{to_visit}"
    table = pd.DataFrame({name: label, "change": change.to_numpy()}, index=ids)
    unit = "%" if relative else ""
    definition = (
        f"{name}: 1 when {score}({to_visit}) − {score}({from_visit}) {op} {value:g}{unit}"
        f"{' (relative to ' + from_visit + ')' if relative else ''}; subjects who died or were "
        f"transplanted by {to_visit} are 0; missing when a value is missing"
    )
    return Outcome(
        name=name,
        kind="binary",
        table=table,
        assessed_day=int(days[to_visit]),
        definition=definition,
        positive=f"{score}({to_visit}) − {score}({from_visit}) {op} {value:g}{unit}",
    )
