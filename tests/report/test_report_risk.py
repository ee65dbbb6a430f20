"""The risk-based (PATH) section: rendered from the run's files, before the marker tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.models import risk_based
from biomarkers.report import write_report


@pytest.fixture
def risk_run(fake_run):
    rng = np.random.default_rng(3)
    n = 160
    df = pd.DataFrame({"arm": np.repeat(["ucMSC+SMT", "SMT"], n // 2),
                       "clinical:meld@D0": rng.normal(25, 6, n)})  # fmt: skip
    lin = -4 + 0.15 * df["clinical:meld@D0"] - 0.7 * (df["arm"] == "ucMSC+SMT")
    df["tfs90"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    risk_based(df, outcome="tfs90", arm="arm", treated="ucMSC+SMT", risk="meld").save(fake_run)
    pd.DataFrame(
        {"marker": ["cytokine:IL6@D0"], "interaction": [0.2], "ci_low": [-0.1], "ci_high": [0.5],
         "p_interaction": [0.3], "q_value_interaction": [0.3], "label": ["neither"]}
    ).to_csv(fake_run / "predictive_markers.csv", index=False)  # fmt: skip
    return fake_run


def test_risk_section_comes_before_the_predictive_markers(risk_run):
    html = write_report(risk_run).read_text()
    assert html.index('id="risk-based"') < html.index('id="predictive"')
    section = html.split('id="risk-based"')[1].split("</section>")[0]
    assert "pre-specified baseline score clinical:meld@D0" in section
    assert "risk difference (95% CI)" in section
    assert "odds ratio (95% CI)" in section
    assert "Risk × treatment interaction, relative scale" in section
    assert "Discrimination of the baseline risk (the score): AUROC" in section
    assert "<a href='risk_based.csv'>risk_based.csv</a>" in section
    assert (risk_run / "figures" / "risk_based.png").is_file()
