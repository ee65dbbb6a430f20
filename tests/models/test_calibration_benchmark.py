"""Reduced calibration benchmark (issue 19): benchmarks/calibration.py on 20 + 20 cohorts, p = 200.

The full benchmark's thresholds (≥ 200 null cohorts: CI covers 0.5 in ≥ 93%, ≤ 6% of permutation
p-values below 0.05; ≥ 100 planted cohorts: CI covers the CV-size AUROC in ≥ 90%) are scaled
to 20 cohorts by the binomial 99th percentile: a failure count above ``binom.ppf(0.99, 20, rate)``
is evidence at the 1% level that the true rate is worse than the target. The Kolmogorov-Smirnov
uniformity check uses the matching 1% level.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

pytestmark = pytest.mark.slow

# BM_CALIBRATION_COHORTS only to smoke-test the harness; the issue asks for >= 20
COHORTS = int(os.environ.get("BM_CALIBRATION_COHORTS", "20"))
P = 200
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "calibration.py"


def _bench():
    spec = importlib.util.spec_from_file_location("calibration_benchmark", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _allowed(rate: float) -> int:
    return int(stats.binom.ppf(0.99, COHORTS, rate))


@pytest.fixture(scope="module")
def runs() -> dict[str, pd.DataFrame]:
    cal = _bench()
    interval = cal.default_interval()
    t = cal.truths(P)
    truth = {"cv_size": t["cv_size"]["mean"], "large_sample": t["large_sample"]}
    from joblib import Parallel, delayed

    tasks = [(P, kind == "planted", seed, interval, truth if kind == "planted" else cal.NULL_TRUTH,
              cal.N_PERMUTATIONS) for kind in ("null", "planted") for seed in range(COHORTS)]  # fmt: skip
    done = Parallel(n_jobs=2)(delayed(cal._run_task)(t) for t in tasks)
    rows = {"null": done[:COHORTS], "planted": done[COHORTS:]}
    return {k: pd.DataFrame(v) for k, v in rows.items()}


def test_null_ci_covers_chance(runs):
    misses = int((~runs["null"]["covers"].astype(bool)).sum())
    assert misses <= _allowed(0.07), f"{misses}/{COHORTS} null CIs exclude 0.5"


def test_null_permutation_p_values_uniform(runs):
    pv = runs["null"]["p_value"].to_numpy(float)
    assert int((pv < 0.05).sum()) <= _allowed(0.06)
    assert stats.kstest(pv, "uniform").pvalue > 0.01


def test_no_significant_below_chance(runs):
    # the old pooled out-of-fold bootstrap reported AUROC 0.35 [0.25, 0.46] on 2 of these 20 null
    # cohorts (seeds 14, 17) and the 4 of 10. No run may *report* a below-chance result as
    # evidence; a CI wholly below 0.5 happens in ~2.5% of null cohorts for an exact 95% interval
    cal = _bench()
    for kind in ("null", "planted"):
        assert not cal.reported_below_chance(runs[kind]).any()
    below = int(runs["null"]["ci_below_chance"].astype(bool).sum())
    assert below <= _allowed(0.025), f"{below}/{COHORTS} null CIs lie wholly below 0.5"


def test_planted_ci_covers_cv_size_auroc(runs):
    # the pass criterion: the AUROC (on fresh subjects) of the pipeline fitted on 80 subjects,
    # the CV training size, averaged over 20 training sets (what CV estimates; Bates et al. 2023)
    misses = int((~runs["planted"]["covers"].astype(bool)).sum())
    assert misses <= _allowed(0.10), f"{misses}/{COHORTS} planted CIs miss the CV-size AUROC"


@pytest.mark.xfail(
    strict=True,
    reason="the issue's target, the AUROC of the pipeline fitted on 20,000 subjects (0.83 at "
    "p = 200), is above what models fitted on 80 subjects reach (0.65): no honest n = 100 "
    "interval covers it; see benchmarks/README.md",
)
def test_planted_ci_covers_large_sample_auroc(runs):
    misses = int((~runs["planted"]["covers_large"].astype(bool)).sum())
    assert misses <= _allowed(0.10), f"{misses}/{COHORTS} planted CIs miss the large-sample AUROC"


@pytest.mark.parametrize("method", ["stabl", "decoy"])
def test_stable_markers_fdp_within_target(runs, method):
    # realised FDP counted at block level: a marker correlated with (same block as) an
    # informative feature is not a false discovery of the outcome's biology. Before the fix the
    # decoy rule fell back to 1.0 and called features selected in every fold stable (~0.3);
    # on the full benchmark it still exceeds the target on null cohorts at p = 2,000 (README)
    fdp = runs["planted"][f"fdp_{method}_block"].to_numpy(float)
    assert np.nanmean(fdp) <= 0.1


@pytest.mark.parametrize("method", ["stabl", "decoy"])
def test_null_cohorts_rarely_report_a_stable_marker(runs, method):
    # on pure noise every stable marker is false: FDR = share of cohorts with one (<= target)
    found = int((runs["null"][f"n_stable_{method}"] > 0).sum())
    assert found <= _allowed(0.10), f"{found}/{COHORTS} null cohorts report a stable marker"
