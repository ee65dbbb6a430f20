"""Shared job steps: one call/save/record block that records what ``save(dir)`` returned."""

from __future__ import annotations

import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError
from biomarkers.mechanism import MechanismResult
from pipelines._steps import record_saved, save_result
from pipelines.run import RunFolder


@pytest.fixture
def run(tmp_path):
    return RunFolder.create(tmp_path / "runs", name="t", config={}, inputs={}, seed=0)


def test_save_result_records_the_paths_save_returned(run):
    result = MechanismResult(pd.DataFrame({"q_value": [0.01, 0.5]}), params={"fdr": 0.1})
    (run.path / "mechanism").mkdir()
    # a file another writer put there is not an output of this step: nothing diffs the folder
    (run.path / "mechanism" / "stray.csv").write_text("x\n")
    got = save_result(run, lambda: result, description="test step", folder="mechanism")
    assert got is result
    assert run.outputs == ["mechanism/mechanism.csv", "mechanism/mechanism_params.json"]
    assert all((run.path / rel).is_file() for rel in run.outputs)


def test_save_result_into_the_run_folder_itself(run):
    result = MechanismResult(pd.DataFrame({"a": [1]}))
    save_result(run, lambda: result, description="test step")
    assert run.outputs == ["mechanism.csv", "mechanism_params.json"]


def test_a_save_that_does_not_return_its_paths_is_refused(run):
    with pytest.raises(TypeError, match=r"save\(\) returned PosixPath, not the list of paths"):
        record_saved(run, run.path)


def test_paths_outside_the_run_folder_are_refused(run, tmp_path):
    with pytest.raises(ConfigError, match="would escape the run folder"):
        record_saved(run, [tmp_path / "elsewhere.csv"])
