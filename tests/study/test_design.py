"""Study designs: cohort, two arms, several arms with a named comparison, allocation."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import DataQualityWarning, SchemaError
from biomarkers.io import read_clinical
from biomarkers.study import Study


def _clinical(arms) -> pd.DataFrame:
    return pd.DataFrame(
        {"subject_id": [f"S{i:03d}" for i in range(len(arms))], "arm": arms, "age": 50}
    )


def test_cohort_without_arm_column():
    s = Study(pd.DataFrame({"subject_id": ["a", "b"], "age": [40, 50]}))
    assert (s.study_design, s.arms, s.treated_arm, s.control_arm) == ("cohort", [], None, None)
    assert s.allocation is None
    assert s.treatment.isna().all()
    assert "arm" not in s.design.columns
    assert "cohort" in repr(s)
    assert s.summary().arms["role"].tolist() == ["cohort"]


def test_cohort_read_from_a_file_without_arm(tmp_path):
    path = tmp_path / "clinical.csv"
    pd.DataFrame({"subject_id": ["a", "b"], "age": [40, 50]}).to_csv(path, index=False)
    s = Study.from_files(clinical=path)
    assert s.study_design == "cohort"


def test_cohort_naming_an_arm_is_refused():
    with pytest.raises(
        SchemaError, match=r"no 'arm' column, so the study is a cohort, but the arm 'T'"
    ):
        Study(pd.DataFrame({"subject_id": ["a", "b"]}), treated_arm="T")


def test_one_arm_is_a_cohort():
    s = Study(_clinical(["A"] * 4))
    assert (s.study_design, s.arms, s.treated_arm) == ("cohort", ["A"], None)


def test_two_arms_and_treatment_indicator():
    s = Study(_clinical(["A", "B", "A", "B"]), treated_arm="A")
    assert (s.study_design, s.treated_arm, s.control_arm, s.allocation) == (
        "two_arm",
        "A",
        "B",
        0.5,
    )
    assert s.treatment.tolist() == [1.0, 0.0, 1.0, 0.0]
    s = Study(_clinical(["A", "B", "A", "B"]), control="B")  # the other arm is treated
    assert s.treated_arm == "A"


def test_several_arms_pooled_comparison(caplog):
    clin = _clinical(["A", "B", "C", "A", "B", "C"])
    s = Study(clin, treated=["A", "B"], control="C")
    assert s.study_design == "multi_arm"
    assert (s.treated_arm, s.control_arm) == ("A+B", "C")
    assert s.treated_arms == ["A", "B"]
    assert s.allocation == pytest.approx(2 / 3)
    assert s.treatment.tolist() == [1.0, 1.0, 0.0, 1.0, 1.0, 0.0]
    with caplog.at_level(logging.INFO, logger="biomarkers"):
        s = Study(clin, treated="A", control="C")
    assert s.treatment.isna().tolist() == [False, True, False, False, True, False]
    assert "2 subject(s) in arms outside the comparison A vs C" in caplog.text
    assert set(s.summary().arms.set_index("arm")["role"].items()) == {
        ("A", "treated"),
        ("B", "other"),
        ("C", "control"),
    }


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, r"3 arms \('A', 'B', 'C'\); name the comparison with treated= and control="),
        ({"treated": "A"}, "3 arms"),
        ({"treated_arm": "A", "control_arm": "C"}, "3 arms"),
        ({"treated": "A", "control": ["A", "C"]}, "both 'A'"),
        ({"treated": "X", "control": "C"}, r"treated='X' is not an arm"),
        ({"treated": "A", "treated_arm": "A", "control": "C"}, "not both"),
        ({"treated": "A", "control": "C", "allocation": 1.5}, "between 0 and 1"),
    ],
)
def test_several_arms_refusals(kwargs, match):
    with pytest.raises(SchemaError, match=match):
        Study(_clinical(["A", "B", "C"] * 2), **kwargs)


def _trial(n_treated: int, n_control: int) -> pd.DataFrame:
    return _clinical(["T"] * n_treated + ["C"] * n_control)


def test_allocation_mismatch_warns_with_both_numbers():
    with pytest.warns(
        DataQualityWarning,
        match=r"allocation 0\.5 assumed \(equal allocation\) for 'T', but 150 of 200 subjects \(75\.0%\)",
    ):
        Study(_trial(150, 50), treated_arm="T")


def test_allocation_given_matches_the_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = Study(_trial(150, 50), treated_arm="T", allocation=0.75)
    assert s.allocation == 0.75
    with pytest.warns(DataQualityWarning, match=r"allocation 0\.75 given"):
        Study(_trial(100, 100), treated_arm="T", allocation=0.75)


def test_allocation_within_chance_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Study(_trial(110, 90), treated_arm="T")  # binomial p = 0.18


def test_from_config_design_keys(data_dir):
    config = {
        "clinical": "clinical.csv",
        "treated": ["ucMSC+SMT"],
        "control": "SMT",
        "allocation": 0.5,
    }
    s = Study.from_config(config, base_dir=data_dir)
    assert (s.treated_arm, s.control_arm, s.study_design) == ("ucMSC+SMT", "SMT", "two_arm")


def test_simulated_trial_unchanged(data_dir):
    s = Study(read_clinical(data_dir / "clinical.csv"))
    assert (s.treated_arm, s.control_arm, s.allocation) == ("ucMSC+SMT", "SMT", 0.5)
    assert np.array_equal(s.treatment.to_numpy(), [1.0, 0.0, 1.0, 0.0])


def test_with_comparison_pairwise():
    s = Study(_clinical(["A", "B", "C"] * 4), treated=["A", "B"], control="C")
    pairs = [s.with_comparison(treated=a, control="C") for a in ("A", "B")]
    assert [(p.treated_arm, p.control_arm, p.allocation) for p in pairs] == [
        ("A", "C", 0.5),
        ("B", "C", 0.5),
    ]
    t = pairs[1].treatment.iloc[:3]
    assert np.isnan(t.iloc[0])
    assert t.iloc[1:].tolist() == [1.0, 0.0]
    assert s.treated_arm == "A+B"  # the original is unchanged
    assert pairs[0].clinical is s.clinical
