"""Private helpers of biomarkers.clinical: rounding and input coercion."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biomarkers.clinical._common import Inputs, coerce_bool, round_half_up, subject_table
from biomarkers.exceptions import SchemaError


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([0, 1]))
def test_round_half_up_matches_decimal(n, decimals):
    text = f"{n / 100:.2f}"  # decimal numbers with two places, many exact halves
    x = float(text)
    expected = float(Decimal(text).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))
    assert round_half_up(np.array([x]), decimals)[0] == pytest.approx(expected, abs=1e-9)


def test_round_half_up_examples():
    assert round_half_up(np.array([12.5, 0.5, 1.25, np.nan]), 0)[:3].tolist() == [13.0, 1.0, 1.0]
    assert round_half_up(np.array([1.25]), 1)[0] == 1.3
    assert np.isnan(round_half_up(np.array([np.nan]))[0])


def test_inputs_shapes():
    inp = Inputs({"a": 1.0, "b": np.array([1.0, 2.0])})
    assert inp.shape == (2,)
    assert not inp.scalar
    with pytest.raises(SchemaError, match="incompatible shapes"):
        Inputs({"a": np.ones(2), "b": np.ones(3)})


def test_coerce_bool():
    out = coerce_bool(np.array(["yes", "No", 1, 0, None, True], dtype=object), "flag")
    np.testing.assert_array_equal(out, [1, 0, 1, 0, np.nan, 1])
    with pytest.raises(SchemaError, match="flag: expected a yes/no flag"):
        coerce_bool(np.array([2]), "flag")


def test_subject_table():

    with pytest.raises(SchemaError, match="duplicated: 'a'"):
        subject_table(pd.DataFrame({"subject_id": ["a", "a"]}), source="clinical")
    with pytest.raises(SchemaError, match="'subject_id' not found"):
        subject_table(pd.DataFrame({"id": ["a"]}), source="clinical")
    out = subject_table(pd.DataFrame({"subject_id": [1, 2]}), source="clinical")
    assert list(out.index) == ["1", "2"]


def test_mixed_object_coercion():
    from biomarkers.clinical._common import coerce_ascites, coerce_he_grade

    he = coerce_he_grade(
        np.array([0, "II", "iv", None, np.nan, "3", True, " none "], dtype=object), "he"
    )
    np.testing.assert_array_equal(he, [0, 2, 4, np.nan, np.nan, 3, 1, 0])
    asc = coerce_ascites(pd.Series(["None", "Moderate-Severe", pd.NA, "slight"]), "asc")
    np.testing.assert_array_equal(asc, [0, 2, np.nan, 1])
    with pytest.raises(SchemaError, match="asc: unknown value 'lots'"):
        coerce_ascites(pd.Series(["mild", "lots"]), "asc")
    # nullable integer column with missing values
    np.testing.assert_array_equal(
        coerce_he_grade(pd.Series([1, None], dtype="Int64"), "he"), [1, np.nan]
    )


def test_inputs_not_mutated():
    from biomarkers.clinical import compute_scores, meld

    b = np.array([1.5, 2.0])
    s = pd.Series([1.0, 1.2])
    meld(b, s, 1.0, units="si")
    assert b.tolist() == [1.5, 2.0]
    assert s.tolist() == [1.0, 1.2]
    labs = pd.DataFrame(
        {
            "subject_id": ["a"],
            "visit": ["D0"],
            "bilirubin_mg_dl": [2.0],
            "inr": [1.0],
            "creatinine_mg_dl": [1.0],
        }
    )
    compute_scores(labs)
    assert list(labs.columns) == [
        "subject_id",
        "visit",
        "bilirubin_mg_dl",
        "inr",
        "creatinine_mg_dl",
    ]
