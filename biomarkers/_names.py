"""The feature-name grammar: build and parse ``modality:entity@visit`` names (its one home).

::

    name  := modality ":" [cell_type ":"] entity ["@" when]
    when  := V                    value at visit V               cytokine:IL6@D0
           | V2 "-" V1            change from V1 to V2           cytokine:IL6@D28-D0
           | "slope(" V1 ".." V2 ")"   slope over V1 … V2        cytokine:IL6@slope(D0..D28)
           | "auc(" V1 ".." V2 ")"     time-averaged AUC         cytokine:IL6@auc(D0..D28)

Modality, cell type and entity hold no ``:`` or ``@``; a visit label holds no ``@``, ``(``,
``)`` or ``..``. A feature is *known at* the latest study day of the visits it involves: a
change or a slope ending at D28 is measured at D28. Nothing else in the package parses names;
docs/contracts.md ("Vocabulary") describes the grammar.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import KW_ONLY, dataclass

import numpy as np

from biomarkers.exceptions import SchemaError
from biomarkers.io._visits import DEFAULT_VISITS, visit_day

__all__ = [
    "KINDS",
    "FeatureName",
    "clean_entity",
    "feature_name",
    "is_feature_name",
    "known_at_day",
    "known_at_days",
    "parse_feature_name",
]

#: Kinds of feature a name can express (the FeatureTable's ``var["kind"]``).
KINDS = ("value", "delta", "slope", "auc")

_GRAMMAR = (
    "modality:entity@visit or modality:cell_type:entity@visit, the visit part being V, "
    "V2-V1, slope(V1..V2) or auc(V1..V2), or absent"
)
_SPAN = re.compile(r"(?P<kind>slope|auc)\((?P<start>[^()@]+?)\.\.(?P<visit>[^()@]+)\)")
_UNSAFE = re.compile(r"[\s:@/]+")


def _bad(name: object, reason: str) -> SchemaError:
    return SchemaError(
        f"feature name {str(name)!r} does not follow the grammar {_GRAMMAR}: {reason}; "
        "rename the feature"
    )


def _check_part(value: object, what: str, forbidden: tuple[str, ...], name: object) -> None:
    if not isinstance(value, str) or not value:
        raise _bad(name, f"the {what} is empty")
    for token in forbidden:
        if token in value:
            raise _bad(name, f"the {what} {value!r} contains {token!r}")


def _latest_day(labels, visits: Mapping[str, float] | None) -> float:
    """The latest known study day of ``labels`` (NaN when none is known)."""
    days = [d for d in (visit_day(v, visits) for v in labels if v is not None) if not np.isnan(d)]
    return max(days) if days else np.nan


@dataclass(frozen=True)
class FeatureName:
    """One feature name, split into its parts.

    Parameters
    ----------
    modality
        ``cytokine``, ``olink``, ``flow``, ``clinical``, ``composition``, ``pseudobulk``, ...
    entity
        The analyte, population, score, gene or gene set.
    visit
        The visit of a value, or the last visit of a change, slope or AUC; ``None`` for a
        name without a visit.
    start
        The first visit of a change, slope or AUC (``None`` for a value).
    kind
        One of :data:`KINDS`.
    cell_type
        The cell type of a per-cell-type feature (pseudobulk genes, gene-set scores).

    Examples
    --------
    >>> f = FeatureName("cytokine", "IL6", "D28", start="D0", kind="delta")
    >>> str(f), f.visits, f.day()
    ('cytokine:IL6@D28-D0', ('D0', 'D28'), 28.0)
    """

    modality: str
    entity: str
    visit: str | None = None
    _: KW_ONLY
    start: str | None = None
    kind: str = "value"
    cell_type: str | None = None

    def __post_init__(self) -> None:
        where = str(self)
        _check_part(self.modality, "modality", (":", "@"), where)
        _check_part(self.entity, "entity", (":", "@"), where)
        if self.cell_type is not None:
            _check_part(self.cell_type, "cell type", (":", "@"), where)
        if self.kind not in KINDS:
            raise _bad(where, f"kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "value" and self.start is not None:
            raise _bad(where, f"a value has one visit, got start={self.start!r}")
        if self.kind != "value" and (self.visit is None or self.start is None):
            raise _bad(where, f"a {self.kind} needs a first and a last visit")
        for label, what in ((self.start, "first visit"), (self.visit, "visit")):
            if label is not None:
                _check_part(label, what, ("@", "(", ")", ".."), where)

    @property
    def key(self) -> str:
        """The name without its visit part: ``modality:[cell_type:]entity``."""
        return f"{self.modality}:{self.short}"

    @property
    def short(self) -> str:
        """The name without modality and visit: ``[cell_type:]entity``."""
        return self.entity if self.cell_type is None else f"{self.cell_type}:{self.entity}"

    @property
    def when(self) -> str | None:
        """The text after ``@`` (``D0``, ``D28-D0``, ``slope(D0..D28)``), or ``None``."""
        if self.kind == "value":
            return self.visit
        if self.kind == "delta":
            return f"{self.visit}-{self.start}"
        return f"{self.kind}({self.start}..{self.visit})"

    @property
    def var_visit(self) -> str | None:
        """What a FeatureTable stores in ``var["visit"]``: ``D0``, ``D28-D0`` or ``D0..D28``."""
        if self.kind in ("slope", "auc"):
            return f"{self.start}..{self.visit}"
        return self.when

    @property
    def visits(self) -> tuple[str, ...]:
        """The visit labels the feature involves, first visit first."""
        return tuple(v for v in (self.start, self.visit) if v is not None)

    def day(self, visits: Mapping[str, float] | None = None) -> float:
        """The study day the feature is known at: the latest day of its visits (NaN if none).

        ``visits`` is the schedule (default :data:`biomarkers.io.DEFAULT_VISITS`); labels outside
        it count when they read as a day (``D7``, ``Day 7``).
        """
        return _latest_day(self.visits, visits)

    def __str__(self) -> str:
        when = self.when
        return self.key if when is None else f"{self.key}@{when}"


def clean_entity(name: object) -> str:
    """An entity or cell type made safe inside a name (spaces, ``:``, ``@``, ``/`` → ``_``).

    Examples
    --------
    >>> clean_entity("CD14+ HLA-DR/low")
    'CD14+_HLA-DR_low'
    """
    return _UNSAFE.sub("_", str(name)).strip("_")


def feature_name(
    modality: str,
    entity: object,
    visit: str | None = None,
    *,
    start: str | None = None,
    kind: str = "value",
    cell_type: object | None = None,
) -> str:
    """Build a feature name; the entity and cell type are cleaned with :func:`clean_entity`.

    Parameters
    ----------
    modality, entity, visit, start, kind, cell_type
        As in :class:`FeatureName`.

    Returns
    -------
    The name, e.g. ``pseudobulk:CD14_mono:S100A8@D0`` or ``cytokine:IL6@slope(D0..D28)``.

    Raises
    ------
    SchemaError
        When the parts cannot form a name (empty entity, a change without a first visit, ...).

    Examples
    --------
    >>> feature_name("cytokine", "IL-6", "D28", start="D0", kind="slope")
    'cytokine:IL-6@slope(D0..D28)'
    >>> feature_name("pseudobulk", "S100A8", "D0", cell_type="CD14 mono")
    'pseudobulk:CD14_mono:S100A8@D0'
    """
    return str(
        FeatureName(
            modality,
            clean_entity(entity),
            visit,
            start=start,
            kind=kind,
            cell_type=None if cell_type is None else clean_entity(cell_type),
        )
    )


def _split_change(when: str, visits: Mapping[str, float] | None) -> tuple[str, str] | None:
    """``V2-V1`` → ``(V2, V1)``; ``None`` when ``when`` is one visit (``D-7``, ``pre-dose``)."""
    known = DEFAULT_VISITS if visits is None else visits
    cuts = [i for i, c in enumerate(when) if c == "-" and 0 < i < len(when) - 1]
    if not cuts or when in known:
        return None
    pairs = [(when[:i], when[i + 1 :]) for i in cuts]
    for pair in pairs:
        if pair[0] in known and pair[1] in known:
            return pair
    for pair in pairs:
        if not np.isnan(visit_day(pair[0], visits)) and not np.isnan(visit_day(pair[1], visits)):
            return pair
    if not np.isnan(visit_day(when, visits)) or len(cuts) > 1:
        return None
    return pairs[0]


def _parse_when(name: str, when: str, visits) -> tuple[str, str, str | None]:
    """The visit part of a name → ``(kind, visit, start)``."""
    m = _SPAN.fullmatch(when)
    if m:
        return m["kind"], m["visit"], m["start"]
    if any(c in when for c in "()") or ".." in when:
        raise _bad(
            name, f"the visit part {when!r} is neither V, V2-V1, slope(V1..V2) nor auc(V1..V2)"
        )
    pair = _split_change(when, visits)
    return ("value", when, None) if pair is None else ("delta", pair[0], pair[1])


def parse_feature_name(name: str, visits: Mapping[str, float] | None = None) -> FeatureName:
    """Split a feature name into its parts.

    Parameters
    ----------
    name
        A name such as ``cytokine:IL6@D28-D0``.
    visits
        The visit schedule; it tells a change ``V2-V1`` from a visit label that holds a dash
        (default :data:`biomarkers.io.DEFAULT_VISITS`; ``D<n>`` labels are always understood).

    Returns
    -------
    The :class:`FeatureName`; ``str()`` of it gives ``name`` back.

    Raises
    ------
    SchemaError
        When ``name`` does not follow the grammar (the message names it and the grammar).

    Examples
    --------
    >>> f = parse_feature_name("pseudobulk:CD14_mono:S100A8@slope(D0..D28)")
    >>> f.cell_type, f.entity, f.kind, f.start, f.visit, f.day()
    ('CD14_mono', 'S100A8', 'slope', 'D0', 'D28', 28.0)
    """
    if not isinstance(name, str):
        raise _bad(name, f"a name is text, got {type(name).__name__}")
    head, at, when = name.partition("@")
    if at and not when:
        raise _bad(name, "nothing follows '@'")
    if "@" in when:
        raise _bad(name, "it holds more than one '@'")
    parts = head.split(":")
    if len(parts) not in (2, 3):
        raise _bad(name, f"it has {len(parts) - 1} ':' (1, or 2 with a cell type)")
    kind, visit, start = _parse_when(name, when, visits) if at else ("value", None, None)
    return FeatureName(
        parts[0],
        parts[-1],
        visit,
        start=start,
        kind=kind,
        cell_type=parts[1] if len(parts) == 3 else None,
    )


def is_feature_name(name: object, visits: Mapping[str, float] | None = None) -> bool:
    """Whether ``name`` follows the grammar (see :func:`parse_feature_name`)."""
    try:
        parse_feature_name(name, visits)  # type: ignore[arg-type]
    except SchemaError:
        return False
    return True


def known_at_day(name: object, visits: Mapping[str, float] | None = None) -> float:
    """The study day a feature is known at, for any column name (NaN when it has no visit).

    A name that follows the grammar gives :meth:`FeatureName.day`; another name that still
    ends in a visit part (``IL6@D28``, ``IL6@D28-D0``) gives the latest day of that part.

    Examples
    --------
    >>> known_at_day("cytokine:IL6@D28-D0"), known_at_day("IL6@slope(D0..D28)")
    (28.0, 28.0)
    >>> known_at_day("age")
    nan
    """
    name = str(name)
    try:
        return parse_feature_name(name, visits).day(visits)
    except SchemaError:
        pass
    head, at, when = name.rpartition("@")
    if not (head and at and when):
        return np.nan
    try:
        _, visit, start = _parse_when(name, when, visits)
    except SchemaError:
        return np.nan
    return _latest_day((start, visit), visits)


def _when_day(when: str, visits: Mapping[str, float] | None) -> float:
    """The day of a visit part (``D28``, ``D28-D0``, ``slope(D0..D28)``); NaN when unreadable."""
    try:
        _, visit, start = _parse_when(when, when, visits)
    except SchemaError:
        return np.nan
    return _latest_day((start, visit), visits)


def known_at_days(names: Iterable[object], visits: Mapping[str, float] | None = None) -> np.ndarray:
    """:func:`known_at_day` of many names, parsing each distinct visit part once.

    The day of a name depends only on the text after its last ``@`` (and on there being a
    name before it), so a wide table's 150,000 names with a handful of visit parts cost a
    handful of parses.

    Examples
    --------
    >>> known_at_days(["cytokine:IL6@D28-D0", "IL6@D7", "age", "@D7"]).tolist()
    [28.0, 7.0, nan, nan]
    """
    cache: dict[str, float] = {}
    out = []
    for name in names:
        head, at, when = str(name).rpartition("@")
        if not (head and at and when):
            out.append(np.nan)
            continue
        day = cache.get(when)
        if day is None:
            day = cache[when] = _when_day(when, visits)
        out.append(day)
    return np.asarray(out, dtype=float)
