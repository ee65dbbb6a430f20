"""Fixtures of the public-data example tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "configs" / "examples" / "write_public_data.py"


@pytest.fixture(scope="session")
def writer():
    """``configs/examples/write_public_data.py`` as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("write_public_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
