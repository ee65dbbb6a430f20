from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.models import benefit_calibration


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    n = 203  # not a multiple of the groups
    cate = rng.normal(size=n)
    arm = (rng.random(n) < 0.5).astype(int)
    phi = 0.3 + 0.5 * cate + rng.normal(size=n)
    y = rng.normal(size=n) + arm * cate
    return cate, phi, arm, y


def test_groups_match_pandas(data):
    cate, phi, arm, y = data
    tab = benefit_calibration(cate, phi, arm, y=y, n_groups=4)
    groups = tab[tab["kind"] == "group"].set_index("group")
    q = pd.qcut(pd.Series(cate).rank(method="first"), 4, labels=False) + 1
    frame = pd.DataFrame({"g": q, "cate": cate, "phi": phi, "arm": arm, "y": y})
    for g, part in frame.groupby("g"):
        row = groups.loc[g]
        assert row["n"] == len(part)
        assert row["predicted"] == pytest.approx(part["cate"].mean())
        assert row["observed"] == pytest.approx(part["phi"].mean())
        ci = stats.t.interval(0.95, len(part) - 1, part["phi"].mean(), stats.sem(part["phi"]))
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(ci)
        y1, y0 = part.loc[part["arm"] == 1, "y"], part.loc[part["arm"] == 0, "y"]
        welch = stats.ttest_ind(y1, y0, equal_var=False)
        diff = y1.mean() - y0.mean()
        assert row["arm_difference"] == pytest.approx(diff)
        # normal interval on the Welch SE
        se = diff / welch.statistic
        assert row["arm_ci_high"] - diff == pytest.approx(1.959964 * se, rel=1e-5)
    assert list(groups["predicted"]) == sorted(groups["predicted"])


def test_intercept_and_slope(data):
    cate, phi, arm, y = data
    tab = benefit_calibration(cate, phi, arm, y=y).set_index("kind")
    assert tab.loc["intercept", "observed"] == pytest.approx(np.mean(phi - cate))
    fit = sm.OLS(phi, sm.add_constant(cate)).fit(cov_type="HC3")
    assert tab.loc["slope", "observed"] == pytest.approx(fit.params[1])
    assert tab.loc["slope", "se"] == pytest.approx(fit.bse[1])
    assert tab.loc["slope", "p_value"] == pytest.approx(stats.norm.sf(fit.tvalues[1]))
    # the planted slope 0.5 and offset 0.3 are inside the intervals
    assert tab.loc["slope", "ci_low"] < 0.5 < tab.loc["slope", "ci_high"]
    assert tab.loc["intercept", "ci_low"] < 0.3 < tab.loc["intercept", "ci_high"]


def test_well_calibrated_prediction():
    rng = np.random.default_rng(4)
    cate = rng.normal(size=2000)
    phi = cate + rng.normal(size=2000)
    tab = benefit_calibration(cate, phi, np.arange(2000) % 2, y=phi).set_index("kind")
    assert tab.loc["slope", "ci_low"] < 1 < tab.loc["slope", "ci_high"]
    assert tab.loc["intercept", "ci_low"] < 0 < tab.loc["intercept", "ci_high"]
    groups = tab.loc["group"]
    assert np.allclose(groups["observed"], groups["predicted"], atol=0.15)


def test_bad_input_names_the_problem(data):
    cate, phi, arm, y = data
    with pytest.raises(ConfigError, match="n_groups"):
        benefit_calibration(cate, phi, arm, y=y, n_groups=1)
    with pytest.raises(SchemaError, match="same length"):
        benefit_calibration(cate[:5], phi, arm, y=y)
    with pytest.raises(SchemaError, match="too few"):
        benefit_calibration(cate[:7], phi[:7], arm[:7], y=y[:7], n_groups=4)
