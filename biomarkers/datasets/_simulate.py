"""Simulate a complete randomised ucMSC trial in non-viral ACLF, in the toolkit's input formats."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._atomic import write_json, write_table
from biomarkers._logging import timed
from biomarkers._names import feature_name, parse_feature_name
from biomarkers._validation import check_choice, did_you_mean
from biomarkers.datasets import _sim_assays as assays
from biomarkers.datasets import _sim_vendor as vendor
from biomarkers.datasets._phase3 import Phase3Cohort, Phase3Shifts
from biomarkers.datasets._scenarios import (
    MEDIATOR_DAY,
    SCENARIOS,
    Scenario,
    mechanism_weight,
    with_effects,
)
from biomarkers.datasets._sim_clinical import ARMS, planted_indirect_effect, simulate_clinical
from biomarkers.datasets._sim_singlecell import (
    GENE_EFFECTS,
    PROGNOSTIC_GENE,
    write_singlecell,
    write_tenx_manifest,
)
from biomarkers.datasets._trial import SimulatedTrial
from biomarkers.datasets._truth import Truth
from biomarkers.exceptions import ConfigError
from biomarkers.io._visits import DEFAULT_VISITS, resolve_visits

__all__ = ["simulate_trial"]


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        msg = f"{name}={value!r} is invalid; give an integer >= {minimum}"
        raise ConfigError(msg)
    return int(value)


def _simulated_visits(visits, singlecell_visits) -> tuple[dict[str, int], list[str]]:
    """The simulator's schedule: labels of a list must be default visits; day 0 is required."""
    if isinstance(visits, str):
        msg = f"visits={visits!r} must be a list of visit labels, e.g. ['D0', 'D7', 'D28']"
        raise ConfigError(msg)
    if visits is not None and not isinstance(visits, Mapping):
        for v in visits:
            if v not in DEFAULT_VISITS:
                msg = (
                    f"visit {v!r} has no default study day{did_you_mean(v, DEFAULT_VISITS)}; "
                    f"known: {', '.join(DEFAULT_VISITS)}; or pass visits as a dict label -> day"
                )
                raise ConfigError(msg)
    vmap = {k: int(d) for k, d in resolve_visits(visits).items()}
    if not vmap or min(vmap.values()) != 0:
        msg = f"visits {list(vmap)} must include a baseline visit at day 0 (e.g. 'D0')"
        raise ConfigError(msg)
    sc_visits = (
        [singlecell_visits] if isinstance(singlecell_visits, str) else list(singlecell_visits or [])
    )
    for v in sc_visits:
        if v not in vmap:
            msg = f"singlecell_visits contains {v!r}, which is not among visits {list(vmap)}{did_you_mean(v, vmap)}"
            raise ConfigError(msg)
    return vmap, sc_visits


def _samples(labs: pd.DataFrame, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plasma and PBMC samples at every visit a subject attended."""
    base = labs[["subject_id", "visit", "day", "_s"]].reset_index(drop=True)
    plasma = base.assign(
        sample_id=base["subject_id"] + "-" + base["visit"] + "-PL", tissue="plasma"
    )
    pbmc = base.assign(sample_id=base["subject_id"] + "-" + base["visit"] + "-PB", tissue="PBMC")
    # PBMC processing batches of 16 samples, in an order unrelated to arm or outcome
    order = rng.permutation(len(pbmc))
    batch = np.empty(len(pbmc), dtype=object)
    batch[order] = [f"B{i // 16 + 1:02d}" for i in range(len(pbmc))]
    pbmc["batch"] = batch
    return plasma, pbmc


def _outcome_summary(clinical: pd.DataFrame) -> dict:
    def fail_by(day: int) -> pd.Series:
        d = clinical["death_day"].fillna(10**6).astype(float)
        t = clinical["transplant_day"].fillna(10**6).astype(float)
        return (d <= day) | (t <= day)

    df = clinical.assign(f28=fail_by(28), f90=fail_by(90))
    df["d28"] = clinical["death_day"].fillna(10**6).astype(float) <= 28
    by_arm = {
        str(a): {
            "n": len(g),
            "deaths": int(g["death"].sum()),
            "transplants": int(g["transplant"].sum()),
            "tfs_28": round(float(1 - g["f28"].mean()), 4),
            "tfs_90": round(float(1 - g["f90"].mean()), 4),
        }
        for a, g in df.groupby("arm", sort=True)
    }
    by_grade = {
        f"AARC {int(k)}": {"n": len(g), "mortality_28": round(float(g["d28"].mean()), 4)}
        for k, g in df.groupby("aarc_grade", sort=True)
    }
    return {
        "by_arm": by_arm,
        "by_aarc_grade": by_grade,
        "definition": "TFS = alive and not transplanted",
    }


_EARLY_RULE = (
    "deaths: Weibull proportional hazards with shape 0.3 (most deaths early; about a quarter of the "
    "default cohort dies before D7); transplants: probability 5 % x exp(0.35 (AARC - 9)) by day 90, "
    "at a uniform day 4-85; losses to follow-up: 3 % at a uniform day 30-89. No visit, sample or "
    "dose after death or transplant; a subject is at risk at a landmark day when alive, "
    "transplant-free and still followed on that day"
)


def _early_events(clinical: pd.DataFrame, vmap: dict[str, int]) -> dict:
    """Per on-treatment visit and arm: who has died, been transplanted or been lost before it."""
    death = clinical["death_day"].astype("Float64").fillna(np.inf).to_numpy(dtype=float)
    tx = clinical["transplant_day"].astype("Float64").fillna(np.inf).to_numpy(dtype=float)
    lost_day = clinical["last_followup_day"].to_numpy(dtype=float)
    lost = (clinical["death"] == 0).to_numpy() & (clinical["transplant"] == 0).to_numpy()
    lost &= lost_day < 90
    arm = clinical["arm"].to_numpy()
    landmarks = {}
    for label, day in vmap.items():
        if day <= 0:
            continue
        per_arm = {}
        for a in ARMS:
            m = arm == a
            died, txd = m & (death <= day), m & (tx <= day) & (death > day)
            lst = m & lost & (lost_day < day)
            per_arm[a] = {
                "n": int(m.sum()),
                "died": int(died.sum()),
                "transplanted": int(txd.sum()),
                "lost": int(lst.sum()),
                "at_risk": int((m & ~died & ~txd & ~lst).sum()),
            }
        landmarks[label] = {"day": int(day), **per_arm}
    return {
        "rule": _EARLY_RULE,
        "dropouts": "lost to follow-up (3 %, uniform day 30-89), outcome censored at last_followup_day",
        "landmarks": landmarks,
    }


def _mediators(scen: Scenario, vmap: dict[str, int], latent) -> list[dict]:
    if not scen.mediator:
        return []
    on = [v for v, d in vmap.items() if d > 0]
    visit = next((v for v in on if vmap[v] >= MEDIATOR_DAY), on[0] if on else None)
    feats = [feature_name("cytokine", scen.mediator, v) for v in on]
    feats += [feature_name("olink", scen.mediator, v) for v in on]
    return [
        {
            "analyte": scen.mediator,
            "features": feats,
            "visit": visit,
            "day": MEDIATOR_DAY,
            "effect_on_mediator": scen.med_effect,
            "response_sd": scen.med_sd,
            "log_hr_per_unit": scen.med_log_hr,
            "model": (
                "r = effect_on_mediator * treated + response_sd * N(0, 1), added to the analyte's "
                "log concentration at every visit after day 0 (both arms); the hazard of death from "
                "`day` on is multiplied by exp(log_hr_per_unit * r)"
            ),
            "indirect_effect": {
                "value": round(planted_indirect_effect(latent, scen), 6),
                "scale": "risk difference",
                "outcome": "death by day 90 (before any transplant)",
                "population": f"treated subjects alive and transplant-free at day {MEDIATOR_DAY}",
                "method": (
                    "natural indirect effect E[Y(1, M(1))] - E[Y(1, M(0))] computed from the "
                    "generative model: each subject's own hazard, r integrated by Gauss-Hermite "
                    "quadrature (no Monte Carlo error given the cohort)"
                ),
            },
        }
    ]


def _build_truth(
    scen: Scenario, seed: int, n: int, vmap: dict[str, int], sc_visits, clinical, latent
) -> Truth:
    base = next(v for v, d in vmap.items() if d == 0)
    on = {
        v: round(mechanism_weight(d), 3)
        for v, d in vmap.items()
        if d > 0 and mechanism_weight(d) > 0
    }
    sc_base = base in sc_visits
    prognostic = []
    predictive = []
    mechanism = []
    nulls = [
        f"cytokine:VEGF@{base}",
        f"cytokine:IFNg@{base}",
        f"cytokine:IL17A@{base}",
        f"olink:CD40@{base}",
        f"flow:CD4@{base}",
    ]

    def prog(feature, modality, entity, latent_name, loading, coef):
        prognostic.append(
            {
                "feature": feature,
                "modality": modality,
                "entity": entity,
                "latent": latent_name,
                "loading": loading,
                "log_hr_per_latent_sd": coef,
                "direction": "higher_worse",
            }
        )

    if scen.severity_loading and (scen.prog_inflammation or scen.prog_paralysis):
        pi, pp = scen.prog_inflammation, scen.prog_paralysis
        prog(f"cytokine:IL6@{base}", "cytokine", "IL6", "inflammation", 0.75, pi)
        prog(f"olink:IL6@{base}", "olink", "IL6", "inflammation", 0.75, pi)
        prog(f"cytokine:IL8@{base}", "cytokine", "IL8", "inflammation", 0.45, pi)
        prog(f"cytokine:IL10@{base}", "cytokine", "IL10", "paralysis", 0.75, pp)
        prog(f"olink:IL10@{base}", "olink", "IL10", "paralysis", 0.75, pp)
        prog(f"flow:CD14_HLADR_low@{base}", "flow", "CD14_HLADR_low", "paralysis", 0.8, pp)
        if sc_base:
            prog(
                f"composition:CD14_mono_HLADR_low@{base}",
                "composition",
                "CD14_mono_HLADR_low",
                "paralysis",
                0.7,
                pp,
            )
            ct, g, beta = PROGNOSTIC_GENE
            prog(f"pseudobulk:{ct}:{g}@{base}", "pseudobulk", g, "inflammation", beta, pi)

    def pred(feature, modality, entity, latent_name, loading, coef):
        predictive.append(
            {
                "feature": feature,
                "modality": modality,
                "entity": entity,
                "latent": latent_name,
                "loading": loading,
                "log_hr_interaction_per_latent_sd": coef,
                "benefit": "lower" if coef * np.sign(loading) > 0 else "higher",
            }
        )

    if scen.pred_treg:
        pred(f"flow:Treg@{base}", "flow", "Treg", "treg", 0.7, scen.pred_treg)
        if sc_base:
            pred(f"composition:Treg@{base}", "composition", "Treg", "treg", 0.6, scen.pred_treg)
    if scen.pred_inflammation:
        pred(
            f"cytokine:IL6@{base}", "cytokine", "IL6", "inflammation", 0.75, scen.pred_inflammation
        )
        pred(f"olink:IL6@{base}", "olink", "IL6", "inflammation", 0.75, scen.pred_inflammation)

    def mech(modality, entity, direction, effect, scale, cell_type=None, visits=None):
        visits = on if visits is None else visits
        if cell_type and modality == "pseudobulk":
            feats = [feature_name("pseudobulk", entity, v, cell_type=cell_type) for v in visits]
        else:
            feats = [feature_name(modality, entity, v) for v in visits]
        mechanism.append(
            {
                "modality": modality,
                "cell_type": cell_type,
                "entity": entity,
                "direction": direction,
                "effect": effect,
                "scale": scale,
                "weights": dict(visits),
                "arm": ARMS[0],
                "features": feats,
            }
        )

    if scen.mech_cytokine:
        for a, spec in assays.ANALYTES.items():
            if spec[7]:
                d = spec[7]
                mech("cytokine", a, "up" if d > 0 else "down", d * scen.mech_cytokine, "log")
                olink = {
                    "IL6": "IL6",
                    "IL10": "IL10",
                    "TNFa": "TNF",
                    "TGFb1": "LAP TGF-beta-1",
                }.get(a)
                if olink:
                    mech("olink", olink, "up" if d > 0 else "down", d * scen.mech_cytokine, "log")
        mech("olink", "TNFSF14", "down", -scen.mech_cytokine, "log")
    if scen.mech_flow:
        for pop, spec in assays.FLOW.items():
            if spec[4]:
                d = spec[4]
                mech("flow", pop, "up" if d > 0 else "down", d * scen.mech_flow, "logit")
    sc_on = {v: w for v, w in on.items() if v in sc_visits}
    if scen.mech_composition and sc_on:
        mech("composition", "Treg", "up", scen.mech_composition, "log_abundance", visits=sc_on)
        mech(
            "composition",
            "CD14_mono_HLADR_low",
            "down",
            -scen.mech_composition,
            "log_abundance",
            visits=sc_on,
        )
    if scen.mech_gene_log2fc and sc_on:
        for ct, eff in GENE_EFFECTS.items():
            for g, d in eff.items():
                mech(
                    "pseudobulk",
                    g,
                    "up" if d > 0 else "down",
                    d * scen.mech_gene_log2fc,
                    "log2",
                    ct,
                    sc_on,
                )

    treated = latent[latent["treated"]]
    lhr = treated["log_hr_if_treated"] if len(treated) else pd.Series([scen.log_hr])
    effect = {
        "scale": "log_hr",
        "model": "log_hr = intercept + treg * z_treg + inflammation * z_inflammation",
        "intercept": scen.log_hr,
        "coefficients": {"treg": scen.pred_treg, "inflammation": scen.pred_inflammation},
        "latents": {
            "z_treg": "standard normal; read out by flow:Treg and composition:Treg (higher = more Treg)",
            "z_inflammation": "standard normal; read out by IL-6, IL-8 (higher = more inflamed)",
            "z_paralysis": "standard normal; read out by IL-10 and HLA-DR-low monocytes",
        },
        "hr_at_mean_latents": round(float(np.exp(scen.log_hr)), 4),
        "mean_hr_treated": round(float(np.exp(lhr).mean()), 4),
        "hazard_model": (
            "Weibull PH (shape 0.3) with log-normal frailty (SD 0.3): log H28 = -0.70 + 0.58 (AARC - 9) "
            "+ prognostic terms + treated * log_hr"
        ),
    }
    aliases = {
        a: {"long": a, "luminex": spec[0], "bioplex": spec[0], "msd": spec[0]}
        for a, spec in assays.ANALYTES.items()
    }
    for olink_name, spec in assays.OLINK.items():
        if spec[1]:
            aliases[spec[1]]["olink"] = olink_name
    severity = []
    if scen.severity_loading:
        severity += [
            feature_name("cytokine", a, base)
            for a, spec in assays.ANALYTES.items()
            if spec[6][0] != 0
        ]
        severity += [
            feature_name("flow", p, base) for p, spec in assays.FLOW.items() if spec[3][0] != 0
        ]
        severity += [
            feature_name("olink", a, base)
            for a, spec in assays.OLINK.items()
            if spec[5] and spec[5][0] != 0
        ]
        if sc_base:
            severity += [
                f"composition:{c}@{base}"
                for c in ("CD14_mono_HLADR_low", "CD8_T", "NK", "CD14_mono")
            ]
    mediators = _mediators(scen, vmap, latent)
    mediated = {f for m in mediators for f in m["features"]}
    return Truth(
        scenario=scen.name,
        seed=seed,
        n_subjects=n,
        treated_arm=ARMS[0],
        control_arm=ARMS[1],
        prognostic=prognostic,
        prognostic_clinical=[
            "aarc_score",
            "aarc_grade",
            "bilirubin_mg_dl",
            "inr",
            "creatinine_mg_dl",
            "lactate_mmol_l",
            "he_grade",
        ],
        predictive=predictive,
        treatment_effect=effect,
        mechanism=mechanism,
        severity_associated=severity,
        null_features=nulls,
        analyte_aliases=aliases,
        outcomes=_outcome_summary(clinical),
        early_events=_early_events(clinical, vmap),
        baseline_predictive=[
            p["feature"] for p in predictive if parse_feature_name(p["feature"]).visit == base
        ],
        pharmacodynamic=[f for m in mechanism for f in m["features"] if f not in mediated],
        mediators=mediators,
    )


MISSING_ASSAYS = ("singlecell", "flow", "olink")


def _missing_assay_subjects(missing: Mapping[str, float] | None, ids: list, seed: int) -> dict:
    """Assay → sorted IDs of the subjects who lack it (a seeded draw per assay)."""
    if not missing:
        return {}
    out = {}
    n = len(ids)
    for k, (assay, frac) in enumerate(sorted(missing.items())):
        check_choice("missing_assays", assay, MISSING_ASSAYS, source="simulate_trial")
        if isinstance(frac, bool) or not isinstance(frac, int | float) or not 0 <= frac < 1:
            msg = f"missing_assays[{assay!r}]={frac!r} is invalid; give a fraction in [0, 1)"
            raise ConfigError(msg)
        rng = np.random.default_rng([seed, 9, k])
        out[assay] = sorted(rng.choice(ids, round(frac * n), replace=False).tolist())
    return out


def _drop_subjects(table, samples, subjects, *, column: str = "sample_id") -> pd.DataFrame:
    """``table`` without the rows of the samples of ``subjects`` (controls are kept)."""
    if not subjects:
        return table
    gone = samples.loc[samples["subject_id"].isin(subjects), "sample_id"]
    return table[~table[column].isin(gone)].reset_index(drop=True)


def simulate_trial(
    out_dir: str | os.PathLike,
    *,
    n_subjects: int = 100,
    seed: int = 0,
    cells_per_sample: int = 200,
    scenario: str = "default",
    visits: Sequence[str] | Mapping[str, int] | None = None,
    singlecell_visits: Sequence[str] = ("D0", "D7", "D28"),
    tenx_samples: int = 4,
    chunk_size: int = 20_000,
    cohort: str = "development",
    phase3: Mapping[str, Any] | None = None,
    effects: Mapping[str, float] | None = None,
    missing_assays: Mapping[str, float] | None = None,
) -> SimulatedTrial:
    """Simulate a randomised ucMSC + SMT vs SMT trial in non-viral ACLF and write it to disk.

    Every file follows the input contract of :mod:`biomarkers.io` (``docs/contracts.md``, "The
    simulated trial folder"); the planted effects are returned as a :class:`Truth` and written as
    ``truth.json``. The same ``seed`` gives the same bytes on disk.

    Parameters
    ----------
    out_dir
        Folder to write into (created if needed; files of a previous simulation are replaced).
    n_subjects
        Number of randomised subjects (1:1 permuted blocks of 4 and 6).
    seed
        Seed of every random draw.
    cells_per_sample
        Mean number of cells per single-cell PBMC sample (``0`` skips the single-cell files).
    scenario
        ``"default"`` (MSC HR ≈ 0.6, modified by predictive markers; moderate prognostic and
        mechanism effects), ``"strong"`` (large effects, for quick tests), ``"null"`` (no effect of
        any biomarker or of treatment; only clinical severity predicts outcome) or
        ``"no_benefit"`` (HR = 1, no predictive markers or mechanism; prognostic markers remain)
        or ``"mediation"`` (as ``default`` with a smaller direct effect and a planted mediator: the
        D7 rise in plasma HGF lowers the hazard of death after day 7; ``truth.mediators``).
    visits
        Visit labels (default ``D0, D7, D14, D21, D28, D90``) or a dict label -> study day; labs,
        plasma and PBMC samples are taken at each.
    singlecell_visits
        Visits whose PBMC samples are profiled by single-cell RNA-seq.
    tenx_samples
        Number of single-cell samples also written as 10x matrix folders.
    chunk_size
        Cells buffered in memory before being appended to ``singlecell.h5ad``.
    cohort
        ``"development"`` (the Phase-II trial) or ``"phase3"``: a second cohort with known shifts
        for evaluating a locked panel (three arms with prednisolone + SMT, new sites, a higher
        baseline risk, an assay lot reading one marker high; ``site`` and ``assay_lot`` columns
        in ``clinical.csv`` and the shifts in ``phase3.json``).
    phase3
        Options of the Phase-III cohort: ``intercept_shift`` (0.4, log cumulative hazard),
        ``slope_shift`` (1.0, multiplies the prognostic part), ``lot_offset`` (1.5, log2),
        ``lot_marker`` (``"IL6"``), ``lot_share`` (0.5), ``prednisolone_log_hr`` (-0.15),
        ``sites``. Use another ``seed`` than the development trial's.
    effects
        Effect sizes replacing the scenario's (field name of the private ``Scenario`` -> value,
        e.g. ``{"pred_treg": 0.5, "allocation": 2 / 3}``; ``allocation`` is the randomisation
        probability of the treated arm); :func:`biomarkers.design.power` varies them
        (docs/design.md, "Grid").
    missing_assays
        Assay → fraction of subjects who lack it entirely (no sample of that assay at any
        visit), e.g. ``{"singlecell": 0.3, "flow": 0.15}``; assays ``singlecell``, ``flow``,
        ``olink``. The subjects are drawn at random (seeded, independently per assay) and listed
        in ``truth.missing_assays``; the other subjects' flow and Olink values are those of the
        trial without missing assays. Default: every subject has every assay.

    Returns
    -------
    A :class:`SimulatedTrial` whose ``paths`` map ``clinical, labs, dosing, samples,
    cytokines_long, luminex_xponent, bioplex_export, msd_export, olink_npx, flow, singlecell,
    tenx_manifest, truth`` to files in ``out_dir`` (``tenx/<sample_id>/`` holds the 10x folders).

    Raises
    ------
    ConfigError
        If an argument is out of range (the message names it and the allowed values).

    Examples
    --------
    >>> import tempfile
    >>> from biomarkers.datasets import simulate_trial
    >>> trial = simulate_trial(tempfile.mkdtemp(), n_subjects=12, cells_per_sample=10, seed=0)
    >>> sorted(trial.paths)[:4]
    ['bioplex_export', 'clinical', 'cytokines_long', 'dosing']
    >>> trial.truth.predictive_features[0]
    'flow:Treg@D0'
    """
    if out_dir is None:
        msg = "out_dir is required: give the folder to write the simulated trial into"
        raise ConfigError(msg)
    check_choice("scenario", scenario, SCENARIOS)
    n = _check_int("n_subjects", n_subjects, 2)
    seed = _check_int("seed", seed, 0)
    cells = _check_int("cells_per_sample", cells_per_sample, 0)
    n_tenx = _check_int("tenx_samples", tenx_samples, 0)
    chunk = _check_int("chunk_size", chunk_size, 1)
    vmap, sc_visits = _simulated_visits(visits, singlecell_visits)
    scen = with_effects(SCENARIOS[scenario], effects)
    check_choice("cohort", cohort, ("development", "phase3"))
    if phase3 is not None and cohort != "phase3":
        msg = f"phase3= options need cohort='phase3' (got cohort={cohort!r})"
        raise ConfigError(msg)
    p3 = None
    if cohort == "phase3":
        p3 = Phase3Cohort(Phase3Shifts.from_options(phase3), np.random.default_rng([seed, 8]))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}

    with timed("simulate clinical"):
        clinical, labs, dosing, latent = simulate_clinical(
            np.random.default_rng([seed, 1]),
            n,
            scen,
            vmap,
            mediator_rng=np.random.default_rng([seed, 7]),
            phase3=p3,
        )
        paths["clinical"] = write_table(out / "clinical.csv", clinical)
        paths["labs"] = write_table(out / "labs.csv", labs.drop(columns="_s"))
        paths["dosing"] = write_table(out / "dosing.csv", dosing)
    dropped = _missing_assay_subjects(missing_assays, clinical["subject_id"].tolist(), seed)

    plasma, pbmc = _samples(labs, np.random.default_rng([seed, 2]))
    with timed("simulate cytokines"):
        offsets = p3.log_offsets(plasma, clinical) if p3 is not None else None
        cyto = assays.simulate_cytokines(
            np.random.default_rng([seed, 3]), plasma, latent, scen, log_offset=offsets
        )
        plate_of = (
            cyto[cyto["type"] == "X"].drop_duplicates("sample_id").set_index("sample_id")["plate"]
        )
        plasma["batch"] = plasma["sample_id"].map(plate_of)
        paths["cytokines_long"] = vendor.write_long(cyto, out / "cytokines_long.csv")
        paths["luminex_xponent"] = vendor.write_xponent(cyto, out / "luminex_xponent.csv")
        paths["bioplex_export"] = vendor.write_bioplex(cyto, out / "bioplex_export.csv")
        paths["msd_export"] = vendor.write_msd(cyto, out / "msd_export.csv")
        olink = assays.simulate_olink(np.random.default_rng([seed, 4]), plasma, latent, scen, cyto)
        olink = _drop_subjects(olink, plasma, dropped.get("olink"), column="SampleID")
        paths["olink_npx"] = vendor.write_olink(olink, out / "olink_npx.csv")

    samples = pd.concat([plasma, pbmc], ignore_index=True)
    order = {v: i for i, v in enumerate(vmap)}
    samples = samples.assign(_v=samples["visit"].map(order)).sort_values(
        ["subject_id", "_v", "tissue"]
    )
    paths["samples"] = write_table(
        out / "samples.csv", samples[["sample_id", "subject_id", "visit", "tissue", "batch"]]
    )

    with timed("simulate flow cytometry"):
        flow = assays.simulate_flow(np.random.default_rng([seed, 5]), pbmc, latent, scen)
        flow = _drop_subjects(flow, pbmc, dropped.get("flow"))
        paths["flow"] = write_table(out / "flow.csv", flow)

    if cells > 0 and sc_visits:
        sc_samples = pbmc[pbmc["visit"].isin(sc_visits)].reset_index(drop=True)
        if dropped.get("singlecell"):
            sc_samples = sc_samples[~sc_samples["subject_id"].isin(dropped["singlecell"])]
        sc_samples = sc_samples.assign(_v=sc_samples["visit"].map(order)).sort_values(
            ["subject_id", "_v"]
        )
        with timed("simulate single-cell counts"):
            folders, _ = write_singlecell(
                out / "singlecell.h5ad",
                sc_samples.reset_index(drop=True),
                latent,
                scen,
                seed=seed,
                cells_per_sample=cells,
                tenx_dir=out / "tenx",
                tenx_samples=n_tenx,
                chunk_size=chunk,
            )
        paths["singlecell"] = out / "singlecell.h5ad"
        if folders:
            paths["tenx_manifest"] = write_tenx_manifest(out / "tenx_manifest.csv", folders, out)

    truth = _build_truth(scen, seed, n, vmap, sc_visits if cells > 0 else [], clinical, latent)
    truth.missing_assays = {
        a: {"fraction": float(missing_assays[a]), "subjects": subj} for a, subj in dropped.items()
    }
    paths["truth"] = write_json(out / "truth.json", truth.to_dict())
    if p3 is not None:
        paths["phase3"] = write_json(out / "phase3.json", p3.describe())
    return SimulatedTrial(paths=dict(sorted(paths.items())), truth=truth, out_dir=out)
