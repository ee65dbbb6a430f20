from __future__ import annotations

import pandas as pd
import pytest

from biomarkers.exceptions import SchemaError
from biomarkers.io import read_samples


def test_read_samples(data_dir):
    out = read_samples(data_dir / "samples.csv")
    assert out.index.name == "sample_id"
    assert out.loc["P01_D7_PL", "subject_id"] == "P01"
    assert out.loc["P01_D7_PL", "visit"] == "D7"
    assert out["tissue"].tolist().count("PBMC") == 2


def test_duplicate_sample_ids(tmp_path, data_dir):
    df = pd.read_csv(data_dir / "samples.csv", dtype=str)
    df.loc[3, "sample_id"] = "P01_D0_PL"
    path = tmp_path / "s.csv"
    df.to_csv(path, index=False)
    with pytest.raises(SchemaError, match=r"duplicate sample_id: 'P01_D0_PL' \(rows 2, 5\)"):
        read_samples(path)


def test_custom_visits(data_dir):
    with pytest.raises(SchemaError, match="visit 'D7' is not in the visit schedule"):
        read_samples(data_dir / "samples.csv", visits={"D0": 0})
    out = read_samples(data_dir / "samples.csv", visits=["D0", "D7"])
    assert len(out) == 7


def test_identifier_refused_after_mapping(tmp_path, data_dir):
    df = pd.read_csv(data_dir / "samples.csv", dtype=str).assign(Surname="x")
    path = tmp_path / "s.csv"
    df.to_csv(path, index=False)
    with pytest.raises(SchemaError, match="'Surname' look like direct patient identifiers"):
        read_samples(path)


def test_batch_labels_stay_text(tmp_path, data_dir):
    df = pd.read_csv(data_dir / "samples.csv", dtype=str)
    df["batch"] = ["1", "1", "2", "", "2", "1", "1"]
    path = tmp_path / "s.csv"
    df.to_csv(path, index=False)
    out = read_samples(path)
    assert out["batch"].tolist()[:3] == ["1", "1", "2"]
    assert out["batch"].iloc[3] is None
