from __future__ import annotations

import numpy as np
import pytest

from biomarkers.clinical import compute_scores, score_change
from biomarkers.exceptions import SchemaError


def test_meld_change_with_death_as_non_responder(labs, clinical):
    o = score_change(
        labs, score="meld", from_visit="D0", to_visit="D28", threshold=-2, clinical=clinical
    )
    scored = compute_scores(labs)
    m = scored.set_index(["subject_id", "visit"])["meld"]
    t = o.table
    assert o.assessed_day == 28
    assert o.kind == "binary"
    assert t.loc["s1", "change"] == m["s1", "D28"] - m["s1", "D0"]
    assert t.loc["s1", "meld_change_D0_D28"] == float(m["s1", "D28"] - m["s1", "D0"] <= -2)
    assert t.loc["s2", "meld_change_D0_D28"] == 0.0  # died day 10 → non-responder
    assert t.loc["s3", "meld_change_D0_D28"] == 0.0  # transplanted day 20
    assert t.loc["s6", "meld_change_D0_D28"] == 0.0  # died on day 28, no D28 value
    assert t.loc["s4", "meld_change_D0_D28"] == 0.0  # unchanged
    # without clinical, the dead are unknown
    t2 = score_change(labs, score="meld", from_visit="D0", to_visit="D28", threshold=-2).table
    assert np.isnan(t2.loc["s2", "meld_change_D0_D28"])


def test_operators_and_relative(labs):
    t = score_change(
        labs, score="bilirubin_mg_dl", from_visit="D0", to_visit="D7", threshold="<=-50%"
    ).table
    # s1 18 → 5 is -72%; s4 4 → 4 is 0%
    assert t.loc["s1", "change"] == pytest.approx(100 * (5 - 18) / 18)
    assert t.loc["s1"].iloc[0] == 1.0
    assert t.loc["s4"].iloc[0] == 0.0
    t = score_change(
        labs, score="bilirubin_mg_dl", from_visit="D0", to_visit="D7", threshold=">0", name="worse"
    ).table
    assert t["worse"].tolist()[:3] == [0.0, 1.0, 0.0]


def test_errors(labs):
    with pytest.raises(SchemaError, match="threshold 'down' is not understood"):
        score_change(labs, score="meld", from_visit="D0", to_visit="D7", threshold="down")
    with pytest.raises(SchemaError, match=r"visit 'D8' is not defined.*known visits: D0, D7, D14"):
        score_change(labs, score="meld", from_visit="D0", to_visit="D8", threshold=-2)
    with pytest.raises(SchemaError, match="must come after"):
        score_change(labs, score="meld", from_visit="D7", to_visit="D0", threshold=-2)
    with pytest.raises(SchemaError, match=r"cannot compute 'meld3': missing column.*sex"):
        score_change(labs, score="meld3", from_visit="D0", to_visit="D7", threshold=-2)
    with pytest.raises(
        SchemaError, match="'meldd' is neither a column nor a computable score; did you mean 'meld'"
    ):
        score_change(labs, score="meldd", from_visit="D0", to_visit="D7", threshold=-2)
    dup = labs.copy()
    dup.loc[1, "visit"] = "D0"
    with pytest.raises(SchemaError, match="several rows for visit 'D0' of 's1'"):
        score_change(dup, score="meld", from_visit="D0", to_visit="D7", threshold=-2)


def test_death_columns_optional(labs, clinical):
    # a clinical table without death/transplant columns: deaths are unknown, so a subject with
    # no D28 value is missing rather than a non-responder
    clin = clinical[["subject_id", "age", "sex"]]
    o = score_change(
        labs, score="bilirubin_mg_dl", from_visit="D0", to_visit="D28", threshold=-2, clinical=clin
    )
    assert np.isnan(o.table.loc["s2", o.name])  # died day 10 in the full table
    full = score_change(
        labs,
        score="bilirubin_mg_dl",
        from_visit="D0",
        to_visit="D28",
        threshold=-2,
        clinical=clinical,
    )
    assert full.table.loc["s2", full.name] == 0.0
    assert o.table.loc["s1", o.name] == 1.0
