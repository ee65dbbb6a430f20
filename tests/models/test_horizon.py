"""The default survival horizon lies strictly inside follow-up (td-AUC and Uno's C defined)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.models import discover
from biomarkers.models._inputs import surv_array
from biomarkers.models._metrics import default_horizon


def _veterans() -> pd.DataFrame:
    sksurv_datasets = pytest.importorskip("sksurv.datasets")
    X, y = sksurv_datasets.load_veterans_lung_cancer()
    df = X[["Age_in_years", "Karnofsky_score", "Months_from_Diagnosis"]].astype(float)
    df.index = [f"V{i:03d}" for i in range(len(df))]
    df["status"] = y["Status"].astype(int)
    df["days"] = y["Survival_in_days"].astype(float)
    return df


# 128 deaths and 9 censored: the fold stratification warns about the 9
@pytest.mark.filterwarnings("ignore::biomarkers.exceptions.SmallSampleWarning")
def test_td_auc_is_finite_on_veterans_lung_cancer():
    df = _veterans()
    res = discover(
        df, outcome=("status", "days"), models=["enet"], cv=(3, 2), n_permutations=0,
        n_bootstraps=50, n_decoys=0,
    )  # fmt: skip
    h = res.settings["horizon"]
    assert df["days"].min() < h < df["days"].max()
    perf = res.performance.set_index("metric")
    assert np.isfinite(
        perf.loc["td_auc", ["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float)
    ).all()
    assert perf.loc["harrell_c", "estimate"] > 0.6  # Karnofsky score is prognostic


def test_default_horizon_is_inside_administratively_censored_follow_up():
    # 70% event-free and censored at day 90: the median follow-up is day 90, the end of
    # follow-up, where the time-dependent AUC is undefined
    rng = np.random.default_rng(0)
    n = 100
    event = rng.random(n) < 0.3
    time = np.where(event, rng.integers(1, 90, n), 90).astype(float)
    y = surv_array(event, time)
    assert np.median(time) == time.max()
    h = default_horizon(y)
    assert time.min() < h < time.max()
    assert h == pytest.approx(np.percentile(time[event], 75))
    df = pd.DataFrame({"x": -time + rng.normal(0, 20, n), "noise": rng.normal(size=n)})
    df.index = [f"S{i}" for i in range(n)]
    df["event"], df["time"] = event.astype(int), time
    res = discover(
        df, outcome=("event", "time"), models=["enet"], cv=(3, 1), n_permutations=0,
        n_bootstraps=0, n_decoys=0,
    )  # fmt: skip
    assert np.isfinite(res.performance.set_index("metric").loc["td_auc", "estimate"])
