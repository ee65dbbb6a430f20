"""MELD-Na (UNOS 2016 and Kim 2008), DOMAIN.md §1.10 vectors M-1, M-5, M-7, M-8, M-10."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from biomarkers.clinical import meld, meld_na
from biomarkers.exceptions import ConfigError, SchemaError


def test_m1():
    assert meld_na(1.5, 1.5, 1.0, 135) == 15.0


def test_m5_ameld_unos():
    assert meld_na(4.2, 1.2, 1.9, 125) == 28.0


def test_m7_kim2008_transplantr():
    assert meld_na(2, 1.8, 2, 131, version="kim2008") == pytest.approx(26.257, abs=1e-3)
    assert meld_na(2, 1.8, 2, 131) == 26.0  # UNOS 2016 gives 25.56 → 26


def test_m8_threshold_uses_rounded_meld_i():
    # raw MELD(i) 11.09 → 11.0 → not > 11 → no sodium correction (policy: round first)
    assert meld_na(2.0, 1.2, 1.0, 128) == 11.0
    assert meld(2.0, 1.2, 1.0) == 11.0


def test_m10_cap():
    assert meld_na(40, 4.0, 4.5, 120) == 40.0


def test_sodium_bounds():
    # sodium bounded to 125-137 for UNOS, 125-140 for Kim 2008
    assert meld_na(4.2, 1.2, 1.9, 110) == meld_na(4.2, 1.2, 1.9, 125)
    assert meld_na(4.2, 1.2, 1.9, 150) == meld_na(4.2, 1.2, 1.9, 137) == 20.0
    k = meld_na(4.2, 1.2, 1.9, 150, version="kim2008")
    assert k == pytest.approx(meld_na(4.2, 1.2, 1.9, 140, version="kim2008"))
    assert k == pytest.approx(meld(4.2, 1.2, 1.9, version="kamath"))


def test_nan_and_errors():
    assert math.isnan(meld_na(4.2, 1.2, 1.9, np.nan))
    with pytest.raises(SchemaError, match=r"sodium must be > 0 mmol/L; got 0\.0"):
        meld_na(4.2, 1.2, 1.9, 0.0)
    with pytest.raises(
        ConfigError,
        match=r"version='unos' is not supported; did you mean 'unos2016'\?; use one of: 'unos2016', 'kim2008'",
    ):
        meld_na(4.2, 1.2, 1.9, 130, version="unos")


def test_si_units():
    assert meld_na(4.2 * 17.1, 1.2, 1.9 * 88.4, 125, units="si") == 28.0


@settings(max_examples=40, deadline=None)
@given(
    b=arrays(float, 5, elements=st.floats(0.1, 50)),
    na=arrays(float, 5, elements=st.floats(110, 150)),
    version=st.sampled_from(["unos2016", "kim2008"]),
)
def test_vectorised_equals_scalar(b, na, version):
    vec = meld_na(b, 1.6, 1.3, na, version=version)
    scal = [
        meld_na(float(x), 1.6, 1.3, float(n), version=version) for x, n in zip(b, na, strict=True)
    ]
    np.testing.assert_allclose(vec, scal)
