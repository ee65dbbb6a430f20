"""Outcome and baseline calibration of the simulated cohort against DOMAIN.md §4."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.datasets._scenarios import SCENARIOS
from biomarkers.datasets._sim_clinical import aarc_score, easl_grade, simulate_clinical
from biomarkers.io import DEFAULT_VISITS


@pytest.fixture(scope="module")
def cohort():
    clinical, labs, dosing, _latent = simulate_clinical(
        np.random.default_rng(123), 20_000, SCENARIOS["default"], DEFAULT_VISITS
    )
    return clinical, labs, dosing


def _failed_by(c: pd.DataFrame, day: int) -> pd.Series:
    return (c["death_day"].astype(float).fillna(np.inf) <= day) | (
        c["transplant_day"].astype(float).fillna(np.inf) <= day
    )


def test_28_day_mortality_by_aarc_grade(cohort):
    """AARC grade I/II/III 28-day mortality 12.7 / 44.5 / 85.9 % (Choudhury 2017), control arm."""
    c = cohort[0]
    smt = c[c["arm"] == "SMT"]
    died28 = smt["death_day"].astype(float).fillna(np.inf) <= 28
    by_grade = died28.groupby(smt["aarc_grade"]).mean()
    np.testing.assert_allclose(by_grade.loc[[1, 2, 3]], [0.127, 0.445, 0.859], atol=0.05)


def test_transplant_free_survival_by_arm(cohort):
    c = cohort[0]
    tfs90 = 1 - _failed_by(c, 90).groupby(c["arm"]).mean()
    tfs28 = 1 - _failed_by(c, 28).groupby(c["arm"]).mean()
    assert 0.45 <= tfs90["SMT"] <= 0.60
    assert tfs28["SMT"] > tfs90["SMT"]
    # MSC benefit: average HR ~0.6 -> clearly better transplant-free survival
    assert tfs90["ucMSC+SMT"] - tfs90["SMT"] > 0.05
    assert 0.01 < c["transplant"].mean() < 0.08


def test_demographics_and_baseline_labs(cohort):
    c, labs, dosing = cohort
    assert c["age"].between(18, 65).all()
    assert abs(c["age"].mean() - 44) < 1.5
    assert 0.85 < (c["sex"] == "M").mean() < 0.91
    mix = c["etiology"].value_counts(normalize=True)
    assert 0.68 < mix["alcohol"] < 0.76
    assert 0.07 < mix["MASLD"] < 0.13
    base = labs[labs["visit"] == "D0"]
    assert 15 <= base["bilirubin_mg_dl"].median() <= 22
    assert 1.9 <= base["inr"].median() <= 2.4
    assert 0.8 <= base["creatinine_mg_dl"].median() <= 1.3
    assert 129 <= base["sodium_mmol_l"].mean() <= 133
    # correlations planted per DOMAIN §4.2 (bilirubin-INR positive, creatinine-Na negative)
    assert np.corrcoef(np.log(base["bilirubin_mg_dl"]), np.log(base["inr"]))[0, 1] > 0.2
    assert np.corrcoef(np.log(base["creatinine_mg_dl"]), base["sodium_mmol_l"])[0, 1] < -0.1
    # labs improve over time in survivors
    med = labs.groupby("visit")["bilirubin_mg_dl"].median()
    assert med["D28"] < med["D0"]
    missed = 1 - dosing["given"].mean()
    assert 0.05 < missed < 0.30  # mostly deaths before the dose


def test_aarc_score_points():
    # DOMAIN.md §1.7 boundaries: middle bins closed
    assert aarc_score([14.9], [0], [1.79], [1.49], [0.69])[0] == 5
    assert aarc_score([15], [1], [1.8], [1.5], [0.7])[0] == 10
    assert aarc_score([25], [2], [2.5], [2.5], [1.5])[0] == 10
    assert aarc_score([25.1], [3], [2.51], [2.51], [1.51])[0] == 15


def test_easl_grade_rules():
    # bili, creat, he, inr, vaso, pf, dialysis
    rows = [
        ((5, 1.0, 0, 1.5, 0, 400, 0), 0),  # no organ failure
        ((13, 1.0, 0, 1.5, 0, 400, 0), 0),  # single liver failure, Cr < 1.5, no HE
        ((13, 1.6, 0, 1.5, 0, 400, 0), 1),  # single liver failure with Cr 1.5-1.9
        ((5, 2.1, 0, 1.5, 0, 400, 0), 1),  # single kidney failure
        ((13, 2.1, 0, 1.5, 0, 400, 0), 2),
        ((13, 2.1, 3, 2.6, 0, 400, 0), 3),
    ]
    got = easl_grade(*np.array([r[0] for r in rows], dtype=float).T)
    assert list(got) == [r[1] for r in rows]
