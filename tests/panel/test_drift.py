"""Drift of a new cohort against a panel's stored training summaries (issue 25)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from biomarkers.panel import BiomarkerPanel, panel_drift


def test_offset_marker_is_named(phase3_panel, cohort):
    report = panel_drift(phase3_panel, cohort(600, seed=1, offset=1.5), lot_key="assay_lot")
    assert report.flagged[0] == "cytokine:IL6@D0"
    assert report.flagged == ["cytokine:IL6@D0"]
    row = report.markers.set_index("feature").loc["cytokine:IL6@D0"]
    assert row["median_shift_sd"] == pytest.approx(0.75, abs=0.25)  # half the cohort shifted 1.5
    lots = report.lots[report.lots["flagged"]]
    assert lots[["lot", "feature"]].values.tolist() == [["L2", "cytokine:IL6@D0"]]
    assert report.lots.set_index(["lot", "feature"]).loc[
        ("L2", "cytokine:IL6@D0"), "median_shift_sd"
    ] == pytest.approx(1.5, abs=0.25)
    assert report.case_mix["membership_auroc"] > 0.6


def test_no_drift_in_the_development_distribution(phase3_panel, cohort):
    report = panel_drift(phase3_panel, cohort(600, seed=2), lot_key="assay_lot")
    assert report.flagged == []
    assert not report.lots["flagged"].any()
    assert report.case_mix["ci_low"] < 0.5 + 0.07
    assert abs(report.case_mix["membership_auroc"] - 0.5) < 0.07


def test_units_missingness_and_range_are_reported(phase3_panel, cohort):
    df = cohort(400, seed=3)
    df.loc[df.index[:80], "cytokine:IL8@D0"] = np.nan
    df["clinical:meld@D0"] *= 3.0
    df.attrs["units"] = {"cytokine:IL6@D0": "ng/mL"}
    m = panel_drift(phase3_panel, df).markers.set_index("feature")
    assert not m.loc["cytokine:IL6@D0", "unit_match"]
    assert "unit ng/mL (panel pg/mL)" in m.loc["cytokine:IL6@D0", "reason"]
    assert m.loc["cytokine:IL8@D0", "missing_share_new"] == pytest.approx(0.2)
    assert "missing share +20%" in m.loc["cytokine:IL8@D0", "reason"]
    assert m.loc["clinical:meld@D0", "iqr_ratio"] == pytest.approx(3.0, rel=0.2)
    assert m.loc["clinical:meld@D0", "outside_range_share"] > 0.1
    assert m["flagged"].all()


def test_export_stores_training_quantiles(clean_trial):
    df, y = clean_trial
    names = ["cytokine:IL6@D0", "cytokine:TNF@D0"]
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(df[names], y)
    panel = BiomarkerPanel.from_estimator(pipe, X=df[names], threshold=None)
    training = panel.to_dict()["features"][0]["training"]
    x = df[names[0]].to_numpy()
    assert np.allclose(training["quantiles"], np.quantile(x, np.linspace(0, 1, 21)))
    assert training["sd"] == pytest.approx(np.std(x, ddof=1))
    assert training["mean"] == pytest.approx(x.mean())
    # and drift of the training data itself against them is nil
    report = panel_drift(panel, pd.DataFrame(df[names]))
    assert report.flagged == []
    assert np.allclose(report.markers["median_shift_sd"], 0.0, atol=1e-12)
