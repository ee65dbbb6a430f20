"""Small simulated trials shared by the dataset tests (simulated once per session)."""

from __future__ import annotations

import pytest

from biomarkers.datasets import simulate_trial


@pytest.fixture(scope="session")
def small_trial(tmp_path_factory):
    """12 subjects, 20 cells per single-cell sample: every file, in about a second."""
    return simulate_trial(
        tmp_path_factory.mktemp("small"), n_subjects=12, seed=3, cells_per_sample=20
    )


@pytest.fixture(scope="session")
def medium_trial(tmp_path_factory):
    """40 subjects, no single-cell data: enough wells for every censoring flag to occur."""
    return simulate_trial(
        tmp_path_factory.mktemp("medium"), n_subjects=40, seed=5, cells_per_sample=0
    )
