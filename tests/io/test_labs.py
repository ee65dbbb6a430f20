from __future__ import annotations

import pandas as pd
import pytest

from biomarkers.exceptions import SchemaError
from biomarkers.io import read_labs

from .helpers import write_as


@pytest.fixture
def labs_df(data_dir) -> pd.DataFrame:
    return pd.read_csv(data_dir / "labs.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "xlsx", "parquet"])
def test_read_labs(tmp_path, labs_df, fmt):
    out = read_labs(write_as(labs_df, tmp_path / f"labs.{fmt}", fmt))
    assert out[["subject_id", "visit"]].values.tolist()[:2] == [["P01", "D0"], ["P01", "D7"]]
    assert out["bilirubin_mg_dl"].tolist() == [18.2, 15.0, 25.1, 12.4, 20.0]
    assert out["ascites"].tolist()[0] == "mild"
    assert out["day"].tolist() == [0, 7, 0, 0, 0]


def test_day_filled_from_visit_schedule(tmp_path, labs_df):
    df = labs_df.drop(columns="day")
    out = read_labs(write_as(df, tmp_path / "labs.csv", "csv"), visits={"D0": 0, "D7": 8})
    assert out["day"].tolist() == [0, 8, 0, 0, 0]


def test_unknown_visit(tmp_path, labs_df):
    df = labs_df.copy()
    df.loc[3, "visit"] = "D08"
    with pytest.raises(
        SchemaError,
        match=r"row 5: visit 'D08' is not in the visit schedule; did you mean 'D0'\?.*known visits: D0, D7",
    ):
        read_labs(write_as(df, tmp_path / "labs.csv", "csv"))


def test_duplicate_subject_visit(tmp_path, labs_df):
    df = pd.concat([labs_df, labs_df.iloc[[1]]], ignore_index=True)
    with pytest.raises(
        SchemaError, match=r"duplicate subject_id × visit: 'P01 × D7' \(rows 3, 7\)"
    ):
        read_labs(write_as(df, tmp_path / "labs.csv", "csv"))


def test_non_numeric_lab(tmp_path, labs_df):
    df = labs_df.copy()
    df.loc[0, "inr"] = "2,1,0"
    with pytest.raises(SchemaError, match=r"row 2, column 'inr': value '2,1,0' is not a number"):
        read_labs(write_as(df, tmp_path / "labs.csv", "csv"))


def test_empty_visit(tmp_path, labs_df):
    df = labs_df.copy()
    df.loc[0, "visit"] = ""
    with pytest.raises(
        SchemaError, match=r"column 'visit' is empty at row\(s\) '2'; every row needs a visit"
    ):
        read_labs(write_as(df, tmp_path / "labs.csv", "csv"))


@pytest.mark.parametrize("col", ["name", "address", "medical_record_number"])
def test_identifiers_refused_in_labs(tmp_path, labs_df, col):
    df = labs_df.assign(**{col: "x"})
    with pytest.raises(SchemaError, match=rf"{col!r} look like direct patient identifiers"):
        read_labs(write_as(df, tmp_path / "labs.csv", "csv"))
