"""The public data sets written by ``configs/examples/write_public_data.py`` read as Studies."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

from biomarkers.clinical import outcome_from_rule
from biomarkers.exceptions import DataQualityWarning
from biomarkers.study import Study

SCRIPT = Path(__file__).resolve().parents[2] / "configs" / "examples" / "write_public_data.py"
BASELINE = {"D0": 0}


def _script():
    spec = importlib.util.spec_from_file_location("write_public_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    out = tmp_path_factory.mktemp("public")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # scanpy's dataset loader
        return _script().write(out)


def test_every_folder_written_and_small(folders):
    assert set(folders) == {"veterans", "gbsg2", "aids", "breast_cancer", "pbmc68k"}
    for name, folder in folders.items():
        size = sum(p.stat().st_size for p in folder.iterdir())
        assert (folder / "clinical.csv").exists(), name
        assert size < 2_000_000, name


def test_only_one(tmp_path):
    _script().main([str(tmp_path), "--only", "veterans"])
    assert [p.name for p in tmp_path.iterdir()] == ["veterans"]


def test_veterans_two_arm_survival(folders):
    f = folders["veterans"]
    s = Study.from_files(
        clinical=f / "clinical.csv",
        tables={"baseline": f / "baseline.csv"},
        visits=BASELINE,
        treated_arm="test",
    )
    assert (s.study_design, s.treated_arm, s.control_arm) == ("two_arm", "test", "standard")
    assert len(s.clinical) == 137
    assert s.assays["baseline"].var_names.tolist() == ["karnofsky_score", "months_from_diagnosis"]
    o = outcome_from_rule(
        {"kind": "survival", "event": "status", "time": "time_days"}, clinical=s.clinical
    )
    assert int(o.table["event"].sum()) == 128
    assert s.clinical.index[0] == "VET0001"


def test_gbsg2_allocation_and_recurrence(folders):
    f = folders["gbsg2"]
    kw = {
        "clinical": f / "clinical.csv",
        "tables": {"tumour": {"path": f / "tumour.csv", "columns": "all"}},
        "visits": BASELINE,
        "treated_arm": "hormonal therapy",
    }
    with pytest.warns(DataQualityWarning, match=r"246 of 686 subjects \(35\.9%\)"):
        Study.from_files(**kw)  # 1:1 is not the share seen
    s = Study.from_files(**kw, allocation=0.36)
    assert s.control_arm == "no hormonal therapy"
    o = outcome_from_rule(
        {"kind": "survival", "event": "recurrence", "time": "rfs_days", "horizon_days": 1825},
        clinical=s.clinical,
    )
    assert o.assessed_day == 1825
    assert int(o.table["event"].sum()) < 299  # events after five years are censored


def test_aids_survival_and_binary(folders):
    f = folders["aids"]
    s = Study.from_files(
        clinical=f / "clinical.csv",
        tables={"baseline": f / "baseline.csv"},
        visits=BASELINE,
        treated_arm="IDV+ZDV+3TC",
    )
    assert s.study_design == "two_arm"
    assert s.treatment.sum() == 574
    o = outcome_from_rule(
        {
            "kind": "survival",
            "event": "aids_or_death",
            "time": "time_days",
            "horizon_days": 180,
            "label": "binary",
        },
        clinical=s.clinical,
    )
    assert o.kind == "binary"
    label = o.table["aids_or_death"]
    assert 0 < label.sum() < 96  # class 1 = the (rare) event by day 180
    assert label.sum() < (label == 0).sum()


def test_breast_cancer_cohort_with_expression(folders):
    f = folders["breast_cancer"]
    s = Study.from_files(
        clinical=f / "clinical.csv", tables={"expression": f / "expression.csv"}, visits=BASELINE
    )
    assert (s.study_design, s.arms) == ("cohort", [])
    e = s.assays["expression"]
    assert e.shape == (198, 76)
    assert set(e.obs["visit"]) == {"D0"}
    o = outcome_from_rule(
        {"kind": "binary", "column": "metastasis", "positive": 1}, clinical=s.clinical
    )
    assert int(o.table["metastasis"].sum()) == 51  # class 1 = the 51 metastases


def test_pbmc68k_single_cell_cohort(folders):
    f = folders["pbmc68k"]
    s = Study.from_files(
        clinical=f / "clinical.csv",
        samples=f / "samples.csv",
        singlecell=f / "singlecell.h5ad",
        visits={"D0": 0, "D7": 7},
    )
    assert s.study_design == "cohort"
    sc = s.singlecell
    assert sc.uns["counts_layer"] == "X"  # counts recovered from .raw are integers
    assert np.issubdtype(sc.X.dtype, np.integer)
    assert len(sc.uns["cells_per_sample"]) == 28
    assert min(sc.uns["cells_per_sample"].values()) == 25
    assert "cell_type" in sc.obs.columns
