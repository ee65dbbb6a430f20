from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.clinical import (
    aclf_course,
    outcome_from_rule,
    score_change,
    transplant_free_survival,
)
from biomarkers.exceptions import ConfigError


def test_tfs_rule(clinical):
    o = outcome_from_rule(
        {"kind": "transplant_free_survival", "horizon_days": 90}, clinical=clinical
    )
    ref = transplant_free_survival(clinical, horizon_days=90)
    pd.testing.assert_frame_equal(o.table, ref.table)
    s = outcome_from_rule(
        {"horizon_days": 28, "label": "survival", "name": "tfs_d28"}, clinical=clinical
    )
    assert s.kind == "survival"
    assert s.name == "tfs_d28"
    assert "tfs_d28" in s.table.columns


def test_score_rule(labs, clinical):
    o = outcome_from_rule(
        {"score": "aarc", "from": "D0", "to": "D28", "change": "<=-2"}, clinical=clinical, labs=labs
    )
    ref = score_change(
        labs, score="aarc", from_visit="D0", to_visit="D28", threshold="<=-2", clinical=clinical
    )
    pd.testing.assert_frame_equal(o.table, ref.table)
    assert o.assessed_day == 28


def test_course_rule_and_custom_visits(labs, clinical):
    o = outcome_from_rule(
        {"course": "aclf", "from": "D0", "to": "D7", "responder": ["resolution", "improvement"]},
        clinical=clinical,
        labs=labs,
    )
    pd.testing.assert_frame_equal(o.table, aclf_course(labs, clinical=clinical).table)
    lab = labs.replace({"visit": {"D7": "W1"}})
    o = outcome_from_rule(
        {"course": "aclf", "from": "D0", "to": "W1"}, labs=lab, visits={"D0": 0, "W1": 5}
    )
    assert o.assessed_day == 5
    assert np.nansum(o.table.iloc[:, 0]) == 2


@pytest.mark.parametrize(
    ("rule", "match"),
    [
        (
            {"kind": "tfs", "horizon_days": 90},
            "kind: 'tfs' is not allowed; allowed: transplant_free_survival",
        ),
        (
            {"score": "meld", "from": "D0", "to": "D7", "change": -2, "treshold": 1},
            "'treshold' is not allowed.*allowed: change, from",
        ),
        (
            {"score": "mled", "from": "D0", "to": "D7", "change": -2},
            "score: 'mled' is not allowed; did you mean 'meld'",
        ),
        (
            {"score": "meld", "from": "D0", "to": "D99", "change": -2},
            "to: 'D99' is not allowed.*D0, D7",
        ),
        (
            {"score": "meld", "from": "D0", "to": "D7", "change": "lower"},
            "change: 'lower' is not allowed",
        ),
        ({"score": "meld", "from": "D0", "change": -2}, "required key 'to' is missing"),
        (
            {"course": "sofa", "from": "D0", "to": "D7"},
            "course: 'sofa' is not allowed; allowed: aclf",
        ),
        (
            {"course": "aclf", "from": "D0", "to": "D7", "responder": ["resolved"]},
            "responder: 'resolved' is not allowed; allowed: resolution, improvement",
        ),
        ({"horizon_days": -5}, "horizon_days: -5 is not allowed"),
        (
            {"horizon_days": 90, "label": "time"},
            "label: 'time' is not allowed; allowed: binary, survival",
        ),
        ({"foo": 1}, "names no outcome"),
        ("tfs90", "must be a mapping"),
    ],
)
def test_invalid_rules(rule, match, labs, clinical):
    with pytest.raises(ConfigError, match=match):
        outcome_from_rule(rule, clinical=clinical, labs=labs)


def test_missing_tables():
    with pytest.raises(ConfigError, match="needs the clinical table"):
        outcome_from_rule({"horizon_days": 90})
    with pytest.raises(ConfigError, match="needs the labs table"):
        outcome_from_rule({"score": "meld", "from": "D0", "to": "D7", "change": -2})
