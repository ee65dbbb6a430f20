"""``pipeline: power`` and ``biomarkers power``: config, run folder, resume from the study folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from biomarkers.exceptions import ConfigError
from pipelines.cli import app
from pipelines.config import load_config, parse_config


def _config(tmp_path, **power):
    cfg = {
        "pipeline": "power", "name": "p", "seed": 0, "output": str(tmp_path / "runs"),
        "power": {"grid": {"n_subjects": [40], "predictive_effect": [0.0, 1.0]}, "replicates": 2,
                  "analyses": ["predictive", "treatment_effect"], **power},
    }  # fmt: skip
    path = tmp_path / "power.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_power_config_validates_and_refuses_bad_keys(tmp_path):
    cfg = load_config(_config(tmp_path), check_files=False)
    assert cfg.power.replicates == 2
    assert cfg.power.fast
    with pytest.raises(ConfigError, match="rplicates"):
        parse_config({"pipeline": "power", "name": "p", "power": {"rplicates": 3}})
    with pytest.raises(ConfigError, match=r"unknown key 'effect'"):
        parse_config({"pipeline": "power", "name": "p", "power": {"grid": {"effect": [1]}}})


def test_cli_power_runs_then_resumes(tmp_path):
    path = _config(tmp_path)
    runner = CliRunner()
    first = runner.invoke(app, ["power", str(path), "--replicates", "1", "-q"])
    assert first.exit_code == 0, first.output
    csv = first.output.strip().splitlines()[-1]
    assert csv.endswith("power.csv")
    run_dir = tmp_path / "runs" / "p"
    assert len(list((run_dir / "power_study" / "replicates").rglob("*.json"))) == 2
    second = runner.invoke(app, ["run", str(path), "-q"])  # 2 replicates: one more per point
    assert second.exit_code == 0, second.output
    new = second.output.strip().splitlines()[-1]
    records = pd.read_csv(f"{new}/replicates.csv")
    assert len(records) == 4
    assert sorted(records["replicate"].unique()) == [0, 1]
    for name in ("power.csv", "power.json", "sample_size.csv", "report.html",
                 "figures/power_curves.png", "manifest.json"):  # fmt: skip
        assert (Path(new) / name).is_file(), name


def test_cli_power_refuses_another_pipeline(tmp_path, repo_root):
    res = CliRunner().invoke(app, ["power", str(repo_root / "configs" / "simulate.yaml")])
    assert res.exit_code == 2
    assert "biomarkers power runs 'pipeline: power' configs" in res.output
