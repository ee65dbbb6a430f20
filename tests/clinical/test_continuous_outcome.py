from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.clinical import continuous_outcome, outcome_from_rule
from biomarkers.exceptions import SchemaError


def test_numbers_and_missing():
    clin = pd.DataFrame({"subject_id": ["a", "b", "c"], "fev1": ["2.5", 3, None]})
    o = continuous_outcome(clin, column="fev1")
    assert o.kind == "continuous"
    assert o.table["fev1"].tolist()[:2] == [2.5, 3.0]
    assert np.isnan(o.table["fev1"].iloc[2])
    assert o.assessed_day == 91


def test_text_value_refused_with_subject():
    clin = pd.DataFrame({"subject_id": ["a", "b"], "fev1": ["2.5", "low"]})
    with pytest.raises(
        SchemaError, match=r"column 'fev1' is not a number for subject 'b' \(value 'low'"
    ):
        continuous_outcome(clin, column="fev1")


def test_rule():
    clin = pd.DataFrame({"subject_id": ["a", "b"], "fev1": [1.0, 2.0]})
    o = outcome_from_rule(
        {"kind": "continuous", "column": "fev1", "name": "lung", "assessed_day": 28},
        clinical=clin,
    )
    assert (o.name, o.assessed_day, o.table["lung"].tolist()) == ("lung", 28, [1.0, 2.0])
