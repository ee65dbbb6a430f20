"""MELD 3.0, DOMAIN.md §1.10 vectors M-11..M-18."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from biomarkers.clinical import meld3
from biomarkers.exceptions import SchemaError


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param((2.0, 1.5, 1.2, 138, 3.5, False), 15.0, id="M-11 male"),
        pytest.param((2.0, 1.5, 1.2, 138, 3.5, True), 16.0, id="M-12 female"),
        pytest.param((4.0, 2.0, 1.5, 130, 2.8, "F"), 29.0, id="M-13"),
        pytest.param((20, 2.6, 2.5, 128, 2.5, "M"), 40.0, id="M-14"),
        pytest.param((12, 2.2, 0.8, 132, 2.9, 1), 28.0, id="M-15"),
        pytest.param((30, 3.0, 3.5, 122, 2.0, 0), 44.0, id="M-16 uncapped"),
        pytest.param((0.5, 0.9, 0.5, 140, 4.0, "male"), 6.0, id="M-18 floors"),
    ],
)
def test_vectors(args, expected):
    assert meld3(*args) == expected


def test_m16_cap_and_m17_dialysis():
    assert meld3(30, 3.0, 3.5, 122, 2.0, 0, cap=40) == 40.0
    assert meld3(3.0, 1.8, 1.0, 133, 3.0, 0, dialysis=True) == 31.0
    assert meld3(3.0, 1.8, 3.0, 133, 3.0, 0) == 31.0
    assert meld3(3.0, 1.8, 5.0, 133, 3.0, 0) == 31.0  # creatinine cap 3.0


def test_si_units_albumin_g_per_l():
    si = meld3(4.0 * 17.1, 2.0, 1.5 * 88.4, 130, 28, "F", units="si")
    assert si == 29.0


def test_nan_and_series():
    assert math.isnan(meld3(2.0, 1.5, 1.2, 138, 3.5, None))
    s = meld3(
        pd.Series([2.0, 4.0], index=["a", "b"]),
        1.5,
        1.2,
        138,
        3.5,
        pd.Series(["M", "F"], index=["a", "b"]),
    )
    assert s.tolist() == [15.0, meld3(4.0, 1.5, 1.2, 138, 3.5, "F")]


def test_bad_female_and_albumin():
    with pytest.raises(SchemaError, match="female: unknown value 'X'"):
        meld3(2.0, 1.5, 1.2, 138, 3.5, "X")
    with pytest.raises(SchemaError, match=r"albumin must be > 0 g/dL; got -3\.5"):
        meld3(2.0, 1.5, 1.2, 138, -3.5, 0)


@settings(max_examples=40, deadline=None)
@given(
    b=arrays(float, 5, elements=st.floats(0.1, 50)),
    alb=arrays(float, 5, elements=st.floats(1.0, 5.0)),
    fem=arrays(float, 5, elements=st.sampled_from([0.0, 1.0])),
)
def test_vectorised_equals_scalar(b, alb, fem):
    vec = meld3(b, 1.7, 1.4, 131, alb, fem)
    scal = [
        meld3(float(x), 1.7, 1.4, 131, float(a), float(f))
        for x, a, f in zip(b, alb, fem, strict=True)
    ]
    np.testing.assert_allclose(vec, scal)
