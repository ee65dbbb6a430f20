"""Private helpers: read ``obs`` columns and the count matrix from AnnData, backed AnnData or a path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from biomarkers._validation import did_you_mean
from biomarkers.exceptions import InputFileError, SchemaError

__all__ = [
    "SAMPLE_LEVEL_COLUMNS",
    "codes_of",
    "matrix_handle",
    "obs_columns",
    "sample_annotations",
    "source_name",
]

#: obs columns carried to the sample-level outputs when constant within a sample
SAMPLE_LEVEL_COLUMNS = ("subject_id", "visit", "arm", "batch", "day", "tissue")


def source_name(source) -> str:
    """Human-readable name of an AnnData / path source for error messages."""
    if isinstance(source, (str, Path)):
        return str(source)
    filename = getattr(source, "filename", None)
    return str(filename) if filename else "the AnnData"


def _check_path(path: Path) -> Path:
    if not path.exists():
        msg = f"{path}: file not found; pass the path of an .h5ad file or an AnnData"
        raise InputFileError(msg)
    if path.suffix not in (".h5ad", ".h5"):
        msg = f"{path}: expected an .h5ad file (suffix {path.suffix!r}); convert it with anndata"
        raise InputFileError(msg)
    return path


def obs_columns(
    source, required: list[str], optional=SAMPLE_LEVEL_COLUMNS, *, index: bool = True
) -> pd.DataFrame:
    """Return the ``required`` (and present ``optional``) obs columns without reading ``X``.

    For a path, ``index=False`` skips reading the cell names (tens of MB at atlas scale).
    """
    name = source_name(source)
    if isinstance(source, pd.DataFrame):
        obs, available = source, list(source.columns)
        read = None
    elif isinstance(source, (str, Path)):
        import h5py
        from anndata.io import read_elem

        path = _check_path(Path(source))
        try:
            f = h5py.File(path, "r")
        except OSError as err:
            msg = f"{path}: cannot be opened as HDF5 ({err}); is it an .h5ad file?"
            raise InputFileError(msg) from err
        with f:
            if "obs" not in f:
                msg = f"{path}: no 'obs' group; not an AnnData .h5ad file"
                raise InputFileError(msg)
            g = f["obs"]
            available = [k for k in g if k != "__categories"]
            wanted = [c for c in [*required, *optional] if c in available]
            cols = {c: read_elem(g[c]) for c in wanted}
            index_key = g.attrs.get("_index", "_index")
            index = read_elem(g[index_key]) if index and index_key in g else None
        obs = pd.DataFrame(cols, index=index)
        read = obs
    else:
        obs = getattr(source, "obs", None)
        if obs is None:
            msg = f"expected an AnnData, an .h5ad path or an obs DataFrame, got {type(source).__name__}"
            raise SchemaError(msg)
        available = list(obs.columns)
        read = None
    for col in required:
        if col not in available:
            msg = (
                f"{name}: obs column {col!r} not found{did_you_mean(col, available)}; "
                f"available: {', '.join(map(str, available[:12]))}; pass sample_key=/groups_key="
            )
            raise SchemaError(msg)
    if read is not None:
        return read
    keep = [c for c in dict.fromkeys([*required, *optional]) if c in obs.columns]
    return obs[keep]


def codes_of(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (−1 for missing) and the labels, keeping categorical order when present."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cat = values.cat.remove_unused_categories()
        return cat.cat.codes.to_numpy(np.int64), pd.Index(cat.cat.categories.astype(str))
    codes, labels = pd.factorize(values.astype("string"), sort=True)
    return codes.astype(np.int64), pd.Index(labels.astype(str))


def sample_annotations(
    obs: pd.DataFrame, sample_codes: np.ndarray, samples: pd.Index, *, exclude: list[str]
) -> pd.DataFrame:
    """Per-sample table of the obs columns that are constant within every sample."""
    out = pd.DataFrame(index=samples)
    ok = sample_codes >= 0
    for col in obs.columns:
        if col in exclude or col not in SAMPLE_LEVEL_COLUMNS:
            continue
        vals = obs[col].to_numpy()[ok]
        codes, labels = pd.factorize(pd.Series(vals, dtype="string"))
        first = np.full(len(samples), -1, dtype=np.int64)
        s = sample_codes[ok]
        first[s[::-1]] = codes[::-1]  # any representative per sample
        if np.any(codes != first[s]):
            continue  # varies within a sample: not a sample-level annotation
        out[col] = pd.Series(np.asarray(labels, dtype=object)[first], index=samples).where(
            first >= 0
        )
    return out


def matrix_handle(source, *, layer: str | None):
    """Return ("memory", matrix) or ("h5", (path, element path)) for the count matrix."""
    if isinstance(source, (str, Path)):
        path = _check_path(Path(source))
        return "h5", (path, f"layers/{layer}" if layer else "X")
    if getattr(source, "isbacked", False):
        path = Path(source.filename)
        return "h5", (path, f"layers/{layer}" if layer else "X")
    if layer is None:
        mat = source.X
    else:
        if layer not in source.layers:
            avail = ", ".join(source.layers.keys()) or "none"
            msg = f"layer {layer!r} not found{did_you_mean(layer, source.layers.keys())}; available: {avail}"
            raise SchemaError(msg)
        mat = source.layers[layer]
    if mat is None:
        msg = "the AnnData has no X; pass layer= naming the counts layer"
        raise SchemaError(msg)
    return "memory", mat
