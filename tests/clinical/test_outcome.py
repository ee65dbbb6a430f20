from __future__ import annotations

import pandas as pd
import pytest

from biomarkers.clinical import Outcome
from biomarkers.exceptions import ConfigError


def test_outcome_reprs_and_dict():
    t = pd.DataFrame(
        {"tfs90": [1.0, 0.0, None]}, index=pd.Index(["a", "b", "c"], name="subject_id")
    )
    o = Outcome(name="tfs90", kind="binary", table=t, assessed_day=90, definition="alive at 90")
    assert o.columns == ["tfs90"]
    assert o.to_dict() == {
        "kind": "binary",
        "columns": ["tfs90"],
        "assessed_day": 90,
        "definition": "alive at 90",
        "positive": "tfs90 = 1",
        "description": "tfs90",
    }
    html = o._repr_html_()
    assert "tfs90" in html
    assert "responders (1)</th><td>1" in html
    assert "missing / censored</th><td>1" in html
    frame = o.to_frame()
    frame.iloc[0, 0] = 5
    assert o.table.iloc[0, 0] == 1.0  # a copy
    assert "assessed_day=90" in repr(o)
    s = Outcome(
        name="x",
        kind="survival",
        table=pd.DataFrame({"event": [1, 0], "time_days": [3.0, 90.0]}),
        assessed_day=90,
        definition="d",
    )
    assert s.columns == ["event", "time_days"]
    assert "events</th><td>1" in s._repr_html_()


def test_bad_kind():
    with pytest.raises(
        ConfigError, match="Outcome: kind='ordinal' is not supported; use one of: 'binary'"
    ):
        Outcome(name="x", kind="ordinal", table=pd.DataFrame(), assessed_day=0, definition="")


def test_positive_phrase_of_the_clinical_outcomes(clinical):
    from biomarkers.clinical import transplant_free_survival

    b = transplant_free_survival(clinical, horizon_days=90)
    assert b.positive == "alive and transplant-free at day 90"  # class 1 is the favourable state
    s = transplant_free_survival(clinical, horizon_days=90, kind="survival")
    assert s.positive == "death or transplant by day 90"
    assert s.to_dict()["positive"] == "death or transplant by day 90"
    assert "death or transplant by day 90" in s._repr_html_()
