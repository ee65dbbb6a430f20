"""Power study throughput: replicates per minute for the default small-trial grid.

    python benchmarks/bench_power.py                              # configs/power.yaml grid, local, 2 processes
    python benchmarks/bench_power.py --backend dask --n-jobs 2    # the same on a Dask LocalCluster
    python benchmarks/bench_power.py --replicates 5 --out /tmp/power_quick

The grid is ``power.grid`` of ``configs/power.yaml`` (n_subjects 60/100/200 x predictive effect
0/0.5/1.0, cytokines + flow, D0/D7/D28) with its analyses and fast settings. The study folder
(``--out``, default /work/bench_data/power_study) is resumable: a rerun only runs the replicates
still missing, and the rate is measured over the replicates this invocation ran; ``--minutes``
stops it (resumably) after about that long. Each finished
replicate is on disk as it comes; ``<out>/bench.jsonl`` gets one line per invocation (replicates
run, wall seconds, replicates per minute, 1-minute load average before and after) and the per
grid point table is written to ``<out>/power.csv``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=HERE.parent / "configs" / "power.yaml")
    ap.add_argument("--out", type=Path, default=Path("/work/bench_data/power_study"))
    ap.add_argument("--replicates", type=int, default=None, help="default: the config's")
    ap.add_argument("--backend", choices=("local", "dask"), default="local")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--minutes", type=float, default=None, help="stop (resumably) after this long")
    ap.add_argument("--chunk", type=int, default=18, help="replicates between time checks")
    args = ap.parse_args()

    import biomarkers as bm

    section = yaml.safe_load(args.config.read_text())["power"]
    if args.replicates is not None:
        section["replicates"] = args.replicates
    out = args.out
    study = out / args.backend
    before = len(list(study.glob("replicates/*/*.json"))) if study.exists() else 0
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    while True:  # in chunks of --chunk replicates, until complete or --minutes are spent
        res = bm.design.power(section, out_dir=study, backend=args.backend, n_jobs=args.n_jobs,
                              stop_after=args.chunk)  # fmt: skip
        wall = time.perf_counter() - t0
        if res.complete or (args.minutes and wall > 60 * args.minutes):
            break
    ran = len(res.records) - before
    line = {
        "backend": args.backend, "n_jobs": args.n_jobs, "grid_points": int(res.records["point_id"].nunique()),
        "replicates_total": len(res.records), "replicates_run": ran, "wall_s": round(wall, 1),
        "replicates_per_min": round(60 * ran / wall, 2) if ran else None,
        "load_before": round(load0, 1), "load_after": round(os.getloadavg()[0], 1),
        "complete": res.complete,
    }  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    with (out / "bench.jsonl").open("a") as fh:
        fh.write(json.dumps(line) + "\n")
    res.save(study)
    print(json.dumps(line))


if __name__ == "__main__":
    main()
