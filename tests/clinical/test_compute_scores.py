from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from biomarkers.clinical import (
    aarc,
    child_pugh,
    clif_c_aclf,
    clif_c_ad,
    clif_of,
    compute_scores,
    meld,
    meld3,
    meld_na,
)
from biomarkers.exceptions import SchemaError


def test_all_scores_match_the_functions(labs, clinical):
    before = labs.copy()
    out = compute_scores(labs, clinical=clinical)
    pd.testing.assert_frame_equal(labs, before)  # never mutates
    assert out is not labs
    for col in (
        "meld",
        "meld_kamath",
        "meld_na",
        "meld3",
        "child_pugh",
        "clif_of",
        "aclf_grade_easl",
        "clif_c_aclf",
        "clif_c_ad",
        "aarc",
        "aarc_grade",
    ):
        assert col in out.attrs["scores"]
    r = labs.iloc[0]
    assert out["meld"].iloc[0] == meld(r.bilirubin_mg_dl, r.inr, r.creatinine_mg_dl)
    assert out["meld_kamath"].iloc[0] == pytest.approx(
        meld(r.bilirubin_mg_dl, r.inr, r.creatinine_mg_dl, version="kamath", etiology="alcohol")
    )
    assert out["meld_na"].iloc[0] == meld_na(r.bilirubin_mg_dl, r.inr, r.creatinine_mg_dl, 132)
    assert out["meld3"].iloc[0] == meld3(
        r.bilirubin_mg_dl, r.inr, r.creatinine_mg_dl, 132, 2.8, "M"
    )
    assert out["child_pugh"].iloc[0] == child_pugh(18, 2.8, 2.7, "mild", 1)["points"]
    of = clif_of(18, 1.0, 1, 2.7, 75, 0, 350)
    assert out["clif_of"].iloc[0] == of["clif_of"] == 11
    assert out["aclf_grade_easl"].iloc[0] == 2
    assert out["clif_c_aclf"].iloc[0] == pytest.approx(clif_c_aclf(11, 45, 9.0))
    assert out["clif_c_ad"].iloc[0] == pytest.approx(clif_c_ad(45, 1.0, 2.7, 9.0, 132))
    assert out["aarc"].iloc[0] == aarc(18, 1, 2.7, 2.0, 1.0)["points"]
    # s6 has no P/F → CLIF-C OF and grade missing, MELD still computed
    s6 = out[out.subject_id == "s6"].iloc[0]
    assert np.isnan(s6["clif_of"])
    assert np.isnan(s6["clif_c_aclf"])
    assert not np.isnan(s6["meld"])


def test_skips_scores_without_inputs(caplog):
    labs = pd.DataFrame(
        {
            "subject_id": ["a"],
            "visit": ["D0"],
            "bilirubin_mg_dl": [1.5],
            "inr": [1.5],
            "creatinine_mg_dl": [1.0],
        }
    )
    with caplog.at_level(logging.INFO, logger="biomarkers"):
        out = compute_scores(labs)
    assert out.attrs["scores"] == ["meld", "meld_kamath"]
    assert out.attrs["skipped_scores"]["meld_na"] == ["sodium_mmol_l"]
    assert "age" in out.attrs["skipped_scores"]["clif_c_ad"]
    assert "compute_scores skipped" in caplog.text


def test_dialysis_column_used(labs):
    lab = labs.copy()
    lab["dialysis"] = [1] + [0] * (len(lab) - 1)
    out = compute_scores(lab)
    assert out["clif_of_kidney"].iloc[0] == 3
    assert out["meld"].iloc[0] == meld(18, 2.7, 4.0)


def test_error_names_subject_and_visit(labs):
    bad = labs.copy()
    bad.loc[4, "inr"] = -1
    with pytest.raises(SchemaError, match=r"inr must be > 0; got -1\.0 at index \('s2', 'D7'\)"):
        compute_scores(bad)


def test_missing_id_columns():
    with pytest.raises(SchemaError, match="labs: required column 'visit' not found"):
        compute_scores(pd.DataFrame({"subject_id": ["a"]}))
