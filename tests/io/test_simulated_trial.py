"""The readers on the simulator's output (the contract between biomarkers.datasets and io)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trial_dir(tmp_path_factory):
    datasets = pytest.importorskip("biomarkers.datasets")
    out = tmp_path_factory.mktemp("trial")
    datasets.simulate_trial(out, n_subjects=12, seed=3, cells_per_sample=30, tenx_samples=2)
    return out


@pytest.mark.parametrize(
    "name",
    [
        "cytokines_long.csv",
        "luminex_xponent.csv",
        "bioplex_export.csv",
        "msd_export.csv",
        "olink_npx.csv",
    ],
)
def test_vendor_files_give_the_same_samples(trial_dir, name):
    from biomarkers.io import read_cytokines, read_samples

    tidy = read_cytokines(trial_dir / name)
    samples = read_samples(trial_dir / "samples.csv")
    assert set(tidy["sample_id"]) <= set(samples.index)
    assert len(tidy.attrs["controls"]) > 0 or name == "cytokines_long.csv"


def test_study_from_simulated_folder(trial_dir):
    from biomarkers.study import Study

    study = Study.from_config(
        {
            "clinical": "clinical.csv",
            "labs": "labs.csv",
            "samples": "samples.csv",
            "dosing": "dosing.csv",
            "singlecell": "singlecell.h5ad",
            "cytokines": {"cytokines": "cytokines_long.csv", "olink": "olink_npx.csv"},
            "flow": "flow.csv",
            "backed": True,
        },
        base_dir=trial_dir,
    )
    assert study.treated_arm == "ucMSC+SMT"
    assert set(study.assays) == {"cytokines", "olink", "flow"}
    assert study.singlecell.isbacked
    table = study.summary().to_frame()
    assert {"cytokines", "olink", "flow", "labs", "singlecell"} <= set(table["assay"])
    study.singlecell.file.close()
