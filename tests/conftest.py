"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

#: input files and the scripts that write them, not test modules (the corpus builders import
#: each other as sibling scripts)
collect_ignore = ["data"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
