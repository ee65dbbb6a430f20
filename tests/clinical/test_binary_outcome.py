from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.clinical import binary_outcome, outcome_from_rule
from biomarkers.exceptions import SchemaError


def _clin(values) -> pd.DataFrame:
    return pd.DataFrame({"subject_id": [f"s{i}" for i in range(len(values))], "y": values})


@pytest.mark.parametrize(
    ("values", "positive"),
    [
        (["Dead", "Alive", None, " Dead"], "Dead"),
        ([1, 0, np.nan, 1], 1),
        (["1", "0", "", "1"], 1),
        ([True, False, None, True], 1),
        ([1.0, 0.0, np.nan, 1.0], "1"),
        (["yes", "no", None, "yes"], True),
    ],
    ids=["text", "int", "text-digits-vs-int", "bool-vs-int", "float-vs-text", "yes-vs-True"],
)
def test_positive_value_is_class_1(values, positive):
    o = binary_outcome(_clin(values), column="y", positive=positive)
    assert o.table["y"].tolist()[:2] == [1.0, 0.0]
    assert np.isnan(o.table["y"].iloc[2])
    assert o.table["y"].iloc[3] == 1.0
    assert o.kind == "binary"
    assert o.positive == f"y = {positive!r}"
    assert o.to_dict()["positive"] == o.positive


def test_minority_event_counts_as_class_1():
    # 35 events among 189: class 1 must be the 35 events, not the 154 others
    clin = _clin(["event"] * 35 + ["none"] * 154)
    o = binary_outcome(clin, column="y", positive="event")
    assert int(o.table["y"].sum()) == 35


def test_positive_never_seen_lists_values():
    with pytest.raises(
        SchemaError, match=r"positive value 'dead' never occurs; values seen: 'Alive', 'Dead'"
    ):
        binary_outcome(_clin(["Dead", "Alive"]), column="y", positive="dead")


def test_unknown_column():
    with pytest.raises(SchemaError, match=r"outcome column 'z' not found"):
        binary_outcome(_clin([1, 0]), column="z", positive=1)


def test_default_assessed_day_after_last_visit():
    o = binary_outcome(_clin([1, 0]), column="y", positive=1)
    assert o.assessed_day == 91  # default visits end on D90
    o = binary_outcome(_clin([1, 0]), column="y", positive=1, visits={"V1": 0, "V2": 30})
    assert o.assessed_day == 31
    o = binary_outcome(_clin([1, 0]), column="y", positive=1, assessed_day=10, name="resp")
    assert o.assessed_day == 10
    assert list(o.table.columns) == ["resp"]


def test_rule():
    o = outcome_from_rule(
        {"kind": "binary", "column": "y", "positive": "Dead", "description": "death"},
        clinical=_clin(["Dead", "Alive"]),
        visits={"D0": 0},
    )
    assert o.table["y"].tolist() == [1.0, 0.0]
    assert o.assessed_day == 1
    assert o.description == "death"
