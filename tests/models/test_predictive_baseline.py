"""Effect modifiers of predictive() are measured before treatment starts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import LeakageError
from biomarkers.models import predictive

FAST = {"method": ("interaction",), "n_bootstraps": 0, "n_permutations": 0}


def _trial(n=120, seed=0):
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(n) % 2 == 0, "MSC", "SMT")
    base = rng.normal(size=n)
    df = pd.DataFrame(
        {
            "arm": arm,
            "cytokine:IL6@D0": base,
            "cytokine:IL10@D0": rng.normal(size=n),
            "cytokine:IL6@D7": base + (arm == "MSC") + rng.normal(size=n),
            "cytokine:IL6@D7-D0": rng.normal(size=n),
        },
        index=[f"S{i:03d}" for i in range(n)],
    )
    df["time_days"] = np.r_[[3.0, 4.0, 5.0], rng.integers(10, 90, n - 3)]
    df["event"] = np.r_[[1, 1, 1], (rng.random(n - 3) < 0.4).astype(int)]
    return df


@pytest.mark.parametrize("marker", ["cytokine:IL6@D7", "cytokine:IL6@D7-D0"])
def test_on_treatment_markers_are_refused_naming_the_alternatives(marker):
    with pytest.raises(LeakageError, match=rf"measured after treatment starts.*{marker}") as err:
        predictive(_trial(), outcome=("event", "time_days"), arm="arm", treated="MSC",
                   markers=["cytokine:IL6@D0", marker], **FAST)  # fmt: skip
    text = str(err.value)
    assert "biomarkers.models.early_response" in text
    assert "biomarkers.models.mediation" in text
    assert "\n" not in text


def test_default_markers_are_the_baseline_ones():
    res = predictive(_trial(), outcome=("event", "time_days"), arm="arm", treated="MSC", **FAST)
    assert sorted(res.markers["marker"]) == ["cytokine:IL10@D0", "cytokine:IL6@D0"]
    assert res.params["treatment_day"] == 0
    assert res.params["landmark_day"] is None
    assert res.landmark.set_index("arm").loc["all", "n_after"] == 120


def test_a_later_treatment_start_admits_its_markers_at_their_landmark():
    # treatment starting on day 7 (e.g. a run-in): D7 values are pre-treatment, and the
    # population is the subjects event-free at day 7
    res = predictive(_trial(), outcome=("event", "time_days"), arm="arm", treated="MSC",
                     markers=["cytokine:IL6@D7"], treatment_day=7, **FAST)  # fmt: skip
    assert res.params["landmark_day"] == 7
    lm = res.landmark.set_index("arm")
    assert lm.loc["all", "event_before_landmark"] == 3
    assert res.params["n_treated"] + res.params["n_control"] == 117
