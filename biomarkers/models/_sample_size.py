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

__all__ = [
    "MinimumSampleSize",
    "SampleSizeBudget",
    "minimum_sample_size",
    "r2_cs_from_c_statistic",
    "sample_size_budget",
]

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


# ---------------------------------------------------------------------------------------------
# Forward criteria: the minimum n for p candidate parameters (Riley et al. BMJ 2020, as in the
# authors' pmsampsize). The same formulas as the budget above, solved for n instead of p.
# ---------------------------------------------------------------------------------------------

_FORWARD_KINDS = ("binary", "survival", "continuous")


@dataclass(frozen=True, kw_only=True)
class MinimumSampleSize:
    """Minimum sample size of a prediction model, per Riley criterion and overall.

    Attributes
    ----------
    outcome_kind
        ``"binary"``, ``"survival"`` or ``"continuous"``.
    n
        The minimum number of subjects: the largest ``n`` over the criteria.
    criteria
        ``criterion -> n`` in the order of the paper: ``shrinkage``, ``optimism`` and
        ``overall_risk`` (binary), ``shrinkage``, ``optimism`` (survival; its precision of the
        overall risk at ``timepoint`` is reported in ``details``), ``shrinkage``, ``optimism``,
        ``residual_variance``, ``intercept`` (continuous).
    events
        Expected events at ``n`` (binary: ``n × prevalence``; survival: ``n × rate × mean
        follow-up``); None for a continuous outcome.
    details
        Inputs and derived numbers (``r2_cs``, ``max_r2``, shrinkage targets, intervals).
    """

    outcome_kind: str
    n: int
    parameters: int
    criteria: dict[str, int]
    events: float | None
    details: dict[str, float]

    @property
    def events_per_parameter(self) -> float | None:
        """Expected events (or subjects, continuous) per candidate parameter at ``n``."""
        base = self.n if self.events is None else self.events
        return round(base / self.parameters, 2)

    def to_frame(self):
        """One row per criterion and a ``final`` row: ``criterion, n, events``."""
        import pandas as pd

        per = self.events / self.n if self.events is not None else None
        rows = [(c, n, None if per is None else n * per) for c, n in self.criteria.items()]
        rows.append(("final", self.n, self.events))
        return pd.DataFrame(rows, columns=["criterion", "n", "events"])


def _n_for(p: int, r2: float, s: float) -> int:
    """Riley's criterion ``n = p / ((S − 1) ln(1 − R²/S))``, rounded up."""
    return math.ceil(p / ((s - 1.0) * math.log(1.0 - r2 / s)))


def _check_r2(r2: float, max_r2: float, shrinkage: float) -> None:
    if not 0 < r2 < min(max_r2, shrinkage):
        msg = (
            f"sample_size: r2_cs={r2:.4g} must lie in (0, {min(max_r2, shrinkage):.4g}) (the "
            "largest Cox-Snell R2 possible for this outcome, and below the shrinkage target); "
            "give a smaller r2_cs"
        )
        raise ConfigError(msg)


def _binary_minimum(p, r2, prevalence, *, shrinkage, optimism, margin) -> MinimumSampleSize:
    if prevalence is None or not 0 < prevalence < 1:
        msg = f"sample_size: prevalence={prevalence!r}; a binary outcome needs 0 < prevalence < 1"
        raise ConfigError(msg)
    ll_null = prevalence * math.log(prevalence) + (1 - prevalence) * math.log(1 - prevalence)
    max_r2 = 1.0 - math.exp(2.0 * ll_null)
    _check_r2(r2, max_r2, shrinkage)
    s2 = r2 / (r2 + optimism * max_r2)
    n3 = math.ceil((stats.norm.ppf(0.975) / margin) ** 2 * prevalence * (1 - prevalence))
    crit = {
        "shrinkage": _n_for(p, r2, shrinkage),
        "optimism": _n_for(p, r2, s2),
        "overall_risk": n3,
    }
    n = max(crit.values())
    details = {"r2_cs": r2, "max_r2": max_r2, "shrinkage_optimism": s2, "prevalence": prevalence}
    return MinimumSampleSize(
        outcome_kind="binary", n=n, parameters=p, criteria=crit, events=n * prevalence,
        details=details,
    )  # fmt: skip


def _survival_minimum(p, r2, *, rate, timepoint, mean_followup, shrinkage, optimism, margin):
    for name, value in (("rate", rate), ("timepoint", timepoint), ("mean_followup", mean_followup)):
        if value is None or not value > 0:
            msg = f"sample_size: {name}={value!r}; a survival outcome needs {name} > 0"
            raise ConfigError(msg)
    # the null log-likelihood per subject of an exponential model with this event rate: with
    # E = rate × follow-up events in n subjects, ln L0 / n = (E/n) ln(E/n) − E/n
    d = rate * mean_followup
    max_r2 = 1.0 - math.exp(2.0 * (d * math.log(d) - d)) if d < 1 else 1.0
    _check_r2(r2, max_r2, shrinkage)
    s2 = r2 / (r2 + optimism * max_r2)
    crit = {"shrinkage": _n_for(p, r2, shrinkage), "optimism": _n_for(p, r2, s2)}
    n = max(crit.values())
    # criterion (iii): the overall risk by `timepoint`, 1 − exp(−rate t), and its 95 % interval
    half = stats.norm.ppf(0.975) * math.sqrt(rate / (mean_followup * n))
    risk = 1.0 - math.exp(-rate * timepoint)
    upper = 1.0 - math.exp(-(rate + half) * timepoint)
    details = {
        "r2_cs": r2, "max_r2": max_r2, "shrinkage_optimism": s2, "risk_at_timepoint": risk,
        "risk_ci_low": 1.0 - math.exp(-(rate - half) * timepoint), "risk_ci_high": upper,
        "risk_precise": float(upper - risk <= margin),
    }  # fmt: skip
    return MinimumSampleSize(
        outcome_kind="survival", n=n, parameters=p, criteria=crit, events=n * d, details=details
    )


def _linear_shrinkage(n: int, p: int, r2: float) -> float:
    """Expected shrinkage of a linear model with ``p`` parameters fitted on ``n`` subjects."""
    r2_app = (r2 * (n - p - 1) + p) / (n - 1)
    return 1.0 + (p - 2) / (n * math.log(1.0 - r2_app))


def _continuous_minimum(p, r2, *, intercept, sd, shrinkage, optimism, mmoe) -> MinimumSampleSize:
    if not 0 < r2 < 1:
        msg = f"sample_size: r2={r2!r}; a continuous outcome needs an adjusted R2 in (0, 1)"
        raise ConfigError(msg)
    n1 = p + 2
    while _linear_shrinkage(n1, p, r2) < shrinkage:
        n1 += 1
    n2 = math.ceil(1 + p * (1 - r2) / optimism)

    def variance_moe(n: int) -> float:  # multiplicative margin of error of the residual SD
        df = n - p - 1
        return math.sqrt(max(df / stats.chi2.ppf(0.025, df), stats.chi2.ppf(0.975, df) / df))

    n3 = p + 2
    while variance_moe(n3) > mmoe:
        n3 += 1
    crit = {"shrinkage": n1, "optimism": n2, "residual_variance": n3}
    if intercept is not None and sd is not None:
        n4 = max(crit.values())

        def upper(n: int) -> float:
            se = math.sqrt(sd**2 * (1 - r2) / n)
            return intercept + stats.t.ppf(0.975, n - p - 1) * se

        while abs(upper(n4) / intercept) > mmoe:
            n4 += 1
        crit["intercept"] = n4
    n = max(crit.values())
    details = {"r2": r2, "shrinkage_at_n": _linear_shrinkage(n, p, r2)}
    return MinimumSampleSize(
        outcome_kind="continuous", n=n, parameters=p, criteria=crit, events=None, details=details
    )


def minimum_sample_size(
    outcome_kind: str,
    *,
    parameters: int,
    r2_cs: float | None = None,
    c_statistic: float | None = None,
    prevalence: float | None = None,
    rate: float | None = None,
    timepoint: float | None = None,
    mean_followup: float | None = None,
    intercept: float | None = None,
    sd: float | None = None,
    shrinkage: float = 0.9,
    optimism: float = 0.05,
    margin: float = 0.05,
    mmoe: float = 1.1,
) -> MinimumSampleSize:
    """Minimum sample size to develop a prediction model (Riley et al. BMJ 2020).

    The public entry point is :func:`biomarkers.design.sample_size`, which documents the
    parameters; this is the one home of the formulas (with :func:`sample_size_budget`, their
    inverse).
    """
    check_choice("outcome_kind", outcome_kind, _FORWARD_KINDS, source="sample_size")
    if isinstance(parameters, bool) or not isinstance(parameters, int) or parameters < 1:
        msg = f"sample_size: parameters={parameters!r}; give the number of candidate parameters (>= 1)"
        raise ConfigError(msg)
    if outcome_kind == "continuous":
        if r2_cs is None:
            msg = "sample_size: a continuous outcome needs r2_cs= (the anticipated adjusted R2)"
            raise ConfigError(msg)
        return _continuous_minimum(
            parameters, r2_cs, intercept=intercept, sd=sd, shrinkage=shrinkage,
            optimism=optimism, mmoe=mmoe,
        )  # fmt: skip
    if (r2_cs is None) == (c_statistic is None) or (
        c_statistic is not None and outcome_kind != "binary"
    ):
        msg = (
            "sample_size: give exactly one of r2_cs= (Cox-Snell R2) or c_statistic= "
            "(binary outcomes only)"
        )
        raise ConfigError(msg)
    if outcome_kind == "binary":
        r2 = r2_cs if r2_cs is not None else r2_cs_from_c_statistic(c_statistic, prevalence)
        return _binary_minimum(
            parameters, r2, prevalence, shrinkage=shrinkage, optimism=optimism, margin=margin
        )
    return _survival_minimum(
        parameters, r2_cs, rate=rate, timepoint=timepoint, mean_followup=mean_followup,
        shrinkage=shrinkage, optimism=optimism, margin=margin,
    )  # fmt: skip
