"""CLIF-C OF, organ failures and EASL-CLIF grade (DOMAIN.md §1.10 O-1..O-6)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biomarkers.clinical import clif_c_aclf, clif_of
from biomarkers.exceptions import SchemaError


@pytest.mark.parametrize(
    ("args", "age", "wbc", "total", "grade", "score"),
    [
        pytest.param((4, 2.3, 0, 1.6, 80, 0, 400), 60, 8, 7, 1, 40.20, id="O-1 single kidney"),
        pytest.param(
            (14, 1.2, 0, 1.8, 80, 0, 400), 45, 7, 8, 0, 36.66, id="O-2 single liver Cr<1.5"
        ),
        pytest.param(
            (14, 1.6, 0, 1.8, 80, 0, 400), 45, 7, 8, 1, 36.66, id="O-3 liver + Cr 1.5-1.9"
        ),
        pytest.param((3, 1.6, 3, 1.5, 80, 0, 400), 55, 6, 8, 1, 39.69, id="O-4 brain + Cr 1.5-1.9"),
        pytest.param((18, 1.0, 1, 2.7, 75, 0, 350), 45, 12, 11, 2, 49.95, id="O-5 two failures"),
        pytest.param((25, 2.5, 3, 3.0, 65, 0, 250), 50, 15, 15, 3, 66.56, id="O-6 four failures"),
    ],
)
def test_vectors(args, age, wbc, total, grade, score):
    r = clif_of(*args)
    assert r["clif_of"] == total
    assert r["aclf_grade_easl"] == grade
    assert clif_c_aclf(r["clif_of"], age, wbc) == pytest.approx(score, abs=0.005)


def test_grade_rules_single_failures():
    base = {
        "bilirubin": 3,
        "creatinine": 1.0,
        "he_grade": 0,
        "inr": 1.5,
        "map_mmhg": 80,
        "vasopressor": 0,
        "pao2_fio2": 400,
    }
    # single brain failure, Cr < 1.5 → no ACLF
    assert clif_of(**{**base, "he_grade": 3})["aclf_grade_easl"] == 0
    # single coagulation failure with HE 1-2 → ACLF-1
    assert clif_of(**{**base, "inr": 2.6, "he_grade": 1})["aclf_grade_easl"] == 1
    assert clif_of(**{**base, "inr": 2.6})["aclf_grade_easl"] == 0
    # single circulatory failure (vasopressor dominates MAP)
    r = clif_of(**{**base, "vasopressor": True, "map_mmhg": 90})
    assert r["clif_of_circulation"] == 3
    assert r["failure_circulation"] == 1
    # RRT = kidney 3 → single kidney failure → ACLF-1
    r = clif_of(**base, rrt=True)
    assert r["clif_of_kidney"] == 3
    assert r["aclf_grade_easl"] == 1


@pytest.mark.parametrize(
    ("field", "value", "organ", "sub"),
    [
        ("bilirubin", 6.0, "liver", 2),
        ("bilirubin", 12.0, "liver", 2),
        ("bilirubin", 12.01, "liver", 3),
        ("creatinine", 2.0, "kidney", 2),
        ("creatinine", 3.5, "kidney", 3),
        ("inr", 2.0, "coagulation", 2),
        ("inr", 2.5, "coagulation", 3),
        ("map_mmhg", 70, "circulation", 1),
        ("map_mmhg", 69.9, "circulation", 2),
        ("pao2_fio2", 300, "respiration", 2),
        ("pao2_fio2", 200, "respiration", 3),
    ],
)
def test_boundaries(field, value, organ, sub):
    base = {
        "bilirubin": 3,
        "creatinine": 1.0,
        "he_grade": 0,
        "inr": 1.5,
        "map_mmhg": 80,
        "vasopressor": 0,
        "pao2_fio2": 400,
    }
    assert clif_of(**{**base, field: value})[f"clif_of_{organ}"] == sub


def test_spo2_fallback_and_missing_respiration():
    args = (3, 1.0, 0, 1.5, 80, 0)
    assert clif_of(*args, spo2_fio2=214)["clif_of_respiration"] == 3
    assert clif_of(*args, spo2_fio2=357)["clif_of_respiration"] == 2
    assert clif_of(*args, spo2_fio2=358)["clif_of_respiration"] == 1
    df = clif_of(
        *(np.repeat(a, 2) for a in args),
        pao2_fio2=np.array([np.nan, 150.0]),
        spo2_fio2=np.array([300.0, 500.0]),
    )
    assert df["clif_of_respiration"].tolist() == [2.0, 3.0]  # P/F used where present
    r = clif_of(*args)
    assert np.isnan(r["clif_of_respiration"])
    assert np.isnan(r["clif_of"])
    assert np.isnan(r["aclf_grade_easl"])
    assert r["clif_of_liver"] == 1  # other organs still scored


def test_series_output():
    idx = ["a", "b"]
    df = clif_of(pd.Series([4, 25], index=idx), 2.3, 0, 1.6, 80, pd.Series([0, 1], index=idx), 400)
    assert list(df.index) == idx
    assert df.loc["b", "n_organ_failures"] == 3


def test_si_and_errors():
    assert clif_of(4 * 17.1, 2.3 * 88.4, 0, 1.6, 80, 0, 400, units="si")["clif_of"] == 7
    with pytest.raises(SchemaError, match=r"map_mmhg must be > 0 mmHg; got 0\.0"):
        clif_of(4, 2.3, 0, 1.6, 0, 0, 400)
    with pytest.raises(SchemaError, match="vasopressor: unknown value 'maybe'; allowed: 1/0"):
        clif_of(4, 2.3, 0, 1.6, 80, "maybe", 400)


rows = st.tuples(
    st.floats(0.3, 40),
    st.floats(0.3, 8),
    st.integers(0, 4),
    st.floats(0.8, 6),
    st.floats(40, 120),
    st.integers(0, 1),
    st.floats(50, 500),
)


@settings(max_examples=30, deadline=None)
@given(st.lists(rows, min_size=1, max_size=6))
def test_vectorised_equals_scalar(data):
    cols = [np.array(c, dtype=float) for c in zip(*data, strict=True)]
    df = clif_of(*cols)
    for k, row in enumerate(data):
        r = clif_of(*row)
        pd.testing.assert_series_equal(df.iloc[k], r.astype(float), check_names=False)
        assert 6 <= r["clif_of"] <= 18
        # grade ≥ 2 exactly when ≥ 2 organ failures
        assert (r["aclf_grade_easl"] >= 2) == (r["n_organ_failures"] >= 2)
