from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.clinical import clif_c_ad
from biomarkers.exceptions import SchemaError


def test_o8():
    assert clif_c_ad(55, 1.2, 1.5, 7, 132) == pytest.approx(55.76, abs=0.005)


def test_si_and_series():
    s = clif_c_ad(pd.Series([55, 40], index=["a", "b"]), 1.2 * 88.4, 1.5, 7, 132, units="si")
    assert s["a"] == pytest.approx(55.76, abs=0.005)
    expected = 10 * (
        0.03 * 40 + 0.66 * np.log(1.2) + 1.71 * np.log(1.5) + 0.88 * np.log(7) - 0.05 * 132 + 8
    )
    assert s["b"] == pytest.approx(expected)


def test_errors():
    with pytest.raises(SchemaError, match=r"wbc must be > 0"):
        clif_c_ad(55, 1.2, 1.5, -2, 132)
    with pytest.raises(SchemaError, match=r"age must be >= 0 years; got -1\.0"):
        clif_c_ad(-1, 1.2, 1.5, 7, 132)
