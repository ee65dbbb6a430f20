"""Reduced shrinkage benchmark (issue 23): benchmarks/shrinkage.py on 5 seeds per allocation, n = 100.

The full benchmark (20 seeds, n = 100 and 400, 1:1 and 3:1) is in benchmarks/README.md. With 5
seeds only the large, stable effects are asserted: shrinkage cuts the error over the null markers
and over all markers, and the intervals of eb and horseshoe keep their average coverage.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "shrinkage.py"


def _bench():
    spec = importlib.util.spec_from_file_location("shrinkage_benchmark", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def results():
    return _bench().run(5, [100], [0.5, 0.75])


def _mse(results, method, group=None):
    r = results[results["method"] == method]
    if group is not None:
        r = r[r["group"] == group]
    return r["sse"].sum() / r["n_markers"].sum()


def test_every_shrunk_estimate_has_lower_error_over_the_null_markers(results):
    for method in ("eb", "ridge", "horseshoe"):
        assert _mse(results, method, "null") < 0.5 * _mse(results, "raw", "null")


def test_eb_and_horseshoe_have_lower_error_over_all_markers(results):
    for method in ("eb", "horseshoe"):
        assert _mse(results, method) < _mse(results, "raw")


def test_eb_and_horseshoe_intervals_keep_their_average_coverage(results):
    for method in ("eb", "horseshoe"):
        r = results[results["method"] == method]
        assert r["covered"].sum() / r["n_markers"].sum() >= 0.8
    assert set(results["allocation"]) == {0.5, 0.75}
