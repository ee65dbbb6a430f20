from __future__ import annotations

import math

import numpy as np
import pytest

from biomarkers.clinical import clif_c_aclf
from biomarkers.exceptions import SchemaError


def test_o7():
    assert clif_c_aclf(9, 50, 10) == pytest.approx(44.21, abs=0.005)


def test_formula_vectorised_and_nan():
    of = np.array([6.0, 12.0, np.nan])
    out = clif_c_aclf(of, 60, np.array([5.0, 20.0, 8.0]))
    expected = 10 * (0.33 * of[:2] + 0.04 * 60 + 0.63 * np.log([5.0, 20.0]) - 2)
    np.testing.assert_allclose(out[:2], expected)
    assert math.isnan(out[2])


def test_errors():
    with pytest.raises(SchemaError, match=r"wbc must be > 0 ×10\^9/L; got 0\.0"):
        clif_c_aclf(9, 50, 0.0)
    with pytest.raises(SchemaError, match="clif_of_score must be >= 6"):
        clif_c_aclf(3, 50, 5)
    with pytest.raises(SchemaError, match="within 6-18; got 19"):
        clif_c_aclf(19, 50, 5)
