"""The visit schedule (biomarkers/io/_visits.py): defaults, resolving, ordering, day lookup."""

from __future__ import annotations

import numpy as np
import pytest

import biomarkers as bm
from biomarkers.exceptions import SchemaError
from biomarkers.io._visits import DEFAULT_VISITS, resolve_visits, visit_day, visit_order


def test_default_visits_are_one_read_only_object():
    assert dict(DEFAULT_VISITS) == {"D0": 0, "D7": 7, "D14": 14, "D21": 21, "D28": 28, "D90": 90}
    assert bm.io.DEFAULT_VISITS is DEFAULT_VISITS
    assert bm.study.DEFAULT_VISITS is DEFAULT_VISITS
    with pytest.raises(TypeError):
        DEFAULT_VISITS["D3"] = 3  # type: ignore[index]


@pytest.mark.parametrize(
    ("label", "visits", "day"),
    [
        ("D28", None, 28),
        ("D3", None, 3),
        ("Day 3", None, 3),
        ("day_3", None, 3),
        ("D-7", None, -7),
        ("W2", {"W2": 14}, 14),
        ("D5", {"W2": 14}, 5),
        ("baseline", None, np.nan),
        ("baseline", {"W2": 14}, np.nan),
    ],
)
def test_visit_day(label, visits, day):
    np.testing.assert_equal(visit_day(label, visits), float(day))


def test_resolve_visits_orders_by_day_and_reads_labels():
    assert resolve_visits() == dict(DEFAULT_VISITS)
    assert resolve_visits(["D28", "Day 3", "D0"]) == {"D0": 0, "Day 3": 3, "D28": 28}
    assert list(resolve_visits({"late": 90, "base": 0.0, "mid": 3.5})) == ["base", "mid", "late"]
    assert resolve_visits({"base": 0.0, "mid": 3.5}) == {"base": 0, "mid": 3.5}
    assert resolve_visits("D7") == {"D7": 7}


@pytest.mark.parametrize(
    ("visits", "required", "match"),
    [
        (["baseline"], (), r"visit 'baseline' has no study day; give visits as a mapping"),
        ({"D0": "soon"}, (), r"visit 'D0': study day 'soon' is not a number"),
        ({"D0": 0, "base": 0}, (), r"two labels share one study day"),
        (None, ("D8",), r"visit 'D8' is not defined; did you mean 'D28'\?; known visits: D0, D7"),
        ({"W2": 14}, ("D0",), r"visit 'D0' is not defined; known visits: W2; pass visits="),
    ],
)
def test_resolve_visits_errors(visits, required, match):
    with pytest.raises(SchemaError, match=match):
        resolve_visits(visits, *required)


def test_visit_order():
    assert visit_order(["D14", "D7", "D14", "end", "D0", "start"]) == [
        "D0",
        "D7",
        "D14",
        "end",
        "start",
    ]
    assert visit_order(["W4", "base", "Day 10"], {"base": 0, "W4": 28}) == ["base", "Day 10", "W4"]
    assert visit_order(["D0", "D-7"]) == ["D-7", "D0"]
