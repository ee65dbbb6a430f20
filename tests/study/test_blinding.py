from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.study import Study, blind_study, dummy_randomisation


def _trial(n: int = 40, seed: int = 0) -> tuple[pd.Series, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    index = pd.Index([f"S{i:02d}" for i in range(n)], name="subject_id")
    strata = pd.DataFrame(
        {"sex": rng.choice(["F", "M"], n), "site": rng.choice(["a", "b", "c"], n)}, index=index
    )
    arm = pd.Series(rng.choice(["ucMSC+SMT", "SMT"], n), index=index, name="arm")
    return arm, strata


def test_dummy_randomisation_keeps_arm_sizes_per_stratum():
    arm, strata = _trial()
    dummy = dummy_randomisation(arm, strata=strata, seed=4)
    keys = [strata["sex"], strata["site"]]
    assert (
        dummy.groupby(keys)
        .value_counts()
        .sort_index()
        .equals(arm.groupby(keys).value_counts().sort_index())
    )
    assert dummy.index.equals(arm.index)
    assert dummy.name == "arm"
    assert not dummy.equals(arm)


def test_dummy_randomisation_is_deterministic_for_a_seed():
    arm, strata = _trial()
    first = dummy_randomisation(arm, strata=strata, seed=7)
    assert first.equals(dummy_randomisation(arm, strata=strata, seed=7))
    assert not first.equals(dummy_randomisation(arm, strata=strata, seed=8))


def test_dummy_randomisation_is_never_the_real_allocation():
    # two subjects, one stratum: half the permutations are the real allocation, all redrawn
    arm = pd.Series(["A", "B"], index=["s1", "s2"], name="arm")
    for seed in range(20):
        assert dummy_randomisation(arm, seed=seed).tolist() == ["B", "A"]


def test_strata_that_determine_the_arm_are_refused():
    arm, _ = _trial(10)
    with pytest.raises(SchemaError, match="every stratum holds subjects of one arm"):
        dummy_randomisation(arm, strata=arm.rename("stratum"), seed=0)


def test_bad_seed_and_misaligned_strata_are_refused():
    arm, strata = _trial(10)
    with pytest.raises(ConfigError, match="integer >= 0"):
        dummy_randomisation(arm, seed=-1)
    with pytest.raises(SchemaError, match="index does not match"):
        dummy_randomisation(arm, strata=strata.iloc[::-1], seed=0)


def _study() -> Study:
    arm, strata = _trial(12)
    clinical = strata.assign(arm=arm).reset_index()
    samples = pd.DataFrame(
        {"sample_id": [f"{s}_D0" for s in arm.index], "subject_id": arm.index, "visit": "D0"}
    )
    tidy = pd.DataFrame(
        {
            "sample_id": samples["sample_id"],
            "analyte": "IL6",
            "value": np.arange(12.0),
            "censor": "ok",
        }
    )
    return Study(clinical, samples=samples, assays={"cytokines": tidy})


def test_blind_study_changes_every_view_of_the_arm():
    study = _study()
    real = study.clinical["arm"].copy()
    blinded = blind_study(study, seed=2, strata=["sex"])
    dummy = blinded.clinical["arm"]
    assert not dummy.equals(real)
    assert study.clinical["arm"].equals(real)  # the input is not changed
    assert dummy.value_counts().equals(real.value_counts())
    assert blinded.treatment.equals((dummy == "ucMSC+SMT").astype(float).rename("treatment"))
    assert blinded.design["arm"].tolist() == dummy.tolist()
    obs = blinded.assays["cytokines"].obs
    assert obs["arm"].tolist() == obs["subject_id"].map(dummy).tolist()
    assert (blinded.treated_arm, blinded.control_arm) == (study.treated_arm, study.control_arm)


def test_blind_study_refuses_unknown_strata_and_cohorts():
    study = _study()
    with pytest.raises(SchemaError, match=r"study\.strata: column 'centre' is not in the clinical"):
        blind_study(study, strata=["centre"])
    cohort = Study(study.clinical.drop(columns="arm").reset_index())
    with pytest.raises(ConfigError, match="cohort"):
        blind_study(cohort)
