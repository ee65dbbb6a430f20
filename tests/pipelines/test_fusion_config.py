"""Config keys and CLI flags of multi-assay fusion: models.fusion, simulate.missing_assays."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from biomarkers.exceptions import ConfigError
from pipelines.cli import app
from pipelines.config import ModelsConfig, SimulateSettings
from pipelines.simulate import parse_missing_assays

runner = CliRunner()


def test_models_fusion_is_validated():
    assert ModelsConfig().fusion == "none"
    assert ModelsConfig(fusion="stacking").fusion == "stacking"
    with pytest.raises(ValueError, match="cooperative"):
        ModelsConfig(fusion="late")


def test_simulate_missing_assays_is_validated():
    ok = SimulateSettings(missing_assays={"singlecell": 0.3, "flow": 0.15})
    assert ok.missing_assays == {"singlecell": 0.3, "flow": 0.15}
    with pytest.raises(ValueError, match="singlecell"):
        SimulateSettings(missing_assays={"cytof": 0.3})
    with pytest.raises(ValueError, match="less than 1"):
        SimulateSettings(missing_assays={"flow": 1.0})


def test_cli_missing_assay_flag(tmp_path):
    assert parse_missing_assays(["flow=0.25", "olink=0.1"]) == {"flow": 0.25, "olink": 0.1}
    with pytest.raises(ConfigError, match="ASSAY=FRACTION"):
        parse_missing_assays(["flow:0.2"])
    out = tmp_path / "trial"
    result = runner.invoke(app, ["simulate", "--out", str(out), "--subjects", "8",
                                 "--cells-per-sample", "0", "--missing-assay", "flow=0.25"])  # fmt: skip
    assert result.exit_code == 0, result.output
    truth = json.loads((out / "truth.json").read_text())
    assert len(truth["missing_assays"]["flow"]["subjects"]) == 2
    bad = runner.invoke(app, ["simulate", "--out", str(tmp_path / "b"), "--subjects", "8",
                              "--missing-assay", "flow"])  # fmt: skip
    assert bad.exit_code == 2
    assert "ASSAY=FRACTION" in bad.output
