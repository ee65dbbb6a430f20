from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import scipy.sparse as sp

from biomarkers.exceptions import ConfigError, InputFileError, NotCountsWarning, SchemaError
from biomarkers.features import pseudobulk

# anndata 0.12 announces that write_zarr will switch to zarr v3 by default (writing only; the
# stores it writes are what we read)
pytestmark = pytest.mark.filterwarnings("ignore:Writing zarr v2 data:UserWarning")


def _toy(n_cells=300, n_genes=40, *, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    dense = rng.poisson(0.7, size=(n_cells, n_genes)).astype(dtype)
    obs = pd.DataFrame(
        {
            "sample_id": pd.Categorical(rng.choice(["S3", "S1", "S2"], n_cells)),
            "cell_type": rng.choice(["T", "B", "NK", "mono"], n_cells),
            "batch": "b1",
        },
        index=[f"c{i}" for i in range(n_cells)],
    )
    subj = {"S1": "P1", "S2": "P1", "S3": "P2"}
    obs["subject_id"] = obs["sample_id"].map(subj).astype(str)
    obs["visit"] = obs["sample_id"].map({"S1": "D0", "S2": "D7", "S3": "D0"}).astype(str)
    var = pd.DataFrame(index=[f"G{j}" for j in range(n_genes)])
    return ad.AnnData(dense, obs=obs, var=var)


def _as(rep, adata, tmp_path):
    if rep == "dense":
        return adata
    sparse = adata.copy()
    sparse.X = sp.csr_matrix(adata.X)
    if rep == "csr":
        return sparse
    if rep == "csc":
        sparse.X = sp.csc_matrix(adata.X)
        return sparse
    path = tmp_path / "cells.h5ad"
    sparse.write_h5ad(path)
    if rep == "path":
        return path
    if rep == "backed":
        return ad.read_h5ad(path, backed="r")
    if rep == "zarr":
        sparse.write_zarr(tmp_path / "cells.zarr")
        return tmp_path / "cells.zarr"
    if rep == "zarr_dense":
        adata.write_zarr(tmp_path / "dense.zarr")
        return tmp_path / "dense.zarr"
    if rep == "path_dense":
        adata.write_h5ad(tmp_path / "dense.h5ad")
        return tmp_path / "dense.h5ad"
    raise AssertionError(rep)


REPS = ["dense", "csr", "csc", "backed", "path", "path_dense", "zarr"]


@pytest.mark.parametrize("func", ["sum", "mean", "count_nonzero"])
@pytest.mark.parametrize("rep", REPS)
def test_matches_scanpy_aggregate(rep, func, tmp_path):
    adata = _toy()
    oracle = sc.get.aggregate(adata, by=["sample_id", "cell_type"], func=func)
    expected = pd.DataFrame(
        oracle.layers[func],
        index=pd.MultiIndex.from_frame(oracle.obs[["sample_id", "cell_type"]].astype(str)),
        columns=oracle.var_names,
    )
    pb = pseudobulk(_as(rep, adata, tmp_path), func=func, chunk_size=37)
    got = pd.DataFrame(
        pb.X,
        index=pd.MultiIndex.from_frame(pb.obs[["sample_id", "cell_type"]].astype(str)),
        columns=pb.var_names,
    )
    assert set(got.index) == set(expected.index)
    got = got.loc[expected.index]
    if func == "mean":
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12)
    else:
        np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    n = adata.obs.groupby(["sample_id", "cell_type"], observed=True).size()
    n.index = n.index.set_levels([lvl.astype(str) for lvl in n.index.levels])
    assert pb.obs.set_index(["sample_id", "cell_type"])["n_cells"].to_dict() == n.to_dict()


def test_output_layout_and_sample_columns():
    pb = pseudobulk(_toy())
    # categorical order of sample_id is kept; cell types sorted
    assert list(pb.obs["sample_id"].cat.categories) == ["S1", "S2", "S3"]
    assert list(pb.obs["cell_type"].cat.categories) == ["B", "NK", "T", "mono"]
    assert pb.obs_names[0] == "S1_B"
    assert pb.X.dtype == np.float32
    row = pb.obs.loc["S2_T"]
    assert (row["subject_id"], row["visit"], row["batch"]) == ("P1", "D7", "b1")
    assert pb.uns["pseudobulk"]["params"]["func"] == "sum"


def test_min_cells_and_missing_labels():
    adata = _toy()
    adata.obs["cell_type"] = adata.obs["cell_type"].astype(object)
    adata.obs.iloc[:10, adata.obs.columns.get_loc("cell_type")] = np.nan
    pb = pseudobulk(adata, min_cells=25)
    assert pb.obs["n_cells"].min() >= 25
    kept = adata[adata.obs["cell_type"].notna()]
    sizes = kept.obs.groupby(["sample_id", "cell_type"], observed=True).size()
    assert pb.n_obs == int((sizes >= 25).sum())
    assert pb.obs["n_cells"].sum() == sizes[sizes >= 25].sum()


def test_non_count_data_use_float64():
    adata = _toy(dtype=np.float64)
    adata.X = adata.X * 0.37
    with pytest.warns(NotCountsWarning, match="non-integer"):
        pb = pseudobulk(adata)
    assert pb.X.dtype == np.float64
    oracle = sc.get.aggregate(adata, by=["sample_id", "cell_type"], func="sum")
    np.testing.assert_allclose(np.sort(pb.X.sum(axis=1)), np.sort(oracle.layers["sum"].sum(axis=1)))


def test_large_sums_stay_exact():
    x = np.full((20, 3), 2.0**22, dtype=np.float32)  # 20 cells × 2**22 > 2**24
    x[0, 0] += 1  # float32 sums would lose this
    obs = pd.DataFrame({"sample_id": "S1", "cell_type": "T"}, index=[f"c{i}" for i in range(20)])
    adata = ad.AnnData(x, obs=obs)
    pb = pseudobulk(adata)
    assert pb.X.dtype == np.int64
    assert pb.X.sum() == int(adata.X.astype(np.int64).sum())


def test_layer_and_errors(tmp_path):
    adata = _toy()
    adata.layers["counts"] = sp.csr_matrix(adata.X)
    adata.X = np.zeros_like(adata.X)
    assert pseudobulk(adata, layer="counts").X.sum() == adata.layers["counts"].sum()
    with pytest.raises(SchemaError, match="layer 'count' not found; did you mean 'counts'"):
        pseudobulk(adata, layer="count")
    with pytest.raises(
        SchemaError, match="obs column 'sample' not found; did you mean 'sample_id'"
    ):
        pseudobulk(adata, sample_key="sample")
    with pytest.raises(InputFileError, match=r"missing\.h5ad: file not found"):
        pseudobulk(tmp_path / "missing.h5ad")
    with pytest.raises(
        ConfigError,
        match=r"func='median' is not supported.*use one of: 'sum', 'mean', 'count_nonzero'",
    ):
        pseudobulk(adata, func="median")


@pytest.mark.parametrize(("suffix", "writer"), [(".h5ad", "write_h5ad"), (".zarr", "write_zarr")])
def test_csc_on_disk_is_refused(tmp_path, suffix, writer):
    # one check for both file kinds, naming the writer of the user's format
    adata = _toy()
    adata.X = sp.csc_matrix(adata.X)
    path = tmp_path / f"csc{suffix}"
    getattr(adata, writer)(path)
    with pytest.raises(
        SchemaError, match=rf"stored as csc_matrix, rows cannot be streamed.*adata\.{writer}"
    ):
        pseudobulk(path)


def test_zarr_errors(tmp_path):
    adata = _toy()
    adata.X = sp.csc_matrix(adata.X)
    adata.write_zarr(tmp_path / "csc.zarr")
    with pytest.raises(SchemaError, match=r"csc\.zarr:X: stored as csc_matrix, rows cannot be"):
        pseudobulk(tmp_path / "csc.zarr")
    with pytest.raises(
        SchemaError, match="obs column 'sample' not found; did you mean 'sample_id'"
    ):
        pseudobulk(tmp_path / "csc.zarr", sample_key="sample")
    with pytest.raises(InputFileError, match=r"missing\.zarr: file not found"):
        pseudobulk(tmp_path / "missing.zarr")
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(InputFileError, match=r"empty\.zarr: (no 'obs' group|cannot be opened)"):
        pseudobulk(tmp_path / "empty.zarr")


@pytest.mark.parametrize(
    "bad",
    [None, 0.5, -1.0, np.nan, np.inf, 2.0**24 + 2, -0.0],
    ids=["counts", "half", "negative", "nan", "inf", "too_big", "neg_zero"],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_count_check_kernel(bad, dtype):
    from biomarkers.features._kernels import all_counts

    x = np.arange(1000, dtype=dtype) % 17
    if bad is not None:
        x[617] = bad
    expected = bool(np.all((x >= 0) & (x <= 2**24) & (x == np.floor(x))))
    assert all_counts(x) == expected
    assert all_counts(x.reshape(40, 25).ravel()) == expected  # dense blocks are checked raveled


def test_non_count_file_falls_back_to_float64(tmp_path):
    adata = _toy(dtype=np.float64)
    adata.X = sp.csr_matrix(adata.X * 0.37)
    adata.write_h5ad(tmp_path / "float.h5ad")
    with pytest.warns(NotCountsWarning, match="non-integer"):
        pb = pseudobulk(tmp_path / "float.h5ad", chunk_size=50)
    assert pb.X.dtype == np.float64
    oracle = sc.get.aggregate(adata, by=["sample_id", "cell_type"], func="sum")
    np.testing.assert_allclose(np.sort(pb.X.sum(axis=1)), np.sort(oracle.layers["sum"].sum(axis=1)))


def test_dense_zarr_store(tmp_path):
    adata = _toy()
    store = _as("zarr_dense", adata, tmp_path)
    expected = pseudobulk(adata)
    got = pseudobulk(store, chunk_size=41)
    np.testing.assert_array_equal(got.X, expected.X)
    pd.testing.assert_frame_equal(got.obs, expected.obs)


def test_zarr_layer(tmp_path):
    adata = _toy()
    adata.layers["counts"] = sp.csr_matrix(adata.X)
    adata.X = np.zeros_like(adata.X)
    adata.write_zarr(tmp_path / "layer.zarr")
    pb = pseudobulk(tmp_path / "layer.zarr", layer="counts")
    assert pb.X.sum() == adata.layers["counts"].sum()
    with pytest.raises(SchemaError, match=r"no 'layers/count' in the store; pass layer="):
        pseudobulk(tmp_path / "layer.zarr", layer="count")


def test_scaled_x_warns_not_counts_pbmc68k_reduced():
    """scanpy's pbmc68k_reduced: X is scaled (negative values), .raw log-normalised."""
    adata = sc.datasets.pbmc68k_reduced()
    adata.obs["sample_id"] = adata.obs["phase"].astype(str)
    with pytest.warns(NotCountsWarning, match=r"X holds negative values.*\.raw is not counts"):
        pseudobulk(adata, groups_key="bulk_labels")


def test_not_counts_warning_names_the_counts_layer():
    adata = _toy()
    adata.layers["counts"] = adata.X.copy()
    adata.X = np.log1p(np.asarray(adata.X, dtype=np.float64))
    with pytest.warns(NotCountsWarning, match=r"non-integer values.*use layer='counts'"):
        pseudobulk(adata)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pb = pseudobulk(adata, layer="counts")  # the fix: no warning
    assert pb.X.dtype == np.float32


def test_counts_beyond_float32_do_not_warn():
    adata = _toy(dtype=np.float64)
    X = np.asarray(adata.X.toarray() if sp.issparse(adata.X) else adata.X, dtype=np.float64)
    X[0, 0] = 2.0**24 + 2  # a count float32 cannot hold exactly: float64 path, still counts
    adata.X = X
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pb = pseudobulk(adata)
    assert pb.X.dtype in (np.float64, np.int64)
