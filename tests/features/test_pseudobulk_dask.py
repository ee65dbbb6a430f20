from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from biomarkers.exceptions import ConfigError, NotCountsWarning, SchemaError
from biomarkers.features import pseudobulk
from biomarkers.features._accumulate import _NotCounts
from biomarkers.features._pseudobulk_dask import accumulate_dask, partial_sum, task_bounds


def _cells(n_cells=500, n_genes=30, *, seed=1, dtype=np.float32, sort=True):
    rng = np.random.default_rng(seed)
    x = sp.random(n_cells, n_genes, density=0.3, format="csr", random_state=rng, dtype=np.float64)
    x.data = np.ceil(x.data * 20).astype(dtype)
    x = x.astype(dtype)
    samples = rng.choice([f"S{i}" for i in range(7)], n_cells)
    if sort:
        samples = np.sort(samples)
    obs = pd.DataFrame(
        {
            "sample_id": samples,
            "cell_type": rng.choice(["T", "B", "NK", "mono", "DC"], n_cells),
        },
        index=[f"c{i}" for i in range(n_cells)],
    )
    obs["subject_id"] = obs["sample_id"].str.replace("S", "P")
    obs.loc[obs.index[:5], "cell_type"] = np.nan  # cells without a label are left out
    return ad.AnnData(x, obs=obs, var=pd.DataFrame(index=[f"G{j}" for j in range(n_genes)]))


@pytest.fixture
def h5ad(tmp_path):
    path = tmp_path / "cells.h5ad"
    _cells().write_h5ad(path)
    return path


def _row_group(path):
    """The row → profile map that pseudobulk builds (via the local result's obs)."""
    a = ad.read_h5ad(path)
    pb = pseudobulk(a)
    key = pd.Series(np.arange(pb.n_obs), index=pb.obs_names)
    names = a.obs["sample_id"].astype(str) + "_" + a.obs["cell_type"].astype(str)
    return key.reindex(names).fillna(-1).to_numpy(np.int32), pb


class _Future:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value

    def release(self):
        pass

    def cancel(self):
        pass


class _InlineClient:
    """Runs each submitted task at once in this process (the tasks' code path without a cluster)."""

    def __init__(self):
        self.n_tasks = 0

    def nthreads(self):
        return {"w1": 1, "w2": 1}

    def submit(self, fn, *args, pure=True, **kwargs):
        self.n_tasks += 1
        return _Future(fn(*args, **kwargs))


@pytest.mark.parametrize("func", ["sum", "mean", "count_nonzero"])
@pytest.mark.parametrize("rows_per_task", [3, 64, 10_000])
def test_tasks_without_cluster_equal_local(h5ad, func, rows_per_task):
    local = pseudobulk(h5ad, func=func, chunk_size=13)
    client = _InlineClient()
    got = pseudobulk(
        h5ad, func=func, chunk_size=13, backend="dask", client=client, rows_per_task=rows_per_task
    )
    labelled = ad.read_h5ad(h5ad).obs["cell_type"].notna().to_numpy()
    # blocks without a labelled cell are not submitted at all
    expected = sum(labelled[a:b].any() for a, b in task_bounds(500, rows_per_task))
    assert client.n_tasks == expected
    assert got.X.dtype == local.X.dtype
    np.testing.assert_array_equal(got.X, local.X)
    pd.testing.assert_frame_equal(got.obs, local.obs)
    assert list(got.var_names) == list(local.var_names)
    assert got.uns["pseudobulk"]["params"]["backend"] == "dask"


def test_partial_sums_add_up_to_local(h5ad):
    row_group, pb = _row_group(h5ad)
    out = np.zeros(pb.shape, dtype=np.float32)
    seen = []
    for a, b in task_bounds(row_group.size, 120):
        ids, block, ok = partial_sum(
            h5ad,
            "X",
            a,
            row_group[a:b],
            n_rows=row_group.size,
            n_cols=pb.n_vars,
            dtype=np.float32,
            nonzero=False,
            check=True,
            chunk_size=7,
        )
        assert ok
        # a task only returns the profiles its rows touch (bounded by the chunk, not the output)
        assert set(ids) == set(row_group[a:b][row_group[a:b] >= 0])
        assert block.shape == (ids.size, pb.n_vars)
        out[ids] += block
        seen.append(ids.size)
    np.testing.assert_array_equal(out, pb.X)
    assert max(seen) < pb.n_obs  # sorted cells: no task touches every profile


def test_non_counts_fall_back_to_float64(tmp_path):
    adata = _cells()
    adata.X = adata.X.astype(np.float64) * 0.37
    path = tmp_path / "float.h5ad"
    adata.write_h5ad(path)
    with pytest.warns(NotCountsWarning, match="non-integer"):
        local = pseudobulk(path)
    with pytest.warns(NotCountsWarning, match="non-integer"):
        got = pseudobulk(path, backend="dask", client=_InlineClient(), rows_per_task=50)
    assert got.X.dtype == local.X.dtype == np.float64
    np.testing.assert_allclose(got.X, local.X, rtol=1e-12)


def test_non_count_task_reports_and_aborts(h5ad, tmp_path):
    adata = _cells()
    adata.X = adata.X * 0.5
    path = tmp_path / "half.h5ad"
    adata.write_h5ad(path)
    row_group, pb = _row_group(h5ad)
    out = np.zeros(pb.shape, dtype=np.float32)
    with pytest.raises(_NotCounts):
        accumulate_dask(
            path,
            "X",
            row_group,
            out,
            nonzero=False,
            check=True,
            chunk_size=10,
            rows_per_task=100,
            client=_InlineClient(),
        )


def test_dask_input_errors(h5ad, tmp_path):
    with pytest.raises(ValueError, match=r"backend='dask' needs the path of an \.h5ad file"):
        pseudobulk(_cells(), backend="dask", client=_InlineClient())
    with pytest.raises(
        ConfigError, match="backend='spark' is not supported; use one of: 'local', 'dask'"
    ):
        pseudobulk(h5ad, backend="spark")
    with pytest.raises(ValueError, match="rows_per_task=0 must be a positive number"):
        pseudobulk(h5ad, backend="dask", client=_InlineClient(), rows_per_task=0)
    adata = _cells()
    adata.X = sp.csc_matrix(adata.X)
    adata.write_h5ad(tmp_path / "csc.h5ad")
    with pytest.raises(SchemaError, match="stored as csc_matrix, rows cannot be streamed"):
        pseudobulk(tmp_path / "csc.h5ad", backend="dask", client=_InlineClient())


def test_backed_and_layer_inputs(tmp_path):
    adata = _cells()
    adata.layers["counts"] = adata.X.copy()
    adata.X = sp.csr_matrix(adata.shape, dtype=np.float32)
    path = tmp_path / "layer.h5ad"
    adata.write_h5ad(path)
    backed = ad.read_h5ad(path, backed="r")
    try:
        local = pseudobulk(backed, layer="counts")
        got = pseudobulk(
            backed, layer="counts", backend="dask", client=_InlineClient(), rows_per_task=77
        )
    finally:
        backed.file.close()
    np.testing.assert_array_equal(got.X, local.X)
    labelled = adata.obs["cell_type"].notna().to_numpy()
    assert got.X.sum() == adata.layers["counts"][labelled].sum()


@pytest.mark.slow
@pytest.mark.parametrize("func", ["sum", "mean", "count_nonzero"])
def test_local_cluster_equals_local(tmp_path, func):
    distributed = pytest.importorskip("distributed")
    adata = _cells(n_cells=3_000, sort=False)  # unsorted: every task touches most profiles
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    local = pseudobulk(path, func=func)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        got = pseudobulk(path, func=func, backend="dask", client=client, rows_per_task=400)
        # the global client is picked up when none is given
        again = pseudobulk(path, func=func, backend="dask", rows_per_task=1_000)
    for res in (got, again):
        assert res.X.dtype == local.X.dtype
        np.testing.assert_array_equal(res.X, local.X)
        pd.testing.assert_frame_equal(res.obs, local.obs)


@pytest.mark.parametrize("ids", [[2, 3, 4], [0, 3, 7], [5], []], ids=["run", "gaps", "one", "none"])
def test_add_rows_equals_add_at(ids):
    from biomarkers.features._pseudobulk_dask import _add_rows

    rng = np.random.default_rng(0)
    out = rng.integers(0, 9, size=(8, 5)).astype(np.float32)
    ids = np.asarray(ids, dtype=np.int64)
    block = rng.integers(0, 9, size=(ids.size, 5)).astype(np.float32)
    expected = out.copy()
    np.add.at(expected, ids, block)
    _add_rows(out, ids, block)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.filterwarnings("ignore:Writing zarr v2 data:UserWarning")  # anndata, on writing
@pytest.mark.parametrize("func", ["sum", "count_nonzero"])
def test_zarr_store_tasks_equal_h5ad_local(h5ad, tmp_path, func):
    adata = ad.read_h5ad(h5ad)
    store = tmp_path / "cells.zarr"
    adata.write_zarr(store)
    local = pseudobulk(h5ad, func=func)
    got = pseudobulk(store, func=func, backend="dask", client=_InlineClient(), rows_per_task=90)
    np.testing.assert_array_equal(got.X, local.X)
    pd.testing.assert_frame_equal(got.obs, local.obs)
    assert list(got.var_names) == list(local.var_names)
