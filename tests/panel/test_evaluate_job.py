"""End to end: a panel from the simulated trial, evaluated on a simulated Phase-III cohort.

``biomarkers simulate --cohort phase3`` draws the second cohort (three arms, new sites, an assay
lot reading IL-6 high); ``biomarkers evaluate PANEL --config ... --update`` reads it from raw
files like ``score --config``, names the offset marker and lot, and writes an updated panel whose
lineage verifies.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

from biomarkers.clinical import outcome_from_rule
from biomarkers.datasets import simulate_trial
from biomarkers.exceptions import BelowDetectionLimitWarning
from biomarkers.features import build_feature_table
from biomarkers.panel import BiomarkerPanel
from biomarkers.study import Study
from pipelines.cli import app

pytestmark = pytest.mark.slow

VISITS = {"D0": 0, "D7": 7, "D14": 14, "D21": 21, "D28": 28, "D90": 90}
MARKERS = ["cytokine:IL-6@D0", "cytokine:IL-8@D0", "cytokine:IL-10@D0"]
RULE = {"kind": "transplant_free_survival", "horizon_days": 90}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("phase3")
    dev = simulate_trial(root / "dev", n_subjects=120, seed=0, cells_per_sample=0)
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "simulate", "--cohort", "phase3", "--seed", "1", "--subjects", "160",
            "--cells-per-sample", "0", "--out", str(root / "data" / "phase3"), "-q",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    study = Study.from_files(
        clinical=dev.paths["clinical"], labs=dev.paths["labs"], samples=dev.paths["samples"],
        cytokines={"cytokines": {"path": dev.paths["luminex_xponent"], "format": "auto"}},
        visits=VISITS,
    )  # fmt: skip
    with pytest.warns(BelowDetectionLimitWarning, match="censored values"):
        table = build_feature_table(study, visits=["D0"])
    outcome = outcome_from_rule(RULE, clinical=study.clinical, labs=study.labs, visits=VISITS)
    y = outcome.table[outcome.name].reindex(table.obs_names)
    keep = y.notna().to_numpy()
    X = pd.DataFrame(table[keep, MARKERS].X, columns=MARKERS, index=table.obs_names[keep])
    X = X.replace([np.inf, -np.inf], np.nan).fillna(X.median())
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y[keep])
    panel = BiomarkerPanel.from_estimator(
        pipe, X=X, outcome=outcome, threshold=0.5, name="D0 cytokine panel"
    )
    panel.save(root / "panel")
    config = root / "configs" / "evaluate.yaml"
    config.parent.mkdir()
    config.write_text(
        textwrap.dedent(
            """\
            pipeline: evaluate
            name: evaluate-phase3
            output: ../runs
            data:
              clinical: ../data/phase3/clinical.csv
              labs: ../data/phase3/labs.csv
              samples: ../data/phase3/samples.csv
              cytokines:
                cytokines: {path: ../data/phase3/luminex_xponent.csv, format: auto}
            study:
              treated: ucMSC+SMT
              control: [SMT, prednisolone+SMT]
            outcome: {kind: transplant_free_survival, horizon_days: 90}
            evaluate:
              subgroups: [arm, site, assay_lot]
              n_bootstraps: 20
              allow_missing: impute_training_median
            """
        )
    )
    return root, config


def test_simulated_phase3_cohort(folders):
    root, _ = folders
    data = root / "data" / "phase3"
    clinical = pd.read_csv(data / "clinical.csv")
    assert set(clinical["arm"]) == {"ucMSC+SMT", "SMT", "prednisolone+SMT"}
    assert set(clinical["site"]) <= {"S04", "S05", "S06"}
    assert set(clinical["assay_lot"]) == {"L1", "L2"}
    shifts = json.loads((data / "phase3.json").read_text())
    assert shifts["lot_marker"] == "IL6"
    assert shifts["intercept_shift"] == pytest.approx(0.4)


def test_evaluate_command_names_the_offset_marker_and_updates(folders, monkeypatch):
    root, config = folders
    monkeypatch.chdir(root)
    res = CliRunner().invoke(
        app, ["evaluate", str(root / "panel"), "--config", str(config), "--update", "-q"]
    )
    assert res.exit_code == 0, res.output
    run = root / res.output.strip().splitlines()[-1]
    drift = pd.read_csv(run / "drift.csv").set_index("feature")
    assert drift["median_shift_sd"].abs().idxmax() == "cytokine:IL-6@D0"
    lots = pd.read_csv(run / "drift_lots.csv")
    flagged = lots[lots["flagged"]]
    assert list(zip(flagged["lot"], flagged["feature"], strict=True)) == [
        ("L2", "cytokine:IL-6@D0")
    ]
    summary = json.loads((run / "evaluation.json").read_text())
    assert summary["drift"]["flagged_lots"] == ["L2: cytokine:IL-6@D0"]
    table = pd.read_csv(run / "evaluation.csv")
    assert {"all", "arm", "site", "assay_lot"} <= set(table["subgroup"])
    html = (run / "evaluation.html").read_text()
    assert html.index('id="drift"') < html.index('id="performance"')
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    chosen = manifest["summary"]["update"]
    if chosen != "none":
        child = BiomarkerPanel.read(run / "updated_panel", parent=root / "panel")
        assert child.version == 2
        assert child.to_dict()["lineage"]["update"] == chosen
    else:
        assert not (run / "updated_panel").exists()


def test_evaluate_refuses_a_non_evaluate_config(folders, tmp_path):
    root, _ = folders
    other = tmp_path / "sim.yaml"
    other.write_text("pipeline: simulate\nname: sim\n")
    res = CliRunner().invoke(app, ["evaluate", str(root / "panel"), "--config", str(other)])
    assert res.exit_code == 2
    assert "unknown key 'panel'" in res.output or "pipeline: evaluate" in res.output
