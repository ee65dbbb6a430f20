"""simulate_trial: files and columns of the contract, reproducibility, formats, errors."""

from __future__ import annotations

import csv
import io

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from biomarkers._atomic import sha256_file
from biomarkers.datasets import SimulatedTrial, simulate_trial
from biomarkers.datasets._profiles import CELL_TYPES
from biomarkers.exceptions import ConfigError

CONTRACT_COLUMNS = {
    "clinical": [
        "subject_id", "arm", "age", "sex", "weight_kg", "etiology", "randomisation_day", "death",
        "death_day", "transplant", "transplant_day", "last_followup_day", "aclf_grade_easl", "aarc_grade",
    ],
    "labs": [
        "subject_id", "visit", "day", "bilirubin_mg_dl", "inr", "creatinine_mg_dl", "sodium_mmol_l",
        "albumin_g_dl", "wbc_10e9_l", "platelets_10e9_l", "lactate_mmol_l", "he_grade", "map_mmhg",
        "vasopressor", "pao2_fio2", "dialysis", "ascites",
    ],
    "dosing": ["subject_id", "dose_number", "planned_day", "day", "given", "cells_per_kg"],
    "samples": ["sample_id", "subject_id", "visit", "tissue", "batch"],
    "cytokines_long": ["sample_id", "analyte", "value", "unit", "lod", "lloq", "uloq", "plate", "well", "dilution"],
    "flow": ["sample_id", "population", "parent", "frequency", "count"],
    "tenx_manifest": ["path", "sample_id"],
}  # fmt: skip
OLINK_HEADER = "SampleID;Index;OlinkID;UniProt;Assay;MissingFreq;Panel;Panel_Version;PlateID;QC_Warning;LOD;NPX"


def _files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_returns_trial_with_every_contract_file(small_trial):
    assert isinstance(small_trial, SimulatedTrial)
    expected = {
        "clinical", "labs", "dosing", "samples", "cytokines_long", "luminex_xponent", "bioplex_export",
        "msd_export", "olink_npx", "flow", "singlecell", "tenx_manifest", "truth",
    }  # fmt: skip
    assert set(small_trial.paths) == expected
    for name, path in small_trial.paths.items():
        assert path.is_file(), name
        assert path.parent == small_trial.out_dir
    files = small_trial.to_frame()
    assert list(files.columns) == ["name", "path", "bytes"]
    assert (files["bytes"] > 0).all()
    assert "SimulatedTrial(" in repr(small_trial)
    html = small_trial._repr_html_()
    assert "singlecell.h5ad" in html
    assert "default" in html


@pytest.mark.parametrize("name", sorted(CONTRACT_COLUMNS))
def test_tables_have_contract_columns(small_trial, name):
    df = pd.read_csv(small_trial.paths[name], dtype={"subject_id": str, "sample_id": str})
    assert list(df.columns[: len(CONTRACT_COLUMNS[name])]) == CONTRACT_COLUMNS[name]
    assert len(df) > 0


def test_olink_header_and_delimiter(small_trial):
    first = small_trial.paths["olink_npx"].read_text().splitlines()[0]
    assert first == OLINK_HEADER
    df = pd.read_csv(small_trial.paths["olink_npx"], sep=";")
    assert df["NPX"].dtype.kind == "f"
    assert {"CONTROL_SAMPLE_AS 1", "CONTROL_SAMPLE_AS 2"} <= set(df["SampleID"])
    assert df["Assay"].nunique() >= 20
    # MissingFreq is the fraction of real samples below the assay's LOD
    samples = df[~df["SampleID"].str.startswith("CONTROL")]
    below = (samples["NPX"] < samples["LOD"]).groupby(samples["Assay"]).mean()
    np.testing.assert_allclose(samples.groupby("Assay")["MissingFreq"].first(), below, atol=1e-4)


def test_same_seed_same_bytes_whatever_chunk_size(small_trial, tmp_path):
    again = simulate_trial(
        tmp_path / "again", n_subjects=12, seed=3, cells_per_sample=20, chunk_size=7
    )
    a, b = _files(small_trial.out_dir), _files(again.out_dir)
    assert [p.relative_to(small_trial.out_dir) for p in a] == [
        p.relative_to(again.out_dir) for p in b
    ]
    for pa, pb in zip(a, b, strict=True):
        assert sha256_file(pa) == sha256_file(pb), pa.name


def test_other_seed_other_trial(small_trial, tmp_path):
    other = simulate_trial(tmp_path / "other", n_subjects=12, seed=4, cells_per_sample=0)
    assert sha256_file(other.paths["clinical"]) != sha256_file(small_trial.paths["clinical"])
    assert "singlecell" not in other.paths


def test_clinical_design(small_trial):
    c = pd.read_csv(small_trial.paths["clinical"], dtype={"subject_id": str})
    assert c["subject_id"].is_unique
    counts = c["arm"].value_counts()
    assert set(counts.index) == {"ucMSC+SMT", "SMT"}
    assert abs(counts["ucMSC+SMT"] - counts["SMT"]) <= 3  # permuted blocks of 4 and 6
    assert c["age"].between(18, 65).all()
    assert set(c["sex"]) <= {"M", "F"}
    died = c["death"] == 1
    assert (c.loc[died, "death_day"] == c.loc[died, "last_followup_day"]).all()
    assert c.loc[~died, "death_day"].isna().all()
    assert c["aarc_grade"].isin([1, 2, 3]).all()
    assert c["aclf_grade_easl"].isin([0, 1, 2, 3]).all()


def test_labs_follow_apasl_entry_and_stop_at_events(small_trial):
    c = pd.read_csv(small_trial.paths["clinical"], dtype={"subject_id": str}).set_index(
        "subject_id"
    )
    labs = pd.read_csv(small_trial.paths["labs"], dtype={"subject_id": str})
    base = labs[labs["visit"] == "D0"]
    assert len(base) == len(c)
    assert (base["bilirubin_mg_dl"] >= 5).all()
    assert (base["inr"] >= 1.5).all()
    assert labs["he_grade"].between(0, 4).all()
    assert set(labs["ascites"]) <= {"none", "mild", "moderate-severe"}
    end = c["death_day"].fillna(np.inf).combine(c["transplant_day"].fillna(np.inf), min)
    assert (labs["day"].to_numpy() < end.loc[labs["subject_id"]].to_numpy()).all()
    assert (
        labs["day"].to_numpy() <= c.loc[labs["subject_id"], "last_followup_day"].to_numpy()
    ).all()
    # subjects alive, not transplanted and not lost have their D90 visit
    followed = c.index[(c["death"] == 0) & (c["transplant"] == 0) & (c["last_followup_day"] >= 85)]
    assert set(followed) <= set(labs.loc[labs["visit"] == "D90", "subject_id"])


def test_dosing_only_treated_four_infusions(small_trial):
    c = pd.read_csv(small_trial.paths["clinical"], dtype={"subject_id": str})
    d = pd.read_csv(small_trial.paths["dosing"], dtype={"subject_id": str})
    treated = set(c.loc[c["arm"] == "ucMSC+SMT", "subject_id"])
    assert set(d["subject_id"]) == treated
    assert all(v == [1, 2, 3, 4] for v in d.groupby("subject_id")["dose_number"].apply(list))
    assert d.loc[d["given"] == 0, "day"].isna().all()
    assert (d.loc[d["given"] == 1, "cells_per_kg"] == 1_000_000).all()
    assert (d["planned_day"] == (d["dose_number"] - 1) * 7).all()


def test_samples_join_every_assay(small_trial):
    s = pd.read_csv(small_trial.paths["samples"], dtype=str)
    assert s["sample_id"].is_unique
    assert set(s["tissue"]) == {"plasma", "PBMC"}
    long = pd.read_csv(small_trial.paths["cytokines_long"], dtype={"sample_id": str})
    flow = pd.read_csv(small_trial.paths["flow"])
    assert set(long["sample_id"]) == set(s.loc[s["tissue"] == "plasma", "sample_id"])
    assert set(flow["sample_id"]) == set(s.loc[s["tissue"] == "PBMC", "sample_id"])
    olink = pd.read_csv(small_trial.paths["olink_npx"], sep=";")
    assert set(olink["SampleID"]) - set(s["sample_id"]) == {
        "CONTROL_SAMPLE_AS 1",
        "CONTROL_SAMPLE_AS 2",
    }
    # duplicate wells: every sample × analyte measured twice on different wells
    reps = long.groupby(["sample_id", "analyte"])["well"].nunique()
    assert (reps == 2).all()


def test_flow_frequencies_consistent_with_counts(small_trial):
    f = pd.read_csv(small_trial.paths["flow"])
    assert f["frequency"].between(0, 100).all()
    wide = f.pivot(index="sample_id", columns="population", values="count")
    treg = f[f["population"] == "Treg"].set_index("sample_id")
    np.testing.assert_allclose(
        treg["frequency"], 100 * treg["count"] / wide.loc[treg.index, "CD4"], atol=1e-3
    )
    assert set(treg["parent"]) == {"CD4"}


def test_singlecell_h5ad_reads_in_memory_and_backed(small_trial):
    path = small_trial.paths["singlecell"]
    adata = ad.read_h5ad(path)
    assert sp.issparse(adata.X)
    assert adata.X.format == "csr"
    assert adata.X.dtype.kind == "i"
    assert list(adata.obs.columns) == ["sample_id", "subject_id", "visit", "cell_type", "batch"]
    assert adata.obs_names.is_unique
    assert set(adata.obs["cell_type"].cat.categories) == set(CELL_TYPES)
    assert adata.n_vars == 765
    assert {"IL1B", "S100A8", "TIGIT", "HLA-DRA"} <= set(adata.var_names)
    assert set(adata.obs["visit"]) <= {"D0", "D7", "D28"}
    lib = np.asarray(adata.X.sum(axis=1)).ravel()
    assert 300 < np.median(lib) < 10_000
    backed = ad.read_h5ad(path, backed="r")
    np.testing.assert_array_equal(backed.X[:5].toarray(), adata.X[:5].toarray())
    backed.file.close()
    s = pd.read_csv(small_trial.paths["samples"], dtype=str).set_index("sample_id")
    obs = adata.obs.drop_duplicates("sample_id").set_index("sample_id")
    assert (obs["subject_id"].astype(str) == s.loc[obs.index, "subject_id"]).all()


def test_tenx_folders_match_h5ad(small_trial):
    sc = pytest.importorskip("scanpy")
    manifest = pd.read_csv(small_trial.paths["tenx_manifest"])
    assert len(manifest) == 4
    adata = ad.read_h5ad(small_trial.paths["singlecell"])
    for _, row in manifest.iterrows():
        folder = small_trial.out_dir / row["path"]
        assert {p.name for p in folder.iterdir()} == {
            "matrix.mtx.gz",
            "features.tsv.gz",
            "barcodes.tsv.gz",
        }
        tenx = sc.read_10x_mtx(folder)
        sub = adata[adata.obs["sample_id"] == row["sample_id"]]
        assert [f"{row['sample_id']}_{b}" for b in tenx.obs_names] == list(sub.obs_names)
        np.testing.assert_array_equal(tenx.X.toarray(), sub.X.toarray())


def _sections(text: str, marker: str) -> list[list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    out, cur = [], None
    for r in rows:
        if r and r[0].startswith(marker):
            cur = []
            out.append(cur)
        elif cur is not None:
            if not r or not any(r):
                cur = None
            else:
                cur.append(r)
    return out


def test_bioplex_blocks_controls_and_flags(medium_trial):
    text = medium_trial.paths["bioplex_export"].read_text()
    blocks = _sections(text, "Analyte: ")
    long = pd.read_csv(medium_trial.paths["cytokines_long"])
    n_plates = long["plate"].nunique()
    assert len(blocks) == n_plates * long["analyte"].nunique()
    assert "Analyte: IL-6 (pg/mL)" in text
    header = blocks[0][0]
    assert header[:4] == ["Type", "Well", "Description", "FI"]
    types = {r[0] for b in blocks for r in b[1:]}
    assert {f"S{k}" for k in range(1, 8)} | {"B", "C1", "C2", "X1"} <= types
    obs = [r[7] for b in blocks for r in b[1:]]
    for flag in ("OOR <", "OOR >", "***", "---"):
        assert flag in obs, flag
    assert any(v.startswith("*") and v[1:2].isdigit() for v in obs)


def test_bioplex_numbers_match_long_csv(medium_trial):
    text = medium_trial.paths["bioplex_export"].read_text()
    rows = list(csv.reader(io.StringIO(text)))
    plate, analyte, got = None, None, {}
    disp = {"IL-6": "IL6", "IL-10": "IL10"}
    for r in rows:
        if r[:1] == ["Plate Name:"]:
            plate = r[1]
        elif r and r[0].startswith("Analyte: "):
            analyte = disp.get(r[0][len("Analyte: ") :].split(" (")[0])
        elif analyte and len(r) == 12 and r[0].startswith("X"):
            got[(plate, r[1], analyte)] = r[7]
    long = pd.read_csv(medium_trial.paths["cytokines_long"], dtype={"value": str})
    ok = long[
        long["analyte"].isin(["IL6", "IL10"])
        & pd.to_numeric(long["value"], errors="coerce").notna()
    ]
    n = 0
    for _, r in ok.iterrows():
        v = got[(r["plate"], r["well"], r["analyte"])].lstrip("*")
        assert float(v) == pytest.approx(float(r["value"]))
        n += 1
    assert n > 100


def test_xponent_blocks(medium_trial):
    text = medium_trial.paths["luminex_xponent"].read_text()
    assert text.startswith("Program,xPONENT")
    assert "-- CRC --" in text
    for name in ("Median", "Net MFI", "Count", "Result"):
        assert f"DataType:,{name}\n" in text
    result = _sections(text, "DataType:")[3]
    assert result[0][:3] == ["Location", "Sample", "IL-6"]
    samples = {r[1] for r in result[1:]}
    assert {"Standard1", "Standard7", "Background0", "Control1"} <= samples
    assert any(s.endswith("-PL") for s in samples)
    values = {v for r in result[1:] for v in r[2:]}
    assert {"OOR <", "OOR >"} <= values
    assert result[1][0].startswith("1(1,A1)")


def test_msd_title_blank_header_and_ranges(medium_trial):
    lines = medium_trial.paths["msd_export"].read_text().splitlines()
    assert lines[1] == ""
    df = pd.read_csv(medium_trial.paths["msd_export"], skiprows=2)
    assert {
        "Plate Name",
        "Sample",
        "Assay",
        "Well",
        "Detection Range",
        "Calc. Concentration",
    } <= set(df.columns)
    ranges = set(df["Detection Range"].dropna())
    assert {"In Detection Range", "Below Detection Range", "Below Fit Curve Range"} <= ranges
    below_fit = df["Detection Range"] == "Below Fit Curve Range"
    assert df.loc[below_fit, "Calc. Concentration"].isna().all()
    assert {"S001", "S007", "S008", "C1"} <= set(df["Sample"])


def test_long_csv_censored_strings(medium_trial):
    long = pd.read_csv(
        medium_trial.paths["cytokines_long"], dtype={"value": str}, keep_default_na=False
    )
    v = long["value"]
    assert v.str.match(r"^<\d").any()
    assert v.str.match(r"^>\d").any()
    assert (v == "OOR <").any()
    assert (v == "NaN").any()
    assert (v == "").any()
    below = long[v.str.startswith("<")]
    assert (below["value"].str[1:].astype(float) == below["lod"]).all()
    # IFN-γ and IL-17A are mostly below the limit of detection, as in ACLF plasma
    cens = v.str.startswith(("<", "OOR <")).groupby(long["analyte"]).mean()
    assert cens["IFNg"] > 0.5
    assert cens["IL17A"] > 0.5
    assert cens["IL6"] < 0.1


def test_plate_effect_visible_in_controls(medium_trial):
    text = medium_trial.paths["bioplex_export"].read_text()
    rows = [r for r in csv.reader(io.StringIO(text)) if len(r) == 12 and r[0] == "C1"]
    ratios = np.array([float(r[9]) for r in rows if r[9]])
    # controls carry each plate's shift: spread beyond the duplicate-well noise
    assert ratios.std() > 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scenario": "strnog"}, "did you mean 'strong'"),
        ({"n_subjects": 1}, "n_subjects=1 is invalid"),
        ({"n_subjects": 10.5}, "n_subjects=10.5"),
        ({"cells_per_sample": -1}, "cells_per_sample=-1"),
        ({"visits": ["D0", "D8"]}, "visit 'D8' has no default study day; did you mean"),
        ({"visits": ["D7", "D28"]}, "must include a baseline visit"),
        ({"visits": "D0"}, "must be a list"),
        (
            {"singlecell_visits": ("D0", "D14"), "visits": ["D0", "D7"]},
            "singlecell_visits contains 'D14'",
        ),
    ],
)
def test_bad_arguments_raise_config_error(tmp_path, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        simulate_trial(tmp_path, **kwargs)


def test_out_dir_required():
    with pytest.raises(ConfigError, match="out_dir is required"):
        simulate_trial(None)


def test_custom_visits(tmp_path):
    trial = simulate_trial(
        tmp_path,
        n_subjects=6,
        seed=1,
        cells_per_sample=5,
        visits={"D0": 0, "W2": 14},
        singlecell_visits=["W2"],
    )
    labs = pd.read_csv(trial.paths["labs"])
    assert set(labs["visit"]) <= {"D0", "W2"}
    # outcomes are still followed to day 90
    assert pd.read_csv(trial.paths["clinical"])["last_followup_day"].max() >= 85
    obs = ad.read_h5ad(trial.paths["singlecell"]).obs
    assert set(obs["visit"]) == {"W2"}


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BelowDetectionLimitWarning")
@pytest.mark.parametrize(
    "name", ["cytokines_long", "luminex_xponent", "bioplex_export", "msd_export", "olink_npx"]
)
def test_project_reader_reads_every_vendor_file(medium_trial, name):
    """biomarkers.io.read_cytokines (when present) gets the same samples and censoring from each export."""
    io_mod = pytest.importorskip("biomarkers.io")
    if not hasattr(io_mod, "read_cytokines"):
        pytest.skip("biomarkers.io.read_cytokines not available")
    tidy = io_mod.read_cytokines(medium_trial.paths[name])
    samples = pd.read_csv(medium_trial.paths["samples"], dtype=str)
    plasma = set(samples.loc[samples["tissue"] == "plasma", "sample_id"])
    assert set(tidy["sample_id"]) == plasma
    wells = tidy.groupby(["sample_id", "analyte"]).size()
    if name == "olink_npx":
        assert wells.max() == 1
        assert tidy["analyte"].nunique() == 24
        assert set(tidy.attrs["controls"]["sample_id"]) == {
            "CONTROL_SAMPLE_AS 1",
            "CONTROL_SAMPLE_AS 2",
        }
        return
    long = pd.read_csv(
        medium_trial.paths["cytokines_long"], dtype={"value": str}, keep_default_na=False
    )
    n_below = long["value"].str.startswith(("<", "OOR <")).sum()
    assert (tidy["censor"] == "below").sum() == n_below
    assert wells.min() == wells.max() == 2  # duplicate wells kept apart
    assert tidy["analyte"].nunique() == 12
    assert tidy["plate"].nunique() == long["plate"].nunique()
    if name != "cytokines_long":
        assert {"standard", "control"} <= set(tidy.attrs["controls"]["type"])
