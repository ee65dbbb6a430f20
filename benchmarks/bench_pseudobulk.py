"""Pseudobulk + composition: biomarkers (streamed from the .h5ad) vs scanpy and decoupler.

    python benchmarks/bench_pseudobulk.py --cells 100000          # < 1 min, regular use
    python benchmarks/bench_pseudobulk.py --cells 100000 --methods io_floor biomarkers scanpy decoupler
    python benchmarks/bench_pseudobulk.py --cells 500000 --methods io_floor biomarkers scanpy
    python benchmarks/bench_pseudobulk.py --cells 1000000 --methods io_floor biomarkers

The file is written by ``benchmarks/make_atlas.py`` (to /work/bench_data/ by default) when missing.
Every method runs in its own subprocess, so its peak memory (``ru_maxrss``) is its own; wall time
is measured inside the subprocess around the work (file open to result in memory), imports
excluded. All methods read the same file right after each other (warm page cache for all).

Methods
-------
io_floor      h5py reads X/data and X/indices in row chunks into reused buffers (nothing else)
biomarkers    bm.features.pseudobulk(path) + bm.features.composition(path)
scanpy        anndata.read_h5ad(path) + scanpy.get.aggregate(by=[sample, cell type], "sum")
              + pandas.crosstab of obs (composition)
decoupler     anndata.read_h5ad(path) + decoupler.pp.pseudobulk(mode="sum") + crosstab
mechanism     the mechanism job's streaming parts: bm.features.pseudobulk(path), composition of
              the pseudobulk, and bm.mechanism.pseudobulk_de of the arm × visit interaction for
              every cell type (samples S0000.. are subjects i // 2 at D0 / D7, arms alternate):

    python benchmarks/bench_pseudobulk.py --cells 1000000 --methods mechanism
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
METHODS = ("io_floor", "biomarkers", "scanpy", "decoupler", "mechanism")


def _run_io_floor(path: str) -> dict:
    import h5py
    import numpy as np

    t = time.perf_counter()
    with h5py.File(path, "r") as f:
        x = f["X"]
        indptr = x["indptr"][...]
        data, ind = x["data"], x["indices"]
        n = indptr.size - 1
        step = 5_000
        starts = np.arange(0, n, step)
        stops = np.minimum(starts + step, n)
        size = int((indptr[stops] - indptr[starts]).max())
        dbuf = np.empty(size, data.dtype)
        ibuf = np.empty(size, ind.dtype)
        for a, b in zip(starts, stops, strict=True):
            lo, hi = int(indptr[a]), int(indptr[b])
            data.read_direct(dbuf, np.s_[lo:hi], np.s_[0 : hi - lo])
            ind.read_direct(ibuf, np.s_[lo:hi], np.s_[0 : hi - lo])
    return {"seconds": time.perf_counter() - t, "nnz": int(indptr[-1])}


def _run_biomarkers(path: str) -> dict:
    import anndata  # noqa: F401  (imported before timing, as for the peers)

    import biomarkers.features as bf
    from biomarkers.features._kernels import scatter_csr  # noqa: F401  (import, not timed)

    t = time.perf_counter()
    # composition first: its obs temporaries are freed before the big pseudobulk output exists
    comp = bf.composition(path, sample_key="sample_id", groups_key="cell_type")
    pb = bf.pseudobulk(path, sample_key="sample_id", groups_key="cell_type")
    sec = time.perf_counter() - t
    return {
        "seconds": sec,
        "shape": list(pb.shape),
        "total": float(pb.X.sum(dtype="float64")),
        "n_samples": comp.n_obs,
    }


def _run_mechanism(path: str) -> dict:
    import logging

    import numpy as np
    import pandas as pd

    import biomarkers.features as bf
    from biomarkers.mechanism import pseudobulk_de

    # per-cell-type DE times go to <file>.mechanism.log while it runs
    log = Path(path).with_suffix(".mechanism.log")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", filename=log)
    t = time.perf_counter()
    pdata = bf.pseudobulk(path, sample_key="sample_id", groups_key="cell_type")
    t_pb = time.perf_counter() - t
    comp = bf.composition(pdata)
    t_comp = time.perf_counter() - t - t_pb
    samples = pd.Index(pdata.obs["sample_id"].astype(str).unique())
    number = np.array([int(s[1:]) for s in samples])
    design = pd.DataFrame(
        {
            "subject_id": [f"P{i // 2:04d}" for i in number],
            "visit": np.where(number % 2 == 0, "D0", "D7"),
            "arm": np.where((number // 2) % 2 == 0, "ucMSC+SMT", "SMT"),
        },
        index=samples.rename("sample_id"),
    )
    n_types = int(os.environ.get("BENCH_DE_CELL_TYPES", "0"))
    types = list(pdata.obs["cell_type"].astype(str).unique())
    de = pseudobulk_de(
        pdata,
        cell_type=types[:n_types] if n_types else None,
        design_table=design,
        contrast=(("arm", "ucMSC+SMT", "SMT"), ("visit", "D7", "D0")),
    )
    return {
        "seconds": time.perf_counter() - t,
        "pseudobulk_s": t_pb,
        "composition_s": t_comp,
        "de_s": time.perf_counter() - t - t_pb - t_comp,
        "shape": list(pdata.shape),
        "total": float(pdata.X.sum(dtype="float64")),
        "n_samples": comp.n_obs,
        "de_rows": len(de.table),
        "de_cell_types": int(de.table["cell_type"].nunique()),
    }


def _crosstab(obs):
    import pandas as pd

    return pd.crosstab(obs["sample_id"], obs["cell_type"])


def _run_scanpy(path: str) -> dict:
    import anndata as ad
    import scanpy as sc

    t = time.perf_counter()
    adata = ad.read_h5ad(path)
    agg = sc.get.aggregate(adata, by=["sample_id", "cell_type"], func="sum")
    comp = _crosstab(adata.obs)
    sec = time.perf_counter() - t
    return {
        "seconds": sec,
        "shape": list(agg.shape),
        "total": float(agg.layers["sum"].sum()),
        "n_samples": comp.shape[0],
    }


def _run_decoupler(path: str) -> dict:
    import anndata as ad
    import decoupler as dc

    t = time.perf_counter()
    adata = ad.read_h5ad(path)
    pdata = dc.pp.pseudobulk(adata, sample_col="sample_id", groups_col="cell_type", mode="sum")
    comp = _crosstab(adata.obs)
    sec = time.perf_counter() - t
    return {
        "seconds": sec,
        "shape": list(pdata.shape),
        "total": float(pdata.X.sum()),
        "n_samples": comp.shape[0],
    }


def child(method: str, path: str) -> None:
    import warnings

    warnings.simplefilter("ignore")
    result = globals()[f"_run_{method}"](path)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_gb"] = usage.ru_maxrss * 1024 / 1e9
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # under contention, beside wall time
    print("RESULT " + json.dumps(result))


def run_method(method: str, path: Path, *, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--child", method, str(path)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - t
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            out = json.loads(line[7:])
            out["process_seconds"] = wall
            return out
    return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1], "rc": proc.returncode}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cells", type=int, default=100_000)
    ap.add_argument("--file", type=Path, default=None)
    ap.add_argument("--methods", nargs="+", choices=METHODS, default=None)
    ap.add_argument("--warmup", action="store_true", help="run biomarkers once first (JIT cache)")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument(
        "--de-cell-types", type=int, default=0, help="mechanism: DE on the first N cell types"
    )
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    if a.de_cell_types:
        os.environ["BENCH_DE_CELL_TYPES"] = str(a.de_cell_types)
    path = a.file or Path(f"/work/bench_data/atlas_{a.cells // 1000}k.h5ad")
    if not path.exists():
        sys.path.insert(0, str(HERE))
        from make_atlas import make_atlas

        make_atlas(path, n_cells=a.cells)
    # regular use (100k) stays well under a minute even on a loaded machine: peers are opt-in
    # there (scanpy alone takes ~20 s idle, decoupler ~45 s); at 500k scanpy is the reference
    methods = a.methods or (
        ["io_floor", "biomarkers", "scanpy"]
        if 200_000 < a.cells <= 600_000
        else ["io_floor", "biomarkers"]
    )
    if a.warmup or "biomarkers" in methods:
        run_method("io_floor", path, timeout=a.timeout)  # JIT cache + page cache warm for all
    load = os.getloadavg()
    results = {m: run_method(m, path, timeout=a.timeout) for m in methods}
    print(f"file: {path} ({path.stat().st_size / 1e9:.1f} GB); load avg before: {load[0]:.1f}")
    print(f"{'method':<12} {'seconds':>8} {'peak GB':>8} {'vs biomarkers':>14}  notes")
    ref = results.get("biomarkers", {}).get("seconds")
    for m, r in results.items():
        if "error" in r:
            print(f"{m:<12} {'-':>8} {'-':>8} {'-':>14}  failed: {r['error']}")
            continue
        ratio = f"{r['seconds'] / ref:.1f}x" if ref else "-"
        note = f"total={r['total']:.6g}" if "total" in r else f"nnz={r.get('nnz')}"
        print(f"{m:<12} {r['seconds']:8.1f} {r['peak_rss_gb']:8.2f} {ratio:>14}  {note}")
    if "io_floor" in results and ref:
        print(f"biomarkers / io_floor = {ref / results['io_floor']['seconds']:.2f}")
    if a.json:
        a.json.write_text(
            json.dumps({"file": str(path), "load": load, "results": results}, indent=1)
        )


if __name__ == "__main__":
    main()
