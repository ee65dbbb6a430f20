from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import (
    BelowDetectionLimitWarning,
    ConfigError,
    InputFileError,
    SchemaError,
)
from biomarkers.io import CENSOR_CODES, TIDY_COLUMNS, read_cytokines


def cell(df, sample, analyte, replicate=1):
    row = df[
        (df["sample_id"] == sample) & (df["analyte"] == analyte) & (df["replicate"] == replicate)
    ]
    assert len(row) == 1, (sample, analyte, replicate)
    return row.iloc[0]


def check(df, sample, analyte, value, censor, raw=None, replicate=1):
    r = cell(df, sample, analyte, replicate)
    assert r["censor"] == censor
    if value is None:
        assert math.isnan(r["value"])
    else:
        assert r["value"] == pytest.approx(value)
    if raw is not None:
        assert r["raw"] == raw


def check_contract(df):
    assert list(df.columns[: len(TIDY_COLUMNS)]) == list(TIDY_COLUMNS)
    assert isinstance(df["censor"].dtype, pd.CategoricalDtype)
    assert list(df["censor"].cat.categories) == list(CENSOR_CODES)
    assert df["value"].dtype == np.float64
    controls = df.attrs["controls"]
    assert "type" in controls.columns
    assert not set(controls["sample_id"]) & set(df["sample_id"])


def test_long(data_dir):
    df = read_cytokines(data_dir / "cytokines_long.csv")
    check_contract(df)
    assert set(df["assay"]) == {"cytokines"}
    check(df, "P01_D0_PL", "IL6", 125.4, "ok", "125.4", replicate=1)
    check(df, "P01_D0_PL", "IL6", 131.0, "ok", "131.0", replicate=2)
    check(df, "P01_D0_PL", "IL10", 3.2, "below", "<3.2")
    check(df, "P01_D0_PL", "IL10", None, "below", "OOR <", replicate=2)
    check(df, "P01_D7_PL", "IL6", 10000, "above", ">10000")
    check(df, "P01_D7_PL", "IL10", None, "missing", "NaN")
    check(df, "P02_D0_PL", "IL6", 1250.5, "ok", "1,250.5")
    check(df, "P02_D0_PL", "IL10", None, "missing", "")
    check(df, "P03_D0_PL", "IL6", 4.5, "ok")
    r = cell(df, "P01_D0_PL", "IL10")
    assert (r["unit"], r["lod"], r["lloq"], r["uloq"], r["plate"], r["well"]) == (
        "pg/mL",
        1.1,
        3.2,
        5000.0,
        "1",
        "A1",
    )
    assert df["dilution"].tolist()[0] == 2


@pytest.mark.parametrize("fmt", ["tsv", "xlsx", "parquet"])
def test_long_other_containers(tmp_path, data_dir, fmt):
    src = pd.read_csv(data_dir / "cytokines_long.csv", dtype=str, keep_default_na=False)
    path = tmp_path / f"c.{fmt}"
    if fmt == "tsv":
        src.to_csv(path, sep="\t", index=False)
    elif fmt == "xlsx":
        src.to_excel(path, index=False)
    else:
        src.to_parquet(path, index=False)
    df = read_cytokines(path)
    ref = read_cytokines(data_dir / "cytokines_long.csv")
    pd.testing.assert_series_equal(df["value"], ref["value"])
    pd.testing.assert_series_equal(df["censor"], ref["censor"])


def test_long_parquet_numeric_values(tmp_path):
    df = pd.DataFrame({"sample_id": ["a", "b"], "analyte": "IL6", "value": [1.5, np.nan]})
    path = tmp_path / "c.parquet"
    df.to_parquet(path)
    out = read_cytokines(path)
    assert out["censor"].tolist() == ["ok", "missing"]
    assert out["raw"].tolist() == ["1.5", ""]


def test_long_type_column_separates_controls(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        "sample_id,analyte,value,type\nS1,IL6,100,standard\nBLK,IL6,0,blank\nP01_D0_PL,IL6,5,sample\n"
    )
    df = read_cytokines(path)
    assert df["sample_id"].tolist() == ["P01_D0_PL"]
    assert df.attrs["controls"]["type"].tolist() == ["standard", "blank"]


def test_long_column_mapping(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("Sample,Cytokine,Conc\nA,IL6,1\n")
    df = read_cytokines(
        path, format="long", columns={"Sample": "sample_id", "Cytokine": "analyte", "Conc": "value"}
    )
    assert df[["sample_id", "analyte", "value"]].values.tolist() == [["A", "IL6", 1.0]]


def test_wide(data_dir):
    df = read_cytokines(data_dir / "cytokines_wide.csv")
    check_contract(df)
    check(df, "P01_D0_PL", "IL6", 125.4, "ok")
    check(df, "P02_D0_PL", "IL6", None, "above", "OOR >")
    check(df, "P01_D0_PL", "IL10", 3.2, "below", "<3.2")
    check(df, "P03_D0_PL", "IL10", None, "missing", "")
    check(df, "P02_D0_PL", "TNF", 2.1, "extrapolated", "*2.1")
    check(df, "P03_D0_PL", "TNF", None, "missing", "***")
    assert cell(df, "P01_D0_PL", "IL6")["unit"] == "pg/mL"
    assert cell(df, "P01_D0_PL", "TNF")["unit"] is None
    assert cell(df, "P03_D0_PL", "TNF")["plate"] == "2"


def test_xponent(data_dir):
    df = read_cytokines(data_dir / "luminex_xponent.csv")
    check_contract(df)
    assert set(df["assay"]) == {"luminex"}
    assert sorted(df["sample_id"].unique()) == ["P01_D0_PL", "P02_D0_PL"]
    check(df, "P01_D0_PL", "IL-6", 152.3, "ok", replicate=1)
    check(df, "P01_D0_PL", "IL-6", 148.9, "ok", replicate=2)
    check(df, "P01_D0_PL", "IL-10", 3.2, "below", "<3.2")
    check(df, "P02_D0_PL", "IL-10", None, "below", "OOR <")
    check(df, "P02_D0_PL", "TNF-a", 9000, "above", ">9000")
    r = cell(df, "P01_D0_PL", "IL-6", 2)
    assert (r["plate"], r["well"], r["unit"], r["bead_count"]) == ("1", "D1", "pg/mL", 95)
    controls = df.attrs["controls"]
    assert dict(zip(controls["sample_id"], controls["type"], strict=True)) == {
        "Background0": "blank",
        "Standard1": "standard",
        "Control1": "control",
    }
    assert "Total Events" not in set(df["analyte"])


def test_xponent_median_mfi(data_dir):
    df = read_cytokines(data_dir / "luminex_xponent.csv", datatype="Median")
    check(df, "P02_D0_PL", "TNF-a", 9050, "ok")
    assert set(df["unit"]) == {"MFI"}


def test_xponent_missing_block(data_dir):
    with pytest.raises(
        SchemaError,
        match=r"no 'DataType:,Avg Result' block; did you mean 'Result'\?.*pass datatype=",
    ):
        read_cytokines(data_dir / "luminex_xponent.csv", datatype="Avg Result")


def test_xponent_semicolon(tmp_path, data_dir):
    text = (data_dir / "luminex_xponent.csv").read_text()
    # a semicolon locale: location keeps its comma, fields are separated by ';'
    lines = []
    for line in text.splitlines():
        if line.startswith(('"', "BatchStartTime")):
            lines.append(line.replace(",", ";"))
            continue
        parts = line.split(",")
        if len(parts) > 1 and parts[0].endswith(tuple("0123456789")) and "(" in parts[0]:
            parts = [parts[0] + "," + parts[1], *parts[2:]]
        lines.append(";".join(parts))
    path = tmp_path / "x.csv"
    path.write_text("\n".join(lines))
    df = read_cytokines(path)
    check(df, "P01_D0_PL", "IL-6", 152.3, "ok")


def test_bioplex(data_dir):
    df = read_cytokines(data_dir / "bioplex_export.csv")
    check_contract(df)
    check(df, "P01_D0_PL", "IL-6", 125.4, "ok", "125.4", replicate=1)
    check(df, "P01_D0_PL", "IL-6", 12.3, "extrapolated", "*12.3", replicate=2)
    check(df, "P02_D0_PL", "IL-6", None, "below", "OOR <")
    check(df, "P03_D0_PL", "IL-6", None, "above", "OOR >")
    check(df, "P04_D0_PL", "IL-6", None, "missing", "***")
    check(df, "P01_D0_PL", "IL-10", 14.2, "ok")
    check(df, "P01_D0_PL", "IL-10", None, "missing", "---", replicate=2)
    check(df, "P02_D0_PL", "IL-10", None, "missing", "")
    r = cell(df, "P01_D0_PL", "IL-6")
    assert (r["unit"], r["well"], r["lloq"], r["uloq"], r["plate"]) == (
        "pg/mL",
        "F1",
        0.78,
        3200.0,
        "ACLF cytokines",
    )
    controls = df.attrs["controls"]
    assert set(controls["type"]) == {"standard", "blank", "control"}
    assert "Kit control" in set(controls["sample_id"])
    assert not (df["sample_id"].str.match(r"^S\d$")).any()


def test_msd(data_dir):
    df = read_cytokines(data_dir / "msd_export.csv")
    check_contract(df)
    check(df, "P01_D0_PL", "IL-6", 15.3, "ok", replicate=1)
    check(df, "P01_D0_PL", "IL-6", 14.9, "ok", replicate=2)
    check(df, "P02_D0_PL", "IL-6", None, "below")
    check(df, "P03_D0_PL", "IL-6", 0.04, "below")
    check(df, "P04_D0_PL", "IL-6", None, "above")
    check(df, "P01_D0_PL", "TNF-a", 2.31, "ok")
    r = cell(df, "P01_D0_PL", "TNF-a")
    assert (r["lod"], r["uloq"], r["plate"], r["well"]) == (0.04, 248.0, "Plate_1", "B01")
    controls = df.attrs["controls"]
    assert dict(zip(controls["sample_id"], controls["type"], strict=True)) == {
        "S001": "standard",
        "Blank": "blank",
        "C1": "control",  # MSD names its controls C1, C2, C3 by default
    }


def test_olink_semicolon_decimal_comma(data_dir):
    df = read_cytokines(data_dir / "olink_npx_semicolon.csv")
    check_contract(df)
    assert set(df["assay"]) == {"olink"}
    assert set(df["unit"]) == {"NPX"}
    check(df, "P01_D0_PL", "IL8", 5.43, "ok", "5,43")
    check(df, "P01_D0_PL", "IL6", 0.90, "below")  # NPX kept although below LOD
    check(df, "P02_D0_PL", "IL8", -0.31, "below")
    check(df, "P02_D0_PL", "IL6", None, "missing")
    assert cell(df, "P01_D0_PL", "IL6")["lod"] == pytest.approx(1.5)
    assert cell(df, "P02_D0_PL", "IL8")["qc_warning"] == "Warning"
    assert df.attrs["controls"]["sample_id"].unique().tolist() == ["CONTROL_SAMPLE_AS 1"]


def test_olink_comma_and_parquet_agree(tmp_path, data_dir):
    ref = read_cytokines(data_dir / "olink_npx_semicolon.csv")
    raw = pd.read_csv(data_dir / "olink_npx_semicolon.csv", sep=";", decimal=",")
    raw.to_csv(tmp_path / "o.csv", index=False)
    raw.to_parquet(tmp_path / "o.parquet", index=False)
    for path in (tmp_path / "o.csv", tmp_path / "o.parquet"):
        df = read_cytokines(path)
        np.testing.assert_allclose(df["value"], ref["value"])
        assert df["censor"].tolist() == ref["censor"].tolist()


def test_olink_wide(data_dir):
    df = read_cytokines(data_dir / "olink_wide.csv")
    check_contract(df)
    check(df, "P01_D0_PL", "IL8", 5.43, "ok")
    check(df, "P01_D0_PL", "IL6", 0.90, "below")
    check(df, "P02_D0_PL", "IL8", -0.31, "below")
    check(df, "P02_D0_PL", "CHL1", 11.26, "ok")
    assert cell(df, "P02_D0_PL", "CHL1")["plate"] == "CAM_1.csv"
    assert cell(df, "P02_D0_PL", "IL6")["plate"] == "INF_1.csv"
    assert cell(df, "P02_D0_PL", "IL6")["qc_warning"] == "Warning"
    assert cell(df, "P01_D0_PL", "CHL1")["lod"] == pytest.approx(2.37)
    assert len(df.attrs["controls"]) == 3


@pytest.mark.parametrize(
    ("name", "layout"),
    [
        ("cytokines_long.csv", "long"),
        ("cytokines_wide.csv", "wide"),
        ("luminex_xponent.csv", "xponent"),
        ("bioplex_export.csv", "bioplex"),
        ("msd_export.csv", "msd"),
        ("olink_npx_semicolon.csv", "olink"),
        ("olink_wide.csv", "olink_wide"),
    ],
)
def test_auto_equals_explicit(data_dir, name, layout):
    auto = read_cytokines(data_dir / name)
    explicit = read_cytokines(data_dir / name, format=layout)
    pd.testing.assert_frame_equal(auto, explicit)


def test_unknown_layout(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("foo,bar\n1,2\n")
    with pytest.raises(SchemaError, match=r"cannot recognise the cytokine layout.*pass format="):
        read_cytokines(path)
    with pytest.raises(
        ConfigError,
        match=r"format='olnk' is not supported; did you mean 'olink'\?; use one of: 'auto'",
    ):
        read_cytokines(path, format="olnk")


def test_bad_value_named(tmp_path, data_dir):
    text = (data_dir / "cytokines_long.csv").read_text().replace("131.0", "13l.0")
    path = tmp_path / "c.csv"
    path.write_text(text)
    with pytest.raises(
        SchemaError,
        match=r"c\.csv, row 3, column 'value': value '13l\.0' is not a number or a known censoring token",
    ):
        read_cytokines(path)


def test_duplicate_same_well(tmp_path, data_dir):
    lines = (data_dir / "cytokines_long.csv").read_text().splitlines()
    path = tmp_path / "c.csv"
    path.write_text("\n".join([*lines, lines[1]]) + "\n")
    with pytest.raises(
        SchemaError,
        match=r"sample 'P01_D0_PL' × analyte 'IL6' appears more than once in the same well 'A1' \(rows '2', '12'",
    ):
        read_cytokines(path)


def test_duplicate_without_wells(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("sample_id,analyte,value\nA,IL6,1\nA,IL6,2\nB,IL6,3\n")
    with pytest.raises(SchemaError, match="no well column tells replicate wells apart"):
        read_cytokines(path)


def test_empty_file(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("")
    with pytest.raises(InputFileError, match="empty"):
        read_cytokines(path)


def test_wrong_delimiter(tmp_path, data_dir):
    path = tmp_path / "c.csv"
    shutil.copy(data_dir / "cytokines_long.csv", path)
    text = path.read_text().replace(",", ";")
    path.write_text(text)
    with pytest.raises(SchemaError, match=r"looks ';'-delimited: pass sep=';'"):
        read_cytokines(path, format="long", sep=",")


def test_censored_warning(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("sample_id,analyte,value\nA,IL6,<1\nB,IL6,<1\nC,IL6,3\n")
    with pytest.warns(BelowDetectionLimitWarning, match=r"IL6 \(67%\)"):
        read_cytokines(path, warn_censored=0.5)
    read_cytokines(path)  # no warning by default (warnings are errors in tests)


def test_several_files_stacked(tmp_path, data_dir):
    # two plates exported separately: both xPONENT files call their plate "1"
    a = tmp_path / "plate_a.csv"
    b = tmp_path / "plate_b.csv"
    shutil.copy(data_dir / "luminex_xponent.csv", a)
    b.write_text((data_dir / "luminex_xponent.csv").read_text().replace("P01_D0_PL", "P03_D0_PL"))
    df = read_cytokines([a, b])
    assert set(df["plate"]) == {"plate_a:1", "plate_b:1"}
    assert set(df["sample_id"]) == {"P01_D0_PL", "P02_D0_PL", "P03_D0_PL"}
    assert cell(df, "P02_D0_PL", "IL-6", 2)["plate"] == "plate_b:1"  # same sample on two plates
    assert len(df.attrs["controls"]) == 18
    with pytest.raises(SchemaError, match="is a file listed twice"):
        read_cytokines([data_dir / "cytokines_long.csv", data_dir / "cytokines_long.csv"])


def test_bioplex_xlsx(tmp_path, data_dir):
    import csv

    rows = list(csv.reader((data_dir / "bioplex_export.csv").read_text().splitlines()))
    path = tmp_path / "bioplex.xlsx"
    pd.DataFrame(rows).to_excel(path, header=False, index=False)
    df = read_cytokines(path)
    ref = read_cytokines(data_dir / "bioplex_export.csv")
    assert df["raw"].tolist() == ref["raw"].tolist()
    assert df["censor"].tolist() == ref["censor"].tolist()


def test_gzip_long(tmp_path, data_dir):
    import gzip

    path = tmp_path / "c.csv.gz"
    path.write_bytes(gzip.compress((data_dir / "cytokines_long.csv").read_bytes()))
    df = read_cytokines(path)
    assert len(df) == 10


def test_a_cytokine_table_prints_and_its_slices_combine(data_dir):
    """pandas compares attrs when it combines frames; the controls table must not break it."""
    df = read_cytokines(data_dir / "luminex_xponent.csv")
    with pd.option_context("display.max_rows", 4):  # a truncated repr concatenates head and tail
        assert "rows x" in repr(df)
    assert len(df.attrs["controls"]) > 0
    both = pd.concat([df.head(3), df.tail(3)])
    assert len(both) == 6
    assert both.attrs["controls"] is df.attrs["controls"]
    assert type(df.attrs["controls"]["plate"].dropna()) is pd.Series
