from __future__ import annotations

import re

import numpy as np
import pandas as pd

from biomarkers.models import benefit_calibration, heterogeneity_test, rank_average_treatment_effect
from biomarkers.report import write_report
from biomarkers.report._heterogeneity import checks_table


def _tables():
    rng = np.random.default_rng(0)
    n = 120
    X = rng.normal(size=(n, 3))
    arm = np.arange(n) % 2
    y = X[:, 0] + arm * X[:, 1] + rng.normal(size=n)
    cate, phi = X[:, 1], X[:, 1] + rng.normal(size=n)
    rate, toc = rank_average_treatment_effect(cate, phi, np.arange(n) % 5, n_bootstraps=20)
    calib = benefit_calibration(cate, phi, arm, y=y).assign(learner="dr_learner")
    test = heterogeneity_test(X, y, arm, kind="continuous", n_repeats=1)
    return rate.assign(learner="dr_learner"), toc.assign(learner="dr_learner"), calib, test


def test_checks_table_has_one_row_per_check():
    rate, _, calib, test = _tables()
    table = checks_table(rate, calib, test)
    assert list(table["check"]) == [
        "RATE (AUTOC)", "RATE (QINI)", "calibration intercept (ideal 0, two-sided p)",
        "calibration slope (ideal 1)", "nested CV: squared_error gain",
    ]  # fmt: skip
    assert table["p (one-sided)"].iloc[0] == rate["p_value"].iloc[0]
    assert table["estimate"].iloc[-1] == test["difference"].iloc[0]


def _markers(run):
    pd.DataFrame(
        {"marker": ["cytokine:IL6@D0"], "interaction": [0.2], "ci_low": [-0.1], "ci_high": [0.5],
         "p_interaction": [0.3], "label": ["neither"]}
    ).to_csv(run / "predictive_markers.csv", index=False)  # fmt: skip


def test_report_shows_the_checks_after_the_qini_part(fake_run):
    _markers(fake_run)
    rate, toc, calib, test = _tables()
    for name, df in (("rate", rate), ("toc", toc), ("benefit_calibration", calib),
                     ("heterogeneity_test", test)):  # fmt: skip
        df.to_csv(fake_run / f"{name}.csv", index=False)
    html = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", write_report(fake_run).read_text())
    assert "Is the heterogeneity actionable?" in html
    assert "RATE (AUTOC)" in html
    assert "hypothesis-generating" in html
    assert html.index("Predictive vs prognostic") < html.index("Is the heterogeneity actionable?")
    assert (fake_run / "figures" / "benefit_calibration.png").is_file()
    assert (fake_run / "figures" / "toc.png").is_file()


def test_report_without_the_tables_has_no_such_part(fake_run):
    _markers(fake_run)
    html = write_report(fake_run).read_text()
    assert "Is the heterogeneity actionable?" not in html
