"""The score job rebuilds the visits a panel's features name, through the grammar."""

from __future__ import annotations

import types

import pytest

from biomarkers.exceptions import SchemaError
from pipelines.score import _panel_visits

VISITS = {"D0": 0, "D7": 7, "D14": 14, "D28": 28}


def test_panel_visits_of_values_changes_slopes_and_covariates():
    panel = types.SimpleNamespace(
        features=[
            "cytokine:IL6@D7-D0",
            "olink:IL10@slope(D0..D14)",
            "flow:Treg@auc(D0..D7)",
            "pseudobulk:CD4_T:FOXP3@D0",
            "meld",  # a forced covariate: no visit
        ]
    )
    assert _panel_visits(panel, VISITS) == ["D0", "D7", "D14"]


def test_panel_visits_outside_the_schedule_are_named():
    panel = types.SimpleNamespace(features=["cytokine:IL6@slope(D0..D90)"])
    with pytest.raises(SchemaError, match=r"needs visits \['D90'\]"):
        _panel_visits(panel, VISITS)
