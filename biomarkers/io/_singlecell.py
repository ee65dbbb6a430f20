"""Read single-cell counts (.h5ad, 10x .h5, 10x matrix folders, or a manifest of 10x samples)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from biomarkers._atomic import check_within_roots, input_roots, register_input
from biomarkers._logging import logger
from biomarkers._validation import format_ids
from biomarkers.exceptions import DataQualityWarning, InputFileError, SchemaError
from biomarkers.io._table import check_file, read_raw_table, to_nfc

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["read_singlecell"]

_CHUNK = 10_000_000  # values checked per step (bounded temporary memory)


def read_singlecell(
    path: str | os.PathLike | ad.AnnData,
    *,
    backed: bool = False,
    sample_id: str | None = None,
    sample_key: str = "sample_id",
    check_cells: int = 2000,
) -> ad.AnnData:
    """Read single-cell counts and check they are raw counts with a sample for every cell.

    Parameters
    ----------
    path
        An AnnData (in memory or opened backed; checked like a file, and copied first
        unless backed, so the input is not changed), an ``.h5ad`` file, a 10x ``.h5`` file, a
        10x matrix folder (``matrix.mtx.gz``, ``features.tsv.gz``, ``barcodes.tsv.gz``) or a
        manifest CSV with columns ``path`` and
        ``sample_id`` (paths relative to the manifest) whose samples are concatenated; other
        manifest columns (``subject_id``, ``visit``, ``batch``) are copied to ``obs``.
    backed
        Open an ``.h5ad`` read-only on disk (``backed="r"``) instead of loading it; only a
        bounded sample of ``check_cells`` cells is checked.
    sample_id
        Sample of a single 10x ``.h5``/folder (these files do not record it).
    sample_key
        Column of ``obs`` holding the sample; when absent, built as ``subject_id + "_" + visit``.
    check_cells
        Number of cells checked for integer counts in backed mode.

    Returns
    -------
    AnnData cells × genes (backed when asked). ``obs[sample_key]`` holds string sample IDs;
    ``uns["cells_per_sample"]`` is ``{sample_id: n_cells}``; ``uns["counts_layer"]`` is ``"X"``
    or ``"counts"`` (where the raw integer counts are).

    Raises
    ------
    InputFileError
        Missing/empty file, a file that is not HDF5, an unreadable 10x folder.
    SchemaError
        Counts that are negative or not integers (normalised data) with no raw
        ``layers["counts"]``; no sample column in ``obs``.

    Examples
    --------
    >>> import biomarkers as bm
    >>> adata = bm.io.read_singlecell("singlecell.h5ad", backed=True)  # doctest: +SKIP
    >>> adata.uns["cells_per_sample"]  # doctest: +SKIP
    """
    import anndata as ad

    if isinstance(path, ad.AnnData):
        adata = path if path.isbacked else path.copy()
        where = Path(path.filename) if path.isbacked else Path("AnnData (in memory)")
        return _checked(adata, path=where, sample_key=sample_key, check_cells=check_cells)
    path = Path(path)
    if not path.exists():
        msg = f"{path}: file or folder not found; check the path"
        raise InputFileError(msg)
    suffix = path.suffix.lower()
    if path.is_dir():
        adata = _read_10x_dir(path, sample_id=sample_id, sample_key=sample_key)
    elif suffix == ".h5ad":
        adata = _read_h5ad(path, backed=backed)
    elif suffix == ".h5":
        adata = _read_10x_h5(path, sample_id=sample_id, sample_key=sample_key)
    elif suffix in {".csv", ".tsv", ".txt"}:
        adata = _read_manifest(path, sample_key=sample_key)
    else:
        msg = (
            f"{path}: unknown single-cell format {suffix or '(no extension)'!r}; give an .h5ad, a "
            "10x .h5, a 10x matrix folder or a manifest CSV (path, sample_id)"
        )
        raise InputFileError(msg)
    return _checked(adata, path=path, sample_key=sample_key, check_cells=check_cells)


def _checked(adata, *, path: Path, sample_key: str, check_cells: int):
    """Check counts and samples; record where the counts are and the cells per sample."""
    is_backed = bool(getattr(adata, "isbacked", False))
    adata.uns["counts_layer"] = _check_counts(
        adata, path=path, sample_rows=check_cells if is_backed else None
    )
    _ensure_sample(adata, path=path, sample_key=sample_key)
    counts = adata.obs[sample_key].value_counts(sort=False)
    adata.uns["cells_per_sample"] = {str(k): int(v) for k, v in counts.items()}
    logger.info(
        "read %s: %d cells × %d genes, %d samples (cells per sample: min %d, median %d, max %d)",
        path,
        adata.n_obs,
        adata.n_vars,
        len(counts),
        counts.min(),
        int(counts.median()),
        counts.max(),
    )
    return adata


def _read_h5ad(path: Path, *, backed: bool):
    import anndata as ad
    import h5py

    check_file(path)
    if not h5py.is_hdf5(path):
        msg = (
            f"{path}: not an HDF5 file, so not a valid .h5ad; was it saved with adata.write_h5ad()?"
        )
        raise InputFileError(msg)
    try:
        return ad.read_h5ad(path, backed="r" if backed else None)
    except Exception as err:
        msg = f"{path}: cannot read as .h5ad ({type(err).__name__}: {err})"
        raise InputFileError(msg) from err


def _read_10x_h5(path: Path, *, sample_id, sample_key):
    import h5py
    import scanpy as sc

    check_file(path)
    if not h5py.is_hdf5(path):
        msg = f"{path}: not an HDF5 file, so not a 10x .h5 matrix"
        raise InputFileError(msg)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Vv]ariable names are not unique.*")
            adata = sc.read_10x_h5(path)
    except Exception as err:
        msg = f"{path}: cannot read as a 10x .h5 matrix ({type(err).__name__}: {err})"
        raise InputFileError(msg) from err
    adata.var_names_make_unique()
    if sample_id is not None:
        adata.obs[sample_key] = str(sample_id)
    return adata


def _read_10x_dir(path: Path, *, sample_id, sample_key):
    import scanpy as sc

    names = {p.name for p in path.iterdir()}
    if not any(n.startswith("matrix.mtx") for n in names):
        msg = (
            f"{path}: folder has no matrix.mtx(.gz); a 10x folder needs matrix.mtx.gz, "
            "features.tsv.gz (or genes.tsv) and barcodes.tsv.gz"
        )
        raise InputFileError(msg)
    register_input(path)  # the folder: nothing is written over or into it
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Vv]ariable names are not unique.*")
            adata = sc.read_10x_mtx(path, var_names="gene_symbols", make_unique=True)
    except Exception as err:
        msg = f"{path}: cannot read as a 10x matrix folder ({type(err).__name__}: {err})"
        raise InputFileError(msg) from err
    if sample_id is not None:
        adata.obs[sample_key] = str(sample_id)
    return adata


def _read_manifest(path: Path, *, sample_key):
    import anndata as ad

    check_file(path)
    df, rows = read_raw_table(path)
    source = f"manifest {path}"
    for col in ("path", "sample_id"):
        if col not in df.columns:
            msg = f"{source}: required column {col!r} not found; a manifest needs columns path, sample_id"
            raise SchemaError(msg)
    if df["sample_id"].duplicated().any():
        dup = df.loc[df["sample_id"].duplicated(keep=False), "sample_id"].tolist()
        msg = f"{source}: duplicate sample_id {format_ids(sorted(set(dup)))}; each sample must appear once"
        raise SchemaError(msg)
    parts = []
    roots = input_roots(path.parent)  # the config's roots, as for the config's own paths
    for (_, rec), row in zip(df.iterrows(), rows, strict=True):
        sub = Path(str(rec["path"]))
        if not sub.is_absolute():
            sub = path.parent / sub
        check_within_roots(sub, roots, what=f"{source}, row {int(row)}: path")
        if not sub.exists():
            msg = (
                f"{source}, row {int(row)}: path {str(rec['path'])!r} not found (looked for {sub})"
            )
            raise InputFileError(msg)
        sid = str(rec["sample_id"])
        a = (
            _read_10x_dir(sub, sample_id=sid, sample_key=sample_key)
            if sub.is_dir()
            else _read_10x_h5(sub, sample_id=sid, sample_key=sample_key)
        )
        for col in df.columns:
            if col not in {"path", "sample_id"} and pd.notna(rec[col]):
                a.obs[col] = str(rec[col])
        a.obs_names = [f"{sid}_{b}" for b in a.obs_names]
        parts.append(a)
    if not parts:
        msg = f"{source}: manifest lists no samples"
        raise InputFileError(msg)
    n_genes = {p.n_vars for p in parts}
    adata = ad.concat(parts, join="inner", merge="same")
    if len(n_genes) > 1 or adata.n_vars < max(n_genes):
        warnings.warn(
            f"{source}: samples have different gene sets; kept the {adata.n_vars} genes common to all",
            DataQualityWarning,
            stacklevel=3,
        )
    for col in adata.obs.columns:
        if adata.obs[col].dtype == object:
            adata.obs[col] = adata.obs[col].astype("category")
    return adata


def _row_blocks(n: int, sample_rows: int | None) -> list[slice]:
    """Row ranges to check: everything in memory, or first/middle/last blocks when backed."""
    if sample_rows is None or n <= sample_rows:
        return [slice(0, n)]
    k = max(sample_rows // 3, 1)
    mid = n // 2 - k // 2
    return [slice(0, k), slice(mid, mid + k), slice(n - k, n)]


def _bad_counts(matrix, blocks: list[slice]) -> tuple[str, float] | None:
    """Return (problem, example value) for the first non-count value found, else None."""
    for block in blocks:
        in_memory = sparse.issparse(matrix) or isinstance(matrix, np.ndarray)
        whole = block == slice(0, matrix.shape[0])
        part = matrix if (in_memory and whole) else matrix[block]
        if sparse.issparse(part):
            data = part.data
        else:
            data = np.asarray(part).ravel()
        if data.dtype.kind in "iub":
            if data.dtype.kind == "i" and data.size and data.min() < 0:
                return "negative", float(data.min())
            continue
        for start in range(0, data.size, _CHUNK):
            chunk = np.asarray(data[start : start + _CHUNK])
            inf = np.isinf(chunk)  # inf == floor(inf): the integer test below misses it
            if inf.any():
                return "infinite", float(chunk[inf][0])
            neg = chunk < 0
            if neg.any():
                return "negative", float(chunk[neg][0])
            frac = chunk != np.floor(chunk)
            if frac.any():
                return "non-integer", float(chunk[frac][0])
    return None


def _check_counts(adata, *, path: Path, sample_rows: int | None) -> str:
    blocks = _row_blocks(adata.n_obs, sample_rows)
    problem = _bad_counts(adata.X, blocks) if adata.X is not None else ("absent", float("nan"))
    if problem is None:
        return "X"
    if "counts" in adata.layers:
        layer_problem = _bad_counts(adata.layers["counts"], blocks)
        if layer_problem is None:
            return "counts"
        kind, example = layer_problem
        msg = (
            f"{path}: layers['counts'] holds {kind} values (e.g. {example:g}) and X holds "
            f"{problem[0]} values; the toolkit needs raw integer UMI counts in X or layers['counts']"
        )
        raise SchemaError(msg)
    kind, example = problem
    what = {"non-integer": "normalised or log-transformed", "infinite": "corrupt"}.get(
        kind, "not counts"
    )
    msg = (
        f"{path}: X holds {kind} values (e.g. {example:g}), so it looks {what}, and there is no "
        "layers['counts']; save the raw integer counts in X or layers['counts'] (e.g. from adata.raw)"
    )
    raise SchemaError(msg)


def _ensure_sample(adata, *, path: Path, sample_key: str) -> None:
    obs = adata.obs
    if sample_key not in obs.columns:
        if {"subject_id", "visit"} <= set(obs.columns):
            obs[sample_key] = obs["subject_id"].astype(str) + "_" + obs["visit"].astype(str)
        else:
            cols = ", ".join(map(str, list(obs.columns)[:12])) or "(none)"
            msg = (
                f"{path}: obs has no {sample_key!r} column (nor subject_id + visit to build it); obs "
                f"columns: {cols}; add it, pass sample_id= for a single 10x sample, or use a manifest"
            )
            raise SchemaError(msg)
    s = obs[sample_key]
    if s.isna().any():
        n = int(s.isna().sum())
        msg = f"{path}: obs[{sample_key!r}] is empty for {n} cells; every cell needs a sample"
        raise SchemaError(msg)
    if not (isinstance(s.dtype, pd.CategoricalDtype) and s.cat.categories.dtype == object):
        obs[sample_key] = s.astype(str).astype("category")
    for col in ("subject_id", "visit"):
        if col in obs.columns and not isinstance(obs[col].dtype, pd.CategoricalDtype):
            obs[col] = obs[col].astype(str).astype("category")
    for col in (sample_key, "subject_id", "visit"):
        cats = obs[col].cat.categories if col in obs.columns else []
        if any(isinstance(c, str) and to_nfc(c) != c for c in cats):
            obs[col] = obs[col].astype(str).map(to_nfc).astype("category")
