from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.clinical import analysis_sets
from biomarkers.exceptions import DataQualityWarning, SchemaError


@pytest.fixture
def dosing() -> pd.DataFrame:
    rows = []
    # s1: all 4 given; s3: 2 given (transplanted day 20); s5: none given
    for sid, given in (("s1", [1, 1, 1, 1]), ("s3", [1, 1, 0, 0]), ("s5", [0, 0, 0, 0])):
        for k, g in enumerate(given, start=1):
            rows.append(
                {
                    "subject_id": sid,
                    "dose_number": k,
                    "planned_day": 7 * (k - 1),
                    "day": 7 * (k - 1) if g else np.nan,
                    "given": g,
                    "cells_per_kg": 1e6,
                }
            )
    return pd.DataFrame(rows)


def test_sets(clinical, dosing):
    clin = clinical.copy()
    clin["randomisation_day"] = [0, 0, 0, 0, 0, np.nan]  # s6 never randomised
    out = analysis_sets(clin, dosing)
    assert out.index.tolist() == ["s1", "s2", "s3", "s4", "s5", "s6"]
    assert out["n_infusions_given"].tolist() == [4, 0, 2, 0, 0, 0]
    assert out["itt"].tolist() == [True, True, True, True, True, False]
    # treated: all 4 infusions; control: completed 90 days or died/transplanted (s2 died; s4 lost at 40)
    assert out["per_protocol"].tolist() == [True, True, False, False, False, False]
    # treated: ≥1 infusion; control: everyone randomised
    assert out["safety"].tolist() == [True, True, True, True, False, False]
    assert out["itt"].dtype == bool


def test_duplicate_dose_rows_count_once(clinical, dosing):
    twice = pd.concat([dosing, dosing[dosing.subject_id == "s3"]])
    assert analysis_sets(clinical, twice).loc["s3", "n_infusions_given"] == 2


def test_errors_and_warnings(clinical, dosing):
    with pytest.raises(
        SchemaError, match=r"treated_arm 'MSC' is not an arm.*arms: ucMSC\+SMT, SMT"
    ):
        analysis_sets(clinical, dosing, treated_arm="MSC")
    bad = pd.concat(
        [dosing, pd.DataFrame({"subject_id": ["zz"], "dose_number": [1], "given": [1]})]
    )
    with pytest.raises(SchemaError, match="dosing: subject_id not in the clinical table: 'zz'"):
        analysis_sets(clinical, bad)
    with pytest.raises(SchemaError, match="dosing: required column 'given' not found"):
        analysis_sets(clinical, dosing.drop(columns="given"))
    ctrl = pd.concat(
        [dosing, pd.DataFrame({"subject_id": ["s2"], "dose_number": [1], "given": [1]})]
    )
    with pytest.warns(DataQualityWarning, match="given to subjects not in 'ucMSC\\+SMT': 's2'"):
        out = analysis_sets(clinical, ctrl)
    assert out.loc["s2", "per_protocol"]
