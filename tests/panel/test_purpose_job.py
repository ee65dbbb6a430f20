"""panel.purpose in the discover job: what each purpose exports, and what it refuses."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from biomarkers._names import known_at_day
from biomarkers.exceptions import ConfigError
from pipelines.config import load_config
from pipelines.run import run_job

pytestmark = [
    pytest.mark.filterwarnings("ignore::biomarkers.exceptions.BiomarkersWarning"),
]

CONFIG = """
pipeline: discover
name: {name}
output: runs
data:
  clinical: {clinical}
  labs: trial/labs.csv
  samples: trial/samples.csv
  cytokines:
    cytokines: {{path: trial/cytokines_long.csv}}
outcome: {{kind: transplant_free_survival, horizon_days: 90}}
features: {{visits: [D0, D7], blocks: {{cytokines: true}}}}
models: {{models: [enet], n_splits: 3, n_repeats: 1, inner_cv: 2, n_permutations: 0, n_bootstraps: 0}}
predictive: {{enabled: false}}
early_response: {{enabled: false}}
mediation: {{enabled: false}}
panel: {panel}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    from biomarkers.datasets import simulate_trial

    root = tmp_path_factory.mktemp("purpose")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simulate_trial(root / "trial", n_subjects=60, seed=2, cells_per_sample=0, tenx_samples=0)
    clinical = pd.read_csv(root / "trial" / "clinical.csv", dtype={"subject_id": str})
    (root / "cohort").mkdir()
    clinical.drop(columns="arm").to_csv(root / "cohort" / "clinical.csv", index=False)
    return root


def _run(folder: Path, name: str, panel: str, clinical: str = "trial/clinical.csv"):
    path = folder / f"{name}.yaml"
    path.write_text(CONFIG.format(name=name, clinical=clinical, panel=panel))
    result = run_job(load_config(path), config_dir=folder)
    doc = json.loads((result.run_dir / "panel" / "panel.json").read_text())
    eligibility = pd.read_csv(result.run_dir / "panel" / "eligibility.csv")
    card = (result.run_dir / "panel" / "panel_card.md").read_text()
    return doc, eligibility.set_index("feature"), card


def test_prognosis_panel_states_its_arms_and_skips_mostly_censored_markers(folder):
    doc, eligibility, card = _run(folder, "prognosis", "{k: 8, min_stability: 0}")
    assert doc["purpose"] == {"kind": "prognosis", "arms": ["SMT", "ucMSC+SMT"]}
    assert "fitted on SMT and ucMSC+SMT" in card
    censored = eligibility.index[eligibility["censored_share"] > 0.5].tolist()
    assert censored  # the simulated IFN-γ / IL-17A are mostly below their LOD
    names = [f["name"] for f in doc["features"]]
    assert not set(names) & set(censored)
    assert set(names) <= set(eligibility.index[eligibility["eligible"]])


def test_treatment_selection_panel_uses_baseline_markers_fitted_for_benefit(folder):
    doc, eligibility, card = _run(
        folder, "selection", "{purpose: treatment_selection, k: 3, min_benefit: 0.1}"
    )
    assert doc["purpose"]["kind"] == "treatment_selection"
    assert doc["purpose"]["decision"] == "treat with ucMSC+SMT if the predicted benefit is ≥ 0.1"
    names = [f["name"] for f in doc["features"]]
    assert 1 <= len(names) <= 3
    assert all(known_at_day(n) <= 0 for n in names)  # no @D7, no @D7-D0
    assert (eligibility["known_at_day"] > 0).any()  # there were on-treatment candidates
    assert doc["threshold"]["value"] == 0.1
    assert "Treatment selection" in card


def test_early_response_panel_is_a_landmark_panel(folder):
    doc, _, card = _run(folder, "early", "{purpose: early_response, k: 5, min_stability: 0}")
    assert doc["purpose"]["kind"] == "early_response"
    assert doc["purpose"]["landmark_day"] == 7
    assert doc["population"]["landmark_day"] == 7
    assert "A D7 panel: for patients alive and event-free at D7" in card


def test_treatment_selection_is_refused_for_a_cohort(folder):
    path = folder / "cohort_sel.yaml"
    path.write_text(
        CONFIG.format(
            name="cohort_sel",
            clinical="cohort/clinical.csv",
            panel="{purpose: treatment_selection}",
        )
    )
    with pytest.raises(ConfigError, match=r"treatment_selection needs one comparison of two"):
        run_job(load_config(path), config_dir=folder)


def test_early_response_is_refused_without_an_on_treatment_landmark(folder):
    path = folder / "early_d0.yaml"
    text = CONFIG.format(
        name="early_d0", clinical="trial/clinical.csv", panel="{purpose: early_response}"
    )
    path.write_text(text.replace("visits: [D0, D7]", "visits: [D0]"))
    with pytest.raises(ConfigError, match=r"early_response needs an on-treatment landmark"):
        run_job(load_config(path), config_dir=folder)


def test_prognosis_panel_exports_from_baseline_features_only(folder):
    """No on-treatment landmark is needed for a prognosis panel (the early-response check is not run)."""
    path = folder / "prog_d0.yaml"
    text = CONFIG.format(
        name="prog_d0", clinical="trial/clinical.csv", panel="{purpose: prognosis}"
    )
    path.write_text(text.replace("visits: [D0, D7]", "visits: [D0]"))
    result = run_job(load_config(path), config_dir=folder)
    doc = json.loads((result.run_dir / "panel" / "panel.json").read_text())
    assert doc["purpose"]["kind"] == "prognosis"
    names = [f["name"] for f in doc["features"]]
    assert names
    assert all(known_at_day(name) <= 0 for name in names)
