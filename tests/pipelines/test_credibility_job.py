"""The discover job writes the shrunk interactions and the credibility card (~60 s: slow)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipelines.config import load_config
from pipelines.run import run_job
from tests.pipelines.conftest import DISCOVER

pytestmark = [
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BiomarkersWarning"),
]


@pytest.mark.slow
def test_discover_writes_shrunk_columns_and_credibility_csv(designs):
    config = DISCOVER.format(name="credibility", clinical="trial/clinical.csv").replace(
        "predictive: {n_permutations: 2, n_bootstraps: 0, method: [interaction, dr_learner], "
        "covariates: [age, sex]}",
        "predictive: {n_permutations: 0, n_bootstraps: 0, method: [interaction], "
        "shrinkage: horseshoe, prespecified: {'cytokine:IL6@D0': higher}, "
        "related_outcomes: [{kind: transplant_free_survival, horizon_days: 28, name: tfs28}]}",
    )
    path = designs / "credibility.yaml"
    path.write_text(config)
    result = run_job(load_config(path), config_dir=path.parent)
    markers = pd.read_csv(result.run_dir / "predictive_markers.csv")
    shrunk = ["interaction_shrunk", "interaction_shrunk_ci_low", "interaction_shrunk_ci_high"]
    assert set(shrunk) <= set(markers.columns)
    ok = markers["status"] == "ok"
    assert markers.loc[ok, shrunk].notna().all().all()
    params = json.loads((result.run_dir / "uplift.json").read_text())["params"]
    assert params["shrinkage"] == "horseshoe"
    assert params["shrinkage_method"] in ("horseshoe", "eb")  # eb below 10 markers
    card = pd.read_csv(result.run_dir / "credibility.csv")
    assert "credibility.csv" in result.outputs
    row = card.set_index("marker").loc["cytokine:IL6@D0"]
    assert row["prespecified"] == "yes"
    assert row["n_related_outcomes"] == 1
    assert row["evidence"] == "hypothesis-generating"
    assert row["rating"] in ("very low", "low", "moderate")
