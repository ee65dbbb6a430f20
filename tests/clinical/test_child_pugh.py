"""Child–Pugh, DOMAIN.md §1.10 vectors C-1..C-3 and boundary conventions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biomarkers.clinical import child_pugh
from biomarkers.exceptions import SchemaError


@pytest.mark.parametrize(
    ("args", "points", "klass"),
    [
        pytest.param((3.2, 2.6, 2.0, "mild", 2), 12, "C", id="C-1 published medx"),
        pytest.param((1.5, 3.6, 1.2, "none", 0), 5, "A", id="C-2"),
        pytest.param((2.0, 3.5, 1.7, "slight", 0), 9, "B", id="C-3 boundaries score 2"),
        pytest.param((3.0, 2.8, 2.3, 1, "II"), 10, "C", id="upper boundaries still 2"),
        pytest.param((3.01, 2.79, 2.31, "refractory", 4), 15, "C", id="all 3"),
    ],
)
def test_vectors(args, points, klass):
    r = child_pugh(*args)
    assert r["points"] == points
    assert r["class"] == klass


def test_class_cut_points():
    # points 6 → A, 7 → B, 9 → B, 10 → C
    assert child_pugh(1.0, 4.0, 1.0, "none", 1)["class"] == "A"  # 6
    assert child_pugh(2.5, 4.0, 1.0, "none", 1)["class"] == "B"  # 7


def test_frame_output_and_nan():
    df = child_pugh(
        pd.Series([3.2, np.nan], index=["s1", "s2"]),
        2.6,
        2.0,
        pd.Series(["mild", "none"], index=["s1", "s2"]),
        2,
    )
    assert list(df.columns) == ["child_pugh", "child_pugh_class"]
    assert df.loc["s1", "child_pugh"] == 12
    assert np.isnan(df.loc["s2", "child_pugh"])
    assert df.loc["s2", "child_pugh_class"] is None


def test_si_units():
    assert child_pugh(3.2 * 17.1, 26, 2.0, "mild", 2, units="si")["points"] == 12


def test_bad_categories():
    with pytest.raises(SchemaError, match="ascites: unknown value 'lots'"):
        child_pugh(2, 3, 1.5, "lots", 0)
    with pytest.raises(SchemaError, match=r"West-Haven grade 0-4; got 5\.0"):
        child_pugh(2, 3, 1.5, "none", 5)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.2, 30),
            st.floats(1.0, 5.0),
            st.floats(0.8, 5),
            st.integers(0, 2),
            st.integers(0, 4),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_vectorised_equals_scalar(rows):
    b, a, i, asc, he = (np.array(c) for c in zip(*rows, strict=True))
    df = child_pugh(b, a, i, asc, he)
    for k, row in enumerate(rows):
        r = child_pugh(*row)
        assert df["child_pugh"].iloc[k] == r["points"]
        assert df["child_pugh_class"].iloc[k] == r["class"]
        assert 5 <= r["points"] <= 15
