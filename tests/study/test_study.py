from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.io import CENSOR_CODES, read_clinical, read_cytokines, read_samples
from biomarkers.study import DEFAULT_VISITS, Study, StudySummary, tidy_to_anndata


@pytest.fixture(scope="module")
def study() -> Study:
    # read once per module: the tests below only look at it
    from .conftest import DATA as data_dir

    return Study.from_files(
        clinical=data_dir / "clinical.csv",
        labs=data_dir / "labs.csv",
        samples=data_dir / "samples.csv",
        dosing=data_dir / "dosing.csv",
        cytokines={
            "cytokines": data_dir / "cytokines_long.csv",
            "olink": {"path": str(data_dir / "olink_npx_semicolon.csv"), "format": "olink"},
        },
        flow=data_dir / "flow_long.csv",
    )


def test_default_visits():
    assert dict(DEFAULT_VISITS) == {"D0": 0, "D7": 7, "D14": 14, "D21": 21, "D28": 28, "D90": 90}


def test_attributes(study):
    assert study.treated_arm == "ucMSC+SMT"
    assert study.control_arm == "SMT"
    assert list(study.visits) == ["D0", "D7", "D14", "D21", "D28", "D90"]
    assert study.clinical.index.name == "subject_id"
    assert list(study.labs.columns[:3]) == ["subject_id", "visit", "day"]
    assert study.samples.index.name == "sample_id"
    assert len(study.dosing) == 4
    assert set(study.assays) == {"cytokines", "olink", "flow"}
    assert study.singlecell is None
    assert study.singlecell_path is None


def test_design(study):
    d = study.design
    assert d.index.name == "sample_id"
    assert list(d.columns[:4]) == ["subject_id", "visit", "day", "arm"]
    assert d.loc["P01_D7_PL"].tolist()[:4] == ["P01", "D7", 7, "ucMSC+SMT"]
    assert d.loc["P02_D0_PL", "arm"] == "SMT"


def test_assay_anndata_cell_by_cell(study):
    a = study.assays["cytokines"]
    assert a.obs_names.tolist() == ["P01_D0_PL", "P01_D7_PL", "P02_D0_PL", "P03_D0_PL"]
    assert a.var_names.tolist() == ["IL6", "IL10"]
    assert a.layers["censor"].dtype == np.int8
    assert a.uns["censor_codes"] == dict(CENSOR_CODES)
    X, C = a.to_df(), pd.DataFrame(a.layers["censor"], index=a.obs_names, columns=a.var_names)
    assert X.loc["P01_D0_PL", "IL6"] == pytest.approx(
        (125.4 + 131.0) / 2
    )  # replicate wells averaged
    assert C.loc["P01_D0_PL", "IL6"] == CENSOR_CODES["ok"]
    assert X.loc["P01_D0_PL", "IL10"] == 3.2  # "<3.2" and "OOR <": below, the limit written kept
    assert C.loc["P01_D0_PL", "IL10"] == CENSOR_CODES["below"]
    assert C.loc["P01_D7_PL", "IL6"] == CENSOR_CODES["above"]
    assert np.isnan(X.loc["P02_D0_PL", "IL10"])
    assert C.loc["P02_D0_PL", "IL10"] == CENSOR_CODES["missing"]
    assert a.obs.loc["P01_D7_PL", "visit"] == "D7"
    assert a.obs.loc["P01_D7_PL", "arm"] == "ucMSC+SMT"
    assert a.obs.loc["P02_D0_PL", "plate"] == "2"
    assert a.var.loc["IL6", "unit"] == "pg/mL"
    assert a.var.loc["IL10", "lod"] == 1.1
    assert a.var.loc["IL10", "n_censored_below"] == 1
    assert a.var.loc["IL6", "n_censored_above"] == 1
    assert study.tidy["cytokines"]["replicate"].max() == 2


def test_tidy_to_anndata_matches_pivot_oracle():
    rng = np.random.default_rng(1)
    rows = [
        (s, a) for s in "abcdef" for a in ["IL6", "IL10", "TNF"] for _ in range(rng.integers(1, 3))
    ]
    tidy = pd.DataFrame(rows, columns=["sample_id", "analyte"])
    tidy["value"] = rng.lognormal(1, 1, len(tidy))
    tidy["censor"] = pd.Categorical(["ok"] * len(tidy), categories=list(CENSOR_CODES))
    tidy = tidy.drop(index=[0]).reset_index(drop=True)  # a hole: sample a × IL6 may vanish
    adata = tidy_to_anndata(tidy)
    oracle = tidy.pivot_table(index="sample_id", columns="analyte", values="value", aggfunc="mean")
    got = adata.to_df().reindex(index=oracle.index, columns=oracle.columns)
    np.testing.assert_allclose(got.to_numpy(), oracle.to_numpy(), equal_nan=True)
    missing = np.isnan(adata.X)
    assert (adata.layers["censor"][missing] == CENSOR_CODES["missing"]).all()


def test_unit_clash(data_dir):
    tidy = pd.DataFrame(
        {
            "sample_id": ["a", "b"],
            "analyte": "IL6",
            "value": [1.0, 2.0],
            "censor": "ok",
            "unit": ["pg/mL", "ng/mL"],
        }
    )
    with pytest.raises(
        SchemaError, match=r"analyte 'IL6' is reported in several units \('pg/mL', 'ng/mL'\)"
    ):
        tidy_to_anndata(tidy, name="cytokines")


def test_sample_subject_not_in_clinical(data_dir):
    clinical = read_clinical(data_dir / "clinical.csv")
    samples = read_samples(data_dir / "samples.csv")
    samples.loc["X1"] = ["P09", "D0", "plasma", "B1"]
    samples.loc["X2"] = ["P10", "D0", "plasma", "B1"]
    with pytest.raises(
        SchemaError, match=r"samples: 2 subject\(s\) not in the clinical table: 'P09', 'P10'"
    ):
        Study(clinical, samples=samples)


def test_visit_not_in_config(data_dir):
    clinical = read_clinical(data_dir / "clinical.csv")
    samples = read_samples(data_dir / "samples.csv")
    with pytest.raises(
        SchemaError,
        match=r"samples: visit 'D7' is not in the visit schedule.*known visits: D0, D90",
    ):
        Study(clinical, samples=samples, visits={"D0": 0, "D90": 90})


def test_assay_sample_not_in_samples(data_dir):
    clinical = read_clinical(data_dir / "clinical.csv")
    samples = read_samples(data_dir / "samples.csv").drop(index=["P03_D0_PL"])
    tidy = read_cytokines(data_dir / "cytokines_long.csv")
    with pytest.raises(
        SchemaError, match=r"assay 'cytokines': 1 sample\(s\) not in the samples table: 'P03_D0_PL'"
    ):
        Study(clinical, samples=samples, assays={"cytokines": tidy})


def test_labs_subject_not_in_clinical(data_dir):
    clinical = read_clinical(data_dir / "clinical.csv").drop(index="P04")
    labs = pd.read_csv(data_dir / "labs.csv", dtype={"subject_id": str})
    with pytest.raises(
        SchemaError, match=r"labs rows: 1 subject\(s\) not in the clinical table: 'P04'"
    ):
        Study(clinical, labs=labs)


def test_arms_must_be_named_for_other_labels(data_dir):
    clinical = read_clinical(data_dir / "clinical.csv")
    clinical["arm"] = clinical["arm"].map({"ucMSC+SMT": "MSC", "SMT": "standard care"})
    with pytest.raises(
        SchemaError,
        match=r"cannot tell which arm is treated among 'MSC', 'standard care'; pass treated_arm=",
    ):
        Study(clinical)
    with pytest.raises(
        SchemaError,
        match=r"treated_arm='MSCs' is not an arm of the clinical table; did you mean 'MSC'\?",
    ):
        Study(clinical, treated_arm="MSCs")
    s = Study(clinical, treated_arm="MSC")
    assert (s.treated_arm, s.control_arm) == ("MSC", "standard care")


def test_three_arms_refused(data_dir):
    clinical = read_clinical(data_dir / "clinical.csv")
    clinical.loc["P04", "arm"] = "other"
    with pytest.raises(SchemaError, match="3 arms"):
        Study(clinical, treated_arm="ucMSC+SMT")


def test_from_config_relative_paths(data_dir):
    config = {
        "clinical": "clinical.csv",
        "samples": {"path": "samples.csv"},
        "cytokines": {"luminex": {"path": "bioplex_export.csv", "format": "bioplex"}},
        "visits": {"D0": 0, "D7": 7},
    }
    s = Study.from_config(config, base_dir=data_dir)
    assert list(s.assays) == ["luminex"]
    assert s.visits == {"D0": 0, "D7": 7}
    a = s.assays["luminex"]
    assert a.to_df().loc["P01_D0_PL", "IL-6"] == pytest.approx((125.4 + 12.3) / 2)
    assert (
        a.layers["censor"][a.obs_names.get_loc("P01_D0_PL"), a.var_names.get_loc("IL-6")]
        == CENSOR_CODES["extrapolated"]
    )


def test_from_config_unknown_key(data_dir):
    with pytest.raises(ConfigError, match=r"unknown key 'cytokine'; did you mean 'cytokines'\?"):
        Study.from_config({"clinical": "clinical.csv", "cytokine": "x.csv"}, base_dir=data_dir)
    with pytest.raises(ConfigError, match="'clinical' is required"):
        Study.from_config({"labs": "labs.csv"}, base_dir=data_dir)
    with pytest.raises(
        ConfigError, match=r"reader option 'fromat' is not known; did you mean 'format'\?"
    ):
        Study.from_config(
            {"clinical": {"path": "clinical.csv", "fromat": "csv"}}, base_dir=data_dir
        )


def test_columns_per_table(tmp_path, data_dir):
    clin = pd.read_csv(data_dir / "clinical.csv", dtype=str).rename(
        columns={"subject_id": "PatientID"}
    )
    clin.to_csv(tmp_path / "clinical.csv", index=False)
    s = Study.from_files(
        clinical=tmp_path / "clinical.csv",
        samples=data_dir / "samples.csv",
        columns={"clinical": {"PatientID": "subject_id"}},
    )
    assert s.subjects.tolist() == ["P01", "P02", "P03", "P04"]


def test_summary(study):
    summary = study.summary()
    assert isinstance(summary, StudySummary)
    assert summary.arms.set_index("arm")["n_subjects"].to_dict() == {"ucMSC+SMT": 2, "SMT": 2}
    t = summary.to_frame().set_index(["assay", "visit"])
    assert t.loc[("cytokines", "D0"), "n_samples"] == 3
    assert t.loc[("cytokines", "D7"), "n_samples"] == 1
    assert t.loc[("labs", "D0"), "n_subjects"] == 4
    # cytokines at D0: 3 samples × 2 analytes; IL10 of P02 missing
    assert t.loc[("cytokines", "D0"), "missing"] == pytest.approx(1 / 6)
    assert t.loc[("olink", "D0"), "below"] == pytest.approx(2 / 4)
    html = summary._repr_html_()
    assert "ucMSC+SMT" in html
    assert "<table" in html
    assert "cytokines" in repr(study)


def test_to_mudata(study):
    mdata = study.to_mudata()
    assert isinstance(mdata, md.MuData)
    assert set(mdata.mod) == {"cytokines", "olink", "flow"}
    assert "cytokines:IL6" in mdata["cytokines"].var_names
    assert "olink:IL6" in mdata["olink"].var_names
    assert mdata.obs.loc["P01_D7_PL", "arm"] == "ucMSC+SMT"
    assert mdata.uns["treated_arm"] == "ucMSC+SMT"


def make_sc(sample_ids, subjects=None, visits=None) -> ad.AnnData:
    n = len(sample_ids)
    obs = pd.DataFrame({"sample_id": sample_ids}, index=[f"c{i}" for i in range(n)])
    if subjects is not None:
        obs["subject_id"] = subjects
        obs["visit"] = visits
    X = sparse.csr_matrix(np.ones((n, 3), dtype=np.float32))
    return ad.AnnData(X=X, obs=obs)


def test_singlecell_samples_joined(data_dir):
    clinical = read_clinical(data_dir / "clinical.csv")
    samples = read_samples(data_dir / "samples.csv")
    sc = make_sc(["P01_D0_PB", "P03_D7_PB"], subjects=["P01", "P03"], visits=["D0", "D7"])
    s = Study(clinical, samples=samples, singlecell=sc)
    assert s.design.loc["P03_D7_PB", "arm"] == "ucMSC+SMT"  # added from obs
    t = s.summary().to_frame()
    assert set(t.loc[t["assay"] == "singlecell", "visit"]) == {"D0", "D7"}


def test_singlecell_unknown_sample(data_dir):
    clinical = read_clinical(data_dir / "clinical.csv")
    samples = read_samples(data_dir / "samples.csv")
    with pytest.raises(
        SchemaError,
        match=r"single-cell obs\['sample_id'\]: 1 sample\(s\) not in the samples table: 'ZZ'",
    ):
        Study(clinical, samples=samples, singlecell=make_sc(["P01_D0_PB", "ZZ"]))


def test_singlecell_disagrees_with_samples(data_dir):
    clinical = read_clinical(data_dir / "clinical.csv")
    samples = read_samples(data_dir / "samples.csv")
    sc = make_sc(["P01_D0_PB"], subjects=["P02"], visits=["D0"])
    with pytest.raises(SchemaError, match="disagrees with the samples table"):
        Study(clinical, samples=samples, singlecell=sc)


def test_from_files_singlecell_h5ad(tmp_path, data_dir):
    sc = make_sc(["P01_D0_PB", "P02_D0_PB"])
    sc.write_h5ad(tmp_path / "sc.h5ad")
    s = Study.from_files(
        clinical=data_dir / "clinical.csv",
        samples=data_dir / "samples.csv",
        singlecell=tmp_path / "sc.h5ad",
        backed=True,
    )
    assert s.singlecell.isbacked
    assert s.singlecell_path == tmp_path / "sc.h5ad"
    assert s.singlecell.uns["cells_per_sample"] == {"P01_D0_PB": 1, "P02_D0_PB": 1}
    s.singlecell.file.close()


def test_inputs_not_modified(data_dir):
    clinical = read_clinical(data_dir / "clinical.csv")
    before = clinical.copy()
    tidy = read_cytokines(data_dir / "cytokines_long.csv")
    tidy_before = tidy.copy()
    Study(clinical, samples=read_samples(data_dir / "samples.csv"), assays={"cytokines": tidy})
    pd.testing.assert_frame_equal(clinical, before)
    pd.testing.assert_frame_equal(tidy, tidy_before)


def test_from_config_list_of_plates(data_dir):
    config = {
        "clinical": "clinical.csv",
        "samples": "samples.csv",
        "cytokines": {"luminex": {"path": ["luminex_xponent.csv"], "format": "xponent"}},
    }
    s = Study.from_config(config, base_dir=data_dir)
    a = s.assays["luminex"]
    assert a.to_df().loc["P01_D0_PL", "IL-6"] == pytest.approx((152.3 + 148.9) / 2)


def test_singlecell_obs_gains_subject_and_visit(data_dir):
    clinical = read_clinical(data_dir / "clinical.csv")
    samples = read_samples(data_dir / "samples.csv")
    sc = make_sc(["P01_D0_PB", "P02_D0_PB", "P02_D0_PB"])
    s = Study(clinical, samples=samples, singlecell=sc)
    assert s.singlecell.obs["subject_id"].tolist() == ["P01", "P02", "P02"]
    assert s.singlecell.obs["visit"].tolist() == ["D0", "D0", "D0"]


def test_assay_given_as_anndata(data_dir):
    clinical = read_clinical(data_dir / "clinical.csv")
    samples = read_samples(data_dir / "samples.csv")
    adata = ad.AnnData(
        X=np.array([[1.0, 2.0], [3.0, 4.0]]),
        obs=pd.DataFrame(index=["P01_D0_PL", "P02_D0_PL"]),
        var=pd.DataFrame(index=["IL6", "IL10"]),
    )
    s = Study(clinical, samples=samples, assays={"elisa": adata})
    a = s.assays["elisa"]
    assert a.obs["arm"].tolist() == ["ucMSC+SMT", "SMT"]
    assert a.obs["day"].tolist() == [0, 0]
    assert "arm" not in adata.obs.columns  # the input is not modified
    bad = adata.copy()
    bad.obs_names = ["P01_D0_PL", "nope"]
    with pytest.raises(
        SchemaError, match=r"assay 'elisa': 1 sample\(s\) not in the samples table: 'nope'"
    ):
        Study(clinical, samples=samples, assays={"elisa": bad})


def test_in_memory_anndata_into_study(data_dir):
    # cells with subject_id + visit but no sample_id, in memory, into the constructor and
    # into from_files (where a path was the only option)
    clinical = read_clinical(data_dir / "clinical.csv")
    sc = make_sc(["P01_D0_PB", "P02_D7_PB"], subjects=["P01", "P02"], visits=["D0", "D7"])
    del sc.obs["sample_id"]
    s = Study(clinical, singlecell=sc)
    assert set(s.singlecell.obs["sample_id"]) == {"P01_D0", "P02_D7"}
    assert s.design.loc["P02_D7", "arm"] == "SMT"
    del sc.obs["sample_id"]
    s = Study.from_files(clinical=data_dir / "clinical.csv", singlecell=sc)
    assert s.singlecell.uns["cells_per_sample"] == {"P01_D0": 1, "P02_D7": 1}
    assert s.singlecell_path is None


def test_singlecell_path_into_constructor(tmp_path, data_dir):
    sc = make_sc(["P01_D0_PB", "P02_D0_PB"])
    sc.write_h5ad(tmp_path / "sc.h5ad")
    s = Study(
        read_clinical(data_dir / "clinical.csv"),
        samples=read_samples(data_dir / "samples.csv"),
        singlecell=tmp_path / "sc.h5ad",
    )
    assert s.singlecell_path == tmp_path / "sc.h5ad"
    assert s.singlecell.uns["cells_per_sample"] == {"P01_D0_PB": 1, "P02_D0_PB": 1}
