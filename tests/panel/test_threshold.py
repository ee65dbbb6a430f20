from __future__ import annotations

import numpy as np
import pytest

from biomarkers.exceptions import SchemaError
from biomarkers.panel import choose_threshold
from biomarkers.panel._threshold import wilson_interval

Y = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
S = [0.05, 0.10, 0.30, 0.45, 0.70, 0.20, 0.50, 0.60, 0.80, 0.90]


def test_youden_hand_example():
    # thresholds and (sens, spec): 0.5 → (4/5, 4/5) J=0.6; 0.2 → (5/5, 2/5) J=0.4; 0.8 → (2/5, 5/5)
    t = choose_threshold(Y, S)
    assert t["rule"] == "youden"
    assert t["value"] == 0.5
    assert t["sensitivity"]["estimate"] == pytest.approx(0.8)
    assert t["specificity"]["estimate"] == pytest.approx(0.8)
    assert t["counts"] == {"tp": 4, "fp": 1, "tn": 4, "fn": 1}
    assert t["ppv"]["estimate"] == pytest.approx(0.8)
    assert t["npv"]["estimate"] == pytest.approx(0.8)


def test_youden_tie_goes_to_highest_threshold():
    t = choose_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert t["value"] == 0.8


def test_youden_matches_brute_force():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 60)
    s = y * 0.8 + rng.normal(size=60)
    t = choose_threshold(y, s)
    best = max(((s[y == 1] >= c).mean() + (s[y == 0] < c).mean() - 1, c) for c in np.unique(s))
    sens = (s[y == 1] >= t["value"]).mean()
    spec = (s[y == 0] < t["value"]).mean()
    assert sens + spec - 1 == pytest.approx(best[0])


def test_fixed_sensitivity():
    t = choose_threshold(Y, S, rule={"sensitivity": 0.9})
    # sensitivity ≥ 0.9 needs all 5 positives: the highest such threshold is 0.2
    assert t["value"] == 0.2
    assert t["rule"] == "sensitivity"
    assert t["target"] == 0.9
    assert t["sensitivity"]["estimate"] == 1.0
    assert t["specificity"]["estimate"] == pytest.approx(0.4)


def test_fixed_specificity():
    t = choose_threshold(Y, S, rule={"specificity": 0.8})
    # specificity ≥ 0.8 allows one false positive (0.70): the lowest such threshold is 0.5
    assert t["value"] == 0.5
    assert t["specificity"]["estimate"] == pytest.approx(0.8)


def test_fixed_specificity_unreachable_calls_nobody_positive():
    t = choose_threshold([1, 0], [0.2, 0.9], rule={"specificity": 1.0})
    assert t["value"] > 0.9
    assert t["sensitivity"]["estimate"] == 0.0


def test_given_threshold_and_missing_labels():
    t = choose_threshold([0, 1, np.nan, 1], [0.2, 0.7, 0.9, 0.4], rule=0.5)
    assert t["rule"] == "given"
    assert t["n"] == 3
    assert t["sensitivity"]["estimate"] == 0.5


def test_wilson_matches_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    for k, n in [(0, 10), (4, 5), (17, 40), (40, 40)]:
        lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert wilson_interval(k, n) == pytest.approx((lo, hi), abs=1e-12)
    t = choose_threshold(Y, S)
    lo, hi = proportion_confint(4, 5, method="wilson")
    assert (t["sensitivity"]["ci_low"], t["sensitivity"]["ci_high"]) == pytest.approx((lo, hi))
    assert wilson_interval(0, 0) == (None, None)


def test_string_labels():
    t = choose_threshold(["no", "yes", "yes", "no"], [0.1, 0.8, 0.6, 0.3], positive="yes")
    assert t["sensitivity"]["estimate"] == 1.0
    assert t["specificity"]["estimate"] == 1.0


@pytest.mark.parametrize(
    ("rule", "match"),
    [
        ("best", "threshold rule 'best' is not valid"),
        ({"ppv": 0.9}, "is not valid"),
        ({"sensitivity": 1.5}, r"must be in \(0, 1\]"),
        (float("nan"), "finite"),
    ],
)
def test_bad_rules_refused(rule, match):
    with pytest.raises(SchemaError, match=match):
        choose_threshold(Y, S, rule=rule)


def test_one_class_refused():
    with pytest.raises(SchemaError, match="both classes are needed"):
        choose_threshold([1, 1, 1], [0.1, 0.2, 0.3])


def test_length_mismatch_refused():
    with pytest.raises(SchemaError, match="one score per subject"):
        choose_threshold([0, 1, 1], [0.1, 0.2])
