"""Streaming the rows of a count matrix into per-profile sums (local backend and Dask tasks).

The lowest floor of pseudobulk: :mod:`biomarkers.features._pseudobulk` (the public function)
and :mod:`biomarkers.features._pseudobulk_dask` (one task per block of rows) both call these
readers, so neither imports the other's internals.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from biomarkers._progress import progress
from biomarkers.exceptions import InputFileError, SchemaError

__all__ = ["accumulate_h5", "accumulate_memory", "open_matrix"]


class _NotCounts(Exception):
    """Raised inside the accumulation when float32 would not be exact (restart in float64)."""


def open_matrix(container, path, element: str, n_rows: int, n_cols: int):
    """Check ``container[element]`` and return ("dense", array) or ("csr", group) for streaming.

    ``container`` is an open ``h5py.File`` or zarr group of an AnnData; the one check for both:
    the element exists, is a dense array or a CSR group (anything else cannot be streamed by
    rows) and has the shape of ``obs`` × ``var``.
    """
    zarr_store = Path(path).suffix == ".zarr"
    name = f"{path}:{element}"
    if element not in container:
        where = "store" if zarr_store else "file"
        msg = f"{path}: no {element!r} in the {where}; pass layer= naming the counts layer"
        raise SchemaError(msg)
    node = container[element]
    if zarr_store:
        import zarr

        dense = isinstance(node, zarr.Array)
    else:
        import h5py

        dense = isinstance(node, h5py.Dataset)
    if dense:
        shape = tuple(node.shape)
    else:
        enc = node.attrs.get("encoding-type", "")
        if isinstance(enc, bytes):
            enc = enc.decode()
        if enc != "csr_matrix":
            write = "write_zarr" if zarr_store else "write_h5ad"
            msg = (
                f"{name}: stored as {enc or 'an unknown group'}, rows cannot be streamed; "
                f"rewrite it as CSR (adata.X = adata.X.tocsr(); adata.{write}(...))"
            )
            raise SchemaError(msg)
        shape = tuple(node.attrs["shape"])
    if shape[0] != n_rows or shape[1] != n_cols:
        msg = f"{name}: shape {shape} does not match obs/var ({n_rows}, {n_cols})"
        raise SchemaError(msg)
    return ("dense" if dense else "csr"), node


def _zarr_group(path: Path):
    import zarr

    if not path.exists():
        msg = f"{path}: file not found; pass the path of an .h5ad file, a .zarr store or an AnnData"
        raise InputFileError(msg)
    try:
        return zarr.open_group(store=str(path), mode="r")
    except Exception as err:  # zarr raises several types for a store it cannot read
        msg = f"{path}: cannot be opened as a zarr store ({type(err).__name__}: {err})"
        raise InputFileError(msg) from None


def _accumulate_zarr(
    path, element, row_group, out, *, nonzero, check, n_rows, row_start, chunk_size
):
    """:func:`accumulate_h5` for an AnnData zarr store (rows read chunk by chunk with zarr)."""
    from biomarkers.features._kernels import all_counts, scatter_csr, scatter_dense

    kind, node = open_matrix(_zarr_group(Path(path)), path, element, n_rows, out.shape[1])
    n_sel = row_group.shape[0]
    if kind == "dense":
        for start in range(0, n_sel, chunk_size):
            stop = min(start + chunk_size, n_sel)
            block = np.ascontiguousarray(node[row_start + start : row_start + stop])
            if check and not all_counts(block.ravel()):
                raise _NotCounts
            scatter_dense(block, row_group[start:stop], out, nonzero)
        return
    indptr = np.asarray(node["indptr"][row_start : row_start + n_sel + 1], dtype=np.int64)
    data_arr, ind_arr = node["data"], node["indices"]
    for start in range(0, n_sel, chunk_size):
        stop = min(start + chunk_size, n_sel)
        if not (row_group[start:stop] >= 0).any():
            continue
        lo, hi = int(indptr[start]), int(indptr[stop])
        d, i = np.asarray(data_arr[lo:hi]), np.asarray(ind_arr[lo:hi])
        if check and not all_counts(d):
            raise _NotCounts
        scatter_csr(d, i, indptr[start : stop + 1], lo, row_group[start:stop], out, nonzero)


def accumulate_h5(
    path,
    element,
    row_group,
    out,
    *,
    nonzero,
    check,
    chunk_size,
    n_rows=None,
    row_start=0,
    show_progress=None,
):
    """Scatter-add rows ``row_start : row_start + len(row_group)`` of ``path:element`` into ``out``.

    ``n_rows`` is the matrix's total number of rows (checked against the file; default
    ``len(row_group)``). Reads ``chunk_size`` rows at a time into two reused buffers.
    """
    n_sel = row_group.shape[0]
    n_rows = n_sel if n_rows is None else n_rows
    if Path(path).suffix == ".zarr":
        _accumulate_zarr(
            path,
            element,
            row_group,
            out,
            nonzero=nonzero,
            check=check,
            n_rows=n_rows,
            row_start=row_start,
            chunk_size=chunk_size,
        )
        return

    import h5py

    from biomarkers.features._kernels import all_counts, scatter_csr, scatter_dense

    with h5py.File(path, "r") as f:
        kind, node = open_matrix(f, path, element, n_rows, out.shape[1])
        if kind == "dense":
            buf = np.empty((min(chunk_size, max(n_sel, 1)), node.shape[1]), dtype=node.dtype)
            for start in progress(
                range(0, n_sel, chunk_size), description="pseudobulk", show=show_progress
            ):
                stop = min(start + chunk_size, n_sel)
                view = buf[: stop - start]
                node.read_direct(view, np.s_[row_start + start : row_start + stop])
                if check and not all_counts(view.ravel()):
                    raise _NotCounts
                scatter_dense(view, row_group[start:stop], out, nonzero)
            return
        indptr = node["indptr"][row_start : row_start + n_sel + 1].astype(np.int64, copy=False)
        data_ds, ind_ds = node["data"], node["indices"]
        starts = np.arange(0, n_sel, chunk_size)
        stops = np.minimum(starts + chunk_size, n_sel)
        max_nnz = max(int((indptr[stops] - indptr[starts]).max()) if n_sel else 0, 1)
        # two buffer pairs allocated once and refilled in place (memory O(chunk), never
        # O(matrix)): HDF5 reads the next chunk while the compiled kernel (nogil) adds this one
        bufs = [
            (np.empty(max_nnz, dtype=data_ds.dtype), np.empty(max_nnz, dtype=ind_ds.dtype))
            for _ in range(2)
        ]

        def add(i, start, stop, lo):
            data_buf, ind_buf = bufs[i]
            groups = row_group[start:stop]
            # the count check as a separate vectorised pass is ~3x cheaper than in the scatter
            if check and not all_counts(data_buf[: int(indptr[stop]) - lo]):
                return False
            scatter_csr(data_buf, ind_buf, indptr[start : stop + 1], lo, groups, out, nonzero)
            return True

        with ThreadPoolExecutor(max_workers=1) as pool:
            pending, k = None, 0
            for start, stop in progress(
                zip(starts, stops, strict=True),
                total=len(starts),
                description="pseudobulk",
                show=show_progress,
            ):
                if not (row_group[start:stop] >= 0).any():
                    continue
                lo, hi = int(indptr[start]), int(indptr[stop])
                i, k = k % 2, k + 1
                data_buf, ind_buf = bufs[i]
                if hi > lo:
                    data_ds.read_direct(data_buf, np.s_[lo:hi], np.s_[0 : hi - lo])
                    ind_ds.read_direct(ind_buf, np.s_[lo:hi], np.s_[0 : hi - lo])
                if pending is not None and not pending.result():
                    raise _NotCounts
                pending = pool.submit(add, i, start, stop, lo)
            if pending is not None and not pending.result():
                raise _NotCounts


def accumulate_memory(mat, row_group, out, *, nonzero, check):
    import scipy.sparse as sp

    from biomarkers.features._kernels import all_counts, scatter_csr, scatter_dense

    if mat.shape != (row_group.shape[0], out.shape[1]):
        msg = f"matrix shape {mat.shape} does not match obs/var ({row_group.shape[0]}, {out.shape[1]})"
        raise SchemaError(msg)
    if sp.issparse(mat):
        csr = mat.tocsr() if mat.format != "csr" else mat
        indptr = csr.indptr.astype(np.int64, copy=False)
        if check and not all_counts(csr.data):
            raise _NotCounts
        scatter_csr(csr.data, csr.indices, indptr, 0, row_group, out, nonzero)
        return
    if not isinstance(mat, np.ndarray):
        mat = np.asarray(mat)
    if mat.dtype == object or not np.issubdtype(mat.dtype, np.number):
        msg = f"matrix dtype {mat.dtype} is not numeric; pass layer= naming the counts"
        raise SchemaError(msg)
    mat = np.ascontiguousarray(mat)
    if check and not all_counts(mat.ravel()):
        raise _NotCounts
    scatter_dense(mat, row_group, out, nonzero)
