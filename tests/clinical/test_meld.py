"""MELD (UNOS and Kamath) against the published / recomputed vectors of DOMAIN.md §1.10."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from biomarkers.clinical import meld
from biomarkers.exceptions import ConfigError, SchemaError


def test_m1_unos_rounds_half_up():
    # raw MELD(i) 1.2504 → 1.3 → 13 (published: scoutmytool)
    assert meld(1.5, 1.5, 1.0) == 13.0


def test_m2_m3_kamath_etiology():
    assert meld(4.2, 1.2, 1.9, version="kamath") == pytest.approx(20.0391626, abs=1e-7)
    assert meld(4.2, 1.2, 1.9, version="kamath", etiology="alcohol") == pytest.approx(
        13.6091626, abs=1e-7
    )
    assert meld(4.2, 1.2, 1.9, version="kamath", etiology="ethyltoxic") == pytest.approx(13.6091626)
    assert meld(4.2, 1.2, 1.9, version="kamath", etiology="PBC") == pytest.approx(13.6091626)
    assert meld(4.2, 1.2, 1.9, version="kamath", etiology="cryptogenic") == pytest.approx(
        20.0391626
    )


@pytest.mark.parametrize("labs", [(0.9, 0.9, 0.9), (1.0, 1.0, 1.0)])
def test_m4_floors(labs):
    assert meld(*labs, version="kamath") == pytest.approx(6.43)
    assert meld(*labs) == 6.0


def test_m6_si_units_transplantr():
    assert meld(54, 2.0, 170, version="kamath", units="si") == pytest.approx(24.798, abs=1e-3)
    conventional = meld(54 / 17.1, 2.0, 170 / 88.4, version="kamath")
    assert meld(54, 2.0, 170, version="kamath", units="si") == pytest.approx(conventional)


def test_m9_dialysis_sets_creatinine_to_4():
    assert meld(1, 1, 1.0, dialysis=True) == 20.0
    assert meld(1, 1, 4.0) == 20.0
    assert meld(1, 1, 9.0) == 20.0  # creatinine capped at 4


def test_cap_40():
    assert meld(40, 4.0, 4.5) == 40.0


def test_round_half_up_not_bankers():
    # bilirubin chosen so that MELD(i) is exactly x.x5 after the constant: 0.643 + 0.378 ln b = 1.25
    b = math.exp((1.25 - 0.643) / 0.378)
    assert meld(b, 1.0, 1.0) == 13.0  # banker's rounding of 12.5 would give 12


def test_nan_in_nan_out_and_shapes():
    assert math.isnan(meld(np.nan, 1.5, 1.0))
    arr = meld(np.array([1.5, np.nan]), np.array([1.5, 1.5]), 1.0)
    assert isinstance(arr, np.ndarray)
    assert arr[0] == 13.0
    assert np.isnan(arr[1])
    s = meld(pd.Series([1.5, 4.0], index=["x", "y"]), 1.5, 1.0)
    assert isinstance(s, pd.Series)
    assert list(s.index) == ["x", "y"]
    assert s["x"] == 13.0


def test_dialysis_array_and_missing_flag():
    out = meld(np.ones(3), np.ones(3), np.ones(3), dialysis=np.array([1.0, 0.0, np.nan]))
    assert out.tolist() == [20.0, 6.0, 6.0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bilirubin": 1.0, "inr": 0.0, "creatinine": 1.0}, r"inr must be > 0; got 0\.0"),
        (
            {"bilirubin": -1.0, "inr": 1.0, "creatinine": 1.0},
            r"bilirubin must be > 0 mg/dL; got -1",
        ),
        ({"bilirubin": 1.0, "inr": 1.0, "creatinine": np.inf}, "creatinine must be > 0"),
    ],
)
def test_impossible_values_raise(kwargs, match):
    with pytest.raises(SchemaError, match=match):
        meld(**kwargs)


def test_error_names_series_label():
    with pytest.raises(SchemaError, match=r"index 'S7'"):
        meld(
            pd.Series([1.0, 1.0], index=["S1", "S7"]),
            pd.Series([1.2, -1.0], index=["S1", "S7"]),
            1.0,
        )


def test_misaligned_series_raise():
    with pytest.raises(SchemaError, match="index does not match"):
        meld(pd.Series([1.0, 2.0], index=["a", "b"]), pd.Series([1.0, 2.0], index=["b", "a"]), 1.0)


def test_bad_version_and_etiology_use():
    with pytest.raises(
        ConfigError, match="version='optn' is not supported; use one of: 'unos', 'kamath'"
    ):
        meld(1, 1, 1, version="optn")
    with pytest.raises(SchemaError, match="only used by version='kamath'"):
        meld(1, 1, 1, etiology="alcohol")
    with pytest.raises(
        ConfigError, match="units='mmol' is not supported; use one of: 'conventional', 'si'"
    ):
        meld(1, 1, 1, units="mmol")


def test_text_input_raises():
    with pytest.raises(SchemaError, match="bilirubin: expected numbers, got 'high' at 0"):
        meld(pd.Series(["high", "1"]), 1.0, 1.0)


positive = st.floats(0.05, 60, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(
    b=arrays(float, 6, elements=positive),
    i=arrays(float, 6, elements=st.floats(0.5, 8)),
    c=arrays(float, 6, elements=positive),
    version=st.sampled_from(["unos", "kamath"]),
)
def test_vectorised_equals_scalar(b, i, c, version):
    vec = meld(b, i, c, version=version)
    scal = [
        meld(float(x), float(y), float(z), version=version) for x, y, z in zip(b, i, c, strict=True)
    ]
    np.testing.assert_allclose(vec, scal)
    if version == "unos":
        assert np.all((vec >= 6) & (vec <= 40))
        assert np.all(vec == np.round(vec))
