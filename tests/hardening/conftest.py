"""Fixtures of the hardening tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .helpers import BASE


@pytest.fixture(scope="session")
def discover_trial(tmp_path_factory) -> Path:
    """A 30-subject simulated trial with the base discover config: big enough for nested CV."""
    import warnings

    from biomarkers.datasets import simulate_trial

    out = tmp_path_factory.mktemp("discover_trial")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simulate_trial(out, n_subjects=30, seed=0, cells_per_sample=5, scenario="strong")
    shutil.copyfile(BASE / "config.yaml", out / "config.yaml")
    return out
