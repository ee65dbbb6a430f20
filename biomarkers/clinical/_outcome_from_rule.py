"""A small declarative rule language for outcomes in job configs."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from biomarkers._validation import did_you_mean
from biomarkers.clinical._aclf_course import COURSES, aclf_course
from biomarkers.clinical._binary_outcome import binary_outcome
from biomarkers.clinical._continuous_outcome import continuous_outcome
from biomarkers.clinical._outcome import Outcome
from biomarkers.clinical._score_change import parse_threshold, score_change
from biomarkers.clinical._survival_outcome import survival_outcome
from biomarkers.clinical._transplant_free_survival import transplant_free_survival
from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.io._visits import resolve_visits

__all__ = ["outcome_from_rule"]

_COMMON = {"kind", "name", "description"}
_KEYS = {
    "transplant_free_survival": {*_COMMON, "horizon_days", "label"},
    "score_change": {*_COMMON, "score", "from", "to", "change"},
    "aclf_course": {*_COMMON, "course", "from", "to", "responder"},
    "binary": {*_COMMON, "column", "positive", "assessed_day"},
    "continuous": {*_COMMON, "column", "assessed_day"},
    "survival": {*_COMMON, "event", "time", "horizon_days", "label", "assessed_day"},
}
_REQUIRED = {
    "transplant_free_survival": ("horizon_days",),
    "score_change": ("score", "from", "to", "change"),
    "aclf_course": ("course", "from", "to"),
    "binary": ("column", "positive"),
    "continuous": ("column",),
    "survival": ("event", "time"),
}
_GENERIC = ("binary", "continuous", "survival")
#: Scores a ``score_change`` rule may name (plus any numeric labs column).
RULE_SCORES = (
    "meld",
    "meld_kamath",
    "meld_na",
    "meld3",
    "child_pugh",
    "clif_of",
    "n_organ_failures",
    "aclf_grade_easl",
    "clif_c_aclf",
    "clif_c_ad",
    "aarc",
    "aarc_grade",
)


def _not_allowed(key: str, value, allowed) -> str:
    allowed = list(allowed)
    hint = did_you_mean(str(value), allowed) if isinstance(value, str) else ""
    return f"outcome rule: {key}: {value!r} is not allowed{hint}; allowed: {', '.join(map(str, allowed))}"


def _key_list(kind: str) -> list[str]:
    """The keys of a rule: its own keys first, then the keys every rule takes."""
    return [*sorted(_KEYS[kind] - _COMMON), *sorted(_COMMON)]


def _kind(rule: Mapping) -> str:
    if "kind" in rule:
        kind = rule["kind"]
        if kind not in _KEYS:
            msg = _not_allowed("kind", kind, _KEYS)
            raise ConfigError(msg)
        return kind
    if "score" in rule:
        return "score_change"
    if "course" in rule:
        return "aclf_course"
    if "horizon_days" in rule:
        return "transplant_free_survival"
    msg = (
        f"outcome rule {dict(rule)!r} names no outcome; give kind: one of {', '.join(_KEYS)} "
        "(or a score:/course: key)"
    )
    raise ConfigError(msg)


def outcome_from_rule(
    rule: Mapping,
    *,
    clinical: pd.DataFrame | None = None,
    labs: pd.DataFrame | None = None,
    visits: Mapping[str, int] | None = None,
) -> Outcome:
    """Build an :class:`Outcome` from a declarative rule (as written in a YAML config).

    Rules (``name`` is optional in each):

    - ``{"kind": "transplant_free_survival", "horizon_days": 90, "label": "binary"}``
      (``label``: ``binary`` (default) or ``survival``) → :func:`transplant_free_survival`.
    - ``{"score": "aarc", "from": "D0", "to": "D28", "change": "<=-2"}`` → :func:`score_change`
      (``change``: a number ``t`` meaning ``<= t``, or ``"<=-2"``, ``"<0"``, ``">=3"``,
      ``"<=-15%"``).
    - ``{"course": "aclf", "from": "D0", "to": "D7", "responder": ["resolution", "improvement"]}``
      → :func:`aclf_course`.

    - ``{"kind": "binary", "column": "status", "positive": "Dead"}`` → :func:`binary_outcome`
      (class 1 = rows equal to ``positive``).
    - ``{"kind": "continuous", "column": "fev1"}`` → :func:`continuous_outcome`.
    - ``{"kind": "survival", "event": "status", "time": "time_days", "horizon_days": 365,
      "label": "survival"}`` → :func:`survival_outcome` (``horizon_days`` optional;
      ``label: binary`` = event by the horizon as class 1).

    The generic rules also take ``assessed_day`` (default: the horizon, the end of follow-up
    for survival without one, or the day after the last visit for a column) and every rule takes
    ``name`` and ``description`` (words for reports). ``kind`` may be omitted when
    ``score``/``course``/``horizon_days`` makes it clear.

    Parameters
    ----------
    rule
        The rule mapping.
    clinical
        Subject table (needed for survival; used for deaths before a visit and for age/sex).
    labs
        Labs table (needed for score and course rules).
    visits
        Visit label → study day (defaults to D0=0 … D90=90).

    Returns
    -------
    The Outcome.

    Raises
    ------
    ConfigError
        For an unknown key or value; the message names the key and the allowed values.

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.clinical import outcome_from_rule
    >>> labs = pd.DataFrame({"subject_id": ["a", "a"], "visit": ["D0", "D28"], "aarc": [11, 8]})
    >>> o = outcome_from_rule({"score": "aarc", "from": "D0", "to": "D28", "change": "<=-2"},
    ...                       labs=labs)
    >>> o.name, o.assessed_day, o.table.iloc[0, 0].item()
    ('aarc_change_D0_D28', 28, 1.0)
    """
    if not isinstance(rule, Mapping):
        msg = f"outcome rule must be a mapping such as {{'kind': 'transplant_free_survival', 'horizon_days': 90}}; got {rule!r}"
        raise ConfigError(msg)
    kind = _kind(rule)
    for key in rule:
        if key not in _KEYS[kind]:
            msg = _not_allowed(f"key of a {kind} rule", key, _key_list(kind))
            raise ConfigError(msg)
    for key in _REQUIRED[kind]:
        if key not in rule:
            msg = f"outcome rule ({kind}): required key {key!r} is missing; keys: {', '.join(_key_list(kind))}"
            raise ConfigError(msg)
    mapping = resolve_visits(visits)
    for key in ("from", "to"):
        if key in rule and rule[key] not in mapping:
            msg = _not_allowed(key, rule[key], mapping)
            raise ConfigError(msg)
    name = rule.get("name")
    if kind in _GENERIC:
        return _generic(kind, rule, clinical=clinical, visits=mapping)
    if kind == "transplant_free_survival":
        h = rule["horizon_days"]
        if isinstance(h, bool) or not isinstance(h, int) or h <= 0:
            msg = f"outcome rule: horizon_days: {h!r} is not allowed; give a positive whole number of days such as 28 or 90"
            raise ConfigError(msg)
        label = rule.get("label", "binary")
        if label not in ("binary", "survival"):
            msg = _not_allowed("label", label, ("binary", "survival"))
            raise ConfigError(msg)
        if clinical is None:
            msg = "outcome rule transplant_free_survival needs the clinical table (clinical=...)"
            raise ConfigError(msg)
        out = transplant_free_survival(clinical, horizon_days=h, kind=label)
    elif labs is None:
        msg = f"outcome rule {kind} needs the labs table (labs=...)"
        raise ConfigError(msg)
    elif kind == "score_change":
        score = rule["score"]
        numeric = [c for c in labs.columns if pd.api.types.is_numeric_dtype(labs[c])]
        allowed = list(RULE_SCORES) + [c for c in numeric if c not in RULE_SCORES]
        if score not in allowed:
            msg = _not_allowed("score", score, allowed)
            raise ConfigError(msg)
        try:
            parse_threshold(rule["change"])
        except SchemaError:
            msg = (
                f"outcome rule: change: {rule['change']!r} is not allowed; use a number or a "
                "comparison such as '<=-2', '<0', '>=3', '<=-15%'"
            )
            raise ConfigError(msg) from None
        out = score_change(
            labs,
            score=score,
            from_visit=rule["from"],
            to_visit=rule["to"],
            threshold=rule["change"],
            clinical=clinical,
            visits=mapping,
            name=name,
        )
    else:
        if rule["course"] != "aclf":
            msg = _not_allowed("course", rule["course"], ["aclf"])
            raise ConfigError(msg)
        responder = rule.get("responder", ["resolution", "improvement"])
        if isinstance(responder, str):
            responder = [responder]
        for r in responder:
            if r not in COURSES:
                msg = _not_allowed("responder", r, COURSES)
                raise ConfigError(msg)
        out = aclf_course(
            labs,
            from_visit=rule["from"],
            to_visit=rule["to"],
            responder=tuple(responder),
            clinical=clinical,
            visits=mapping,
        )
    if name and name != out.name:
        table = out.table.rename(columns={out.name: name})
        definition = out.definition.replace(out.name, name, 1)
        positive = out.positive.replace(out.name, name) if out.kind == "binary" else out.positive
        out = Outcome(
            name=name,
            kind=out.kind,
            table=table,
            assessed_day=out.assessed_day,
            definition=definition,
            positive=positive,
            description=out.description if out.description != out.name else name,
        )
    if rule.get("description"):
        out = Outcome(**{k: getattr(out, k) for k in _FIELDS}, description=str(rule["description"]))
    return out


_FIELDS = ("name", "kind", "table", "assessed_day", "definition", "positive")


def _generic(kind: str, rule: Mapping, *, clinical, visits) -> Outcome:
    """The binary / continuous / survival column rules."""
    if clinical is None:
        msg = f"outcome rule {kind} needs the clinical table (clinical=...)"
        raise ConfigError(msg)
    day = rule.get("assessed_day")
    if day is not None and (isinstance(day, bool) or not isinstance(day, int) or day < 0):
        msg = (
            f"outcome rule: assessed_day: {day!r} is not allowed; give a whole study day such as 90"
        )
        raise ConfigError(msg)
    common = {"name": rule.get("name"), "assessed_day": day, "description": rule.get("description")}
    if kind == "binary":
        return binary_outcome(
            clinical, column=rule["column"], positive=rule["positive"], visits=visits, **common
        )
    if kind == "continuous":
        return continuous_outcome(clinical, column=rule["column"], visits=visits, **common)
    h = rule.get("horizon_days")
    if h is not None and (isinstance(h, bool) or not isinstance(h, int) or h <= 0):
        msg = f"outcome rule: horizon_days: {h!r} is not allowed; give a positive whole number of days such as 28 or 90"
        raise ConfigError(msg)
    label = rule.get("label", "survival")
    if label not in ("binary", "survival"):
        msg = _not_allowed("label", label, ("binary", "survival"))
        raise ConfigError(msg)
    return survival_outcome(
        clinical, event=rule["event"], time=rule["time"], horizon_days=h, label=label, **common
    )
