from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import BelowDetectionLimitWarning, SchemaError
from biomarkers.qc import cytokine_qc


def test_censored_fraction_and_plate_medians():
    tidy = pd.DataFrame(
        {
            "sample_id": [f"S{i}" for i in range(8)] * 2,
            "analyte": ["IL6"] * 8 + ["IFNG"] * 8,
            "value": [1, 2, 3, 4, 4, 8, 12, 16] + [np.nan] * 6 + [5.0, np.nan],
            "censor": ["ok"] * 8 + ["below"] * 6 + ["ok", "missing"],
            "plate": ["P1"] * 4 + ["P2"] * 4 + ["P1"] * 4 + ["P2"] * 4,
        }
    )
    with pytest.warns(BelowDetectionLimitWarning, match="1 analytes have more than 30%.*'IFNG'"):
        t = cytokine_qc(tidy)
    assert t.loc["IFNG", ["n", "n_below", "n_missing"]].tolist() == [8, 6, 1]
    assert t.loc["IFNG", "censored_fraction"] == pytest.approx(6 / 7)
    assert t.loc["IFNG", "flag_censored"]
    assert not t.loc["IL6", "flag_censored"]
    assert t.loc["IL6", "plate_median:P1"] == 2.5
    assert t.loc["IL6", "plate_median:P2"] == 10.0
    assert t.loc["IL6", "plate_log2_range"] == pytest.approx(2.0)
    assert t.loc["IL6", "flag_plate"]


def test_missing_column():
    with pytest.raises(SchemaError, match="required column 'censor' not found"):
        cytokine_qc(pd.DataFrame({"sample_id": [], "analyte": [], "value": []}))
