"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def small_trial(tmp_path_factory) -> Path:
    """A small simulated trial on disk (12 subjects, 20 cells per sample), shared by the session."""
    from biomarkers.datasets import simulate_trial

    out = tmp_path_factory.mktemp("trial")
    simulate_trial(out, n_subjects=12, seed=1, cells_per_sample=20, scenario="strong")
    return out
