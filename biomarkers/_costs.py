"""What a feature set costs per patient: assays × the visits its features need (one home).

``costs`` map an assay (the modality of a feature name, ``cytokine:IL6@D0`` → ``cytokine``) to
its cost per patient per visit. :func:`biomarkers.models.cost_frontier` prices its candidates
with :func:`assay_cost`; the panel card lists :func:`cost_lines`. It sits on the lowest floor
(the feature-name grammar and the visit schedule only) so both can use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from biomarkers._names import is_feature_name, parse_feature_name
from biomarkers.io._visits import DEFAULT_VISITS, visit_day

__all__ = ["assay_cost", "cost_lines"]


def _block_of(name: str) -> str:
    # the assay of a feature is the modality of its name (as models.assay_blocks groups them)
    return parse_feature_name(name).modality if is_feature_name(name) else "other"


def _visits_of(name: str, schedule: Mapping[str, float]) -> tuple[str, ...]:
    if not is_feature_name(name):
        return ()
    f = parse_feature_name(name)
    if f.kind in ("slope", "auc"):  # a trajectory needs every scheduled visit it spans
        lo, hi = visit_day(f.start, schedule), visit_day(f.visit, schedule)
        inner = [v for v, d in schedule.items() if lo <= d <= hi]
        return tuple(dict.fromkeys([f.start, *inner, f.visit]))
    return f.visits


def assay_cost(
    features: Sequence[str],
    costs: Mapping[str, float],
    *,
    blocks: Mapping[str, Sequence[str]] | None = None,
    visits: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """What measuring ``features`` on one new patient costs, per assay.

    Parameters
    ----------
    features
        Feature names (``modality:entity@visit``).
    costs
        Assay (block) name → cost per patient per visit; an assay without a cost counts as 0
        and is named in the ``priced`` column as ``False``.
    blocks
        Block name → features; default the assay of every feature name.
    visits
        Visit schedule ``{label: day}`` (for the visits a slope spans); default the standard one.

    Returns
    -------
    pandas.DataFrame
        One row per assay the features use: ``assay, visits, n_visits, cost_per_visit, cost,
        priced``; the total is ``cost.sum()``.

    Examples
    --------
    >>> from biomarkers.models import assay_cost
    >>> assay_cost(["cytokine:IL6@D7-D0", "flow:Treg@D0"], {"cytokine": 100, "flow": 60})
          assay visits  n_visits  cost_per_visit   cost  priced
    0  cytokine  D0;D7         2           100.0  200.0    True
    1      flow     D0         1            60.0   60.0    True
    """
    schedule = dict(DEFAULT_VISITS if visits is None else visits)
    member = {} if blocks is None else {f: b for b, fs in blocks.items() for f in fs}
    needed: dict[str, list[str]] = {}
    for f in features:
        block = member.get(str(f)) or _block_of(str(f))
        needed.setdefault(block, [])
        needed[block].extend(v for v in _visits_of(str(f), schedule) if v not in needed[block])
    rows = []
    for block, vs in needed.items():
        vs = sorted(vs, key=lambda v: visit_day(v, schedule))
        n_visits = max(len(vs), 1)  # a name without a visit is measured once
        price = float(costs.get(block, 0.0))
        rows.append({"assay": block, "visits": ";".join(vs), "n_visits": n_visits,
                     "cost_per_visit": price, "cost": price * n_visits,
                     "priced": block in costs})  # fmt: skip
    return pd.DataFrame(
        rows, columns=["assay", "visits", "n_visits", "cost_per_visit", "cost", "priced"]
    )


def cost_lines(doc: Mapping) -> list[str]:
    """Panel-card lines: the assays (and visits) a new patient needs and what they cost.

    Read from ``doc["provenance"]["assay_costs"]`` (``{"currency": ..., "costs": {...}}``,
    written by the discover job when the config has ``assay_costs``); no lines without it.
    """
    spec = (doc.get("provenance") or {}).get("assay_costs")
    if not spec:
        return []
    unit = spec.get("currency") or ""
    names = [f["name"] if isinstance(f, Mapping) else str(f) for f in doc.get("features", [])]
    table = assay_cost(names, spec.get("costs") or {})
    lines = [
        f"{r.assay} at {r.visits or 'one visit'}: {r.cost:g} {unit}".rstrip()
        + ("" if r.priced else " (no cost given)")
        for r in table.itertuples()
    ]
    return [*lines, f"total per patient: {table['cost'].sum():g} {unit}".rstrip()]
