"""The risk-based (PATH) step of the discover job: files in the run folder, report order."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipelines.config import load_config
from pipelines.run import run_job

pytestmark = [
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BiomarkersWarning"),
    pytest.mark.slow,  # a whole discover run (~20 s of CPU)
]


def test_risk_based_table_lands_in_the_run_and_leads_the_report(design_config):
    config = design_config("risk_internal", clinical="trial/clinical.csv")
    result = run_job(load_config(config), config_dir=config.parent)
    run_dir = result.run_dir
    for name in ("risk_based.csv", "risk_based_continuous.csv", "risk_based_interaction.csv",
                 "risk_based.json"):  # fmt: skip
        assert name in result.outputs
    groups = pd.read_csv(run_dir / "risk_based.csv", dtype={"group": str})
    # 18 subjects in the smaller arm: 3 groups of about 6 (a group needs 5 per arm)
    assert groups["group"].tolist() == ["1", "2", "3", "all"]
    assert groups["relative_measure"].iloc[0] == "odds ratio"  # 90-day transplant-free survival
    assert groups["n_treated"].iloc[:3].sum() == groups["n_treated"].iloc[3]
    params = json.loads((run_dir / "risk_based.json").read_text())["params"]
    assert params["risk"] == "internal"
    assert "blind to arm" in params["risk_model"]
    assert result.summary["predictive"]["risk_based"]["n_groups"] == 3
    assert "3 risk groups instead of 4" in (run_dir / "log.txt").read_text()
    report = (run_dir / "report.html").read_text()
    risk_at = report.index("Risk-based analysis (PATH)")
    assert risk_at < report.index("Predictive vs prognostic markers")
    assert (run_dir / "figures" / "risk_based.png").is_file()
