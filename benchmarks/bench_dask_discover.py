"""Permutation-heavy discovery: local joblib processes vs a Dask LocalCluster with the same cores.

    python benchmarks/bench_dask_discover.py [--subjects 100] [--permutations 200] [--workers 2]

Prints wall times and checks that both backends give identical performance and ranking tables.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import biomarkers as bm
from biomarkers._parallel import parallel_backend


def _table(n_subjects: int):
    trial = bm.datasets.simulate_trial(
        Path(tempfile.mkdtemp()),
        n_subjects=n_subjects,
        seed=0,
        cells_per_sample=0,
        scenario="default",
    )
    study = trial.study()
    outcome = bm.clinical.transplant_free_survival(study.clinical, horizon_days=90)
    table = bm.features.build_feature_table(study, visits=["D0", "D7"], outcome=outcome)
    return table[table.obs["tfs90"].notna().to_numpy()].copy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=100)
    parser.add_argument("--permutations", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    table = _table(args.subjects)
    print(f"table: {table.n_obs} subjects × {table.n_vars} features; load {os.getloadavg()[0]:.1f}")
    results = {}
    for kind in ("local", "dask"):
        start = time.perf_counter()
        with parallel_backend({"kind": kind, "n_jobs": args.workers}):
            res = bm.models.discover(
                table, outcome="tfs90", models=("enet",), cv=(5, 2), n_permutations=args.permutations,
                n_bootstraps=200, random_state=0, n_jobs=-1 if kind == "dask" else args.workers,
            )  # fmt: skip
        results[kind] = res
        print(f"{kind:6s} {time.perf_counter() - start:7.1f} s   (load {os.getloadavg()[0]:.1f})")
    same = all(
        results["local"].__getattribute__(t).equals(results["dask"].__getattribute__(t))
        for t in ("performance", "ranking")
    )
    print(f"identical performance and ranking tables: {same}")


if __name__ == "__main__":
    main()
