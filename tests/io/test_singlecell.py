from __future__ import annotations

import gzip
import logging

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import io as spio
from scipy import sparse

from biomarkers.exceptions import InputFileError, SchemaError
from biomarkers.io import read_singlecell

N_GENES = 12


def make_counts(n_cells: int, seed: int = 0) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    return sparse.csr_matrix(rng.poisson(0.8, size=(n_cells, N_GENES)).astype(np.float32))


def make_adata(n_cells=60, seed=0) -> ad.AnnData:
    X = make_counts(n_cells, seed)
    obs = pd.DataFrame(
        {
            "sample_id": np.repeat(["P01_D0_PB", "P02_D0_PB", "P01_D7_PB"], n_cells // 3),
            "subject_id": np.repeat(["P01", "P02", "P01"], n_cells // 3),
            "visit": np.repeat(["D0", "D0", "D7"], n_cells // 3),
        },
        index=[f"c{i}" for i in range(n_cells)],
    )
    return ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=[f"G{i}" for i in range(N_GENES)]))


@pytest.mark.parametrize("backed", [False, True], ids=["memory", "backed"])
def test_h5ad(tmp_path, backed, caplog):
    path = tmp_path / "sc.h5ad"
    make_adata().write_h5ad(path)
    before = path.read_bytes()
    with caplog.at_level(logging.INFO, logger="biomarkers"):
        adata = read_singlecell(path, backed=backed)
    assert adata.isbacked == backed
    assert adata.uns["cells_per_sample"] == {"P01_D0_PB": 20, "P02_D0_PB": 20, "P01_D7_PB": 20}
    assert adata.uns["counts_layer"] == "X"
    assert "3 samples" in caplog.text
    if backed:
        adata.file.close()
    assert path.read_bytes() == before


def test_sample_id_built_from_subject_and_visit(tmp_path):
    a = make_adata()
    del a.obs["sample_id"]
    a.write_h5ad(tmp_path / "sc.h5ad")
    adata = read_singlecell(tmp_path / "sc.h5ad")
    assert set(adata.obs["sample_id"]) == {"P01_D0", "P02_D0", "P01_D7"}


def test_no_sample_column(tmp_path):
    a = make_adata()
    a.obs = a.obs[["visit"]]
    a.write_h5ad(tmp_path / "sc.h5ad")
    with pytest.raises(
        SchemaError, match=r"obs has no 'sample_id' column \(nor subject_id \+ visit"
    ):
        read_singlecell(tmp_path / "sc.h5ad")


def test_normalised_floats_refused(tmp_path):
    a = make_adata()
    a.X = sparse.csr_matrix(np.log1p(a.X.toarray()))
    a.write_h5ad(tmp_path / "sc.h5ad")
    with pytest.raises(
        SchemaError,
        match=r"X holds non-integer values \(e\.g\. 0\.69.*normalised or log-transformed.*layers\['counts'\]",
    ):
        read_singlecell(tmp_path / "sc.h5ad")


def test_counts_layer_found(tmp_path):
    a = make_adata()
    a.layers["counts"] = a.X.copy()
    a.X = sparse.csr_matrix(np.log1p(a.X.toarray()))
    a.write_h5ad(tmp_path / "sc.h5ad")
    assert read_singlecell(tmp_path / "sc.h5ad").uns["counts_layer"] == "counts"


def test_negative_refused(tmp_path):
    a = make_adata()
    a.X = a.X.toarray()
    a.X[3, 2] = -1
    a.write_h5ad(tmp_path / "sc.h5ad")
    with pytest.raises(SchemaError, match=r"X holds negative values \(e\.g\. -1\)"):
        read_singlecell(tmp_path / "sc.h5ad")


def test_backed_checks_bounded_sample(tmp_path):
    # a non-integer value in the middle of a large file is not looked at in backed mode
    a = make_adata(n_cells=3000)
    X = a.X.toarray()
    X[1000, 0] = 0.5
    a.X = sparse.csr_matrix(X)
    a.write_h5ad(tmp_path / "sc.h5ad")
    adata = read_singlecell(tmp_path / "sc.h5ad", backed=True, check_cells=300)
    adata.file.close()
    X[1000, 0] = 1
    X[1, 0] = 0.5  # first block is always checked
    a.X = sparse.csr_matrix(X)
    a.write_h5ad(tmp_path / "sc2.h5ad")
    with pytest.raises(SchemaError, match="non-integer"):
        read_singlecell(tmp_path / "sc2.h5ad", backed=True, check_cells=300)


def test_not_hdf5(tmp_path):
    path = tmp_path / "sc.h5ad"
    path.write_text("cell,gene\n1,2\n")
    with pytest.raises(InputFileError, match="not an HDF5 file"):
        read_singlecell(path)


def test_missing_path(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        read_singlecell(tmp_path / "none.h5ad")


def write_10x_dir(folder, X: sparse.csr_matrix, genes, barcodes):
    folder.mkdir(parents=True)
    with gzip.open(folder / "matrix.mtx.gz", "wb") as fh:
        spio.mmwrite(fh, sparse.csr_matrix(X.T).astype(np.int64))
    with gzip.open(folder / "features.tsv.gz", "wt") as fh:
        fh.writelines(f"ENSG{i:05d}\t{g}\tGene Expression\n" for i, g in enumerate(genes))
    with gzip.open(folder / "barcodes.tsv.gz", "wt") as fh:
        fh.writelines(f"{b}\n" for b in barcodes)


def write_10x_h5(path, X: sparse.csr_matrix, genes, barcodes):
    m = sparse.csc_matrix(X.T).astype(np.int32)
    with h5py.File(path, "w") as f:
        g = f.create_group("matrix")
        g["data"], g["indices"], g["indptr"] = m.data, m.indices, m.indptr
        g["shape"] = np.array(m.shape, dtype=np.int32)
        g["barcodes"] = np.array(barcodes, dtype="S")
        feat = g.create_group("features")
        feat["id"] = np.array([f"ENSG{i:05d}" for i in range(len(genes))], dtype="S")
        feat["name"] = np.array(genes, dtype="S")
        feat["feature_type"] = np.array(["Gene Expression"] * len(genes), dtype="S")
        feat["genome"] = np.array(["GRCh38"] * len(genes), dtype="S")


def test_10x_folder_and_h5_and_manifest(tmp_path):
    genes = [f"G{i}" for i in range(N_GENES)]
    X1, X2 = make_counts(5, seed=1), make_counts(7, seed=2)
    write_10x_dir(tmp_path / "tenx" / "S1", X1, genes, [f"AAAC-{i}" for i in range(5)])
    write_10x_h5(tmp_path / "S2.h5", X2, genes, [f"AAAC-{i}" for i in range(7)])

    one = read_singlecell(tmp_path / "tenx" / "S1", sample_id="S1")
    np.testing.assert_array_equal(one.X.toarray(), X1.toarray())
    with pytest.raises(SchemaError, match="pass sample_id= for a single 10x sample"):
        read_singlecell(tmp_path / "tenx" / "S1")
    h5 = read_singlecell(tmp_path / "S2.h5", sample_id="S2")
    np.testing.assert_array_equal(h5.X.toarray(), X2.toarray())

    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,sample_id,subject_id,visit\ntenx/S1,S1,P01,D0\nS2.h5,S2,P02,D0\n")
    both = read_singlecell(manifest)
    assert both.n_obs == 12
    assert both.uns["cells_per_sample"] == {"S1": 5, "S2": 7}
    assert both.obs_names[0] == "S1_AAAC-0"
    assert both.obs.loc["S2_AAAC-3", "subject_id"] == "P02"
    np.testing.assert_array_equal(both[both.obs["sample_id"] == "S2"].X.toarray(), X2.toarray())


def test_manifest_bad_path(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,sample_id\nnope,S1\n")
    with pytest.raises(InputFileError, match=r"manifest .*row 2: path 'nope' not found"):
        read_singlecell(manifest)


def test_in_memory_anndata_checked_like_a_file():
    a = make_adata()
    del a.obs["sample_id"]
    before = a.obs.copy()
    adata = read_singlecell(a)
    assert adata is not a
    assert adata.uns["cells_per_sample"] == {"P01_D0": 20, "P02_D0": 20, "P01_D7": 20}
    pd.testing.assert_frame_equal(a.obs, before)  # the input is unchanged
    a.X = sparse.csr_matrix(np.log1p(a.X.toarray()))
    with pytest.raises(SchemaError, match=r"AnnData \(in memory\): X holds non-integer values"):
        read_singlecell(a)
