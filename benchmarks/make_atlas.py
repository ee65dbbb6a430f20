"""Write a simulated single-cell atlas (.h5ad, CSR counts) in chunks, never holding it in memory.

    python benchmarks/make_atlas.py --cells 1000000 --out /work/bench_data/atlas_1000k.h5ad

Layout: ``X`` is an anndata ``csr_matrix`` group (``data`` float32 integer counts, ``indices``
int32, ``indptr`` int64) written as contiguous HDF5 datasets; ``obs`` has ``sample_id`` (cells
sorted by sample, as in a concatenated atlas) and ``cell_type`` (random within a sample);
``var_names`` are ``G00000`` ...
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd


def make_atlas(
    path: Path,
    *,
    n_cells: int,
    n_genes: int = 20_000,
    nnz_per_cell: int = 1_500,
    n_samples: int = 500,
    n_types: int = 30,
    chunk: int = 20_000,
    seed: int = 0,
) -> Path:
    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sample = np.sort(rng.integers(0, n_samples, n_cells))
    ctype = rng.integers(0, n_types, n_cells)
    obs = pd.DataFrame(
        {
            "sample_id": pd.Categorical.from_codes(sample, [f"S{i:04d}" for i in range(n_samples)]),
            "cell_type": pd.Categorical.from_codes(
                ctype, [f"type_{i:02d}" for i in range(n_types)]
            ),
        },
        index=pd.Index([f"c{i}" for i in range(n_cells)]),
    )
    var = pd.DataFrame(index=[f"G{i:05d}" for i in range(n_genes)])
    ad.AnnData(obs=obs, var=var).write_h5ad(path)

    p = nnz_per_cell / n_genes
    width = int(nnz_per_cell + 10 * np.sqrt(nnz_per_cell) + 50)
    # geometric gaps give sorted gene indices with ~Binomial(n_genes, p) non-zeros per cell
    with h5py.File(path, "a") as f:
        if "X" in f:
            del f["X"]
        g = f.create_group("X")
        g.attrs["encoding-type"] = "csr_matrix"
        g.attrs["encoding-version"] = "0.1.0"
        g.attrs["shape"] = np.array([n_cells, n_genes], dtype=np.int64)
        data = g.create_dataset("data", shape=(0,), maxshape=(None,), dtype="f4", chunks=(1 << 20,))
        ind = g.create_dataset(
            "indices", shape=(0,), maxshape=(None,), dtype="i4", chunks=(1 << 20,)
        )
        indptr = np.zeros(n_cells + 1, dtype=np.int64)
        total = 0
        for start in range(0, n_cells, chunk):
            stop = min(start + chunk, n_cells)
            gaps = rng.geometric(p, size=(stop - start, width)).astype(np.int32)
            cols = np.cumsum(gaps, axis=1, dtype=np.int32) - 1
            keep = cols < n_genes
            idx = cols[keep]
            counts = keep.sum(axis=1)
            vals = rng.geometric(0.45, size=idx.size).astype(np.float32)
            n = idx.size
            data.resize((total + n,))
            ind.resize((total + n,))
            data[total : total + n] = vals
            ind[total : total + n] = idx
            indptr[start + 1 : stop + 1] = total + np.cumsum(counts)
            total += n
        g.create_dataset("indptr", data=indptr)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cells", type=int, default=100_000)
    ap.add_argument("--genes", type=int, default=20_000)
    ap.add_argument("--nnz", type=int, default=1_500)
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--types", type=int, default=30)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    out = a.out or Path(f"/work/bench_data/atlas_{a.cells // 1000}k.h5ad")
    t = time.perf_counter()
    make_atlas(
        out,
        n_cells=a.cells,
        n_genes=a.genes,
        nnz_per_cell=a.nnz,
        n_samples=a.samples,
        n_types=a.types,
        seed=a.seed,
    )
    size = out.stat().st_size / 1e9
    print(f"wrote {out} ({a.cells} cells, {size:.1f} GB) in {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
