"""Subjects, labs, dosing and outcomes of the simulated trial (private helpers)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biomarkers.datasets._scenarios import MEDIATOR_DAY, Scenario

__all__ = ["aarc_score", "easl_grade", "planted_indirect_effect", "simulate_clinical"]

ARMS = ("ucMSC+SMT", "SMT")
TREATED = ARMS[0]
ETIOLOGIES = ("alcohol", "MASLD", "cryptogenic", "other")
ETIOLOGY_P = (0.72, 0.10, 0.13, 0.05)

# 28-day cumulative hazard: log H28 = A + B * (AARC - 9); Weibull shape K over time.
# Calibrated (scenario "default", whose prognostic markers add variance to the log hazard) by
# tests/datasets/test_calibration.py against AARC 28-day mortality by grade (12.7 / 44.5 / 85.9 %,
# Choudhury 2017) and ~50 % 90-day TFS in the control arm. Scenarios with stronger prognostic
# markers ("strong") have more deaths, "null" slightly fewer.
_A, _B, _K = -0.70, 0.58, 0.30
_FRAILTY_SD = 0.3
_TX_90 = 0.05  # ~5 % transplanted by day 90 (living-donor LT in India is rare in ACLF)
_LOST = 0.03  # lost to follow-up


def aarc_score(bili, he, inr, lactate, creat) -> np.ndarray:
    """AARC-ACLF score (Choudhury 2017), middle bins closed (DOMAIN.md §1.7)."""

    def pts(x, lo, hi):
        x = np.asarray(x, dtype=float)
        return 1 + (x >= lo).astype(int) + (x > hi).astype(int)

    he = np.asarray(he)
    he_pts = 1 + (he >= 1).astype(int) + (he >= 3).astype(int)
    return (
        pts(bili, 15, 25)
        + he_pts
        + pts(inr, 1.8, 2.5)
        + pts(lactate, 1.5, 2.5)
        + pts(creat, 0.7, 1.5)
    )


def easl_grade(bili, creat, he, inr, vaso, pf, dialysis) -> np.ndarray:
    """EASL-CLIF ACLF grade 0-3 from CLIF-C OF organ failures (DOMAIN.md §1.5)."""
    bili, creat, inr, pf = (np.asarray(v, dtype=float) for v in (bili, creat, inr, pf))
    he, vaso, dialysis = (np.asarray(v) for v in (he, vaso, dialysis))
    kidney = (creat >= 2.0) | (dialysis == 1)
    brain = he >= 3
    other = (bili > 12).astype(int) + (inr >= 2.5) + (vaso == 1) + (pf <= 200)
    n_of = other + kidney + brain
    mid_cr = (creat >= 1.5) & (creat < 2.0)
    he12 = (he >= 1) & (he <= 2)
    grade = np.zeros(len(bili), dtype=int)
    single = n_of == 1
    grade[single & kidney] = 1
    grade[single & (other == 1) & (mid_cr | he12)] = 1
    grade[single & brain & mid_cr] = 1
    grade[n_of == 2] = 2
    grade[n_of >= 3] = 3
    return grade


def _trunc_normal(rng, mean, sd, lo, hi, n):
    out = rng.normal(mean, sd, n)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = rng.normal(mean, sd, bad.sum())
        bad = (out < lo) | (out > hi)
    return out


def _block_randomise(rng, n, allocation: float = 0.5):
    # permuted blocks of 2m and 3m, m the smallest block holding the allocation exactly (1:1: 4, 6)
    m = next((m for m in range(2, 13) if abs(m * allocation - round(m * allocation)) < 1e-9), 2)
    arms = []
    while len(arms) < n:
        size = int(rng.choice([2 * m, 3 * m]))
        n_treated = round(size * allocation)
        block = [ARMS[0]] * n_treated + [ARMS[1]] * (size - n_treated)
        arms.extend(rng.permutation(block).tolist())
    return np.array(arms[:n], dtype=object)


def _labs_from_severity(s, u, e, *, baseline: bool):
    """Lab values for severity ``s`` (n,), subject deviations ``u`` and visit noise ``e`` (n, 12)."""
    z = u + e
    bili = np.exp(np.log(20.0) + 0.35 * s + 0.45 * z[:, 0])
    inr = np.exp(np.log(2.2) + 0.12 * s + 0.06 * z[:, 0] + 0.18 * z[:, 1])
    creat = np.exp(np.log(1.1) + 0.35 * s + 0.55 * z[:, 2])
    na = 131.0 - 1.5 * s - 1.8 * z[:, 2] + 5.0 * z[:, 3]
    alb = np.clip(2.6 - 0.12 * s + 0.45 * z[:, 4], 1.4, 4.2)
    wbc = np.exp(np.log(11.0) + 0.15 * s + 0.42 * z[:, 5])
    plt_ = np.exp(np.log(90.0) - 0.1 * s + 0.5 * z[:, 6])
    lact = np.exp(np.log(1.6) + 0.25 * s + 0.38 * z[:, 7])
    he_lat = 0.7 * s + 0.8 * z[:, 8]
    he = np.digitize(he_lat, [0.5, 1.2, 1.7, 2.3])
    mapv = 78.0 - 3.5 * s + 8.0 * z[:, 9]
    vaso = (0.6 * s + 0.8 * z[:, 9] * -1 > 1.5).astype(int)
    mapv = np.where(vaso == 1, mapv - 6.0, mapv)
    pf = np.clip(380.0 - 35.0 * s + 65.0 * z[:, 10], 80.0, 520.0)
    dial = ((np.log(creat) > np.log(3.2)) & (z[:, 11] > -0.5)).astype(int)
    asc_lat = 0.4 * s + z[:, 11]
    ascites = np.array(["none", "mild", "moderate-severe"], dtype=object)[
        np.digitize(asc_lat, [-0.8, 0.3])
    ]
    if baseline:
        # APASL: ascites and/or encephalopathy within 4 weeks of the insult
        ascites = np.where((he == 0) & (ascites == "none"), "mild", ascites)
    return {
        "bilirubin_mg_dl": bili,
        "inr": inr,
        "creatinine_mg_dl": creat,
        "sodium_mmol_l": na,
        "albumin_g_dl": alb,
        "wbc_10e9_l": wbc,
        "platelets_10e9_l": plt_,
        "lactate_mmol_l": lact,
        "he_grade": he,
        "map_mmhg": mapv,
        "vasopressor": vaso,
        "pao2_fio2": pf,
        "dialysis": dial,
        "ascites": ascites,
    }


_ROUND = {
    "bilirubin_mg_dl": 1,
    "inr": 2,
    "creatinine_mg_dl": 2,
    "sodium_mmol_l": 0,
    "albumin_g_dl": 1,
    "wbc_10e9_l": 1,
    "platelets_10e9_l": 0,
    "lactate_mmol_l": 1,
    "map_mmhg": 0,
    "pao2_fio2": 0,
}


def _death_times(unit_exp, log_h28, mediator_log_hr) -> np.ndarray:
    """Invert the cumulative hazard ``exp(log_h28) (t / 28)^K``, multiplied after MEDIATOR_DAY.

    ``mediator_log_hr`` (per subject) is the mediator's log hazard ratio from MEDIATOR_DAY on; with
    no mediator this is the plain Weibull inversion (same numbers as before mediators existed).
    """
    h = unit_exp / np.exp(log_h28)
    if not np.any(mediator_log_hr):
        return 28.0 * h ** (1.0 / _K)
    h7 = (MEDIATOR_DAY / 28.0) ** _K
    late = h > h7
    h = np.where(late, h7 + (h - h7) * np.exp(-mediator_log_hr), h)
    return 28.0 * h ** (1.0 / _K)


def planted_indirect_effect(latent: pd.DataFrame, scen: Scenario, *, horizon: int = 90) -> float:
    """Natural indirect effect of treatment on death by ``horizon`` through the mediator (risk difference).

    Among the treated subjects alive and transplant-free at MEDIATOR_DAY:
    ``mean_i [P(death in (7, u_i] | r ~ r(1)) - P(death in (7, u_i] | r ~ r(0))]`` with
    ``u_i = min(horizon, transplant time)``, ``r(1) ~ N(med_effect, med_sd^2)``,
    ``r(0) ~ N(0, med_sd^2)``, each subject's own log hazard (latents, frailty, AARC, treatment)
    and the Weibull cumulative hazard; the integral over r is Gauss–Hermite (40 nodes), so the value
    has no Monte Carlo error given the cohort. 0.0 without a mediator.
    """
    if not scen.mediator or not scen.med_log_hr:
        return 0.0
    at_risk = (
        latent["treated"] & (latent["t_death"] > MEDIATOR_DAY) & (latent["t_tx"] > MEDIATOR_DAY)
    )
    sub = latent[at_risk]
    if sub.empty:
        return float("nan")
    u = np.minimum(float(horizon), sub["t_tx"].to_numpy())
    dh = np.maximum((u / 28.0) ** _K - (MEDIATOR_DAY / 28.0) ** _K, 0.0)
    base = np.exp(sub["log_h28"].to_numpy())[:, None] * dh[:, None]
    x, w = np.polynomial.hermite.hermgauss(40)
    w = w / np.sqrt(np.pi)

    def risk(mean: float) -> float:
        r = mean + np.sqrt(2.0) * scen.med_sd * x
        p = 1.0 - np.exp(-base * np.exp(scen.med_log_hr * r)[None, :])
        return float((p @ w).mean())

    return risk(scen.med_effect) - risk(0.0)


def simulate_clinical(
    rng: np.random.Generator,
    n: int,
    scen: Scenario,
    visits: dict[str, int],
    *,
    mediator_rng: np.random.Generator | None = None,
    phase3=None,
):
    """Simulate subjects, labs, dosing and outcomes.

    Returns ``clinical, labs, dosing, latent`` where ``latent`` is a per-subject frame of the
    hidden variables (severity ``s0``, ``z_infl``, ``z_paral``, ``z_treg``, ``log_hr``, the
    mediator's response ``m_resp``, event times) and ``labs`` carries the hidden ``_s`` (severity
    at the visit) that assays use. The mediator's response is drawn from ``mediator_rng`` (its own
    stream), so scenarios without a mediator are unchanged by it.
    """
    width = max(3, len(str(n)))
    ids = np.array([f"P{i + 1:0{width}d}" for i in range(n)], dtype=object)
    arm = _block_randomise(rng, n, scen.allocation)
    if phase3 is not None:  # the Phase-III cohort (datasets/_phase3.py): three arms
        arm = phase3.arms(n)
    treated = arm == TREATED
    age = np.round(_trunc_normal(rng, 44.0, 10.0, 18.0, 65.0, n)).astype(int)
    sex = np.where(rng.random(n) < 0.88, "M", "F")
    weight = np.round(
        np.clip(np.where(sex == "M", rng.normal(66, 11, n), rng.normal(56, 10, n)), 38, 120), 1
    )
    etiology = rng.choice(np.array(ETIOLOGIES, dtype=object), size=n, p=ETIOLOGY_P)

    s0 = rng.normal(-0.45, 1.0, n)
    z_infl, z_paral, z_treg = rng.normal(0.0, 1.0, (3, n))
    u = rng.normal(0.0, 0.8, (n, 12))
    e0 = rng.normal(0.0, 0.35, (n, 12))
    base = _labs_from_severity(s0, u, e0, baseline=True)
    # APASL entry: bilirubin >= 5 mg/dL and INR >= 1.5; redraw the subject deviations until met
    for _ in range(100):
        bad = (base["bilirubin_mg_dl"] < 5.0) | (base["inr"] < 1.5)
        if not bad.any():
            break
        u[bad, :2] = rng.normal(0.0, 0.8, (bad.sum(), 2))
        base = _labs_from_severity(s0, u, e0, baseline=True)
    base["bilirubin_mg_dl"] = np.maximum(base["bilirubin_mg_dl"], 5.0)
    base["inr"] = np.maximum(base["inr"], 1.5)
    rb = {k: (np.round(v, _ROUND[k]) if k in _ROUND else v) for k, v in base.items()}
    aarc = aarc_score(
        rb["bilirubin_mg_dl"],
        rb["he_grade"],
        rb["inr"],
        rb["lactate_mmol_l"],
        rb["creatinine_mg_dl"],
    )
    aarc_grade = 1 + (aarc >= 8).astype(int) + (aarc >= 11).astype(int)
    easl = easl_grade(
        rb["bilirubin_mg_dl"], rb["creatinine_mg_dl"], rb["he_grade"], rb["inr"],
        rb["vasopressor"], rb["pao2_fio2"], rb["dialysis"],
    )  # fmt: skip

    # outcomes: Weibull proportional hazards with frailty; AARC is prognostic in every scenario
    log_hr = scen.log_hr + scen.pred_treg * z_treg + scen.pred_inflammation * z_infl
    frailty = rng.normal(0.0, _FRAILTY_SD, n)
    log_h28 = (
        _A
        + _B * (aarc - 9)
        + frailty
        + scen.prog_inflammation * z_infl
        + scen.prog_paralysis * z_paral
    )
    if phase3 is not None:
        log_h28 = phase3.log_h28(log_h28, base=_A, frailty=frailty, arm=arm)
    log_h28 = log_h28 + np.where(treated, log_hr, 0.0)
    med_rng = np.random.default_rng(0) if mediator_rng is None else mediator_rng
    m_resp = scen.med_effect * treated + scen.med_sd * med_rng.normal(0.0, 1.0, n)
    if not scen.mediator:
        m_resp = np.zeros(n)
    t_death = _death_times(rng.exponential(1.0, n), log_h28, scen.med_log_hr * m_resp)
    p_tx = np.clip(_TX_90 * np.exp(0.35 * (aarc - 9)), 0, 0.5)
    t_tx = np.where(rng.random(n) < p_tx, rng.uniform(4, 85, n), np.inf)
    t_lost = np.where(rng.random(n) < _LOST, rng.uniform(30, 89, n), np.inf)
    # outcomes are followed to day 90 (or the last visit, if later) whatever visits are sampled
    horizon = max(90, *visits.values())
    death_day = np.ceil(t_death)
    tx_day = np.ceil(t_tx)
    lost_day = np.floor(t_lost)
    death = (death_day <= horizon) & (death_day < tx_day) & (death_day <= lost_day)
    tx = (tx_day <= horizon) & (tx_day <= death_day) & (tx_day <= lost_day)
    last = np.minimum(horizon, lost_day)
    last = np.where(death, death_day, last)
    # transplanted subjects are followed to the horizon (alive) unless lost
    clinical = pd.DataFrame(
        {
            "subject_id": ids,
            "arm": arm,
            "age": age,
            "sex": sex,
            "weight_kg": weight,
            "etiology": etiology,
            "randomisation_day": 0,
            "death": death.astype(int),
            "death_day": pd.array(np.where(death, death_day, np.nan), dtype="Int64"),
            "transplant": tx.astype(int),
            "transplant_day": pd.array(np.where(tx, tx_day, np.nan), dtype="Int64"),
            "last_followup_day": last.astype(int),
            "aclf_grade_easl": easl,
            "aarc_grade": aarc_grade,
            "aarc_score": aarc,
        }
    )
    if phase3 is not None:
        clinical = phase3.annotate(clinical)
    lost = np.isfinite(lost_day) & ~death & ~tx
    end = np.where(death, death_day, np.where(tx, tx_day, np.where(lost, lost_day + 0.5, np.inf)))

    # lab trajectories: survivors improve (more so when the treatment helps them), subjects who
    # die or are transplanted worsen towards the event
    benefit = np.where(treated, 1.0 - np.exp(np.minimum(log_hr, 0.0)), 0.0)
    rate = rng.normal(0.9, 0.4, n) + 0.8 * benefit
    rows = []
    for label, day in visits.items():
        if day == 0:
            vals, s_t, dday = base, s0, np.zeros(n, dtype=int)
        else:
            jitter = rng.integers(-1, 2, n) if day <= 28 else rng.integers(-5, 6, n)
            dday = day + jitter
            frac = np.clip(dday / np.maximum(end, 1.0), 0, 1)
            worsen = np.where(death | tx, 1.3 * frac**1.5, 0.0)
            improve = np.where(
                death | tx,
                0.0,
                rate * (np.minimum(dday, 28) / 28 + 0.3 * np.maximum(dday - 28, 0) / 62),
            )
            s_t = s0 + worsen - improve
            e = rng.normal(0.0, 0.35, (n, 12))
            vals = _labs_from_severity(s_t, u, e, baseline=False)
        seen = dday < end if day > 0 else np.ones(n, dtype=bool)
        frame = pd.DataFrame({"subject_id": ids, "visit": label, "day": dday, **vals})
        frame["_s"] = s_t
        rows.append(frame[seen])
    labs = pd.concat(rows, ignore_index=True)
    for col, nd in _ROUND.items():
        labs[col] = labs[col].round(nd)
    labs["sodium_mmol_l"] = labs["sodium_mmol_l"].astype(int)
    labs["platelets_10e9_l"] = labs["platelets_10e9_l"].astype(int)
    labs["map_mmhg"] = labs["map_mmhg"].astype(int)
    labs["pao2_fio2"] = labs["pao2_fio2"].astype(int)
    order = {v: i for i, v in enumerate(visits)}
    labs = labs.sort_values(
        ["subject_id", "visit"], key=lambda c: c.map(order) if c.name == "visit" else c
    )
    labs = labs.reset_index(drop=True)
    # subjects followed to the end: last follow-up is the horizon or their (windowed) last visit
    last_visit = labs.groupby("subject_id")["day"].max().reindex(ids).to_numpy()
    followed = ~death & ~lost
    clinical.loc[followed, "last_followup_day"] = np.maximum(horizon, last_visit[followed]).astype(
        int
    )

    # dosing: four weekly infusions of 1e6 cells/kg in the treated arm; doses are missed when the
    # subject has died / been transplanted, or (~4 %) for clinical reasons
    dose_rows = []
    for k, planned in enumerate((0, 7, 14, 21), start=1):
        tr = np.flatnonzero(treated)
        given = (planned < end[tr]) & (rng.random(tr.size) > 0.02)
        day_given = np.where(
            given, planned + (rng.integers(0, 2, tr.size) if planned else 0), np.nan
        )
        dose_rows.append(
            pd.DataFrame(
                {
                    "subject_id": ids[tr],
                    "dose_number": k,
                    "planned_day": planned,
                    "day": pd.array(day_given, dtype="Int64"),
                    "given": given.astype(int),
                    "cells_per_kg": np.where(given, 1_000_000, 0),
                }
            )
        )
    dosing = pd.concat(dose_rows).sort_values(["subject_id", "dose_number"]).reset_index(drop=True)
    latent = pd.DataFrame(
        {
            "subject_id": ids,
            "treated": treated,
            "s0": s0,
            "z_infl": z_infl,
            "z_paral": z_paral,
            "z_treg": z_treg,
            "log_hr": np.where(treated, log_hr, 0.0),
            "log_hr_if_treated": log_hr,
            "log_h28": log_h28,
            "m_resp": m_resp,
            "t_death": t_death,
            "t_tx": t_tx,
            "end": end,
        }
    ).set_index("subject_id")
    return clinical, labs, dosing, latent
