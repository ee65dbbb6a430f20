"""Pseudobulk scaling: local streaming vs a Dask LocalCluster, by chunk size.

    python benchmarks/bench_dask.py --cells 100000
    python benchmarks/bench_dask.py --cells 500000 --json /work/bench_data/dask_500k.json

The file is written by ``benchmarks/make_atlas.py`` (to /work/bench_data/ by default) when missing.
Every configuration runs in its own subprocess (and, for Dask, on its own fresh LocalCluster of
2 single-threaded worker processes), so peak memory figures are not inherited from earlier runs.

Configurations
--------------
local  chunk=N       bm.features.pseudobulk(path, chunk_size=N) in the process
dask   task=N        bm.features.pseudobulk(path, backend="dask", rows_per_task=N) on the cluster
                     (each task streams its rows 1,000 at a time)

Reported per configuration: wall seconds of the call (cluster start-up excluded), peak RSS of the
calling process (it holds the output) and, for Dask, the largest peak RSS over the workers, plus
the 1-minute load average right before the run (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def _child(backend: str, size: int, path: str) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    import anndata  # noqa: F401  (imports are not timed)

    import biomarkers.features as bf
    from biomarkers.features._kernels import scatter_csr  # noqa: F401

    if backend == "local":
        t = time.perf_counter()
        pb = bf.pseudobulk(path, chunk_size=size)
        sec = time.perf_counter() - t
        return {
            "seconds": sec,
            "client_peak_gb": _peak_gb(),
            "total": float(pb.X.sum(dtype="float64")),
        }
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # workers import the kernel (numba cache) before the clock starts, as the local run does
        client.run(lambda: __import__("biomarkers.features._pseudobulk_dask"))
        t = time.perf_counter()
        pb = bf.pseudobulk(path, backend="dask", client=client, rows_per_task=size)
        sec = time.perf_counter() - t
        workers = client.run(_peak_gb)
    return {
        "seconds": sec,
        "client_peak_gb": _peak_gb(),
        "worker_peak_gb": max(workers.values()),
        "total": float(pb.X.sum(dtype="float64")),
    }


def run(backend: str, size: int, path: Path, *, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--child", backend, str(size), str(path)]
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return {**json.loads(line[7:]), "load": load}
    return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1], "load": load}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cells", type=int, default=100_000)
    ap.add_argument("--file", type=Path, default=None)
    ap.add_argument("--local-chunks", type=int, nargs="+", default=[1_000, 5_000, 20_000])
    ap.add_argument("--dask-tasks", type=int, nargs="+", default=[5_000, 20_000, 100_000])
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--child", nargs=3, metavar=("BACKEND", "SIZE", "PATH"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        backend, size, path = a.child
        print("RESULT " + json.dumps(_child(backend, int(size), path)), flush=True)
        return
    path = a.file or Path(f"/work/bench_data/atlas_{a.cells // 1000}k.h5ad")
    if not path.exists():
        sys.path.insert(0, str(HERE))
        from make_atlas import make_atlas

        make_atlas(path, n_cells=a.cells)
    run("local", 1_000, path, timeout=a.timeout)  # page cache + numba cache warm for all
    configs = [("local", n) for n in a.local_chunks] + [("dask", n) for n in a.dask_tasks]
    results = []
    print(f"file: {path} ({path.stat().st_size / 1e9:.1f} GB)")
    print(
        f"{'backend':<7} {'rows':>8} {'load':>5} {'seconds':>8} {'client GB':>9} {'worker GB':>9}"
    )
    for backend, size in configs:
        r = {"backend": backend, "rows": size, **run(backend, size, path, timeout=a.timeout)}
        results.append(r)
        if "error" in r:
            print(f"{backend:<7} {size:>8} {r['load']:5.1f}  failed: {r['error']}")
            continue
        worker = f"{r['worker_peak_gb']:9.2f}" if "worker_peak_gb" in r else f"{'-':>9}"
        print(
            f"{backend:<7} {size:>8} {r['load']:5.1f} {r['seconds']:8.1f} "
            f"{r['client_peak_gb']:9.2f} {worker}  total={r['total']:.6g}",
            flush=True,
        )
    if a.json:
        a.json.write_text(json.dumps({"file": str(path), "results": results}, indent=1))


if __name__ == "__main__":
    main()
