from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.clinical import transplant_free_survival
from biomarkers.exceptions import DataQualityWarning, SchemaError


def test_tfs90(clinical):
    o = transplant_free_survival(clinical, horizon_days=90)
    t = o.table
    assert o.name == "tfs90"
    assert o.kind == "binary"
    assert o.assessed_day == 90
    assert list(t.index) == ["s1", "s2", "s3", "s4", "s5", "s6"]
    np.testing.assert_array_equal(t["tfs90"], [1, 0, 0, np.nan, 1, 0])
    np.testing.assert_array_equal(t["event"], [0, 1, 1, 0, 0, 1])
    np.testing.assert_array_equal(t["time_days"], [90, 10, 20, 40, 90, 28])


def test_tfs28_event_on_horizon_day_and_censoring(clinical):
    t = transplant_free_survival(clinical, horizon_days=28, kind="survival").table
    # s6 died exactly on day 28 → event; s4 followed to day 40 > 28 → alive at 28
    np.testing.assert_array_equal(t["tfs28"], [1, 0, 0, 1, 1, 0])
    np.testing.assert_array_equal(t["event"], [0, 1, 1, 0, 0, 1])
    np.testing.assert_array_equal(t["time_days"], [28, 10, 20, 28, 28, 28])


def test_survival_kind_columns(clinical):
    o = transplant_free_survival(clinical, horizon_days=90, kind="survival")
    assert o.columns == ["event", "time_days"]


def test_lifelines_style_oracle_against_manual_km(clinical):
    # Kaplan-Meier from time/event must reproduce the empirical fraction when no censoring < h
    t = transplant_free_survival(clinical.drop(index=3), horizon_days=90).table
    assert t["tfs90"].mean() == pytest.approx(1 - t["event"].mean())


def test_errors(clinical):
    bad = clinical.copy()
    bad.loc[1, "death_day"] = np.nan
    with pytest.raises(SchemaError, match=r"death=1 but death_day is missing for 's2'"):
        transplant_free_survival(bad, horizon_days=90)
    bad = clinical.copy()
    bad.loc[0, "last_followup_day"] = -3
    with pytest.raises(SchemaError, match="last_followup_day is negative for 's1'"):
        transplant_free_survival(bad, horizon_days=90)
    with pytest.raises(SchemaError, match="horizon_days must be a positive whole number"):
        transplant_free_survival(clinical, horizon_days=0)
    with pytest.raises(SchemaError, match="required column 'last_followup_day'"):
        transplant_free_survival(clinical.drop(columns="last_followup_day"), horizon_days=90)


def test_no_transplant_column_warns(clinical):
    with pytest.warns(DataQualityWarning, match="no 'transplant' column"):
        t = transplant_free_survival(
            clinical.drop(columns=["transplant", "transplant_day"]), horizon_days=90
        ).table
    assert t.loc["s3", "tfs90"] == 1.0


def test_subject_index_accepted(clinical):
    t = transplant_free_survival(clinical.set_index("subject_id"), horizon_days=90).table
    assert t.index.name == "subject_id"
    assert isinstance(t, pd.DataFrame)
