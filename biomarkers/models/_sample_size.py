"""How many candidate parameters a cohort supports: Riley et al. (BMJ 2020) criteria, inverted.

Riley RD, Ensor J, Snell KIE, et al. Calculating the sample size required for developing a
clinical prediction model. BMJ 2020;368:m441. The formulas give the minimum ``n`` for ``p``
candidate parameters; here they are solved for ``p`` at the ``n`` (and events) a run has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError

__all__ = ["SampleSizeBudget", "r2_cs_from_c_statistic", "sample_size_budget"]

_KINDS = ("binary", "continuous")


@dataclass(frozen=True, kw_only=True)
class SampleSizeBudget:
    """Candidate parameters supported by each Riley criterion; ``parameters`` is the minimum.

    Attributes
    ----------
    parameters
        Largest number of candidate parameters meeting every criterion (0 when none is met).
    shrinkage
        Criterion (i): expected uniform shrinkage ≥ the target.
    optimism
        Criterion (ii): apparent minus adjusted Nagelkerke R² ≤ the target.
    overall_risk
        Criterion (iii) (binary): ``n`` needed to estimate the overall risk within ``±margin``;
        ``risk_precise`` says whether the cohort has it.
    """

    n: int
    events: float | None
    r2_cs: float
    parameters: int
    shrinkage: int
    optimism: int
    overall_risk_n: int | None
    risk_precise: bool

    def to_frame(self):
        """One row per criterion: ``criterion, supported_parameters, detail``."""
        import pandas as pd

        rows = [
            ("shrinkage", self.shrinkage, "expected shrinkage >= target"),
            ("optimism", self.optimism, "optimism in Nagelkerke R2 <= target"),
            ("overall_risk", self.parameters if self.risk_precise else 0,
             f"n >= {self.overall_risk_n} for a precise overall risk"),
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=["criterion", "supported_parameters", "detail"])

    def says(self, n_parameters: int) -> str:
        """One line for a panel card: whether ``n_parameters`` fit the budget."""
        verdict = "within" if n_parameters <= self.parameters else "LARGER than"
        return (
            f"{n_parameters} parameter(s) is {verdict} the {self.parameters} this cohort supports "
            f"(Riley et al. BMJ 2020; n = {self.n}, anticipated Cox-Snell R2 = {self.r2_cs:.3f})"
        )


def r2_cs_from_c_statistic(c_statistic: float, prevalence: float) -> float:
    """Anticipated Cox-Snell R² from a C statistic (binormal approximation, Riley et al. 2021).

    The linear predictor is normal with unit variance in events and non-events, means apart by
    ``sqrt(2) * Φ⁻¹(C)``; the logistic model on it is then exact, and its expected likelihood-ratio
    statistic per subject (computed by quadrature, not simulation) gives ``R²_CS = 1 − exp(−LR/n)``.

    Parameters
    ----------
    c_statistic
        Anticipated AUROC, in (0.5, 1).
    prevalence
        Outcome proportion, in (0, 1).
    """
    if not 0.5 < c_statistic < 1 or not 0 < prevalence < 1:
        msg = (
            f"c_statistic={c_statistic} and prevalence={prevalence}: use 0.5 < c_statistic < 1 "
            "and 0 < prevalence < 1"
        )
        raise ConfigError(msg)
    mu = math.sqrt(2.0) * stats.norm.ppf(c_statistic)
    x = np.linspace(-10.0, 10.0 + mu, 20001)
    f0, f1 = stats.norm.pdf(x), stats.norm.pdf(x, loc=mu)
    logit = math.log(prevalence / (1 - prevalence)) + mu * x - mu**2 / 2
    p = 1.0 / (1.0 + np.exp(-logit))
    ll_events = np.trapezoid(f1 * np.log(p), x)
    ll_non = np.trapezoid(f0 * np.log1p(-p), x)
    ll_model = prevalence * ll_events + (1 - prevalence) * ll_non
    ll_null = prevalence * math.log(prevalence) + (1 - prevalence) * math.log(1 - prevalence)
    return float(1.0 - math.exp(-2.0 * (ll_model - ll_null)))


def _parameters_for(n: float, r2: float, s: float) -> float:
    """Riley's criterion ``n = p / ((S − 1) ln(1 − R²/S))`` solved for ``p``."""
    return n * (s - 1.0) * math.log(1.0 - r2 / s)


def sample_size_budget(
    n: int,
    events: float | None,
    outcome_kind: str = "binary",
    *,
    r2_cs: float | None = None,
    c_statistic: float | None = None,
    shrinkage: float = 0.9,
    optimism: float = 0.05,
    margin: float = 0.05,
) -> SampleSizeBudget:
    """Number of candidate parameters ``n`` subjects support (Riley et al. BMJ 2020).

    Criterion (i): expected shrinkage ≥ ``shrinkage``; (ii): apparent minus adjusted Nagelkerke
    R² ≤ ``optimism``; (iii) (binary): the overall risk estimated within ``±margin``.
    The budget is the smallest ``p`` of (i) and (ii), and 0 when (iii) fails.

    Parameters
    ----------
    n
        Subjects in the analysis.
    events
        Subjects with the event (binary); ignored for a continuous outcome.
    outcome_kind
        ``"binary"`` or ``"continuous"``.
    r2_cs
        Anticipated Cox-Snell R² (adjusted R² for a continuous outcome).
    c_statistic
        Anticipated C statistic, turned into ``r2_cs`` by :func:`r2_cs_from_c_statistic`
        (binary only); give one of ``r2_cs`` and ``c_statistic``.
    shrinkage, optimism, margin
        The criteria's targets (Riley's defaults).

    Returns
    -------
    SampleSizeBudget
        Supported parameters per criterion and overall (``.parameters``).
    """
    check_choice("outcome_kind", outcome_kind, _KINDS, source="sample_size_budget")
    if (r2_cs is None) == (c_statistic is None):
        msg = "sample_size_budget: give exactly one of r2_cs= (Cox-Snell R2) or c_statistic="
        raise ConfigError(msg)
    if outcome_kind == "continuous":
        return _continuous_budget(n, r2_cs, c_statistic, shrinkage=shrinkage, optimism=optimism)
    phi = _prevalence(n, events)
    if r2_cs is None:
        r2_cs = r2_cs_from_c_statistic(c_statistic, phi)
    ll_null = phi * math.log(phi) + (1 - phi) * math.log(1 - phi)
    max_r2 = 1.0 - math.exp(2.0 * ll_null)
    if not 0 < r2_cs < min(max_r2, shrinkage):
        msg = (
            f"sample_size_budget: r2_cs={r2_cs:.4g} is outside (0, {min(max_r2, shrinkage):.4g}), "
            f"the largest Cox-Snell R2 possible at prevalence {phi:.3f}; give a smaller r2_cs"
        )
        raise ConfigError(msg)
    p1 = _parameters_for(n, r2_cs, shrinkage)
    s2 = r2_cs / (r2_cs + optimism * max_r2)
    p2 = _parameters_for(n, r2_cs, s2)
    n3 = math.ceil((stats.norm.ppf(0.975) / margin) ** 2 * phi * (1 - phi))
    precise = n >= n3
    budget = math.floor(min(p1, p2)) if precise else 0
    return SampleSizeBudget(
        n=int(n), events=float(events), r2_cs=float(r2_cs), parameters=max(budget, 0),
        shrinkage=math.floor(p1), optimism=math.floor(p2), overall_risk_n=n3,
        risk_precise=precise,
    )  # fmt: skip


def _prevalence(n: int, events: float | None) -> float:
    if events is None or not 0 < events < n:
        msg = (
            f"sample_size_budget: events={events} for n={n}; a binary outcome needs 0 < events < n"
        )
        raise ConfigError(msg)
    return float(events) / float(n)


def _continuous_budget(n, r2, c_statistic, *, shrinkage, optimism) -> SampleSizeBudget:
    if c_statistic is not None or not 0 < r2 < shrinkage:
        msg = (
            f"sample_size_budget: a continuous outcome needs 0 < r2_cs < {shrinkage} (adjusted R2)"
        )
        raise ConfigError(msg)
    # Criterion (i) for a linear model: n = p / ((S − 1) ln(1 − R²/S)) with R²_CS = R²_adj.
    p1 = _parameters_for(n, r2, shrinkage)
    # Criterion (ii): R²_app − R²_adj = (1 − R²_adj) p / (n − 1) ≤ optimism.
    p2 = optimism * (n - 1) / (1 - r2)
    budget = math.floor(min(p1, p2))
    return SampleSizeBudget(
        n=int(n), events=None, r2_cs=float(r2), parameters=max(budget, 0),
        shrinkage=math.floor(p1), optimism=math.floor(p2), overall_risk_n=None,
        risk_precise=True,
    )  # fmt: skip
