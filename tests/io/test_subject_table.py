from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import SchemaError
from biomarkers.io import numeric_columns, read_subject_table
from biomarkers.study import Study


@pytest.fixture
def long_table(tmp_path):
    path = tmp_path / "vitals.csv"
    pd.DataFrame(
        {
            "subject_id": ["a", "a", "b"],
            "visit": ["D0", "D7", "D0"],
            "hr": [80, 75, 90],
            "sbp": ["120", "", "130"],
            "note": ["x", "y", "z"],
        }
    ).to_csv(path, index=False)
    return path


def test_read_all_skips_text_with_a_log_line(long_table, caplog):
    with caplog.at_level(logging.INFO, logger="biomarkers"):
        t = read_subject_table(long_table, unit="bpm")
    assert list(t.columns) == ["subject_id", "visit", "hr", "sbp"]
    assert t["sbp"].tolist()[0] == 120.0
    assert np.isnan(t["sbp"].iloc[1])
    assert t.attrs["unit"] == {"hr": "bpm", "sbp": "bpm"}
    assert "non-numeric column(s) skipped: note" in caplog.text


def test_listed_text_column_refused(long_table):
    with pytest.raises(SchemaError, match=r"row 2, column 'note': value 'x' is not a number"):
        read_subject_table(long_table, columns=["hr", "note"])


def test_listed_unknown_column(long_table):
    with pytest.raises(SchemaError, match=r"column 'hrr' not found; did you mean 'hr'"):
        read_subject_table(long_table, columns=["hrr"])


def test_inf_refused_with_row_and_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("subject_id,g1\na,1.5\nb,inf\n")
    with pytest.raises(SchemaError, match=rf"{path}, row 3, column 'g1': value 'inf' is infinite"):
        read_subject_table(path)


def test_no_visit_column_is_baseline(tmp_path):
    path = tmp_path / "expr.csv"
    path.write_text("id,g1,g2\na,1.0,2.0\nb,3.0,4.0\n")
    t = read_subject_table(path, subject_column="id", visits={"V0": 0, "V1": 30})
    assert t["visit"].tolist() == ["V0", "V0"]
    t = read_subject_table(path, subject_column="id", visits={"W1": 7, "W2": 14})
    assert t["visit"].tolist() == ["W1", "W1"]  # no day 0: the first visit


def test_unknown_visit_and_duplicates(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("subject_id,visit,g\na,D0,1\na,D5,2\n")
    with pytest.raises(SchemaError, match=r"row 3: visit 'D5' is not in the visit schedule"):
        read_subject_table(path)
    path.write_text("subject_id,visit,g\na,D0,1\na,D0,2\n")
    with pytest.raises(SchemaError, match=r"duplicate subject_id × visit: 'a × D0'"):
        read_subject_table(path)


def test_numeric_columns():
    labs = pd.DataFrame(
        {"subject_id": ["a"], "visit": ["D0"], "day": [0], "inr": [1.2], "he": [1], "asc": ["x"]}
    )
    assert numeric_columns(labs) == ["inr", "he"]
    assert numeric_columns(labs, exclude=["he"]) == ["inr"]


def test_study_tables_become_assays(tmp_path, long_table):
    clin = pd.DataFrame({"subject_id": ["a", "b"], "arm": ["T", "C"]})
    expr = pd.DataFrame({"subject_id": ["b", "a"], "g1": [1.0, np.nan], "g2": [3.0, 4.0]})
    s = Study(
        clin,
        treated_arm="T",
        tables={
            "expression": expr,
            "vitals": {"path": long_table, "columns": ["hr"], "unit": "bpm"},
        },
    )
    e = s.assays["expression"]
    assert e.obs_names.tolist() == ["b@D0", "a@D0"]
    assert e.obs[["subject_id", "visit"]].astype(str).to_numpy().tolist() == [
        ["b", "D0"],
        ["a", "D0"],
    ]
    assert e.obs["arm"].tolist() == ["C", "T"]
    assert e.var_names.tolist() == ["g1", "g2"]
    assert e.layers["censor"].tolist() == [[0, 0], [4, 0]]  # ok / missing codes
    v = s.assays["vitals"]
    assert v.var["unit"].tolist() == ["bpm"]
    assert v.X[:, 0].tolist() == [80.0, 75.0, 90.0]
    assert v.obs["day"].tolist() == [0, 7, 0]


def test_study_table_in_mudata():
    clin = pd.DataFrame({"subject_id": ["a", "b"], "arm": ["T", "C"]})
    expr = pd.DataFrame({"subject_id": ["a", "b"], "g1": [1.0, 2.0]})
    m = Study(clin, treated_arm="T", tables={"expression": expr}).to_mudata()
    assert m.obs.loc["b@D0", ["subject_id", "visit", "arm"]].tolist() == ["b", "D0", "C"]


def test_study_table_subject_not_in_clinical(long_table):
    with pytest.raises(
        SchemaError, match=r"tables\['vitals'\] rows: 1 subject\(s\) not in the clinical table: 'b'"
    ):
        Study(pd.DataFrame({"subject_id": ["a"]}), tables={"vitals": long_table})


def test_study_from_config_tables(tmp_path, long_table):
    (tmp_path / "clinical.csv").write_text("subject_id,age\na,40\nb,50\n")
    config = {
        "clinical": "clinical.csv",
        "tables": {"vitals": {"path": long_table.name, "columns": "all"}},
    }
    s = Study.from_config(config, base_dir=tmp_path)
    assert s.assays["vitals"].var_names.tolist() == ["hr", "sbp"]
    with pytest.raises(
        Exception, match=r"tables\['vitals'\]: option 'colums' is not known; did you mean 'columns'"
    ):
        Study.from_config(
            {
                "clinical": "clinical.csv",
                "tables": {"vitals": {"path": long_table.name, "colums": "all"}},
            },
            base_dir=tmp_path,
        )
