"""validation_sample_size against Riley et al. (Stat Med 2021;40:4230) and its formulas."""

from __future__ import annotations

import numpy as np
import pytest

from biomarkers.design import validation_sample_size
from biomarkers.design._validation_size import _n_net_benefit, _n_oe, _n_slope
from biomarkers.exceptions import ConfigError
from biomarkers.panel import BiomarkerPanel


def test_applied_example_c_statistic():
    # Riley et al. 2021, section 4 (applied example): outcome prevalence 0.018, anticipated
    # C-statistic 0.8, a 95% CI of width 0.1 for C -> at least 4252 participants
    table = validation_sample_size(
        prevalence=0.018, c_statistic=0.8, oe_ci_width=1.0, lp_mean=-5.0, lp_sd=2.5
    ).set_index("criterion")
    assert table.loc["c_statistic", "n"] == 4252
    assert table.loc["c_statistic", "target_se"] == pytest.approx(0.1 / (2 * 1.959964), rel=1e-6)
    # O/E CI 0.5 to 1.5 (width 1) around O/E = 1: SE(ln O/E) = asinh(0.5) / 1.96 = 0.2455
    assert table.loc["oe", "target_se"] == pytest.approx(0.2455, abs=1e-4)
    assert table.loc["oe", "n_exact"] == pytest.approx(0.982 / (0.018 * 0.245521**2), rel=1e-5)
    assert table.loc["required", "n"] == table["n"].max()


@pytest.mark.parametrize(
    ("phi", "se", "expected"),
    [(0.5, 0.051, 384.47), (0.1, 0.051, 3460.2), (0.1, 0.175, 293.9)],
    ids=["phi0.5", "phi0.1", "phi0.1-wide"],
)
def test_oe_criterion_section_3_1_1(phi, se, expected):
    # section 3.1.1: N = (1 - phi) / (phi SE^2) for the paper's three examples
    assert _n_oe(phi, se) == pytest.approx(expected, abs=0.1)


def test_slope_criterion_matches_monte_carlo():
    # section 3.2.4: LP ~ N(-1.75, 1.47), SE(slope) 0.051; the paper evaluates the information
    # matrix on a million simulated LPs, the toolkit by Gauss-Hermite quadrature
    lp = np.random.default_rng(0).normal(-1.75, 1.47, 2_000_000)
    v = np.exp(lp) / (1 + np.exp(lp)) ** 2
    i00, i01, i11 = v.mean(), (lp * v).mean(), (lp * lp * v).mean()
    monte_carlo = i00 / (0.051**2 * (i00 * i11 - i01**2))
    x, w = np.polynomial.hermite_e.hermegauss(120)
    nodes = [(-1.75 + 1.47 * x, w / w.sum())]
    assert _n_slope(nodes, se=0.051, slope=1.0) == pytest.approx(monte_carlo, rel=0.005)


def test_net_benefit_criterion_section_3_4_1():
    # section 3.4.1: sensitivity 0.6, specificity 0.88, threshold 0.8, prevalence 0.72
    phi, sens, spec, pt, se = 0.72, 0.6, 0.88, 0.8, 0.051
    w = (1 - phi) / phi * (pt / (1 - pt))
    var = sens * (1 - sens) / phi + w**2 * spec * (1 - spec) / (1 - phi)
    var += w**2 * (1 - spec) ** 2 / (phi * (1 - phi))
    spec_ = {"sensitivity": sens, "specificity": spec, "threshold": pt}
    assert _n_net_benefit(phi, spec_, se) == pytest.approx(var / se**2, rel=1e-12)
    table = validation_sample_size(
        prevalence=phi, c_statistic=0.7, net_benefit={**spec_, "ci_width": 0.2}
    )
    assert "net_benefit" in set(table["criterion"])


def test_defaults_from_a_panel_and_errors():
    panel = BiomarkerPanel.from_weights(
        {"cytokine:IL6@D0": 1.0},
        intercept=0.0,
        population={"n_subjects": 200, "n_events": 40},
        performance={"validation": "cv", "metrics": {"auroc": (0.75, 0.68, 0.82)}},
    )
    from_panel = validation_sample_size(panel=panel)
    explicit = validation_sample_size(prevalence=0.2, c_statistic=0.75)
    assert from_panel.equals(explicit)
    with pytest.raises(ConfigError, match=r"prevalence=1\.5 is invalid"):
        validation_sample_size(prevalence=1.5, c_statistic=0.7)
    with pytest.raises(ConfigError, match="needs prevalence= and c_statistic="):
        validation_sample_size()
