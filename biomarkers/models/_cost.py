"""Cost-aware panels: the cost of a feature set, the performance/cost frontier, a budget's panel.

``costs`` map an assay (block) name to its cost per patient per visit; a feature set costs, for
every assay it uses, that price times the number of visits its features of that assay need
(``@D7-D0`` needs D0 and D7; ``@slope(D0..D28)`` every scheduled visit from D0 to D28).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from biomarkers._costs import assay_cost
from biomarkers._settings import settings
from biomarkers._validation import check_choice, did_you_mean
from biomarkers.exceptions import ConfigError
from biomarkers.models._added_value import (
    PAIRED_INTERVALS,
    evaluate_candidates,
    prepare_blocks,
)
from biomarkers.models._cv import discovery_plan, root_seed
from biomarkers.models._metrics import PRIMARY

__all__ = [
    "assay_cost",
    "check_costs",
    "cost_frontier",
    "pareto_frontier",
    "recommend_panel",
]

#: Default panel sizes of the frontier (``None``: every feature of the combination).
PANEL_SIZES: tuple[int | None, ...] = (3, 5, 10, None)


def check_costs(costs: Mapping[str, float], blocks: Sequence[str]) -> dict[str, float]:
    """Validated costs: every name is a block of the table and every cost a finite number ≥ 0."""
    valid = sorted(blocks)
    out = {}
    for name, value in costs.items():
        if name not in valid:
            msg = (
                f"assay_costs: {name!r} is not an assay of the feature table"
                f"{did_you_mean(name, valid)}; valid assays: {', '.join(valid)}"
            )
            raise ConfigError(msg)
        v = float(value)
        if not np.isfinite(v) or v < 0:
            msg = f"assay_costs[{name!r}] = {value!r}: a cost is a finite number >= 0"
            raise ConfigError(msg)
        out[str(name)] = v
    return out


def pareto_frontier(
    frame: pd.DataFrame, *, cost: str = "cost", value: str = "estimate"
) -> np.ndarray:
    """Boolean mask of the rows no other row dominates (cheaper or equal and at least as good).

    Going up in cost, a row is kept only when it is strictly better than every cheaper kept row
    (ties in cost keep the best; ties in both keep the first, i.e. the smaller panel when rows
    are ordered by size), so the kept rows rise in both cost and value.
    """
    order = np.lexsort((np.arange(len(frame)), -frame[value].to_numpy(float),
                        frame[cost].to_numpy(float)))  # fmt: skip
    keep = np.zeros(len(frame), dtype=bool)
    best = -np.inf
    for i in order:
        v = float(frame[value].iloc[i])
        if np.isfinite(v) and v > best:
            keep[i] = True
            best = v
    return keep


def recommend_panel(frontier: pd.DataFrame, budget: float) -> pd.Series:
    """The candidate of best expected performance costing at most ``budget`` (ties: cheaper).

    Parameters
    ----------
    frontier
        The table of :func:`cost_frontier` (every candidate or only the frontier).
    budget
        Largest cost per patient.

    Returns
    -------
    pandas.Series
        The recommended row.
    """
    ok = frontier[(frontier["cost"] <= float(budget)) & np.isfinite(frontier["estimate"])]
    if ok.empty:
        cheapest = float(frontier["cost"].min())
        msg = (
            f"panel.budget = {budget:g}: no candidate costs that little (the cheapest costs "
            f"{cheapest:g}); raise the budget or price the assays lower"
        )
        raise ConfigError(msg)
    ok = ok.sort_values(["estimate", "cost", "n_features"], ascending=[False, True, True],
                        kind="stable")  # fmt: skip
    return ok.iloc[0]


def cost_frontier(
    table,
    *,
    outcome,
    costs: Mapping[str, float],
    blocks: Mapping[str, Sequence[str]] | None = None,
    sizes: Sequence[int | None] = PANEL_SIZES,
    model: str = "enet",
    cv: int | tuple[int, int] = (5, 1),
    interval: str = "bbc",
    n_bootstraps: int = 200,
    inner_cv: int = 3,
    landmark: float | str | None = "auto",
    visits: Mapping[str, float] | None = None,
    random_state: int | None = 0,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Expected performance against cost over assay combinations and panel sizes.

    Every non-empty combination of blocks (the clinical block is one of them) and every panel
    size ``k`` of ``sizes`` below the combination's number of features (``None``: all of them)
    is cross-validated under the same outer folds; the ``k`` features are the top of the
    in-fold univariate screen, so the ranking is learned inside the training folds. A
    candidate's cost is that of every feature of its combination (:func:`assay_cost`): the
    ``k`` chosen can differ between folds, so the assays and visits of all of them are paid.

    Parameters
    ----------
    table
        FeatureTable AnnData or DataFrame, as for :func:`discover`.
    outcome
        Outcome, as for :func:`discover`.
    costs
        Assay (block) name → cost per patient per visit; an unknown name is an error that
        lists the valid ones.
    blocks
        Block name → features; default the assay of every feature name.
    sizes
        Panel sizes.
    model
        Registry model.
    cv
        Outer CV, ``n_splits`` or ``(n_splits, n_repeats)``.
    interval
        ``"bbc"`` (default), ``"corrected_t"`` or ``"bootstrap"`` (as :func:`added_value`).
    n_bootstraps
        Bootstrap replicates of the intervals.
    inner_cv
        Inner folds for hyperparameters.
    landmark
        As for :func:`discover`.
    visits
        Visit schedule for the cost of trajectories.
    random_state
        Seed; the same result whatever ``n_jobs`` is.
    n_jobs
        Parallel workers.

    Returns
    -------
    pandas.DataFrame
        One row per candidate, cheapest first: ``candidate, blocks, k, n_features, cost,
        metric, estimate, ci_low, ci_high, interval, on_frontier``; the rows with
        ``on_frontier`` rise in both cost and estimate.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from biomarkers.models import cost_frontier, recommend_panel
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(80, 3)),
    ...                  columns=["clinical:meld@D0", "cytokine:IL6@D0", "flow:Treg@D0"])
    >>> X["response"] = (X["cytokine:IL6@D0"] + rng.normal(size=80) > 0).astype(int)
    >>> front = cost_frontier(X, outcome="response", costs={"cytokine": 100, "flow": 50},
    ...                       cv=3, n_bootstraps=20)
    >>> recommend_panel(front, 100)["blocks"]
    'cytokine'
    """
    n_jobs = settings.n_jobs if n_jobs is None else n_jobs
    random_state = root_seed(random_state)
    check_choice("interval", interval, PAIRED_INTERVALS, source="cost_frontier")
    n_splits, n_repeats = (cv, 1) if isinstance(cv, int) else (int(v) for v in cv)
    data, block_cols, _ = prepare_blocks(table, outcome=outcome, blocks=blocks, clinical=[],
                                         landmark=landmark)  # fmt: skip
    costs = check_costs(costs, list(block_cols))
    names = list(block_cols)
    columns, ks, meta = {}, {}, {}
    for r in range(1, len(names) + 1):
        for combo in combinations(names, r):
            cols = [c for b in combo for c in block_cols[b]]
            for k in sizes:
                if k is not None and k >= len(cols):
                    continue
                label = f"{'+'.join(combo)}|k={'all' if k is None else k}"
                columns[label], ks[label] = cols, k
                meta[label] = (combo, k, len(cols) if k is None else int(k))
    plan = discovery_plan(data.y, data.groups, task=data.task, outcome_name=data.outcome_name,
                          n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)  # fmt: skip
    cands = evaluate_candidates(
        data, columns, model=model, plan=plan, interval=interval, n_bootstraps=n_bootstraps,
        inner_cv=inner_cv, screen_k=ks, random_state=random_state, n_jobs=n_jobs,
    )  # fmt: skip
    rows = []
    for label, (combo, k, n_feat) in meta.items():
        feats = [data.features[i] for i in columns[label]]
        grouped = {b: [data.features[i] for i in block_cols[b]] for b in combo}
        cost = float(assay_cost(feats, costs, blocks=grouped, visits=visits)["cost"].sum())
        point, reps = cands.stat(label)
        lo, hi = cands.interval_of(reps)
        rows.append({"candidate": label, "blocks": "+".join(combo),
                     "k": "all" if k is None else str(k), "n_features": n_feat, "cost": cost,
                     "metric": PRIMARY[data.task], "estimate": point, "ci_low": lo,
                     "ci_high": hi, "interval": interval})  # fmt: skip
    out = pd.DataFrame(rows).sort_values(["cost", "n_features"], kind="stable")
    out = out.reset_index(drop=True)
    out["on_frontier"] = pareto_frontier(out)
    return out
