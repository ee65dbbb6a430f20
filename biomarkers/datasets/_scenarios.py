"""Effect sizes of the simulator's scenarios (private; documented in docs/simulator.md)."""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["MEDIATOR_DAY", "SCENARIOS", "Scenario", "mechanism_weight", "with_effects"]


def mechanism_weight(day: float) -> float:
    """Time course of on-treatment changes: 0 at baseline, full during dosing, fading by D90."""
    if day <= 0:
        return 0.0
    if day < 14:
        return 0.7 * day / 7 if day < 7 else 0.7 + 0.3 * (day - 7) / 7
    if day <= 35:
        return 1.0
    return max(0.3, 1.0 - 0.7 * (day - 35) / 55)


@dataclass(frozen=True)
class Scenario:
    """Effect sizes; every effect is on a natural-log scale unless said otherwise."""

    name: str
    # log-hazard per SD of the latent inflammation (read out by IL-6, IL-8) and immune paralysis
    # (IL-10, HLA-DR-low monocytes); both raise the hazard of death (prognostic)
    prog_inflammation: float
    prog_paralysis: float
    # do analytes / cell states also track clinical severity (which is prognostic through the
    # AARC score)? False in the null scenario: biomarkers then carry no outcome information
    severity_loading: bool
    # treatment: log-HR = log_hr + pred_treg * z_treg + pred_inflammation * z_inflammation
    log_hr: float
    pred_treg: float
    pred_inflammation: float
    # mechanism (treated arm, weighted by mechanism_weight(day)); cytokines on the log scale,
    # flow frequencies on the logit scale, composition on the log-abundance scale, genes as log2 FC
    mech_cytokine: float
    mech_flow: float
    mech_composition: float
    mech_gene_log2fc: float
    # measurement noise multiplier (smaller = cleaner signal)
    noise: float = 1.0
    # planted mediator (None = none): an analyte whose on-treatment response r (log scale, present
    # at every visit after day 0) is r = med_effect * treated + med_sd * N(0, 1) and multiplies the
    # hazard of death after MEDIATOR_DAY by exp(med_log_hr * r); its own noise is x med_noise and it
    # does not track severity (so that nothing but r links it to the outcome)
    mediator: str | None = None
    med_effect: float = 0.0
    med_sd: float = 0.0
    med_log_hr: float = 0.0
    med_noise: float = 1.0
    # randomisation probability of the treated arm (permuted blocks of 4 and 6)
    allocation: float = 0.5


# the day from which the mediator acts on the hazard (the D7 landmark of the early-response analyses)
MEDIATOR_DAY = 7


SCENARIOS: dict[str, Scenario] = {
    "default": Scenario(
        name="default",
        prog_inflammation=0.5,
        prog_paralysis=0.4,
        severity_loading=True,
        # intercept = log(0.6) - Var(log HR) / 2, so that the mean HR over subjects is ~0.6
        log_hr=-0.62,
        pred_treg=0.35,
        pred_inflammation=-0.30,
        mech_cytokine=0.35,
        mech_flow=0.4,
        mech_composition=0.4,
        mech_gene_log2fc=1.0,
    ),
    "strong": Scenario(
        name="strong",
        prog_inflammation=1.6,
        prog_paralysis=1.3,
        severity_loading=True,
        log_hr=-1.6,  # mean HR over subjects ~0.45, from ~0.05 (low Treg) to > 1 (high Treg)
        pred_treg=2.0,
        pred_inflammation=-0.5,
        mech_cytokine=1.0,
        mech_flow=1.0,
        mech_composition=1.0,
        mech_gene_log2fc=2.0,
        noise=0.6,
    ),
    "null": Scenario(
        name="null",
        prog_inflammation=0.0,
        prog_paralysis=0.0,
        severity_loading=False,
        log_hr=0.0,
        pred_treg=0.0,
        pred_inflammation=0.0,
        mech_cytokine=0.0,
        mech_flow=0.0,
        mech_composition=0.0,
        mech_gene_log2fc=0.0,
    ),
    "no_benefit": Scenario(
        name="no_benefit",
        prog_inflammation=0.5,
        prog_paralysis=0.4,
        severity_loading=True,
        log_hr=0.0,
        pred_treg=0.0,
        pred_inflammation=0.0,
        mech_cytokine=0.0,
        mech_flow=0.0,
        mech_composition=0.0,
        mech_gene_log2fc=0.0,
    ),
}
# the default trial with a weaker direct effect, plus a mediator: MSCs secrete HGF, and the D7
# rise in plasma HGF carries part of the benefit
SCENARIOS["mediation"] = replace(
    SCENARIOS["default"],
    name="mediation",
    log_hr=-0.3,
    mediator="HGF",
    med_effect=1.0,
    med_sd=1.0,
    med_log_hr=-0.6,
    med_noise=0.2,
)


def with_effects(scen: Scenario, effects) -> Scenario:
    """``scen`` with some effect sizes replaced (``effects``: field name -> number)."""
    from biomarkers._validation import did_you_mean
    from biomarkers.exceptions import ConfigError

    fields = [f for f in Scenario.__dataclass_fields__ if f not in ("name", "mediator")]
    for key, value in dict(effects or {}).items():
        if key not in fields:
            msg = f"effects: {key!r} is not an effect of the simulator{did_you_mean(key, fields)}; use one of: {', '.join(fields)}"
            raise ConfigError(msg)
        if isinstance(value, str) or not isinstance(value, int | float):
            msg = f"effects: {key}={value!r} must be a number"
            raise ConfigError(msg)
    alloc = dict(effects or {}).get("allocation", scen.allocation)
    if not 0 < alloc < 1:
        msg = f"effects: allocation={alloc!r} must be a probability strictly between 0 and 1"
        raise ConfigError(msg)
    return replace(scen, **dict(effects or {}))
