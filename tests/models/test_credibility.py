"""Credibility card: the rating rule, the direction check, the absolute scale, Phase II words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import ConfigError
from biomarkers.models import PredictiveResult, credibility, predictive


def _result(rows, kind="binary") -> PredictiveResult:
    """A result whose marker table holds ``(marker, interaction, p, label)`` rows."""
    df = pd.DataFrame(rows, columns=["marker", "interaction", "p_interaction", "label"])
    se = 0.2
    df = df.assign(
        ci_low=df["interaction"] - 1.96 * se,
        ci_high=df["interaction"] + 1.96 * se,
        q_value_interaction=df["p_interaction"],
        status="ok",
        scale="log odds ratio per SD",
        interaction_rd=df["interaction"] / 4,
        interaction_rd_ci_low=(df["interaction"] - 1.96 * se) / 4,
        interaction_rd_ci_high=(df["interaction"] + 1.96 * se) / 4,
    )
    return PredictiveResult(
        markers=df, cate=pd.DataFrame(), uplift={}, subgroups=pd.DataFrame(),
        heterogeneity=pd.DataFrame(), params={"kind": kind},
    )  # fmt: skip


FEW = [("a", 0.8, 0.001, "predictive"), ("b", 0.1, 0.6, "neither"), ("c", -0.7, 0.003, "both")]


def _card(result, **kw):
    return credibility(result, **kw).set_index("marker")


def test_rows_are_reported_and_prespecified_markers():
    card = _card(_result(FEW), prespecified={"b": "higher", "zz": "lower"})
    assert list(card.index) == ["a", "c", "b", "zz"]
    assert card.loc["zz", "analysed"] == "no"
    assert card.loc["zz", "rating"] == "very low"
    assert card.loc["a", "prespecified"] == "no"
    assert card.loc["a", "direction_as_hypothesised"] == "not pre-specified"
    assert (card["n_modifiers_tried"] == 3).all()


def test_direction_as_hypothesised_depends_on_which_outcome_is_favourable():
    res = _result(FEW)
    card = _card(res, prespecified={"a": "higher", "c": "higher"})
    # class 1 favourable: a positive interaction = larger benefit at higher marker values
    assert card.loc["a", "direction_as_hypothesised"] == "yes"
    assert card.loc["c", "direction_as_hypothesised"] == "no"
    assert card.loc["c", "rating"] == "very low"  # opposite to the hypothesis
    bad = _card(res, prespecified={"a": "higher"}, favourable="lower")  # class 1 = death
    assert bad.loc["a", "direction_as_hypothesised"] == "no"
    # survival: events are unfavourable by default, a negative log-HR interaction = benefit
    surv = _card(_result(FEW, kind="survival"), prespecified={"c": "higher"})
    assert surv.loc["c", "direction_as_hypothesised"] == "yes"
    assert surv.loc["c", "absolute_scale"].startswith("not computed")


def test_rating_rule():
    related_same = _result([("a", 0.7, 0.01, "predictive")])
    related_flip = _result([("a", -0.5, 0.01, "predictive")])
    few = _result(FEW)
    # pre-specified, right direction, p < 0.005, 3 modifiers, consistent: Phase II caps it
    kw = {"prespecified": {"a": "higher"}, "related": {"death": related_same}}
    assert _card(few, **kw).loc["a", "rating"] == "moderate"
    assert _card(few, phase="III", **kw).loc["a", "rating"] == "high"
    assert _card(few, phase="III", **kw).loc["a", "evidence"] == "confirmatory"
    # inconsistent in a related outcome: very low whatever else
    flip = _card(few, prespecified={"a": "higher"}, related={"death": related_flip})
    assert flip.loc["a", "rating"] == "very low"
    assert flip.loc["a", "consistency"] == "no (0/1)"
    # data-driven (not pre-specified): low at best
    assert _card(few).loc["a", "rating"] == "low"
    # pre-specified but many modifiers tried and no related outcome: low
    many = _result(FEW + [(f"x{i}", 0.0, 0.9, "neither") for i in range(10)])
    assert _card(many, prespecified={"a": "higher"}).loc["a", "rating"] == "low"
    # p >= 0.05: very low
    weak = _result([("a", 0.3, 0.2, "neither"), *FEW[1:]])
    assert _card(weak, prespecified={"a": "higher"}).loc["a", "rating"] == "very low"


def test_phase_ii_findings_are_always_hypothesis_generating():
    card = _card(_result(FEW), prespecified={"a": "higher", "c": "lower"})
    assert (card["evidence"] == "hypothesis-generating").all()
    assert credibility(_result(FEW)).attrs["phase"] == "II"


def test_bad_direction_and_phase_are_clear_errors():
    with pytest.raises(ConfigError, match=r"prespecified\['a'\]"):
        credibility(_result(FEW), prespecified={"a": "up"})
    with pytest.raises(ConfigError, match="phase"):
        credibility(_result(FEW), phase="IV")


def test_risk_difference_interaction_matches_statsmodels_hc3():
    import statsmodels.api as sm

    rng = np.random.default_rng(4)
    n = 150
    df = pd.DataFrame({"arm": np.where(rng.random(n) < 0.5, "MSC", "SMT"),
                       "il6": rng.normal(size=n), "crp": rng.normal(size=n)})  # fmt: skip
    lin = -0.2 + 1.0 * (df["arm"] == "MSC") * df["il6"]
    df["response"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    res = predictive(df, outcome="response", arm="arm", treated="MSC", method=["interaction"],
                     shrinkage="none")  # fmt: skip
    z = (df["il6"] - df["il6"].mean()) / df["il6"].std(ddof=0)
    a = (df["arm"] == "MSC").astype(float)
    design = sm.add_constant(np.column_stack([a, z, a * z]))
    ref = sm.OLS(df["response"].astype(float), design).fit(cov_type="HC3")
    row = res.markers.set_index("marker").loc["il6"]
    assert row["interaction_rd"] == pytest.approx(ref.params.iloc[3], abs=1e-10)
    lo, hi = ref.conf_int().iloc[3]
    assert row["interaction_rd_ci_low"] == pytest.approx(lo, abs=1e-10)
    assert row["interaction_rd_ci_high"] == pytest.approx(hi, abs=1e-10)
    card = credibility(res).set_index("marker")
    assert card.loc["il6", "absolute_scale"] == "risk difference per SD"
    assert card.loc["il6", "interaction_abs"] == pytest.approx(ref.params.iloc[3])
