"""One cross-validation plan, one seed scheme and one parallel map for every model analysis.

:func:`~biomarkers.models.discover`, :meth:`~biomarkers.models.DiscoveryResult.panel` and
:func:`~biomarkers.models.predictive` draw every random choice from
``SeedSequence(random_state, spawn_key=(stream, *key))``, with a stream naming what the draw is
for (outer split of repeat r, fit of (repeat, fold), permutation b, ...). Results therefore do
not depend on the order in which joblib workers run the tasks, nor on ``n_jobs``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from biomarkers._parallel import limit_blas
from biomarkers._progress import progress
from biomarkers._settings import settings
from biomarkers.exceptions import SchemaError, SmallSampleWarning

__all__: list[str] = []

_STREAMS = {
    "outer": 1,
    "fit": 2,
    "perm": 3,
    "perm_split": 4,
    "perm_fit": 5,
    "bootstrap": 6,
    "decoys": 7,
    "final": 8,
    "decoy_rows": 9,
    # predictive(): cross-fitting folds, learner seeds, Qini bootstrap, arm-label permutations
    "pred_folds": 10,
    "pred_learn": 11,
    "pred_bootstrap": 12,
    "pred_perm": 13,
    "pred_perm_split": 14,
    "pred_perm_fit": 15,
    # discover(interval="nested_cv"): fits of the inner CV inside every outer training set
    "ncv_fit": 16,
    # predictive(): RATE bootstrap and heterogeneity-test folds (numbers kept apart from others)
    "hte_bootstrap": 231,
    "hte_folds": 232,
    "hte_sequential": 233,
    "hte_score": 234,
    # predictive(shrinkage=...): horseshoe sampler, joint ridge λ folds and bootstrap
    "shrink_horseshoe": 51,
    "shrink_ridge_cv": 52,
    "shrink_ridge_boot": 53,
    # StackedModel / CooperativeModel (models._fusion): inner folds and their fits
    "fusion_inner": 40,
    "fusion_inner_fit": 41,
}

Split = tuple[np.ndarray, np.ndarray]


def root_seed(random_state: int | np.random.Generator | None) -> int:
    """The integer every stream derives from: ``None`` = settings, a Generator draws one."""
    if random_state is None:
        return int(settings.random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**32))
    return int(random_state)


def seed_for(random_state: int, stream: str, *key: int) -> int:
    """Deterministic 32-bit seed for ``stream`` and integer ``key`` (order-independent)."""
    ss = np.random.SeedSequence(int(random_state), spawn_key=(_STREAMS[stream], *map(int, key)))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def strata(y, task: str) -> np.ndarray:
    """Labels to stratify folds on: the class, the event indicator, or outcome quintiles."""
    if task == "binary":
        return np.asarray(y).astype(int)
    if task == "survival":
        return np.asarray(y[y.dtype.names[0]]).astype(int)
    y = np.asarray(y, dtype=float)
    edges = np.quantile(y, [0.2, 0.4, 0.6, 0.8])
    return np.searchsorted(edges, y, side="right")


def grouped_folds(strat, groups, *, n_splits: int, seed: int) -> list[Split]:
    """Stratified, subject-grouped K-fold split (shuffled with ``seed``)."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    dummy = np.zeros((len(strat), 1))
    if len(np.unique(groups)) == len(groups):
        # one row per subject: plain stratified folds are the same split, and much faster
        cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return [(tr, te) for tr, te in cv.split(dummy, strat)]
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in cv.split(dummy, strat, groups)]


@dataclass(frozen=True)
class CVPlan:
    """Repeated, stratified, subject-grouped outer folds of one analysis (internal).

    ``splits[r][f]`` is the ``(train, test)`` row indices of fold ``f`` of repeat ``r``; repeat
    ``r`` is shuffled with ``seed_for(random_state, stream, r)``.
    """

    splits: tuple[tuple[Split, ...], ...]
    random_state: int
    stream: str = "outer"

    @classmethod
    def make(
        cls, strat, groups, *, n_splits: int, n_repeats: int, random_state: int, stream="outer"
    ) -> CVPlan:
        """Build the folds of every repeat."""
        splits = tuple(
            tuple(
                grouped_folds(
                    strat, groups, n_splits=n_splits, seed=seed_for(random_state, stream, r)
                )
            )
            for r in range(n_repeats)
        )
        return cls(splits=splits, random_state=int(random_state), stream=stream)

    @property
    def n_repeats(self) -> int:
        """Number of repeats."""
        return len(self.splits)

    @property
    def n_splits(self) -> int:
        """Folds per repeat."""
        return len(self.splits[0]) if self.splits else 0

    def folds(self) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """``(repeat, fold, train, test)`` in plan order (repeat-major)."""
        for r, folds in enumerate(self.splits):
            for f, (tr, te) in enumerate(folds):
                yield r, f, tr, te

    def fold_ids(self, repeat: int = 0) -> np.ndarray:
        """Test fold of every row in ``repeat``."""
        n = sum(len(te) for _, te in self.splits[repeat])
        out = np.full(n, -1, dtype=int)
        for f, (_, te) in enumerate(self.splits[repeat]):
            out[te] = f
        return out


def inner_splits(plan: CVPlan, repeat: int, fold: int) -> list[Split]:
    """Inner folds of the nested-CV interval: the other folds of ``repeat``, one held out each.

    For outer fold ``fold`` of ``repeat``, inner fold ``j`` trains on every outer test fold
    but ``fold`` and ``j`` and tests on fold ``j`` (Bates, Hastie & Tibshirani 2023).
    """
    folds = plan.splits[repeat]
    out = []
    for j, (_, te_j) in enumerate(folds):
        if j == fold:
            continue
        tr = np.concatenate([te for i, (_, te) in enumerate(folds) if i not in (fold, j)])
        out.append((np.sort(tr), te_j))
    return out


def discovery_plan(
    y, groups, *, task: str, outcome_name: str, n_splits: int, n_repeats: int, random_state: int
) -> CVPlan:
    """The outer folds of :func:`discover`: fewer folds (with a warning) for tiny classes."""
    st = strata(y, task)
    _, counts = np.unique(st, return_counts=True)
    smallest = int(counts.min())
    if task != "continuous":
        n_splits = _check_class_sizes(smallest, n_splits, outcome_name)
    return CVPlan.make(
        st, groups, n_splits=n_splits, n_repeats=n_repeats, random_state=random_state
    )


def _check_class_sizes(smallest: int, n_splits: int, outcome_name: str) -> int:
    if smallest < n_splits:
        if smallest < 2:
            msg = (
                f"outcome {outcome_name!r} has {smallest} subject in its smallest class; "
                "cross-validation needs at least 2 per class"
            )
            raise SchemaError(msg)
        warnings.warn(
            f"only {smallest} subjects in the smallest class of {outcome_name!r}: using "
            f"{smallest} outer folds instead of {n_splits}",
            SmallSampleWarning,
            stacklevel=4,
        )
        n_splits = smallest

    # nested CV: an outer training fold with fewer than 2 subjects of a class leaves an inner
    # training fold with one class, where nothing can be fitted or tuned
    def in_training(count: int) -> int:
        return count - int(np.ceil(count / n_splits))

    if in_training(smallest) < 2:
        needed = next(c for c in range(2, 100) if in_training(c) >= 2)
        msg = (
            f"too few subjects in the smallest class of {outcome_name!r} ({smallest}) for "
            f"nested cross-validation with {n_splits} outer folds: need at least {needed} per "
            "class; add subjects or choose an outcome with more events"
        )
        raise SchemaError(msg)
    if smallest / n_splits < 2:
        warnings.warn(
            f"about {smallest / n_splits:.1f} subjects of the smallest class per test fold of "
            f"{outcome_name!r}: fold metrics are noisy; the CIs say how much",
            SmallSampleWarning,
            stacklevel=4,
        )
    if smallest < 10:
        warnings.warn(
            f"only {smallest} subjects in the smallest class (events) of {outcome_name!r}; "
            "discovery with fewer than 10 is unreliable",
            SmallSampleWarning,
            stacklevel=4,
        )
    return n_splits


def parallel_map(
    fn: Callable[..., Any], tasks: Sequence[tuple], *, n_jobs: int | None, description: str
) -> list:
    """``[fn(*t) for t in tasks]`` in task order, on ``n_jobs`` joblib workers.

    ``None`` uses ``biomarkers.settings.n_jobs``, else the ``n_jobs`` of an active joblib
    backend block (every worker inside a Dask :func:`biomarkers._parallel.parallel_backend`),
    else 1. With 1 the tasks run in this process; otherwise on joblib's active backend. Seeds
    travel inside the tasks, so the result is the same whatever ``n_jobs`` or the backend.
    """
    from joblib import Parallel, delayed
    from joblib.parallel import get_active_backend

    if not tasks:
        return []
    if n_jobs is None:
        n_jobs = settings.n_jobs if settings.n_jobs is not None else get_active_backend()[1]
    if n_jobs in (None, 1):
        with limit_blas(1):
            return [fn(*t) for t in progress(tasks, description=description)]
    gen = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(fn)(*t) for t in tasks)
    return list(progress(gen, total=len(tasks), description=description))
