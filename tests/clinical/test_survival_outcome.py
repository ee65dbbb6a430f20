from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.clinical import outcome_from_rule, survival_outcome, transplant_free_survival
from biomarkers.exceptions import ConfigError, SchemaError


@pytest.fixture
def clin() -> pd.DataFrame:
    # a: event day 30; b: event day 400 (after a 365 horizon); c: censored day 100;
    # d: censored day 500; e: unknown status
    return pd.DataFrame(
        {
            "subject_id": ["a", "b", "c", "d", "e"],
            "status": [True, True, False, False, None],
            "days": [30, 400, 100, 500, 50],
        }
    )


def test_no_horizon(clin):
    o = survival_outcome(clin, event="status", time="days")
    assert o.kind == "survival"
    assert o.columns == ["event", "time_days"]
    assert o.table["event"].tolist()[:4] == [1.0, 1.0, 0.0, 0.0]
    assert np.isnan(o.table["event"].iloc[4])
    assert o.table["time_days"].tolist() == [30, 400, 100, 500, 50]
    assert o.assessed_day == 500  # end of follow-up
    assert o.positive == "status = 1"


def test_horizon_censors_administratively(clin):
    o = survival_outcome(clin, event="status", time="days", horizon_days=365)
    assert o.table["event"].tolist()[:4] == [1.0, 0.0, 0.0, 0.0]
    assert o.table["time_days"].tolist() == [30, 365, 100, 365, 50]
    assert o.assessed_day == 365
    assert o.positive == "status = 1 by day 365"


def test_binary_label_event_is_class_1(clin):
    o = survival_outcome(clin, event="status", time="days", horizon_days=365, label="binary")
    assert o.kind == "binary"
    label = o.table["status"].tolist()
    # event by 365 = 1; event-free through 365 = 0; censored at 100 = NaN; unknown = NaN
    assert label[:2] == [1.0, 0.0]
    assert np.isnan(label[2])
    assert label[3] == 0.0
    assert np.isnan(label[4])


def test_binary_label_matches_tfs_complement(clinical):
    # transplant-free survival's binary class 1 is the favourable state; the generic rule on the
    # same first-event data gives class 1 = the event, i.e. the complement where both are known
    tfs = transplant_free_survival(clinical, horizon_days=90, kind="survival").table
    clin = tfs.reset_index()
    o = survival_outcome(clin, event="event", time="time_days", horizon_days=90, label="binary")
    assert o.name == "event_d90"
    ref = transplant_free_survival(clinical, horizon_days=90).table["tfs90"]
    known = ref.notna()
    np.testing.assert_array_equal(o.table["event_d90"][known], 1.0 - ref[known])


@pytest.mark.parametrize(
    ("status", "days", "match"),
    [
        (
            ["dead", "alive"],
            [1, 2],
            r"event column 's' holds 'alive', 'dead'; an event column must be 1/True",
        ),
        ([2, 0], [1, 2], r"holds '2'"),
        ([1, 0], [-1, 2], r"time column 't' is negative for 'a'"),
        ([1, 0], [None, 2], r"s=1 but 't' is empty for 'a'"),
        ([1, 0], ["x", 2], r"time column 't' is not a number for subject 'a'"),
    ],
)
def test_bad_columns(status, days, match):
    clin = pd.DataFrame({"subject_id": ["a", "b"], "s": status, "t": days})
    with pytest.raises(SchemaError, match=match):
        survival_outcome(clin, event="s", time="t")


def test_binary_needs_horizon(clin):
    with pytest.raises(SchemaError, match="label='binary' needs horizon_days"):
        survival_outcome(clin, event="status", time="days", label="binary")


def test_rule(clin):
    o = outcome_from_rule(
        {"kind": "survival", "event": "status", "time": "days", "horizon_days": 365, "name": "os"},
        clinical=clin,
    )
    assert (o.kind, o.name, o.assessed_day) == ("survival", "os", 365)
    with pytest.raises(ConfigError, match="required key 'time' is missing"):
        outcome_from_rule({"kind": "survival", "event": "status"}, clinical=clin)
    with pytest.raises(ConfigError, match=r"'column' is not allowed"):
        outcome_from_rule(
            {"kind": "survival", "event": "s", "time": "t", "column": "x"}, clinical=clin
        )
    with pytest.raises(ConfigError, match="needs the clinical table"):
        outcome_from_rule({"kind": "survival", "event": "status", "time": "days"})
