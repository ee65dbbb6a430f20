from __future__ import annotations

import numpy as np
import pytest

from biomarkers.exceptions import SchemaError
from biomarkers.io import read_dosing


def test_read_dosing(data_dir):
    out = read_dosing(data_dir / "dosing.csv")
    assert out["subject_id"].tolist() == ["P01", "P01", "P03", "P03"]
    assert out["given"].tolist() == [1, 1, 1, 0]
    assert np.isnan(out["day"].iloc[3])
    assert out["day"].iloc[1] == 8


def test_duplicate_dose(tmp_path, data_dir):
    text = (data_dir / "dosing.csv").read_text() + "P01,2,7,7,1,1000000\n"
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(
        SchemaError, match=r"duplicate subject_id × dose_number: 'P01 × 2' \(rows 3, 6\)"
    ):
        read_dosing(path)
