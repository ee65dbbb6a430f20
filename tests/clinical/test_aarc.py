"""AARC score, DOMAIN.md §1.10 vectors A-1..A-5."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biomarkers.clinical import aarc
from biomarkers.exceptions import SchemaError


@pytest.mark.parametrize(
    ("args", "points", "grade"),
    [
        pytest.param((8, 0, 1.6, 1.2, 0.6), 5, 1, id="A-1"),
        pytest.param((18, 2, 2.2, 2.0, 1.2), 10, 2, id="A-2"),
        pytest.param((28, 3, 2.8, 3.1, 2.0), 15, 3, id="A-3"),
        pytest.param((15, 1, 1.8, 1.5, 0.7), 10, 2, id="A-4 lower boundaries middle"),
        pytest.param((25, 0, 2.5, 2.5, 1.5), 9, 2, id="A-5 upper boundaries middle"),
        pytest.param((8, 0, 1.6, 1.2, 0.8), 6, 1, id="grade I top"),
        pytest.param((16, 0, 1.6, 1.2, 0.8), 7, 1, id="7 is grade I"),
        pytest.param((16, 1, 1.6, 1.2, 0.8), 8, 2, id="8 is grade II"),
        pytest.param((26, 3, 1.6, 2.0, 0.8), 11, 3, id="11 is grade III"),
    ],
)
def test_vectors(args, points, grade):
    r = aarc(*args)
    assert (r["points"], r["grade"]) == (points, grade)


def test_frame_nan_and_si():
    df = aarc(np.array([18, np.nan]), 2, 2.2, 2.0, np.array([1.2 * 88.4, 1.0]) / 88.4)
    assert list(df.columns) == ["aarc", "aarc_grade"]
    assert df["aarc"].iloc[0] == 10
    assert df[["aarc", "aarc_grade"]].iloc[1].isna().all()
    assert aarc(18 * 17.1, 2, 2.2, 2.0, 1.2 * 88.4, units="si")["points"] == 10


def test_errors():
    with pytest.raises(SchemaError, match=r"lactate must be >= 0 mmol/L; got -1\.0"):
        aarc(18, 2, 2.2, -1.0, 1.2)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.5, 40),
            st.integers(0, 4),
            st.floats(0.8, 5),
            st.floats(0, 8),
            st.floats(0.2, 6),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_vectorised_equals_scalar(rows):
    cols = [np.array(c, dtype=float) for c in zip(*rows, strict=True)]
    df = aarc(*cols)
    for k, row in enumerate(rows):
        r = aarc(*row)
        assert df["aarc"].iloc[k] == r["points"]
        assert df["aarc_grade"].iloc[k] == r["grade"]
