from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()


def _cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True, text=True, cwd=cwd, timeout=timeout, check=False,
    )  # fmt: skip


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "validate", "simulate", "score", "report", "models"):
        assert command in result.output
    for command in ("run", "validate", "simulate", "score", "report"):
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0, command


def test_validate_typo_exits_2_with_one_line_suggestion(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("pipeline: simulate\nname: s\nsead: 1\n")
    proc = _cli("validate", str(cfg))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "unknown key 'sead'; did you mean 'seed'?" in lines[0]
    assert "Traceback" not in proc.stderr


def test_validate_missing_input_exits_2_naming_the_path(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "pipeline: discover\nname: d\ndata: {clinical: nowhere.csv}\n"
        "outcome: {kind: transplant_free_survival, horizon_days: 90}\n"
    )
    result = runner.invoke(app, ["validate", str(cfg)])
    assert result.exit_code == 2
    assert "input file not found" in result.output
    assert str(tmp_path / "nowhere.csv") in result.output


def test_missing_config_file_exits_2(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "config file not found" in result.output


def test_debug_shows_traceback(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("pipeline: simulate\nname: s\nsead: 1\n")
    proc = _cli("validate", str(cfg), "--debug")
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr


def test_simulate_refuses_non_empty_folder(tmp_path):
    (tmp_path / "x").write_text("keep me")
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--subjects", "8"])
    assert result.exit_code == 2
    assert "already exists and is not empty" in result.output
    assert (tmp_path / "x").read_text() == "keep me"


def test_run_simulate_job_prints_run_folder_last(tmp_path):
    cfg = tmp_path / "sim.yaml"
    cfg.write_text(
        "pipeline: simulate\nname: sim\noutput: runs\n"
        "simulate: {n_subjects: 8, cells_per_sample: 5}\n"
    )
    proc = _cli("run", str(cfg), "--quiet")
    assert proc.returncode == 0, proc.stderr
    run_dir = Path(proc.stdout.strip().splitlines()[-1])
    assert run_dir.parent == tmp_path / "runs" / "sim"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert "trial/clinical.csv" in manifest["outputs"]
    assert (run_dir / "trial" / "clinical.csv").is_file()


def test_killed_run_never_claims_completion(tmp_path):
    cfg = tmp_path / "sim.yaml"
    cfg.write_text(
        "pipeline: simulate\nname: big\noutput: runs\n"
        "simulate: {n_subjects: 100, cells_per_sample: 2000}\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", str(cfg), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    manifests: list[Path] = []
    while time.monotonic() < deadline and not manifests:
        manifests = list((tmp_path / "runs").glob("big/*/manifest.json"))
        time.sleep(0.05)
    assert manifests, "run folder never appeared"
    time.sleep(1.0)  # well inside the simulation
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    manifest = json.loads(manifests[0].read_text())
    assert manifest["status"] == "running"
    trial = manifests[0].parent / "trial"
    assert not (trial / "truth.json").exists()
