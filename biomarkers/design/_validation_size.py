"""Minimum sample size for the external validation of a prediction model with a binary outcome.

Riley RD, Debray TPA, Collins GS, Archer L, Ensor J, van Smeden M, Snell KIE. Minimum sample size
for external validation of a clinical prediction model with a binary outcome. *Stat Med*
2021;40:4230-4251. Each criterion asks for a 95% CI of a target width around the anticipated
value of one performance measure; the validation cohort needs the largest of the sizes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from biomarkers.exceptions import ConfigError

__all__ = ["validation_sample_size"]

_Z = float(stats.norm.ppf(0.975))
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(120)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _check(name: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo < value < hi:
        msg = f"{name}={value!r} is invalid; give a number in ({lo:g}, {hi:g})"
        raise ConfigError(msg)
    return float(value)


def _se_for_ratio_width(estimate: float, width: float) -> float:
    """SE of ln(estimate) whose 95% CI exp(ln(e) ± z SE) is ``width`` wide."""
    return float(np.arcsinh(width / (2.0 * estimate)) / _Z)


def _n_oe(prevalence: float, se: float) -> float:
    """Riley et al. 2021, eq. 3: var(ln O/E) ≈ (1 − φ) / (n φ)."""
    return (1.0 - prevalence) / (prevalence * se**2)


def _lp_nodes(prevalence: float, c: float, lp_mean: float | None, lp_sd: float | None):
    """Nodes and weights of the linear predictor's distribution (normal, or a binormal mix)."""
    if lp_mean is not None and lp_sd is not None:
        return [(lp_mean + lp_sd * _NODES, _WEIGHTS)]
    # Riley et al. 2021 section 4.6.3: normal LP in each class with variance σ² = 2 Φ⁻¹(C)²;
    # calibrated when the means differ by σ², i.e. μ0 = logit(φ) − σ²/2 for the non-events
    var = 2.0 * stats.norm.ppf(c) ** 2
    sd = np.sqrt(var)
    mu0 = np.log(prevalence / (1.0 - prevalence)) - var / 2.0
    return [
        (mu0 + sd * _NODES, (1.0 - prevalence) * _WEIGHTS),
        (mu0 + var + sd * _NODES, prevalence * _WEIGHTS),
    ]


def _n_slope(nodes, *, se: float, slope: float, intercept: float = 0.0) -> float:
    """Riley et al. 2021, eq. 6: Fisher information of (intercept, slope) per subject."""
    i00 = i01 = i11 = 0.0
    for lp, w in nodes:
        eta = intercept + slope * lp
        v = np.exp(eta) / (1.0 + np.exp(eta)) ** 2
        i00 += float(np.sum(w * v))
        i01 += float(np.sum(w * lp * v))
        i11 += float(np.sum(w * lp * lp * v))
    return i00 / (se**2 * (i00 * i11 - i01**2))


def _se_c(n: float, c: float, prevalence: float) -> float:
    """Riley et al. 2021, eq. 8 (Newcombe's SE of the C-statistic)."""
    m = n / 2.0 - 1.0
    num = c * (1 - c) * (1 + m * (1 - c) / (2 - c) + m * c / (1 + c))
    return float(np.sqrt(num / (n**2 * prevalence * (1 - prevalence))))


def _n_c(c: float, prevalence: float, se: float) -> float:
    return float(optimize.brentq(lambda n: _se_c(n, c, prevalence) - se, 4.0, 1e9, xtol=1e-9))


def _n_net_benefit(prevalence: float, spec: Mapping[str, float], se: float) -> float:
    """Riley et al. 2021, eq. 10: SE of the net benefit at threshold ``pt``."""
    sens, sp, pt = spec["sensitivity"], spec["specificity"], spec["threshold"]
    # the threshold odds weigh false positives (the variance of net benefit, not net benefit
    # itself: biomarkers._stats.net_benefit is the one computation of net benefit)
    w = (1 - prevalence) / prevalence * float(np.exp(special.logit(pt)))
    var = (
        sens * (1 - sens) / prevalence
        + w**2 * sp * (1 - sp) / (1 - prevalence)
        + w**2 * (1 - sp) ** 2 / (prevalence * (1 - prevalence))
    )
    return var / se**2


def validation_sample_size(
    *,
    prevalence: float | None = None,
    c_statistic: float | None = None,
    panel: Any = None,
    oe: float = 1.0,
    oe_ci_width: float = 0.2,
    slope: float = 1.0,
    slope_ci_width: float = 0.2,
    c_ci_width: float = 0.1,
    lp_mean: float | None = None,
    lp_sd: float | None = None,
    net_benefit: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Minimum size of an external-validation cohort (Riley et al., *Stat Med* 2021).

    Parameters
    ----------
    prevalence
        Anticipated outcome proportion in the validation population (default: the panel's
        ``n_events / n_subjects``).
    c_statistic
        Anticipated C-statistic (default: the panel's stored ``auroc`` estimate).
    panel
        A :class:`~biomarkers.panel.BiomarkerPanel` whose development performance fills the
        defaults above.
    oe, oe_ci_width
        Anticipated observed/expected ratio and the width of its 95% CI.
    slope, slope_ci_width
        Anticipated calibration slope and the width of its 95% CI.
    c_ci_width
        Width of the 95% CI of the C-statistic.
    lp_mean, lp_sd
        Mean and SD of the model's linear predictor in the validation population (a normal
        distribution); without them, a normal LP in each class consistent with ``c_statistic``
        and ``prevalence`` (the paper's section 4.6.3).
    net_benefit
        Optional ``{"sensitivity", "specificity", "threshold", "ci_width"}`` for the net-benefit
        criterion (``ci_width`` default 0.2 on the standardised net benefit scale).

    Returns
    -------
    pandas.DataFrame
        One row per criterion (``oe``, ``calibration_slope``, ``c_statistic``, optionally
        ``net_benefit``) and a final ``required`` row (the largest): ``criterion, target_se,
        n_exact, n, events``; ``n`` is ``n_exact`` rounded up.

    Examples
    --------
    >>> t = validation_sample_size(prevalence=0.018, c_statistic=0.8, oe_ci_width=1.0,
    ...                            slope_ci_width=0.3, lp_mean=-5.0, lp_sd=2.5)
    >>> int(t.set_index("criterion").loc["c_statistic", "n"])
    4252
    """
    doc = panel.to_dict() if panel is not None else {}
    if prevalence is None and doc:
        pop = doc["population"]
        if pop.get("n_subjects") and pop.get("n_events") is not None:
            prevalence = pop["n_events"] / pop["n_subjects"]
    if c_statistic is None and doc:
        c_statistic = (
            ((doc.get("performance") or {}).get("metrics") or {}).get("auroc", {}).get("estimate")
        )
    if prevalence is None or c_statistic is None:
        msg = (
            "validation_sample_size needs prevalence= and c_statistic= (or a panel= storing "
            "n_subjects/n_events and an auroc estimate)"
        )
        raise ConfigError(msg)
    phi = _check("prevalence", prevalence, 0.0, 1.0)
    c = _check("c_statistic", c_statistic, 0.5, 1.0)
    rows = []
    se = _se_for_ratio_width(
        _check("oe", oe, 0.0, np.inf), _check("oe_ci_width", oe_ci_width, 0, np.inf)
    )
    rows.append(("oe", se, _n_oe(phi, se)))
    se = _check("slope_ci_width", slope_ci_width, 0.0, np.inf) / (2 * _Z)
    nodes = _lp_nodes(phi, c, lp_mean, lp_sd)
    rows.append(("calibration_slope", se, _n_slope(nodes, se=se, slope=slope)))
    se = _check("c_ci_width", c_ci_width, 0.0, 1.0) / (2 * _Z)
    rows.append(("c_statistic", se, _n_c(c, phi, se)))
    if net_benefit is not None:
        se = float(net_benefit.get("ci_width", 0.2)) / (2 * _Z)
        rows.append(("net_benefit", se, _n_net_benefit(phi, net_benefit, se)))
    table = pd.DataFrame(rows, columns=["criterion", "target_se", "n_exact"])
    table["n"] = np.ceil(table["n_exact"] - 1e-9).astype(int)
    worst = table.loc[table["n"].idxmax()]
    table.loc[len(table)] = ["required", np.nan, worst["n_exact"], worst["n"]]
    table["events"] = np.ceil(table["n"] * phi - 1e-9).astype(int)
    return table
