from __future__ import annotations

import math

import pandas as pd
import pytest

from biomarkers.exceptions import DataQualityWarning, SchemaError
from biomarkers.io import TIDY_COLUMNS, read_flow


def test_flow_long(data_dir):
    df = read_flow(data_dir / "flow_long.csv")
    assert list(df.columns[: len(TIDY_COLUMNS)]) == list(TIDY_COLUMNS)
    assert set(df["unit"]) == {"%"}
    assert set(df["assay"]) == {"flow"}
    r = df[(df["sample_id"] == "P01_D0_PB") & (df["analyte"] == "HLA-DR_low_mono")].iloc[0]
    assert (r["value"], r["censor"], r["parent"], r["count"]) == (55.1, "ok", "CD14_mono", 2480)
    r = df[(df["sample_id"] == "P02_D0_PB") & (df["analyte"] == "HLA-DR_low_mono")].iloc[0]
    assert math.isnan(r["value"])
    assert r["censor"] == "missing"


def test_flow_wide_equals_long(data_dir):
    wide = read_flow(data_dir / "flow_wide.csv")
    assert len(wide) == 6
    v = wide.set_index(["sample_id", "analyte"])["value"]
    assert v[("P02_D0_PB", "HLA-DR_low_mono")] == 61.3
    assert v[("P01_D0_PB", "Treg")] == 4.2
    long = read_flow(data_dir / "flow_long.csv").set_index(["sample_id", "analyte"])["value"]
    assert v[("P01_D0_PB", "CD14_mono")] == long[("P01_D0_PB", "CD14_mono")]


def test_flow_column_mapping(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("Sample,Population,Freq\nA,Treg,4.1\n")
    df = read_flow(
        path, columns={"Sample": "sample_id", "Population": "population", "Freq": "frequency"}
    )
    assert df[["sample_id", "analyte", "value"]].values.tolist() == [["A", "Treg", 4.1]]


def test_flow_out_of_range(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("sample_id,population,frequency\nA,Treg,140\n")
    with pytest.raises(
        SchemaError, match=r"frequency 140 of population 'Treg' in sample 'A' is outside 0–100"
    ):
        read_flow(path)


def test_flow_fractions_warn(tmp_path):
    rows = "\n".join(f"S{i},Treg,0.0{i}" for i in range(12))
    path = tmp_path / "f.csv"
    path.write_text("sample_id,population,frequency\n" + rows + "\n")
    with pytest.warns(DataQualityWarning, match="look like fractions"):
        read_flow(path)


def test_flow_non_numeric(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("sample_id,population,frequency\nA,Treg,high\n")
    with pytest.raises(
        SchemaError, match=r"row 2, column 'frequency': value 'high' is not a number"
    ):
        read_flow(path)


def test_flow_parquet(tmp_path, data_dir):
    src = pd.read_csv(data_dir / "flow_long.csv")
    src.to_parquet(tmp_path / "f.parquet")
    df = read_flow(tmp_path / "f.parquet")
    assert df["value"].iloc[0] == 22.5
