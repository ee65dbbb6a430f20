"""Analytic companions of a power study: Riley's minimum sample size, interaction power."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError
from biomarkers.models._sample_size import MinimumSampleSize, minimum_sample_size

__all__ = ["InteractionPower", "interaction_power", "sample_size"]


def sample_size(
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
    """Minimum sample size to develop a prediction model (Riley et al. BMJ 2020;368:m441).

    Criteria: (i) expected uniform shrinkage ≥ ``shrinkage``; (ii) apparent minus adjusted
    Nagelkerke R² ≤ ``optimism``; (iii) binary: the overall risk within ``± margin``; survival:
    the overall risk at ``timepoint`` is reported with its interval; continuous: the residual
    SD and (with ``intercept`` and ``sd``) the mean outcome within a multiplicative margin
    ``mmoe``. The answer is the largest ``n`` over the criteria, as in the authors' pmsampsize.

    Parameters
    ----------
    outcome_kind
        ``"binary"``, ``"survival"`` or ``"continuous"``.
    parameters
        Candidate predictor parameters (all considered, not only those kept).
    r2_cs
        Anticipated Cox-Snell R² (binary, survival) or adjusted R² (continuous).
    c_statistic
        Binary only, instead of ``r2_cs``: the anticipated C statistic (converted with the
        binormal approximation of :func:`biomarkers.models._sample_size.r2_cs_from_c_statistic`).
    prevalence
        Binary: the outcome proportion.
    rate, timepoint, mean_followup
        Survival: events per person-time, the time of the predicted risk and the mean
        follow-up, in one time unit.
    intercept, sd
        Continuous: anticipated mean and SD of the outcome (criterion (iv), optional).
    shrinkage, optimism, margin, mmoe
        The criteria's targets (Riley's defaults).

    Returns
    -------
    MinimumSampleSize
        ``.n`` (the minimum), ``.criteria`` (n per criterion), ``.events``,
        ``.events_per_parameter``, ``.to_frame()``.

    Examples
    --------
    >>> import biomarkers as bm
    >>> bm.design.sample_size("binary", parameters=24, r2_cs=0.288, prevalence=0.174).n
    662
    """
    return minimum_sample_size(
        outcome_kind, parameters=parameters, r2_cs=r2_cs, c_statistic=c_statistic,
        prevalence=prevalence, rate=rate, timepoint=timepoint, mean_followup=mean_followup,
        intercept=intercept, sd=sd, shrinkage=shrinkage, optimism=optimism, margin=margin,
        mmoe=mmoe,
    )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class InteractionPower:
    """Power of the treatment × marker interaction test, and the size giving ``target`` power.

    ``se`` is the anticipated standard error of the interaction coefficient; ``required`` the
    events (survival) or subjects (binary, continuous) for ``target`` power.
    """

    power: float
    se: float
    required: int
    target: float
    outcome_kind: str


def interaction_power(
    effect: float,
    *,
    n: int | None = None,
    events: float | None = None,
    outcome_kind: str = "survival",
    allocation: float = 0.5,
    marker_sd: float = 1.0,
    marker_correlation: float = 1.0,
    prevalence: float | None = None,
    residual_sd: float | None = None,
    alpha: float = 0.05,
    target: float = 0.8,
) -> InteractionPower:
    """Classic two-arm power approximation of a treatment × continuous-marker interaction.

    With randomisation probability π and a marker independent of arm, each unit of information
    carries π(1 − π) σ² about the interaction β (Peterson & George, Control Clin Trials
    1993; Schoenfeld's events formula for the Cox model). So ``SE(β̂) = 1 / sqrt(D π(1−π) σ²)``
    with ``D`` events (Cox), ``1 / sqrt(n p(1−p) π(1−π) σ²)`` (logistic, outcome proportion
    ``p``) and ``σ_e / sqrt(n π(1−π) σ²)`` (linear, residual SD ``σ_e``); power
    ``Φ(|β| / SE − z_{1−α/2})``. A marker that reads the effect modifier with correlation ρ
    carries ``β ρ`` per SD.

    Parameters
    ----------
    effect
        Interaction per ``marker_sd`` of the effect modifier: log-HR (survival), log-OR
        (binary) or outcome units (continuous).
    n, events
        Subjects (binary, continuous) or events (survival).
    outcome_kind
        ``"survival"``, ``"binary"`` or ``"continuous"``.
    allocation
        Randomisation probability of the treated arm.
    marker_sd
        SD of the marker in the units ``effect`` is given per.
    marker_correlation
        Correlation of the measured marker with the effect modifier (1: measured exactly).
    prevalence, residual_sd
        Binary outcome proportion; continuous residual SD.
    alpha
        Two-sided level.
    target
        Power for which ``required`` is computed.

    Examples
    --------
    >>> import biomarkers as bm
    >>> round(bm.design.interaction_power(0.5, events=126).power, 2)
    0.8
    """
    check_choice("outcome_kind", outcome_kind, ("survival", "binary", "continuous"),
                 source="interaction_power")  # fmt: skip
    if not 0 < allocation < 1 or not 0 < alpha < 1 or not 0 < target < 1:
        msg = "interaction_power: allocation, alpha and target must lie in (0, 1)"
        raise ConfigError(msg)
    size = events if outcome_kind == "survival" else n
    if size is None or not size > 0:
        what = "events=" if outcome_kind == "survival" else "n="
        msg = f"interaction_power: give {what} (> 0) for a {outcome_kind} outcome"
        raise ConfigError(msg)
    unit = allocation * (1 - allocation) * marker_sd**2
    if outcome_kind == "binary":
        if prevalence is None or not 0 < prevalence < 1:
            msg = "interaction_power: a binary outcome needs 0 < prevalence < 1"
            raise ConfigError(msg)
        unit *= prevalence * (1 - prevalence)
    if outcome_kind == "continuous":
        if residual_sd is None or not residual_sd > 0:
            msg = "interaction_power: a continuous outcome needs residual_sd > 0"
            raise ConfigError(msg)
        unit /= residual_sd**2
    beta = abs(effect * marker_correlation)
    se = 1.0 / math.sqrt(size * unit)
    z = stats.norm.ppf(1 - alpha / 2)
    pw = float(stats.norm.cdf(beta / se - z) + stats.norm.cdf(-beta / se - z))
    need = math.ceil((z + stats.norm.ppf(target)) ** 2 / (beta**2 * unit)) if beta > 0 else 0
    return InteractionPower(power=pw, se=se, required=need, target=target,
                            outcome_kind=outcome_kind)  # fmt: skip
