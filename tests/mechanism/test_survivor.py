"""Survivor-aware mechanism: subjects per arm and visit, and an IPW arm difference beside it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.mechanism import composition_change, trajectories

TREATED, CONTROL = "ucMSC+SMT", "SMT"


def _trial(n=400, *, effect=0.5, deaths=True, seed=0):
    """Wide subject × visit table of one marker; sicker subjects (high baseline) die early,
    and the treatment saves some of them, so treated survivors are sicker than control ones."""
    rng = np.random.default_rng(seed)
    treated = np.arange(n) % 2 == 0
    base = rng.normal(size=n)
    later = base + effect * treated + rng.normal(scale=0.5, size=n)
    logit = 2.0 * base - 0.5 - 1.5 * treated
    alive = rng.random(n) > 1 / (1 + np.exp(-logit)) if deaths else np.ones(n, bool)
    rows = []
    for i in range(n):
        arm = TREATED if treated[i] else CONTROL
        rows.append({"subject_id": f"S{i:03d}", "visit": "D0", "arm": arm, "IL6": base[i]})
        if alive[i]:
            rows.append({"subject_id": f"S{i:03d}", "visit": "D28", "arm": arm, "IL6": later[i]})
    truth = later[treated].mean() - later[~treated].mean()  # had nobody died
    return pd.DataFrame(rows), truth


def test_counts_match_a_hand_count():
    wide, _ = _trial(n=40, seed=1)
    res = trajectories(wide, features=["IL6"])
    counts = res.tables["counts"].set_index("visit")
    at28 = wide[wide["visit"] == "D28"]
    assert counts.loc["D28", "n_treated"] == (at28["arm"] == TREATED).sum()
    assert counts.loc["D28", "n_control"] == (at28["arm"] == CONTROL).sum()
    assert counts.loc["D0", ["n_treated", "n_control"]].tolist() == [20, 20]
    row = res.tables["survivor_aware"].iloc[0]
    assert (row.n_treated_baseline, row.n_control_baseline) == (20, 20)
    assert row.n_treated == counts.loc["D28", "n_treated"]


def test_without_deaths_ipw_equals_the_survivor_only_difference():
    wide, truth = _trial(n=200, deaths=False)
    row = trajectories(wide, features=["IL6"]).tables["survivor_aware"].iloc[0]
    assert row.estimate_ipw == pytest.approx(row.estimate, abs=1e-12)
    assert row.se_ipw == pytest.approx(row.se, abs=1e-12)
    assert row.estimate == pytest.approx(truth, abs=1e-12)  # nobody missing: the plain difference
    at28 = wide[wide["visit"] == "D28"]
    sd = at28.groupby("arm")["IL6"].agg(lambda v: v.var(ddof=1) / v.size)
    assert row.se == pytest.approx(np.sqrt(sd.sum()), rel=1e-10)  # Welch


def test_with_informative_deaths_ipw_is_closer_to_the_truth():
    errors = {"estimate": [], "estimate_ipw": []}
    for seed in range(3):
        wide, truth = _trial(n=3000, seed=seed)
        row = trajectories(wide, features=["IL6"]).tables["survivor_aware"].iloc[0]
        assert row.n_treated < row.n_treated_baseline  # some did die
        for key in errors:
            errors[key].append(abs(row[key] - truth))
    # survivor-only compares sicker treated survivors with healthier control survivors
    assert np.mean(errors["estimate"]) > 0.1
    assert np.mean(errors["estimate_ipw"]) < np.mean(errors["estimate"]) / 3


def test_ipw_covariates_must_be_numeric():
    wide, _ = _trial(n=40)
    wide["site"] = "north"
    with pytest.raises(Exception, match="ipw_covariates: column 'site' is not numeric"):
        trajectories(wide, features=["IL6"], ipw_covariates=["site"])


# random counts without structure: the mixed model's random-intercept variance may be ~0
@pytest.mark.filterwarnings("ignore::biomarkers.exceptions.DataQualityWarning")
def test_composition_carries_counts_and_the_survivor_aware_comparison():
    rng = np.random.default_rng(0)
    rows = []
    for s in range(16):
        arm = TREATED if s % 2 == 0 else CONTROL
        for visit in ("D0", "D28") if s not in (0, 1, 3) else ("D0",):  # 3 early deaths
            for ct in ("B", "T", "mono"):
                rows.append({"sample_id": f"S{s}_{visit}", "subject_id": f"S{s}", "visit": visit,
                             "arm": arm, "cell_type": ct, "count": int(rng.integers(20, 200))})  # fmt: skip
    res = composition_change(pd.DataFrame(rows))
    counts = res.tables["counts"].set_index(["feature", "visit"])
    assert counts.loc[("T", "D28"), ["n_treated", "n_control"]].tolist() == [7, 6]
    assert counts.loc[("T", "D0"), ["n_treated", "n_control"]].tolist() == [8, 8]
    surv = res.tables["survivor_aware"].set_index("feature")
    assert sorted(surv.index) == ["B", "T", "mono"]
    assert (surv["n_treated_baseline"] == 8).all()
    assert surv[["estimate", "estimate_ipw"]].notna().all().all()
