from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from biomarkers.clinical import eligibility
from biomarkers.clinical._eligibility import load_protocol
from biomarkers.exceptions import ConfigError, DataQualityWarning, InputFileError, SchemaError

REPO = Path(__file__).resolve().parents[2]
FLAGS = [
    "consent",
    "sepsis",
    "hvoto",
    "ehpvo",
    "hcc_beyond_milan",
    "active_bleed",
    "hiv",
    "hbsag",
    "anti_hcv",
    "ckd",
    "multiorgan_failure",
    "dic",
    "improving_on_smt",
    "immunosuppressants",
    "pregnant",
    "breastfeeding",
    "severe_cardiopulmonary_disease",
]


@pytest.fixture
def cohort():
    """One clean subject, then one subject failing each criterion, plus not-evaluable cases."""
    base = dict.fromkeys(FLAGS, False)
    base.update(consent=True, age=45, etiology="alcohol", norepinephrine_ug_kg_min=0.1)
    changes = {
        "clean": {},
        "old": {"age": 66},
        "young": {"age": 17},
        "no_consent": {"consent": False},
        "sepsis": {"sepsis": "yes"},
        "ehpvo": {"ehpvo": 1},
        "hcc": {"hcc_beyond_milan": True},
        "bleed": {"active_bleed": True},
        "norepi": {"norepinephrine_ug_kg_min": 0.6},
        "hbv": {"hbsag": True},
        "aih": {"etiology": "Autoimmune Hepatitis"},
        "viral": {"etiology": "HEV"},
        "ckd": {"ckd": True},
        "dic": {"dic": True},
        "improving": {"improving_on_smt": True},
        "immuno": {"immunosuppressants": True},
        "pregnant": {"breastfeeding": True},
        "cardio": {"severe_cardiopulmonary_disease": True},
        "age_missing": {"age": np.nan},
        "hiv_missing_but_hcv": {"hiv": None, "anti_hcv": True},
        "hiv_missing": {"hiv": None},
    }
    clin = pd.DataFrame([{**base, **c, "subject_id": sid} for sid, c in changes.items()])
    labs = pd.DataFrame(
        {
            "subject_id": list(changes) * 2,
            "visit": ["D0"] * len(changes) + ["D7"] * len(changes),
            "platelets_10e9_l": 80.0,
            "inr": 2.0,
            "pao2_fio2": 350.0,
        }
    )
    d0 = labs.visit == "D0"
    labs.loc[d0 & (labs.subject_id == "clean"), "platelets_10e9_l"] = 20.0  # boundary: not < 20
    labs.loc[d0 & (labs.subject_id == "clean"), "inr"] = 4.0  # boundary: not > 4
    labs.loc[d0 & (labs.subject_id == "clean"), "pao2_fio2"] = 150.0  # boundary: not < 150
    labs.loc[d0 & (labs.subject_id == "old"), "platelets_10e9_l"] = 19.0
    labs.loc[d0 & (labs.subject_id == "young"), "pao2_fio2"] = 149.0
    labs.loc[d0 & (labs.subject_id == "sepsis"), "inr"] = 4.1
    labs.loc[~d0, "inr"] = 9.0  # D7 values must not be used
    return clin, labs


def test_each_criterion(cohort):
    clin, labs = cohort
    out = eligibility(clin, labs)
    assert out.attrs["protocol"] == "nct07131306"
    assert out.loc["clean", "eligible"]
    assert out.loc["clean", "failed"] == []
    assert out.loc["clean", "not_evaluable"] == []
    expected = {
        "old": {"age_18_65", "severe_coagulopathy"},
        "young": {"age_18_65", "pao2_fio2_lt_150"},
        "no_consent": {"informed_consent"},
        "sepsis": {"active_sepsis", "severe_coagulopathy"},
        "ehpvo": {"hvoto_ehpvo"},
        "hcc": {"hcc_beyond_milan"},
        "bleed": {"active_bleed"},
        "norepi": {"high_norepinephrine"},
        "hbv": {"hiv_hbv_hcv"},
        "aih": {"autoimmune_hepatitis"},
        "viral": {"viral_etiology"},
        "ckd": {"chronic_kidney_disease"},
        "dic": {"multiorgan_failure_dic"},
        "improving": {"improving_on_smt"},
        "immuno": {"immunosuppressants"},
        "pregnant": {"pregnancy_breastfeeding"},
        "cardio": {"severe_cardiopulmonary_disease"},
        "hiv_missing_but_hcv": {"hiv_hbv_hcv"},  # any() with one true part fails despite NA
    }
    for sid, failed in expected.items():
        assert set(out.loc[sid, "failed"]) == failed, sid
        assert out.loc[sid, "eligible"] is False or not out.loc[sid, "eligible"], sid
    # not evaluable, nothing failed → NA, never silently passed
    assert pd.isna(out.loc["age_missing", "eligible"])
    assert out.loc["age_missing", "not_evaluable"] == ["age_18_65"]
    assert out.loc["hiv_missing", "not_evaluable"] == ["hiv_hbv_hcv"]
    assert pd.isna(out.loc["hiv_missing", "eligible"])
    assert out["eligible"].dtype == "boolean"
    assert out.attrs["status"].loc["old", "age_18_65"] == "fail"


def test_missing_columns_warn_once_and_are_not_evaluable(cohort):
    clin, labs = cohort
    with pytest.warns(
        DataQualityWarning, match=r"column\(s\) norepinephrine_ug_kg_min, ckd not in the data"
    ) as rec:
        out = eligibility(clin.drop(columns=["ckd", "norepinephrine_ug_kg_min"]), labs)
    assert len(rec) == 1
    assert pd.isna(out.loc["clean", "eligible"])
    assert set(out.loc["clean", "not_evaluable"]) == {
        "chronic_kidney_disease",
        "high_norepinephrine",
    }
    assert not out.loc["hcc", "eligible"]  # a failure still decides


def test_without_labs_lab_criteria_not_evaluable(cohort):
    clin, _ = cohort
    with pytest.warns(DataQualityWarning, match="platelets_10e9_l, inr, pao2_fio2"):
        out = eligibility(clin)
    assert {"severe_coagulopathy", "pao2_fio2_lt_150"} <= set(out.loc["clean", "not_evaluable"])


def test_protocol_sources_agree(tmp_path):
    bundled = load_protocol("nct07131306")
    config_copy = yaml.safe_load((REPO / "configs" / "protocols" / "nct07131306.yaml").read_text())
    assert bundled == config_copy
    path = tmp_path / "p.yaml"
    shutil.copy(REPO / "configs" / "protocols" / "nct07131306.yaml", path)
    assert load_protocol(path) == bundled
    assert load_protocol(str(path)) == bundled


def test_dict_protocol_operators():
    rules = {
        "criteria": [
            {
                "name": "ok_sodium",
                "type": "inclusion",
                "condition": {"all": [{"column": "na", ">=": 125}, {"column": "na", "!=": 130}]},
            },
            {"name": "male", "type": "exclusion", "condition": {"column": "sex", "==": 1}},
        ]
    }
    clin = pd.DataFrame(
        {"subject_id": ["a", "b", "c", "d"], "na": [135, 130, 120, np.nan], "sex": [0, 0, 0, 1]}
    )
    out = eligibility(clin, protocol=rules)
    assert out["eligible"].tolist() == [True, False, False, False]
    assert out.loc["d", "not_evaluable"] == ["ok_sodium"]


@pytest.mark.parametrize(
    ("protocol", "error", "match"),
    [
        (
            "nct0713130",
            ConfigError,
            "protocol 'nct0713130' is not bundled; did you mean 'nct07131306'",
        ),
        ("missing/file.yaml", InputFileError, "protocol file missing/file.yaml not found"),
        ({"criteria": []}, ConfigError, "'criteria' must be a non-empty list"),
        ({"critera": [1]}, ConfigError, "unknown key 'critera'; did you mean 'criteria'"),
        (
            {
                "criteria": [
                    {"name": "x", "type": "inclusive", "condition": {"column": "a", "is": True}}
                ]
            },
            ConfigError,
            "type: 'inclusive' is not allowed; allowed: inclusion, exclusion",
        ),
        (
            {
                "criteria": [
                    {"name": "x", "type": "inclusion", "condition": {"column": "a", "=>": 3}}
                ]
            },
            ConfigError,
            "operator '=>' is not allowed",
        ),
        (
            {
                "criteria": [
                    {"name": "x", "type": "inclusion", "condition": {"column": "a", "between": [1]}}
                ]
            },
            ConfigError,
            r"between: needs \[low, high\]",
        ),
        (
            {
                "criteria": [
                    {"name": "x", "type": "inclusion", "condition": {"column": "a", "is": "yes"}}
                ]
            },
            ConfigError,
            "is: needs true or false",
        ),
        (
            {"criteria": [{"name": "x", "type": "inclusion"}]},
            ConfigError,
            "required key 'condition' is missing",
        ),
    ],
)
def test_bad_protocols(protocol, error, match):
    clin = pd.DataFrame({"subject_id": ["a"], "a": [1]})
    with pytest.raises(error, match=match):
        eligibility(clin, protocol=protocol)


def test_bad_data(cohort):
    clin, labs = cohort
    bad = clin.copy()
    bad["age"] = bad["age"].astype(object)
    bad.loc[0, "age"] = "forty"
    with pytest.raises(
        SchemaError, match="column 'age': non-numeric value 'forty' for subject 'clean'"
    ):
        eligibility(bad, labs)
    dup = pd.concat([labs, labs.iloc[[0]]])
    with pytest.raises(SchemaError, match="several rows at visit 'D0' for 'clean'"):
        eligibility(clin, dup)
