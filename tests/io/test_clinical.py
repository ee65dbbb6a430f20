from __future__ import annotations

import os
import stat

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import InputFileError, SchemaError
from biomarkers.io import read_clinical

from .helpers import write_as

FORMATS = ["csv", "tsv", "xlsx", "parquet"]


@pytest.fixture
def clinical_df(data_dir) -> pd.DataFrame:
    return pd.read_csv(data_dir / "clinical.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_clinical_formats(tmp_path, clinical_df, fmt):
    df = clinical_df.copy()
    if fmt == "parquet":
        # typed columns as a real Parquet export would have them
        df["age"] = df["age"].astype(int)
        df["subject_id"] = [101, 102, 103, 104]
    path = write_as(df, tmp_path / f"clinical.{fmt}", fmt)
    out = read_clinical(path)
    assert out.index.name == "subject_id"
    assert all(isinstance(i, str) for i in out.index)
    assert out["age"].dtype.kind in "if"
    assert out["age"].tolist() == [45, 52, 38, 60]
    assert out["weight_kg"].dtype == np.float64
    assert out["arm"].tolist() == ["ucMSC+SMT", "SMT", "ucMSC+SMT", "SMT"]
    assert np.isnan(out["death_day"].iloc[0])
    assert out["death_day"].iloc[1] == 20
    if fmt == "parquet":
        assert out.index.tolist() == ["101", "102", "103", "104"]


def test_read_clinical_does_not_modify_input(data_dir, tmp_path):
    path = tmp_path / "clinical.csv"
    path.write_bytes((data_dir / "clinical.csv").read_bytes())
    os.chmod(path, stat.S_IRUSR)  # read-only: any write attempt would fail
    before = path.read_bytes()
    read_clinical(path)
    assert path.read_bytes() == before


def test_column_mapping(tmp_path, clinical_df):
    df = clinical_df.rename(columns={"subject_id": "PatientID", "arm": "Group"})
    path = write_as(df, tmp_path / "c.csv", "csv")
    out = read_clinical(path, columns={"PatientID": "subject_id", "Group": "arm"})
    assert out.index.tolist() == ["P01", "P02", "P03", "P04"]


def test_missing_column_suggests(tmp_path, clinical_df):
    df = clinical_df.rename(columns={"subject_id": "subjectid"})
    path = write_as(df, tmp_path / "c.csv", "csv")
    with pytest.raises(
        SchemaError,
        match=r"required column 'subject_id' not found; did you mean 'subjectid'\?.*columns=",
    ):
        read_clinical(path)


def test_duplicate_subjects_listed_with_rows(tmp_path, clinical_df):
    df = pd.concat([clinical_df, clinical_df.iloc[[0, 1]]], ignore_index=True)
    path = write_as(df, tmp_path / "c.csv", "csv")
    with pytest.raises(
        SchemaError, match=r"duplicate subject_id: 'P01' \(rows 2, 6\); 'P02' \(rows 3, 7\)"
    ):
        read_clinical(path)


def test_non_numeric_age_named(tmp_path, clinical_df):
    df = clinical_df.copy()
    df.loc[2, "age"] = "forty"
    path = write_as(df, tmp_path / "c.csv", "csv")
    with pytest.raises(SchemaError, match=r"row 4, column 'age': value 'forty' is not a number"):
        read_clinical(path)


@pytest.mark.parametrize("col", ["patient_name", "DOB", "Phone", "MRN", "email", "Date of Birth"])
def test_identifiers_refused(tmp_path, clinical_df, col):
    df = clinical_df.assign(**{col: "x"})
    path = write_as(df, tmp_path / "c.csv", "csv")
    with pytest.raises(
        SchemaError, match=rf"{col!r} look like direct patient identifiers.*allow_identifiers=True"
    ):
        read_clinical(path)
    out = read_clinical(path, allow_identifiers=True)
    assert col in out.columns


def test_empty_file(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("")
    with pytest.raises(InputFileError, match="file is empty"):
        read_clinical(path)


def test_header_only(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("subject_id,arm\n")
    with pytest.raises(InputFileError, match="no data rows"):
        read_clinical(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        read_clinical(tmp_path / "nope.csv")


def test_unknown_extension(tmp_path):
    path = tmp_path / "c.dat"
    path.write_text("subject_id,arm\nP1,A\n")
    with pytest.raises(InputFileError, match="cannot tell the format"):
        read_clinical(path)
    assert len(read_clinical(path, format="csv")) == 1


def test_semicolon_detected_automatically(tmp_path, clinical_df):
    path = tmp_path / "c.csv"
    clinical_df.to_csv(path, sep=";", index=False)
    assert read_clinical(path)["age"].tolist() == [45, 52, 38, 60]


def test_wrong_delimiter_explained(tmp_path, clinical_df):
    path = tmp_path / "c.csv"
    clinical_df.to_csv(path, sep=";", index=False)
    with pytest.raises(SchemaError, match=r"only one column .* looks ';'-delimited: pass sep=';'"):
        read_clinical(path, sep=",")


def test_missing_sheet_lists_sheets(tmp_path, clinical_df):
    path = write_as(clinical_df, tmp_path / "c.xlsx", "xlsx")
    with pytest.raises(
        SchemaError, match=r"sheet 'Data' not found; did you mean 'data'\?; sheets: 'data'"
    ):
        read_clinical(path, sheet="Data")
    assert len(read_clinical(path, sheet="data")) == 4


def test_empty_id_refused(tmp_path, clinical_df):
    df = clinical_df.copy()
    df.loc[1, "subject_id"] = ""
    path = write_as(df, tmp_path / "c.csv", "csv")
    with pytest.raises(SchemaError, match=r"column 'subject_id' is empty at row\(s\) '3'"):
        read_clinical(path)


def test_empty_arm_refused(tmp_path, clinical_df):
    df = clinical_df.copy()
    df.loc[2, "arm"] = ""
    path = write_as(df, tmp_path / "c.csv", "csv")
    with pytest.raises(SchemaError, match=r"column 'arm' is empty at row\(s\) '4'"):
        read_clinical(path)
