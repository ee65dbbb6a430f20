from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from biomarkers._logging import logger, timed
from biomarkers._validation import check_choice, did_you_mean
from biomarkers.exceptions import InputFileError, NotCountsWarning, SchemaError
from biomarkers.features._accumulate import (
    _NotCounts,
    _zarr_group,
    accumulate_h5,
    accumulate_memory,
)
from biomarkers.qc._source import (
    SAMPLE_LEVEL_COLUMNS,
    codes_of,
    matrix_handle,
    obs_columns,
    sample_annotations,
    source_name,
)

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["pseudobulk"]

_FUNCS = ("sum", "mean", "count_nonzero")
_F32_EXACT = 2**24  # every integer below this is exactly representable in float32


def _trim_heap() -> None:
    """Hand freed heap pages back to the OS before the big output is allocated.

    Reading a million-cell ``obs`` leaves ~100 MB of freed-but-retained glibc heap; trimming it
    keeps the peak at output + one chunk. glibc only; a no-op elsewhere.
    """
    import gc

    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _var_names_h5(path: Path) -> pd.Index:
    import h5py
    from anndata.io import read_elem

    with h5py.File(path, "r") as f:
        g = f["var"]
        key = g.attrs.get("_index", "_index")
        return pd.Index(np.asarray(read_elem(g[key])).astype(str))


def _is_zarr(source) -> bool:
    return isinstance(source, (str, Path)) and Path(source).suffix == ".zarr"


def _obs_zarr(path: Path, required: list[str]) -> pd.DataFrame:
    """The ``required`` and sample-level ``obs`` columns of an AnnData zarr store."""
    from anndata.io import read_elem

    g = _zarr_group(path)
    if "obs" not in g:
        msg = f"{path}: no 'obs' group; not an AnnData zarr store (write it with adata.write_zarr)"
        raise InputFileError(msg)
    obs = g["obs"]
    available = [k for k in obs if k != "__categories"]
    for col in required:
        if col not in available:
            msg = (
                f"{path}: obs column {col!r} not found{did_you_mean(col, available)}; "
                f"available: {', '.join(available[:12])}; pass sample_key=/groups_key="
            )
            raise SchemaError(msg)
    wanted = [c for c in dict.fromkeys([*required, *SAMPLE_LEVEL_COLUMNS]) if c in available]
    return pd.DataFrame({c: read_elem(obs[c]) for c in wanted})


def _var_names_zarr(path: Path) -> pd.Index:
    from anndata.io import read_elem

    g = _zarr_group(path)["var"]
    key = g.attrs.get("_index", "_index")
    return pd.Index([str(v) for v in read_elem(g[key])])  # numpy StringDType under zarr


def _looks_like_counts(matrix, n: int = 10_000) -> bool:
    """Whether the first ``n`` stored values of a matrix are non-negative integers."""
    values = getattr(matrix, "data", None)
    if values is None or not isinstance(values, np.ndarray):
        values = np.asarray(matrix[: max(1, n // max(matrix.shape[1], 1))]).ravel()
    v = np.asarray(values[:n], dtype=float)
    return bool(np.all((v >= 0) & (v == np.floor(v))))


def _count_layers(source) -> tuple[list[str], str]:
    """Layer names and the state of ``.raw`` (``"counts"``, ``"other"``, ``""``)."""
    if hasattr(source, "layers"):
        raw = getattr(source, "raw", None)
        state = "" if raw is None else ("counts" if _looks_like_counts(raw.X) else "other")
        return [str(k) for k in source.layers], state
    path = Path(source)
    if path.suffix != ".h5ad":
        return [], ""
    import h5py

    with h5py.File(path, "r") as f:
        return (list(f["layers"]) if "layers" in f else []), ("unknown" if "raw" in f else "")


def _warn_not_counts(X: np.ndarray, source, *, layer: str | None, name: str) -> None:
    """Warn when the summed matrix held negative or non-integer values, naming the fix.

    Sums of integers stay integers in float64, so the output tells what the cells held without
    a second pass over them.
    """
    negative = bool((X < 0).any())
    if not negative and np.array_equal(X, np.round(X)):
        return  # integer counts beyond float32's exact range, not transformed values
    what = (
        "negative values (scaled data)" if negative else "non-integer values (normalised/log data)"
    )
    layers, raw = _count_layers(source)
    counts = [k for k in layers if "count" in k.lower() and k != layer]
    if counts:
        fix = f"use layer={counts[0]!r}"
    elif raw in ("counts", "unknown"):
        fix = "use the counts in .raw (pseudobulk(adata.raw.to_adata(), ...))"
        if raw == "unknown":
            fix += " if .raw holds counts"
    else:
        fix = "pass the raw integer counts (layer= naming the layer that holds them)"
        if raw == "other":
            fix = ".raw is not counts either; " + fix
    where = f"layer {layer!r}" if layer else "X"
    warnings.warn(
        f"pseudobulk of {name}: {where} holds {what}, not counts; sums of transformed values "
        f"are not pseudobulk counts; {fix}",
        NotCountsWarning,
        stacklevel=3,
    )


def pseudobulk(
    adata_or_path: ad.AnnData | str | Path,
    *,
    sample_key: str = "sample_id",
    groups_key: str = "cell_type",
    layer: str | None = None,
    func: Literal["sum", "mean", "count_nonzero"] = "sum",
    chunk_size: int = 1_000,
    min_cells: int = 0,
    backend: Literal["local", "dask"] = "local",
    client: Any = None,
    rows_per_task: int = 50_000,
) -> ad.AnnData:
    """Aggregate cells into pseudobulk profiles, one per sample × cell type.

    Works on an in-memory AnnData (dense or sparse ``X``), a backed AnnData or the path of an
    ``.h5ad`` file or ``.zarr`` store. Backed and path inputs are streamed in row chunks straight from HDF5 into
    reused buffers and scatter-added by a compiled kernel, so the full matrix is never in memory
    (peak memory ≈ the output plus one chunk). Results equal :func:`scanpy.get.aggregate` with
    ``by=[sample_key, groups_key]``.

    Parameters
    ----------
    adata_or_path
        Cells × genes AnnData (raw integer counts in ``X`` or ``layers[layer]``), backed or not,
        the path of an ``.h5ad`` file or of an AnnData ``.zarr`` store (``adata.write_zarr``);
        for paths only two ``obs`` columns, the sample-level columns and the matrix are read.
    sample_key
        ``obs`` column of sample identifiers.
    groups_key
        ``obs`` column of cell types (see :func:`biomarkers.qc.assign_cell_types` when absent).
    layer
        Layer holding the counts; ``None`` uses ``X``.
    func
        ``"sum"`` (counts), ``"mean"`` (sum / cells) or ``"count_nonzero"`` (cells expressing).
    chunk_size
        Cells read per chunk from disk (memory per chunk ≈ chunk_size × non-zeros per cell × 8 B).
    min_cells
        Drop sample × cell type combinations with fewer cells (they are never accumulated).
    backend
        ``"local"`` streams the file in this process. ``"dask"`` runs one task per block of
        ``rows_per_task`` rows on a Dask cluster (path or backed input only): each task opens
        the file itself (workers must see the same path), streams its rows ``chunk_size`` at a
        time through the same compiled kernel into a partial sum over the sample × cell type
        profiles present in its rows, and the client adds the partial sums into the output in
        task order. Memory per worker ≈ two chunk buffers + its partial sum; on the client ≈
        the output + one partial sum. Results are identical to ``"local"`` (for non-integer
        data equal up to floating-point rounding of the partial sums).
    client
        ``distributed.Client`` for ``backend="dask"``; ``None`` uses the active global client
        (``distributed.get_client()``) or, when there is none, starts a LocalCluster for the
        call (:func:`biomarkers._parallel.dask_client`) and closes it afterwards (in a script,
        call it under ``if __name__ == "__main__":``, as for any LocalCluster).
    rows_per_task
        Cells per Dask task (``backend="dask"`` only).

    Returns
    -------
    anndata.AnnData
        (sample × cell type) × genes, observed combinations only, ordered by sample then cell
        type (categorical order when the columns are categorical). ``obs``: ``sample_key``,
        ``groups_key``, ``n_cells`` and the sample-level columns of the input that are constant
        within a sample (``subject_id``, ``visit``, ``arm``, ``batch``). ``X``: float32 when that
        is exact (integer data with every sum < 2**24, checked), else float64 (int64 for
        integer sums beyond float32); ``func="mean"`` gives float64. ``uns["pseudobulk"]["params"]``.
        Cells with a missing sample or cell type are left out.

    Warns
    -----
    NotCountsWarning
        ``func="sum"``/``"mean"`` over negative or non-integer values (a scaled or
        log-normalised ``X``): the message names the layer with the counts (``layer='counts'``)
        or ``.raw`` when the input has one.

    Examples
    --------
    >>> import anndata as ad, numpy as np, pandas as pd
    >>> obs = pd.DataFrame(
    ...     {"sample_id": ["a", "a", "b"], "cell_type": ["T", "T", "B"]}, index=["c1", "c2", "c3"]
    ... )
    >>> pb = pseudobulk(ad.AnnData(np.array([[1.0, 0.0], [2.0, 3.0], [4.0, 5.0]]), obs=obs))
    >>> pb.obs["n_cells"].tolist(), pb.X.tolist()
    ([2, 1], [[3.0, 3.0], [4.0, 5.0]])
    """
    import anndata as ad

    check_choice("func", func, _FUNCS, source="pseudobulk")
    if int(chunk_size) < 1:
        msg = f"pseudobulk: chunk_size={chunk_size} must be a positive number of cells"
        raise ValueError(msg)
    check_choice("backend", backend, ("local", "dask"), source="pseudobulk")
    if backend == "dask" and int(rows_per_task) < 1:
        msg = f"pseudobulk: rows_per_task={rows_per_task} must be a positive number of cells"
        raise ValueError(msg)
    name = source_name(adata_or_path)
    zarr_store = _is_zarr(adata_or_path)
    if zarr_store:
        obs = _obs_zarr(Path(adata_or_path), [sample_key, groups_key])
    else:
        obs = obs_columns(adata_or_path, [sample_key, groups_key], index=False)
    s_codes, samples = codes_of(obs[sample_key])
    g_codes, groups = codes_of(obs[groups_key])
    n_g = max(len(groups), 1)
    ok = (s_codes >= 0) & (g_codes >= 0)
    pair = np.where(ok, s_codes * n_g + g_codes, 0)
    counts = np.bincount(pair[ok], minlength=len(samples) * n_g)
    present = np.flatnonzero(counts >= max(int(min_cells), 1))
    lookup = np.full(counts.shape[0], -1, dtype=np.int32)
    lookup[present] = np.arange(present.size, dtype=np.int32)
    row_group = np.where(ok, lookup[pair], -1).astype(np.int32)
    n_cells = counts[present]
    # sample-level annotations now, then drop the per-cell temporaries before the big output
    annot = sample_annotations(obs, s_codes, samples, exclude=[sample_key, groups_key])
    del obs, s_codes, g_codes, ok, pair, lookup
    _trim_heap()

    if zarr_store:
        kind, handle = "h5", (Path(adata_or_path), f"layers/{layer}" if layer else "X")
    else:
        kind, handle = matrix_handle(adata_or_path, layer=layer)
    if zarr_store:
        var_names = _var_names_zarr(handle[0])
    elif kind == "h5":
        var_names = (
            adata_or_path.var_names.astype(str)
            if isinstance(adata_or_path, ad.AnnData)
            else _var_names_h5(handle[0])
        )
    else:
        if backend == "dask":
            msg = (
                f"pseudobulk: backend='dask' needs the path of an .h5ad file / .zarr store or a backed AnnData "
                f"(workers read the file themselves), got an in-memory {name}; write it with "
                "adata.write_h5ad(path) or use backend='local'"
            )
            raise ValueError(msg)
        var_names = adata_or_path.var_names.astype(str)

    nonzero = func == "count_nonzero"
    dask_run = None
    if backend == "dask":
        from biomarkers.features._pseudobulk_dask import accumulate_dask

        def dask_run(out, *, check):
            accumulate_dask(
                handle[0],
                handle[1],
                row_group,
                out,
                nonzero=nonzero,
                check=check,
                chunk_size=int(chunk_size),
                rows_per_task=int(rows_per_task),
                client=client,
            )

    def run(dtype, *, check):
        out = np.zeros((present.size, len(var_names)), dtype=dtype)
        if dask_run is not None:
            dask_run(out, check=check)
        elif kind == "h5":
            accumulate_h5(
                handle[0],
                handle[1],
                row_group,
                out,
                nonzero=nonzero,
                check=check,
                chunk_size=int(chunk_size),
            )
        else:
            accumulate_memory(handle, row_group, out, nonzero=nonzero, check=check)
        return out

    with timed(f"pseudobulk of {name}: {present.size} sample × cell type profiles"):
        if nonzero:
            small = n_cells.size == 0 or n_cells.max() < _F32_EXACT
            X = run(np.float32 if small else np.int64, check=False)
        else:
            try:
                X = run(np.float32, check=True)
                if X.size and X.max() >= _F32_EXACT:
                    logger.info("pseudobulk: sums reach 2**24, recomputing in int64 for exactness")
                    X = run(np.float64, check=False).astype(np.int64)
            except _NotCounts:
                logger.info("pseudobulk: data are not integer counts, accumulating in float64")
                X = run(np.float64, check=False)
                _warn_not_counts(X, adata_or_path, layer=layer, name=name)
        if func == "mean":
            X = X / np.maximum(n_cells, 1)[:, None].astype(np.float64)

    s_idx, g_idx = np.divmod(present, n_g)
    out_obs = pd.DataFrame(
        {
            sample_key: pd.Categorical.from_codes(s_idx, categories=samples),
            groups_key: pd.Categorical.from_codes(g_idx, categories=groups),
            "n_cells": n_cells.astype(np.int64),
        }
    )
    for col in annot.columns:
        out_obs[col] = annot[col].to_numpy()[s_idx]
    out_obs.index = pd.Index(
        [f"{s}_{g}" for s, g in zip(samples[s_idx], groups[g_idx], strict=True)]
    )
    result = ad.AnnData(X=X, obs=out_obs, var=pd.DataFrame(index=pd.Index(var_names)))
    result.uns["pseudobulk"] = {
        "params": {
            "sample_key": sample_key,
            "groups_key": groups_key,
            "layer": layer,
            "func": func,
            "min_cells": int(min_cells),
            "source": name,
            "backend": backend,
        }
    }
    return result
