"""added_value(): what each assay adds to the clinical scores, under the same outer folds.

Every candidate feature set (clinical scores alone, + each assay, + all, all but each assay) is
cross-validated with the same outer folds and the same fit seeds, and every interval is formed
from the same resamples (same bootstrap indices for BBC-CV and the bootstrap, the same folds for
the corrected t), so a difference between two candidates is a paired difference: a candidate
compared with itself differs by exactly 0 with a zero-width interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from biomarkers._logging import timed
from biomarkers._settings import settings
from biomarkers._stats import DECISION_THRESHOLDS, decision_curve_table
from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError
from biomarkers.models._cv import CVPlan, discovery_plan, parallel_map, root_seed, seed_for
from biomarkers.models._engine import FitConfig, outer_fit
from biomarkers.models._fusion import assay_blocks
from biomarkers.models._inputs import Data, prepare
from biomarkers.models._metrics import (
    INTERVAL_LABELS,
    PRIMARY,
    bbc_replicates,
    binary_metrics,
    continuous_metrics,
    corrected_t_interval,
    default_horizon,
    fold_estimates,
    primary_point,
    survival_metrics,
)
from biomarkers.models._registry import DEFAULT_SCREEN_K, get_spec, resolve_name

__all__ = ["AddedValue", "added_value"]

#: Intervals a paired difference can be formed with (``nested_cv`` needs an inner CV per
#: candidate and is not offered here).
PAIRED_INTERVALS = ("bbc", "corrected_t", "bootstrap")


@dataclass
class Candidates:
    """Out-of-fold predictions of named feature sets under one CV plan (internal)."""

    data: Data
    plan: CVPlan
    columns: dict[str, list[int]]
    oof: dict[str, np.ndarray]
    interval: str
    idx: np.ndarray  # bootstrap indices shared by every candidate (n_bootstraps × n)

    def stat(self, name: str) -> tuple[float, np.ndarray]:
        """Point estimate and the replicates its interval is formed from."""
        return _stat(self.data, self.plan, self.oof[name], self.interval, self.idx)

    def interval_of(self, reps: np.ndarray) -> tuple[float, float]:
        """95% interval of the replicates of ``stat`` (or of a paired difference)."""
        return _interval(reps, self.interval, len(self.data.y), self.plan.n_splits)


@dataclass(kw_only=True)
class AddedValue:
    """Result of :func:`added_value`: the table, its decision curves and the blocks used.

    Attributes
    ----------
    table
        One row per candidate (``added_value.csv``).
    decision_curves
        Net benefit per threshold of every candidate (binary outcomes; ``decision_curves.csv``).
    blocks
        Block name → its features.
    settings
        Outcome, task, model, CV, interval, seed.
    """

    table: pd.DataFrame
    decision_curves: pd.DataFrame
    blocks: dict[str, list[str]]
    settings: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The added-value table."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False, float_format=lambda v: f"{v:.3f}")


def _stat(data: Data, plan: CVPlan, preds: np.ndarray, interval: str, idx: np.ndarray):
    task, y = data.task, data.y
    if interval == "bootstrap":  # pooled out-of-fold predictions, in-bag resamples
        point = float(np.nanmean([primary_point(task, y, p) for p in preds]))
        return point, _pooled_replicates(task, y, preds, idx)
    per_fold = fold_estimates(task, y, preds, plan.splits)
    point = float(np.nanmean(per_fold))
    if interval == "corrected_t":
        return point, per_fold.ravel()
    return point, bbc_replicates(task, y, preds, plan.splits, idx)


def _pooled_replicates(task: str, y, preds: np.ndarray, idx: np.ndarray) -> np.ndarray:
    metric = PRIMARY[task]
    if task == "survival":
        horizon = default_horizon(y)  # only Harrell's C is used; td-AUC needs a horizon
        vals = [survival_metrics(y, p, idx, horizon=horizon)[metric] for p in preds]
    else:
        W = np.zeros(idx.shape)
        np.add.at(W, (np.repeat(np.arange(idx.shape[0]), idx.shape[1]), idx.ravel()), 1.0)
        fn = binary_metrics if task == "binary" else continuous_metrics
        vals = [fn(y, p, W)[metric] for p in preds]
    return np.nanmean(np.vstack(vals), axis=0)


def _interval(reps: np.ndarray, interval: str, n: int, n_splits: int) -> tuple[float, float]:
    if interval == "corrected_t":
        n_test = n / n_splits
        _, lo, hi = corrected_t_interval(reps, n_train=n - n_test, n_test=n_test)
        return lo, hi
    v = reps[np.isfinite(reps)]
    if v.size < 2:
        return float("nan"), float("nan")
    lo, hi = np.percentile(v, [2.5, 97.5])
    return float(lo), float(hi)


def _fit_task(data: Data, cols, plan_fold, spec, cfg: FitConfig, seed: int):
    tr, te = plan_fold
    sub = np.asarray(cols)
    cfg = _sub_config(data, sub, cfg)
    res = outer_fit(data.X[:, sub], data.y, data.groups, tr, te, spec, cfg, seed,
                    want_importance=False)  # fmt: skip
    return res["pred"]


def _sub_config(data: Data, sub: np.ndarray, cfg: FitConfig) -> FitConfig:
    keep = tuple(int(np.flatnonzero(sub == b)[0]) for b in data.baseline if b in sub)
    limits = None if data.limits is None else data.limits[sub]
    return replace(cfg, keep=keep, limits=limits, censored=bool(np.isinf(data.X[:, sub]).any()))


def evaluate_candidates(
    data: Data, columns: Mapping[str, Sequence[int]], *, model: str, plan: CVPlan,
    interval: str, n_bootstraps: int, inner_cv: int, screen_k: Mapping[str, int | None] | None,
    random_state: int, n_jobs: int | None, censor_rule: str = "lod_sqrt2",
) -> Candidates:  # fmt: skip
    """Cross-validate every candidate feature set under ``plan`` with shared fit seeds (internal).

    ``screen_k[name]`` is the candidate's panel size: the in-fold univariate screen keeps that
    many features (the clinical baseline of ``data`` is always kept).
    """
    spec = get_spec(resolve_name(model, data.task), data.task)
    base = FitConfig(task=data.task, screen_k=DEFAULT_SCREEN_K, n_inner=inner_cv,
                     censor_rule=censor_rule)  # fmt: skip
    names = list(columns)
    # identical feature sets (e.g. all-A and clinical+B with two assays) are fitted once
    first: dict[tuple, str] = {}
    for name in names:
        first.setdefault((tuple(columns[name]), (screen_k or {}).get(name, DEFAULT_SCREEN_K)), name)
    same = {name: first[(tuple(columns[name]), (screen_k or {}).get(name, DEFAULT_SCREEN_K))]
            for name in names}  # fmt: skip
    tasks, keys = [], []
    for name in dict.fromkeys(same.values()):
        k = (screen_k or {}).get(name, DEFAULT_SCREEN_K)
        cfg = replace(base, screen_k=k)
        for r, f, tr, te in plan.folds():
            # the same seed for every candidate: the pairing covers the inner tuning folds too
            seed = seed_for(random_state, "fit", r, f)
            tasks.append((data, list(columns[name]), (tr, te), spec, cfg, seed))
            keys.append((name, r, te))
    with timed(f"added value: {len(tasks)} outer fits of {len(names)} candidates"):
        preds = parallel_map(_fit_task, tasks, n_jobs=n_jobs, description="candidates")
    fitted = {name: np.full((plan.n_repeats, len(data.y)), np.nan) for name in set(same.values())}
    for (name, r, te), pr in zip(keys, preds, strict=True):
        fitted[name][r, te] = pr
    oof = {name: fitted[same[name]].copy() for name in names}
    rng = np.random.default_rng(seed_for(random_state, "bootstrap"))
    n = len(data.y)
    idx = rng.integers(0, n, size=(n_bootstraps, n)) if n_bootstraps else np.empty((0, n), int)
    return Candidates(data, plan, {k: list(v) for k, v in columns.items()}, oof, interval, idx)


def prepare_blocks(
    table, *, outcome, blocks, clinical, landmark="auto"
) -> tuple[Data, dict[str, list[int]], list[int]]:
    """Prepared data, block name → column indices (clinical removed), clinical columns."""
    feats = list(table.var_names) if hasattr(table, "var_names") else None
    if feats is None:
        feats = [str(c) for c in table.columns]
    if isinstance(clinical, str):
        clinical_feats = assay_blocks(feats).get(clinical, [])
        if not clinical_feats:
            msg = (
                f"clinical={clinical!r}: no feature of block {clinical!r} in the table; give the "
                "clinical score features as a list (e.g. ['clinical:meld@D0'])"
            )
            raise ConfigError(msg)
    else:
        clinical_feats = [str(c) for c in clinical]
    data = prepare(table, outcome=outcome, covariates=(), clinical_baseline=clinical_feats,
                   assessed_day=None, landmark=landmark)  # fmt: skip
    clin = list(data.baseline)
    found = (
        assay_blocks(data.features) if blocks is None else {k: list(v) for k, v in blocks.items()}
    )
    pos = {f: i for i, f in enumerate(data.features)}
    out: dict[str, list[int]] = {}
    for name, members in found.items():
        unknown = [m for m in members if m not in pos]
        if unknown:
            msg = f"blocks[{name!r}]: {unknown[0]!r} is not a feature of the table"
            raise ConfigError(msg)
        cols = [pos[m] for m in members if pos[m] not in clin]
        if cols:
            # the clinical features that are not the chosen scores form their own assay
            out["clinical_other" if clin and name == "clinical" else name] = cols
    if not out:
        msg = "added_value needs at least one assay block besides the clinical scores"
        raise ConfigError(msg)
    return data, out, clin


def added_value(
    table,
    *,
    outcome,
    blocks: Mapping[str, Sequence[str]] | None = None,
    clinical: str | Sequence[str] = "clinical",
    model: str = "enet",
    cv: int | tuple[int, int] = (5, 2),
    interval: str = "bbc",
    n_bootstraps: int = 200,
    inner_cv: int = 3,
    screen_k: int | None = DEFAULT_SCREEN_K,
    decision_thresholds: Sequence[float] = DECISION_THRESHOLDS,
    landmark: float | str | None = "auto",
    random_state: int | None = 0,
    n_jobs: int | None = None,
) -> AddedValue:
    """Added value of each assay over the clinical scores, with paired differences.

    Candidates, all under the same outer folds and fit seeds: ``clinical`` (the clinical scores
    alone), ``clinical+<assay>`` for every assay block, ``clinical+all``, and (with two or more
    assays) ``all-<assay>`` (leave one assay out). The clinical scores are kept in every model
    (exempt from the in-fold screen). Blocks whose features are all missing for a subject are
    imputed in-fold here (early fusion); see :class:`StackedModel` for late fusion.

    Parameters
    ----------
    table
        FeatureTable AnnData or DataFrame, as for :func:`discover`.
    outcome
        Outcome, as for :func:`discover` (binary: AUROC; survival: Harrell's C; continuous: R²).
    blocks
        Block name → features; default the assay of every feature name
        (:func:`assay_blocks`).
    clinical
        A block name (default ``"clinical"``) or the list of clinical score features.
    model
        Registry model of every candidate (``enet`` resolves to ``coxnet`` for survival).
    cv
        Outer CV, ``n_splits`` or ``(n_splits, n_repeats)``.
    interval
        ``"bbc"`` (default, as :func:`discover`), ``"corrected_t"`` or ``"bootstrap"``; the
        difference of two candidates uses the same bootstrap indices (or folds).
    n_bootstraps
        Bootstrap replicates (``bbc``, ``bootstrap``).
    inner_cv
        Inner folds for hyperparameters.
    screen_k
        Features kept by the in-fold univariate screen.
    decision_thresholds
        Risk thresholds of the decision curves (binary outcomes).
    landmark
        As for :func:`discover`.
    random_state
        Seed; the same result whatever ``n_jobs`` is.
    n_jobs
        Parallel workers; ``None`` uses ``biomarkers.settings.n_jobs``.

    Returns
    -------
    AddedValue
        ``table`` columns ``candidate, kind, blocks, n_features, metric, estimate, ci_low,
        ci_high, reference, delta, delta_ci_low, delta_ci_high, interval, n``: ``delta`` is the
        paired difference to ``reference`` (``clinical`` for ``clinical+…``, ``clinical+all``
        for ``all-…``); ``decision_curves`` the net benefit of every candidate.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from biomarkers.models import added_value
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(80, 5)), columns=["clinical:meld@D0",
    ...     "cytokine:IL6@D0", "cytokine:IL10@D0", "flow:Treg@D0", "flow:NK@D0"])
    >>> X["response"] = (X["cytokine:IL6@D0"] + rng.normal(size=80) > 0).astype(int)
    >>> res = added_value(X, outcome="response", cv=(3, 1), n_bootstraps=50)
    >>> res.table["candidate"].tolist()
    ['clinical', 'clinical+cytokine', 'clinical+flow', 'clinical+all', 'all-cytokine', 'all-flow']
    """
    n_jobs = settings.n_jobs if n_jobs is None else n_jobs
    random_state = root_seed(random_state)
    check_choice("interval", interval, PAIRED_INTERVALS, source="added_value")
    n_splits, n_repeats = (cv, 1) if isinstance(cv, int) else (int(v) for v in cv)
    data, block_cols, clin = prepare_blocks(table, outcome=outcome, blocks=blocks,
                                            clinical=clinical, landmark=landmark)  # fmt: skip
    columns, kinds, refs = _candidate_sets(block_cols, clin)
    plan = discovery_plan(data.y, data.groups, task=data.task, outcome_name=data.outcome_name,
                          n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)  # fmt: skip
    cands = evaluate_candidates(
        data, columns, model=model, plan=plan, interval=interval, n_bootstraps=n_bootstraps,
        inner_cv=inner_cv, screen_k=dict.fromkeys(columns, screen_k),
        random_state=random_state, n_jobs=n_jobs,
    )  # fmt: skip
    table_ = _table(cands, kinds, refs, block_cols)
    curves = pd.DataFrame()
    if data.task == "binary":
        curves = decision_curve_table(data.y, cands.oof, list(decision_thresholds))
    names = {k: [data.features[i] for i in v] for k, v in block_cols.items()}
    info = {"outcome": data.outcome_name, "task": data.task, "model": model,
            "n_splits": plan.n_splits, "n_repeats": plan.n_repeats, "interval": interval,
            "interval_label": INTERVAL_LABELS[interval], "n_bootstraps": int(n_bootstraps),
            "random_state": random_state, "clinical": [data.features[i] for i in clin]}  # fmt: skip
    return AddedValue(table=table_, decision_curves=curves, blocks=names, settings=info)


def _candidate_sets(block_cols: Mapping[str, list[int]], clin: list[int]):
    columns: dict[str, list[int]] = {"clinical": list(clin)}
    kinds = {"clinical": "clinical alone"}
    refs: dict[str, str | None] = {"clinical": None}
    everything = list(clin) + [c for cols in block_cols.values() for c in cols]
    for name, cols in block_cols.items():
        columns[f"clinical+{name}"] = list(clin) + cols
        kinds[f"clinical+{name}"], refs[f"clinical+{name}"] = "clinical + assay", "clinical"
    if len(block_cols) > 1:
        columns["clinical+all"] = everything
        kinds["clinical+all"], refs["clinical+all"] = "clinical + all", "clinical"
        for name, cols in block_cols.items():
            columns[f"all-{name}"] = [c for c in everything if c not in set(cols)]
            kinds[f"all-{name}"], refs[f"all-{name}"] = "leave one assay out", "clinical+all"
    return columns, kinds, refs


def _table(cands: Candidates, kinds, refs, block_cols) -> pd.DataFrame:
    stats = {name: cands.stat(name) for name in cands.columns}
    rows = []
    for name, cols in cands.columns.items():
        point, reps = stats[name]
        lo, hi = cands.interval_of(reps)
        ref = refs[name]
        if ref is not None:
            d_point = point - stats[ref][0]
            d_lo, d_hi = cands.interval_of(reps - stats[ref][1])
        else:
            d_point = d_lo = d_hi = np.nan
        used = [b for b, bc in block_cols.items() if set(bc) <= set(cols)]
        rows.append({
            "candidate": name, "kind": kinds[name], "blocks": ";".join(["clinical", *used]),
            "n_features": len(cols), "metric": PRIMARY[cands.data.task], "estimate": point,
            "ci_low": lo, "ci_high": hi, "reference": ref, "delta": d_point,
            "delta_ci_low": d_lo, "delta_ci_high": d_hi, "interval": cands.interval,
            "n": len(cands.data.y),
        })  # fmt: skip
    return pd.DataFrame(rows)


def paired_delta(cands: Candidates, a: str, b: str) -> tuple[float, float, float]:
    """Paired difference ``a − b`` of two evaluated candidates with its interval (internal)."""
    pa, ra = cands.stat(a)
    pb, rb = cands.stat(b)
    lo, hi = cands.interval_of(ra - rb)
    return pa - pb, lo, hi
