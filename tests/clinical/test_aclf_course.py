from __future__ import annotations

import numpy as np
import pytest

from biomarkers.clinical import aclf_course
from biomarkers.exceptions import SchemaError


def test_course_categories(labs, clinical):
    o = aclf_course(labs, clinical=clinical)
    t = o.table
    assert o.assessed_day == 7
    assert t.loc["s1", "course"] == "resolution"  # 2 → 0
    assert t.loc["s2", "course"] == "worsening"  # 1 → 2 (kidney + liver/coag)
    assert t.loc["s3", "course"] == "improvement"  # 3 → lower
    assert t.loc["s4", "course"] == "steady"
    assert t.loc["s5", "course"] is None  # no ACLF at baseline → no course
    assert t.loc["s6", "course"] is None  # baseline grade missing (no P/F)
    np.testing.assert_array_equal(t["aclf_course_D0_D7"], [1, 0, 1, 0, np.nan, np.nan])
    assert t.loc["s1", "grade_from"] == 2
    assert t.loc["s1", "grade_to"] == 0


def test_death_before_visit_is_worsening(labs, clinical):
    lab = labs[~((labs.subject_id == "s2") & (labs.visit == "D7"))]
    t = aclf_course(lab, to_visit="D14", clinical=clinical).table
    assert t.loc["s2", "course"] == "worsening"  # died day 10, no D14 grade
    assert t.loc["s4", "course"] is None  # alive, no D14 row → unknown
    t = aclf_course(lab, to_visit="D14").table
    assert t.loc["s2", "course"] is None  # without clinical: unknown


def test_responder_set(labs):
    t = aclf_course(labs, responder=["resolution"]).table
    assert t.loc["s3", "aclf_course_D0_D7"] == 0.0
    assert t.loc["s1", "aclf_course_D0_D7"] == 1.0


def test_errors(labs):
    with pytest.raises(SchemaError, match="must be a non-empty list of resolution"):
        aclf_course(labs, responder=["better"])
    with pytest.raises(
        SchemaError, match=r"cannot compute 'aclf_grade_easl': missing column.*map_mmhg"
    ):
        aclf_course(labs.drop(columns="map_mmhg"))
