"""Clinical course of ACLF between two visits (EASL-CLIF, Gustot 2015)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from biomarkers.clinical._outcome import Outcome
from biomarkers.clinical._score_change import ensure_score, stopped_before, visit_values
from biomarkers.exceptions import SchemaError
from biomarkers.io._visits import resolve_visits

__all__ = ["COURSES", "aclf_course"]

COURSES = ("resolution", "improvement", "steady", "worsening")


def aclf_course(
    labs: pd.DataFrame,
    *,
    from_visit: str = "D0",
    to_visit: str = "D7",
    responder: Sequence[str] = ("resolution", "improvement"),
    clinical: pd.DataFrame | None = None,
    visits: Mapping[str, int] | None = None,
) -> Outcome:
    """Course of EASL-CLIF ACLF grade from ``from_visit`` to ``to_visit`` as a responder label.

    Course (Gustot T et al., Hepatology 2015;62:243-52): **resolution** = no ACLF at
    ``to_visit``; **improvement** = a lower ACLF grade; **steady** = the same grade;
    **worsening** = a higher grade. The grade is ``aclf_grade_easl`` (computed with
    :func:`clif_of` via :func:`compute_scores` when absent).

    Conventions: subjects without ACLF at ``from_visit`` have no course (missing, label NaN);
    subjects who died or were transplanted on or before ``to_visit`` without a ``to_visit``
    grade are **worsening** (needs ``clinical``); other missing grades give NaN.

    Parameters
    ----------
    labs
        Labs table (``subject_id``, ``visit`` and the CLIF-C OF inputs, or ``aclf_grade_easl``).
    from_visit, to_visit
        Visit labels; Gustot assessed the course at days 3–7.
    responder
        Courses labelled 1 (the rest 0); a subset of ``resolution``, ``improvement``,
        ``steady``, ``worsening``.
    clinical
        Subject table with death/transplant days (see :func:`transplant_free_survival`).
    visits
        Visit label → study day (defaults to D0=0 … D90=90).

    Returns
    -------
    Binary Outcome named ``aclf_course_{from}_{to}``; table columns: the label, ``course``,
    ``grade_from``, ``grade_to``; ``assessed_day`` = study day of ``to_visit``.

    Raises
    ------
    SchemaError
        For an unknown course name or visit, or labs lacking the grade inputs.

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.clinical import aclf_course
    >>> labs = pd.DataFrame({"subject_id": ["a", "a", "b", "b"], "visit": ["D0", "D7"] * 2,
    ...                      "aclf_grade_easl": [2, 0, 1, 3]})
    >>> aclf_course(labs).table["course"].tolist()
    ['resolution', 'worsening']
    """
    bad = (
        [r for r in responder if r not in COURSES]
        if not isinstance(responder, str)
        else [responder]
    )
    if bad or not responder:
        msg = f"responder={list(responder) if not isinstance(responder, str) else responder!r} must be a non-empty list of {', '.join(COURSES)}"
        raise SchemaError(msg)
    days = resolve_visits(visits, from_visit, to_visit)
    if days[to_visit] <= days[from_visit]:
        msg = f"to_visit {to_visit!r} (day {days[to_visit]}) must come after from_visit {from_visit!r}"
        raise SchemaError(msg)
    labs = ensure_score(labs, "aclf_grade_easl", clinical)
    ids = pd.Index(pd.unique(labs["subject_id"].astype(str)), name="subject_id")
    g0 = visit_values(labs, "aclf_grade_easl", from_visit).reindex(ids).to_numpy()
    g1 = visit_values(labs, "aclf_grade_easl", to_visit).reindex(ids).to_numpy()
    stopped = stopped_before(clinical, ids, days[to_visit]) & np.isnan(g1)
    with np.errstate(invalid="ignore"):
        course = np.select(
            [np.isnan(g0) | (g0 == 0), stopped, np.isnan(g1), g1 == 0, g1 < g0, g1 == g0],
            [None, "worsening", None, "resolution", "improvement", "steady"],
            default="worsening",
        ).astype(object)
    label = np.array([np.nan if c is None else float(c in responder) for c in course])
    name = f"aclf_course_{from_visit}_{to_visit}"
    table = pd.DataFrame(
        {name: label, "course": course, "grade_from": g0, "grade_to": g1}, index=ids
    )
    definition = (
        f"{name}: 1 when the EASL-CLIF ACLF course from {from_visit} to {to_visit} "
        f"(Gustot 2015) is {' or '.join(responder)}; death or transplant by {to_visit} = "
        "worsening; no ACLF at baseline = missing"
    )
    return Outcome(
        name=name,
        kind="binary",
        table=table,
        assessed_day=int(days[to_visit]),
        definition=definition,
        positive=f"ACLF course {from_visit}→{to_visit} {' or '.join(responder)}",
    )
