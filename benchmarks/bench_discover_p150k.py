"""Default ``discover`` over every gene of every cell type (p ≈ 150,000 at n = 100).

The simulated trial's single-cell generator cannot make 2,000 genes × 20+ cell types cheaply,
so this builds the FeatureTable-shaped table directly: pseudobulk-like log-CPM values
(``pseudobulk:<cell type>:<gene>@D0``, ``@D7`` and the change ``@D7-D0``) for ``n`` subjects,
gene-level means from a log-normal, a subject effect shared by a subject's visits, plus
``n_signal`` planted D0 genes driving a binary response.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_discover_p150k.py --genes 2000 --cell-types 25
    .venv/bin/python benchmarks/bench_discover_p150k.py --genes 2000 --cell-types 25 --profile
    .venv/bin/python benchmarks/bench_discover_p150k.py --genes 2000 --cell-types 3 --p-cap 20000

Runs ``discover`` with the default models (enet + xgboost), the default screen (500) and decoys
(``min(p, 5000)``), the demo's ``cv=(5, 3)`` and ``n_permutations`` from the command line
(default 0: permutations multiply the outer-CV cost by ``n_permutations / (2 * n_repeats)``).
Prints one JSON line: p, wall seconds, peak RSS (MB, ``ru_maxrss`` of this process and its
joblib workers) and the planted genes' ranks.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import time

import numpy as np
import pandas as pd


def simulate(n: int, genes: int, cell_types: int, *, n_signal: int = 5, seed: int = 0):
    """Subjects × (cell type × gene × {D0, D7, D7-D0}) log-CPM table with a ``response`` column."""
    rng = np.random.default_rng(seed)
    p0 = genes * cell_types
    base = rng.normal(3.0, 2.0, size=p0).astype(np.float32)  # gene × cell type mean log-CPM
    sd = rng.uniform(0.3, 1.2, size=p0).astype(np.float32)
    subj = rng.normal(size=(n, p0)).astype(np.float32)
    d0 = base + sd * (0.8 * subj + 0.6 * rng.normal(size=(n, p0)).astype(np.float32))
    d7 = base + sd * (0.8 * subj + 0.6 * rng.normal(size=(n, p0)).astype(np.float32))
    lin = d0[:, :n_signal].sum(1) / sd[:n_signal].mean()
    lin = (lin - lin.mean()) / lin.std()
    y = (4.0 * lin + rng.logistic(size=n) > 0).astype(int)
    names = [f"CT{c:02d}:G{g:05d}" for c in range(cell_types) for g in range(genes)]
    cols = [f"pseudobulk:{nm}@D0" for nm in names]
    cols += [f"pseudobulk:{nm}@D7" for nm in names]
    cols += [f"pseudobulk:{nm}@D7-D0" for nm in names]
    X = np.hstack([d0, d7, d7 - d0])
    df = pd.DataFrame(X, columns=cols, index=[f"S{i:03d}" for i in range(n)])
    df["response"] = y
    return df, cols[:n_signal]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--genes", type=int, default=2000)
    ap.add_argument("--cell-types", type=int, default=25)
    ap.add_argument("--p-cap", type=int, default=None, help="keep the first P features")
    ap.add_argument("--cv", type=int, nargs=2, default=(5, 3))
    ap.add_argument("--n-permutations", type=int, default=0)
    ap.add_argument("--n-bootstraps", type=int, default=200)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--profile", action="store_true", help="cProfile one outer repeat")
    ap.add_argument(
        "--defaults",
        action="store_true",
        help="discover's own defaults for cv, n_permutations, n_bootstraps and interval",
    )
    ap.add_argument("--log", default=None, help="write discover's stage times to this file")
    args = ap.parse_args()
    if args.log:  # the stage times (outer fits, permutations) as they finish
        import logging

        logging.basicConfig(filename=args.log, level=logging.INFO, format="%(asctime)s %(message)s")

    from biomarkers.models import discover

    df, planted = simulate(args.n, args.genes, args.cell_types)
    if args.p_cap:
        df = df[[*df.columns[: args.p_cap], "response"]]
    p = df.shape[1] - 1
    cv = tuple(args.cv)
    kw = {
        "outcome": "response",
        "cv": (cv[0], 1) if args.profile else cv,
        "n_permutations": args.n_permutations,
        "n_bootstraps": args.n_bootstraps,
        "n_jobs": 1 if args.profile else args.n_jobs,
    }
    if args.defaults:  # exactly what a user gets: no cv / n_permutations / n_bootstraps given
        for key in ("cv", "n_permutations", "n_bootstraps"):
            kw.pop(key)
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    t0 = time.perf_counter()
    if args.profile:
        prof = cProfile.Profile()
        res = prof.runcall(discover, df, **kw)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
    else:
        res = discover(df, **kw)
    wall = time.perf_counter() - t0
    rk = res.ranking[res.ranking["feature"].isin(planted)]
    pos = {
        f"{m}:{f.split(':', 2)[2]}": int(r) for m, f, r in rk[["model", "feature", "rank"]].values
    }
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    out = {
        "p": p,
        "n": args.n,
        "cv": list(kw["cv"]) if "cv" in kw else "default",
        "n_permutations": kw.get("n_permutations", "default"),
        "load_after": round(os.getloadavg()[0], 1),
        "n_jobs": kw["n_jobs"],
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(peak / 1024),
        "planted_ranks": pos,
        "auroc": res.performance.query("metric == 'auroc'")[["model", "estimate"]]
        .round(3)
        .to_dict("records"),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
