from __future__ import annotations

import numpy as np
import pandas as pd

from biomarkers._names import known_at_day, known_at_days
from biomarkers.models._inputs import _feature_days

NAMES = [
    "cytokine:IL6@D28-D0",
    "pseudobulk:CD14_mono:S100A8@slope(D0..D28)",
    "pseudobulk:CD14_mono:S100A8@auc(D0..D7)",
    "IL6@D7",
    "IL6@D7-D0",
    "a@b@D28",
    "@D7",
    "x:y@",
    "age",
    "x:y@D-7",
    "x:y@pre-dose",
    "x:y@Day 14",
    "x:y@slope(D0..D7",
    "x:y@(D7)",
    "olink:IL6@V2",
    "olink:IL6@V3-V1",
    17,
]


def test_known_at_days_equals_known_at_day_name_by_name():
    for visits in (None, {"V1": 0.0, "V2": 7.0, "V3": 28.0}):
        expected = np.array([known_at_day(n, visits) for n in NAMES])
        np.testing.assert_array_equal(known_at_days(NAMES, visits), expected)
    assert np.isfinite(known_at_days(NAMES)).sum() >= 8  # not a comparison of NaNs


def test_feature_days_keeps_var_day_and_parses_the_rest():
    var = pd.DataFrame({"day": [3.0, np.nan, np.nan]})
    days = _feature_days(["x:a@D28", "x:b@D7-D0", "age"], var)
    np.testing.assert_array_equal(days, [3.0, 7.0, np.nan])
