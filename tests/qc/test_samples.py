from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import DataQualityWarning
from biomarkers.qc import sample_qc


def test_counts_and_low_cell_flag():
    obs = pd.DataFrame(
        {
            "sample_id": ["S1"] * 30 + ["S2"] * 8,
            "cell_type": ["T"] * 25 + ["B"] * 5 + ["T"] * 8,
            "subject_id": ["P1"] * 30 + ["P2"] * 8,
            "qc_pass": [True] * 28 + [False] * 2 + [True] * 8,
        },
        index=[f"c{i}" for i in range(38)],
    )
    with pytest.warns(DataQualityWarning, match="1 samples have fewer than 10 cells.*'S2'"):
        t = sample_qc(obs, min_cells=10, min_cells_per_type=6)
    assert t.loc["S1", ["n_cells", "n_cells_pass", "n_types", "n_types_low"]].tolist() == [
        30,
        28,
        2,
        1,
    ]
    assert t.loc["S2", "low_cells"]
    assert not t.loc["S1", "low_cells"]
    assert t.loc["S2", "subject_id"] == "P2"
    assert np.issubdtype(t["n_cells"].dtype, np.integer)
