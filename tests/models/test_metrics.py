from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
)

from biomarkers.models._metrics import (
    binary_metrics,
    bootstrap_performance,
    continuous_metrics,
    survival_metrics,
)


@pytest.fixture
def yp():
    rng = np.random.default_rng(0)
    y = (rng.random(120) < 0.4).astype(float)
    p = np.round(np.clip(0.4 + 0.3 * (y - 0.4) + rng.normal(0, 0.2, 120), 0.01, 0.99), 2)
    return y, p


def test_binary_metrics_match_sklearn_and_statsmodels(yp):
    y, p = yp
    m = {k: v[0] for k, v in binary_metrics(y, p).items()}
    assert m["auroc"] == pytest.approx(roc_auc_score(y, p))
    assert m["auprc"] == pytest.approx(average_precision_score(y, p))
    assert m["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, p >= 0.5))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))
    lp = np.log(p / (1 - p))
    fam = sm.families.Binomial()
    slope = sm.GLM(y, sm.add_constant(lp), family=fam).fit().params[1]
    citl = sm.GLM(y, np.ones((len(y), 1)), family=fam, offset=lp).fit().params[0]
    assert m["calibration_slope"] == pytest.approx(slope, rel=1e-6)
    assert m["calibration_intercept"] == pytest.approx(citl, abs=1e-7)


def test_weights_equal_resampled_rows(yp):
    y, p = yp
    rng = np.random.default_rng(1)
    idx = rng.integers(0, len(y), size=(3, len(y)))
    W = np.stack([np.bincount(i, minlength=len(y)) for i in idx]).astype(float)
    mw = binary_metrics(y, p, W)
    for b, i in enumerate(idx):
        ref = binary_metrics(y[i], p[i])
        for k in mw:
            assert mw[k][b] == pytest.approx(ref[k][0], rel=1e-6), k
        assert mw["auroc"][b] == pytest.approx(roc_auc_score(y[i], p[i]))


def test_continuous_metrics():
    rng = np.random.default_rng(2)
    y = rng.normal(size=50)
    pred = y + rng.normal(size=50)
    m = continuous_metrics(y, pred)
    assert m["r2"][0] == pytest.approx(r2_score(y, pred))
    assert m["mae"][0] == pytest.approx(mean_absolute_error(y, pred))


def test_survival_metrics_match_sksurv():
    from sksurv.metrics import concordance_index_censored

    rng = np.random.default_rng(3)
    n = 80
    risk = rng.normal(size=n)
    y = np.empty(n, dtype=[("event", bool), ("time", float)])
    y["time"] = rng.exponential(np.exp(-risk)) * 30 + 1
    y["event"] = rng.random(n) < 0.7
    m = survival_metrics(y, risk, horizon=float(np.median(y["time"])))
    ref = concordance_index_censored(y["event"], y["time"], risk)[0]
    assert m["harrell_c"][0] == pytest.approx(ref)
    assert 0.6 < m["uno_c"][0] < 1
    assert 0.6 < m["td_auc"][0] < 1


def test_bootstrap_ci_covers_and_averages_repeats(yp):
    y, p = yp
    p2 = np.clip(p + 0.05, 0, 1)
    df = bootstrap_performance(
        y, np.vstack([p, p2]), task="binary", n_bootstraps=300, rng=np.random.default_rng(0)
    )
    row = df.set_index("metric").loc["auroc"]
    assert row["estimate"] == pytest.approx((roc_auc_score(y, p) + roc_auc_score(y, p2)) / 2)
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert row["ci_high"] - row["ci_low"] < 0.3
    assert set(df.columns) == {"metric", "estimate", "ci_low", "ci_high", "n"}


@pytest.mark.parametrize("seed", range(5))
def test_calibration_slope_of_overconfident_noise_matches_statsmodels(seed):
    # overconfident, uninformative predictions (what a lasso fold model gives on noise): the
    # recalibration slope is near 0; Newton steps started at slope 1 used to diverge to NaN
    from scipy.special import expit

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 100).astype(float)
    p = expit(4 * rng.normal(size=100))
    x = np.log(p / (1 - p))
    ref = sm.Logit(y, sm.add_constant(x)).fit(disp=0).params[1]
    got = binary_metrics(y, p)["calibration_slope"][0]
    assert np.isclose(got, ref, atol=1e-6)
