from __future__ import annotations

import json

import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError
from pipelines.run import RunFolder, read_manifest


@pytest.fixture
def folder(tmp_path):
    inp = tmp_path / "in.csv"
    inp.write_text("a,b\n1,2\n")
    return RunFolder.create(
        tmp_path / "runs",
        name="t",
        config={"pipeline": "x", "seed": 1},
        inputs={"data.x": inp},
        seed=1,
    )


def test_run_folder_layout_and_manifest(folder, tmp_path):
    assert folder.path.parent == tmp_path / "runs" / "t"
    assert (folder.path / "config.yaml").read_text().startswith("pipeline: x")
    manifest = read_manifest(folder.path)
    assert manifest["format"] == "biomarkers.run"
    assert manifest["format_version"] == 1
    assert manifest["status"] == "running"
    entry = manifest["inputs"]["data.x"]
    assert entry["size"] == 8
    assert len(entry["sha256"]) == 64
    assert "numpy" in manifest["packages"]


def test_complete_lists_outputs(folder):
    folder.write_table("results/perf.csv", pd.DataFrame({"a": [1.5]}))
    folder.write_json("x.json", {"v": float("nan")})
    result = folder.complete({"n": 1})
    manifest = json.loads((folder.path / "manifest.json").read_text())
    assert result.status == manifest["status"] == "complete"
    assert manifest["outputs"] == ["results/perf.csv", "x.json"]
    assert json.loads((folder.path / "x.json").read_text()) == {"v": None}
    assert manifest["finished"] is not None


def test_fail_records_error(folder):
    folder.fail(RuntimeError("boom"))
    manifest = read_manifest(folder.path)
    assert manifest["status"] == "failed"
    assert manifest["error"] == "RuntimeError: boom"
    assert "boom" in (folder.path / "log.txt").read_text()


def test_outputs_cannot_escape_the_run_folder(folder):
    with pytest.raises(ConfigError, match="would escape the run folder"):
        folder.write_text("../../evil.txt", "x")


def test_two_runs_in_the_same_second_get_distinct_folders(tmp_path):
    a = RunFolder.create(tmp_path, name="n", config={}, inputs={}, seed=0)
    b = RunFolder.create(tmp_path, name="n", config={}, inputs={}, seed=0)
    assert a.path != b.path


def test_read_manifest_refuses_other_versions(folder):
    path = folder.path / "manifest.json"
    data = json.loads(path.read_text())
    data["format_version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="format_version 99 is not supported"):
        read_manifest(folder.path)
