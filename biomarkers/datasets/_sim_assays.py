"""Plasma cytokines (plate/well level), Olink NPX and flow frequencies (private helpers)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biomarkers.datasets._scenarios import Scenario, mechanism_weight

__all__ = [
    "ANALYTES",
    "FLOW",
    "OLINK",
    "plate_layout",
    "simulate_cytokines",
    "simulate_flow",
    "simulate_olink",
]

# canonical name -> (vendor display name, healthy median pg/mL, ACLF multiplier, log-SD,
#                    LOD pg/mL, top standard S1 pg/mL, loadings on (severity, inflammation,
#                    paralysis), MSC mechanism direction)
# healthy medians / ACLF multipliers / log-SDs: DOMAIN.md §4.4 simulator defaults
ANALYTES: dict[str, tuple] = {
    "IL6": ("IL-6", 2.0, 10.0, 1.0, 0.5, 5000.0, (0.35, 0.75, 0.0), -1),
    "IL8": ("IL-8", 8.0, 12.0, 1.0, 0.5, 10000.0, (0.40, 0.45, 0.0), 0),
    "IL10": ("IL-10", 2.0, 5.0, 0.9, 0.3, 5000.0, (0.25, 0.15, 0.75), +1),
    "TNFa": ("TNF-α", 5.0, 2.0, 0.7, 0.7, 5000.0, (0.10, 0.35, 0.0), -1),
    "IL1b": ("IL-1β", 0.5, 2.0, 0.8, 0.4, 5000.0, (0.10, 0.30, 0.0), 0),
    "IFNg": ("IFN-γ", 3.0, 0.4, 0.9, 2.5, 5000.0, (0.0, 0.0, 0.0), 0),
    "IL17A": ("IL-17A", 2.0, 0.5, 0.9, 2.0, 5000.0, (0.0, 0.0, 0.0), 0),
    "MCP1": ("MCP-1", 150.0, 3.0, 0.7, 1.5, 20000.0, (0.20, 0.30, 0.0), 0),
    "HGF": ("HGF", 250.0, 8.0, 0.8, 10.0, 50000.0, (0.50, 0.0, 0.0), 0),
    "VEGF": ("VEGF", 80.0, 1.5, 0.8, 3.0, 10000.0, (0.0, 0.0, 0.0), 0),
    "GCSF": ("G-CSF", 20.0, 3.0, 0.9, 1.5, 10000.0, (0.30, 0.20, 0.0), 0),
    "TGFb1": ("TGF-β1", 20000.0, 0.9, 0.5, 15.0, 50000.0, (-0.10, 0.0, 0.0), +1),
}
UNIT = "pg/mL"
DILUTION = 2
N_STANDARDS = 7  # S1..S7, four-fold serial dilutions
CONTROL_FACTORS = {"C1": 0.02, "C2": 0.3}  # control concentration as a fraction of S1
PLATE_SD = 0.15  # per-plate, per-analyte log shift of observed concentrations
WELL_SD = 0.08  # duplicate-well noise


def standards(top: float) -> np.ndarray:
    """Expected concentrations of S1..S7."""
    return top / 4.0 ** np.arange(N_STANDARDS)


def mfi_from_conc(conc: np.ndarray, top: float) -> np.ndarray:
    """Four-parameter logistic standard curve (bottom 18, top 24 000 MFI, EC50 = S1 / 30)."""
    c = np.maximum(np.asarray(conc, dtype=float), 1e-9)
    return 18.0 + (24000.0 - 18.0) / (1.0 + (top / 30.0 / c) ** 1.05)


def plate_layout(sample_ids: list[str]) -> pd.DataFrame:
    """Assign samples to 96-well plates in duplicate, after standards, blanks and controls.

    Column-wise well order (A1, B1, ..., H1, A2, ...), as Luminex plates are read. Returns one row
    per well: ``plate, well, type ('S1'..'S7', 'B', 'C1', 'C2', 'X'), sample_id, replicate``.
    """
    wells = [f"{r}{c}" for c in range(1, 13) for r in "ABCDEFGH"]
    fixed = []
    for k in range(N_STANDARDS):
        fixed += [(f"S{k + 1}", f"S{k + 1}", 1), (f"S{k + 1}", f"S{k + 1}", 2)]
    fixed += [("B", "B", 1), ("B", "B", 2)]
    for c in CONTROL_FACTORS:
        fixed += [(c, c, 1), (c, c, 2)]
    per_plate = (96 - len(fixed)) // 2
    rows = []
    n_plates = max(1, -(-len(sample_ids) // per_plate))
    for p in range(n_plates):
        plate = f"PLATE{p + 1:02d}"
        chunk = sample_ids[p * per_plate : (p + 1) * per_plate]
        content = list(fixed) + [("X", s, r) for s in chunk for r in (1, 2)]
        for well, (typ, sid, rep) in zip(wells, content, strict=False):
            rows.append((plate, well, typ, sid, rep))
    return pd.DataFrame(rows, columns=["plate", "well", "type", "sample_id", "replicate"])


def _latent_matrix(samples: pd.DataFrame, latent: pd.DataFrame, scen: Scenario) -> np.ndarray:
    """(n_samples, 3) matrix of (severity at visit, inflammation, paralysis) per sample."""
    lat = latent.loc[samples["subject_id"]]
    sev = samples["_s"].to_numpy() if scen.severity_loading else np.zeros(len(samples))
    return np.column_stack([sev, lat["z_infl"].to_numpy(), lat["z_paral"].to_numpy()])


def _treated_weight(samples: pd.DataFrame, latent: pd.DataFrame) -> np.ndarray:
    treated = latent.loc[samples["subject_id"], "treated"].to_numpy()
    w = np.array([mechanism_weight(d) for d in samples["day"].to_numpy()])
    return np.where(treated, w, 0.0)


def _mediator_log_conc(log_c, samples: pd.DataFrame, latent: pd.DataFrame, noise: float):
    """Shrink the mediator's noise around its subject mean and add its response after day 0."""
    subj = samples["subject_id"].to_numpy()
    center = pd.Series(log_c).groupby(subj).transform("mean").to_numpy()
    resp = latent.loc[subj, "m_resp"].to_numpy() * (samples["day"].to_numpy() > 0)
    return center + noise * (log_c - center) + resp


def simulate_cytokines(
    rng, samples: pd.DataFrame, latent: pd.DataFrame, scen: Scenario, *, log_offset=None
) -> pd.DataFrame:
    """Well-level cytokine measurements for plasma ``samples`` (with ``_s`` and ``day`` columns).

    Returns one row per (plate well, analyte) with the true and observed concentration, MFI and
    the censoring class (``ok``, ``below``, ``extrapolated``, ``above``, ``missing``/``outlier``).
    ``log_offset`` (analyte → per-sample natural-log offset) shifts what an assay lot reads.
    """
    n = len(samples)
    names = list(ANALYTES)
    lat = _latent_matrix(samples, latent, scen)
    wtr = _treated_weight(samples, latent)
    subj_codes, subj_index = np.unique(samples["subject_id"].to_numpy(), return_inverse=True)
    log_c = np.empty((n, len(names)))
    for j, a in enumerate(names):
        _, healthy, mult, sd, _, _, load, mech = ANALYTES[a]
        load = np.asarray(load)
        is_mediator = a == scen.mediator
        if not scen.severity_loading or is_mediator:
            # null scenario: no link to severity or to the prognostic latents; a planted mediator
            # is linked to the outcome only through its on-treatment response
            load = np.zeros(3)
        explained = float(np.sum(load**2))
        resid = np.sqrt(max(sd**2 - explained, 0.05)) * scen.noise
        subj_re = rng.normal(0.0, resid * 0.75, subj_codes.size)[subj_index]
        visit_e = rng.normal(0.0, resid * 0.66, n)
        log_c[:, j] = (
            np.log(healthy * mult)
            + lat @ load
            + subj_re
            + visit_e
            + mech * scen.mech_cytokine * wtr
        )
        if is_mediator:
            log_c[:, j] = _mediator_log_conc(log_c[:, j], samples, latent, scen.med_noise)
        if log_offset is not None and a in log_offset:
            log_c[:, j] += log_offset[a]
    layout = plate_layout(samples["sample_id"].tolist())
    plates = sorted(layout["plate"].unique())
    plate_shift = rng.normal(0.0, PLATE_SD, (len(plates), len(names)))
    pidx = layout["plate"].map({p: i for i, p in enumerate(plates)}).to_numpy()
    pos = pd.Series(np.arange(n), index=samples["sample_id"].to_numpy())
    out = []
    for j, a in enumerate(names):
        display, _, _, _, lod, top, _, _ = ANALYTES[a]
        std = standards(top)
        true = np.full(len(layout), np.nan)
        is_x = (layout["type"] == "X").to_numpy()
        true[is_x] = np.exp(log_c[pos.loc[layout.loc[is_x, "sample_id"]].to_numpy(), j])
        for k in range(N_STANDARDS):
            true[(layout["type"] == f"S{k + 1}").to_numpy()] = std[k]
        true[(layout["type"] == "B").to_numpy()] = 0.0
        for c, f in CONTROL_FACTORS.items():
            true[(layout["type"] == c).to_numpy()] = top * f
        shift = np.where(
            layout["type"].isin(["X", "C1", "C2"]).to_numpy(), plate_shift[pidx, j], 0.0
        )
        obs = true * np.exp(shift + rng.normal(0.0, WELL_SD, len(layout)))
        mfi = mfi_from_conc(obs, top) * np.exp(rng.normal(0.0, 0.01, len(layout)))
        lloq, uloq = std[-1], std[0]
        censor = np.full(len(layout), "ok", dtype=object)
        censor[obs < lloq] = "extrapolated"
        censor[obs < lod] = "below"
        censor[obs > uloq] = "above"
        u = rng.random(len(layout))
        censor[is_x & (u < 0.003)] = "missing"
        censor[is_x & (u >= 0.003) & (u < 0.005)] = "outlier"
        out.append(
            layout.assign(
                analyte=a,
                display=display,
                true_conc=true,
                conc=obs,
                mfi=mfi,
                censor=censor,
                lod=lod,
                lloq=lloq,
                uloq=uloq,
                bead_count=rng.integers(45, 130, len(layout)),
            )
        )
    return pd.concat(out, ignore_index=True)


# Olink Target 96 Inflammation-style panel: assay -> (UniProt, link to a cytokine above or None,
# mean NPX, SD, LOD NPX, loadings (severity, inflammation, paralysis), mechanism direction)
OLINK: dict[str, tuple] = {
    "IL6": ("P05231", "IL6", 0, 0, 0, None, 0),
    "IL8": ("P10145", "IL8", 0, 0, 0, None, 0),
    "IL10": ("P22301", "IL10", 0, 0, 0, None, 0),
    "TNF": ("P01375", "TNFa", 0, 0, 0, None, 0),
    "IFN-gamma": ("P01579", "IFNg", 0, 0, 0, None, 0),
    "IL-17A": ("Q16552", "IL17A", 0, 0, 0, None, 0),
    "MCP-1": ("P13500", "MCP1", 0, 0, 0, None, 0),
    "HGF": ("P14210", "HGF", 0, 0, 0, None, 0),
    "VEGFA": ("P15692", "VEGF", 0, 0, 0, None, 0),
    "LAP TGF-beta-1": ("P01137", "TGFb1", 0, 0, 0, None, 0),
    "IL-1 alpha": ("P01583", None, 1.5, 0.8, 1.9, (0.1, 0.2, 0.0), 0),
    "CXCL10": ("P02778", None, 9.5, 1.0, 3.0, (0.3, 0.3, 0.0), 0),
    "CXCL9": ("Q07325", None, 8.0, 1.0, 3.2, (0.2, 0.3, 0.0), 0),
    "CCL20": ("P78556", None, 6.0, 1.1, 2.5, (0.4, 0.2, 0.0), 0),
    "OSM": ("P13725", None, 4.5, 1.0, 2.0, (0.2, 0.4, 0.0), 0),
    "IL18": ("Q14116", None, 9.0, 0.8, 2.5, (0.3, 0.2, 0.0), 0),
    "CSF-1": ("P09603", None, 9.0, 0.5, 4.0, (0.3, 0.0, 0.0), 0),
    "FGF-21": ("Q9NSA1", None, 7.0, 1.2, 2.8, (0.5, 0.0, 0.0), 0),
    "CDCP1": ("Q9H5V8", None, 4.0, 0.9, 1.5, (0.3, 0.1, 0.0), 0),
    "IL-18R1": ("Q13478", None, 8.0, 0.6, 2.0, (0.2, 0.2, 0.0), 0),
    "uPA": ("P00749", None, 10.0, 0.5, 3.5, (0.3, 0.0, 0.0), 0),
    "TNFSF14": ("O43557", None, 5.0, 0.9, 1.8, (0.0, 0.2, 0.0), -1),
    "CD40": ("P25942", None, 10.0, 0.6, 3.0, (0.0, 0.0, 0.0), 0),
    "EN-RAGE": ("P80511", None, 7.0, 1.1, 2.2, (0.3, 0.3, 0.0), 0),
}
OLINK_PANEL = "Olink Target 96 Inflammation"
OLINK_VERSION = "v.3022"
# log2 offset between pg/mL and NPX for assays shared with the cytokine panel
_NPX_OFFSET = -1.0


def simulate_olink(
    rng, samples: pd.DataFrame, latent: pd.DataFrame, scen: Scenario, cyto: pd.DataFrame
) -> pd.DataFrame:
    """Olink NPX values per plasma sample and assay (plus control samples per plate)."""
    n = len(samples)
    lat = _latent_matrix(samples, latent, scen)
    wtr = _treated_weight(samples, latent)
    # the sample's true concentration of shared analytes (mean of the duplicate wells)
    xs = cyto[cyto["type"] == "X"].groupby(["sample_id", "analyte"])["true_conc"].first().unstack()
    xs = xs.reindex(samples["sample_id"].to_numpy())
    per_plate = 88
    n_plates = max(1, -(-n // per_plate))
    plate_of = np.repeat(np.arange(n_plates), per_plate)[:n]
    rows = []
    ids = samples["sample_id"].to_numpy()
    for k, (assay, (uniprot, link, mean, sd, lod, load, mech)) in enumerate(OLINK.items()):
        shift = rng.normal(0.0, 0.12, n_plates)
        if link is not None:
            base = np.log2(xs[link].to_numpy()) + _NPX_OFFSET
            lod_npx = np.log2(ANALYTES[link][4]) + _NPX_OFFSET + 0.5
        else:
            load = np.asarray(load) if scen.severity_loading else np.zeros(3)
            resid = np.sqrt(max(sd**2 - float(np.sum(load**2)), 0.05)) * scen.noise
            base = (
                mean
                + lat @ load
                + rng.normal(0.0, resid, n)
                + mech * scen.mech_cytokine * wtr / np.log(2)
            )
            lod_npx = lod
        npx = base + shift[plate_of] + rng.normal(0.0, 0.15, n)
        plate_lod = lod_npx + rng.normal(0.0, 0.05, n_plates)
        rows.append(
            pd.DataFrame(
                {
                    "SampleID": ids,
                    "Index": np.arange(n) % per_plate + 1,
                    "OlinkID": f"OID{20471 + k:05d}",
                    "UniProt": uniprot,
                    "Assay": assay,
                    "Panel": OLINK_PANEL,
                    "Panel_Version": OLINK_VERSION,
                    "PlateID": [f"OLINK_PLATE{p + 1}" for p in plate_of],
                    "QC_Warning": "Pass",
                    "LOD": plate_lod[plate_of],
                    "NPX": npx,
                    "_plate": plate_of,
                    "_link": link,
                }
            )
        )
        controls = [
            (c, per_plate + i + 1, p, plate_lod[p] + 2.0 + lvl + shift[p] + rng.normal(0, 0.1))
            for p in range(n_plates)
            for i, (c, lvl) in enumerate(
                (("CONTROL_SAMPLE_AS 1", 0.3), ("CONTROL_SAMPLE_AS 2", 1.2))
            )
        ]
        ctl = pd.DataFrame(controls, columns=["SampleID", "Index", "_plate", "NPX"])
        rows.append(
            ctl.assign(
                OlinkID=f"OID{20471 + k:05d}",
                UniProt=uniprot,
                Assay=assay,
                Panel=OLINK_PANEL,
                Panel_Version=OLINK_VERSION,
                PlateID=[f"OLINK_PLATE{p + 1}" for p in ctl["_plate"]],
                QC_Warning="Pass",
                LOD=plate_lod[ctl["_plate"].to_numpy()],
                _link=link,
            )
        )
    df = pd.concat(rows, ignore_index=True)
    # a few samples fail QC on all assays of their plate (Olink flags them, keeps the values)
    bad = rng.choice(ids, size=max(0, round(0.02 * n)), replace=False) if n else []
    df.loc[df["SampleID"].isin(bad), "QC_Warning"] = "Warning"
    df["NPX"] = df["NPX"].round(4)
    df["LOD"] = df["LOD"].round(4)
    is_sample = df["SampleID"].isin(ids)
    below = (df["NPX"] < df["LOD"])[is_sample]
    freq = below.groupby(df.loc[is_sample, "Assay"]).mean()
    df["MissingFreq"] = df["Assay"].map(freq).round(4)
    return df


# flow cytometry: population -> (parent, % of parent in ACLF, logit SD, loadings on
# (severity, inflammation, paralysis, treg), mechanism direction)
FLOW: dict[str, tuple] = {
    "lymphocytes": ("CD45+", 55.0, 0.35, (-0.25, 0.0, 0.0, 0.0), 0),
    "monocytes": ("CD45+", 30.0, 0.35, (0.2, 0.0, 0.1, 0.0), 0),
    "CD3": ("lymphocytes", 65.0, 0.3, (-0.1, 0.0, 0.0, 0.0), 0),
    "CD4": ("CD3", 60.0, 0.3, (0.0, 0.0, 0.0, 0.0), 0),
    "CD8": ("CD3", 30.0, 0.3, (-0.2, 0.0, 0.0, 0.0), 0),
    "Treg": ("CD4", 4.0, 0.45, (-0.1, 0.0, 0.0, 0.7), +1),
    "Th17": ("CD4", 2.5, 0.5, (0.2, 0.3, 0.0, 0.0), -1),
    "NK": ("lymphocytes", 9.0, 0.45, (-0.25, 0.0, 0.0, 0.0), 0),
    "B": ("lymphocytes", 10.0, 0.4, (-0.1, 0.0, 0.0, 0.0), 0),
    "classical_mono": ("monocytes", 85.0, 0.3, (0.1, 0.0, 0.0, 0.0), 0),
    "nonclassical_mono": ("monocytes", 7.0, 0.4, (-0.1, 0.0, 0.0, 0.0), 0),
    "CD14_HLADR_low": ("classical_mono", 45.0, 0.6, (0.3, 0.0, 0.8, 0.0), -1),
}
FLOW_EVENTS = 100_000  # CD45+ events acquired per sample


def simulate_flow(rng, samples: pd.DataFrame, latent: pd.DataFrame, scen: Scenario) -> pd.DataFrame:
    """Gated frequencies (% of parent) and event counts per PBMC sample and population."""
    n = len(samples)
    lat = _latent_matrix(samples, latent, scen)
    ztreg = latent.loc[samples["subject_id"], "z_treg"].to_numpy()
    lat4 = np.column_stack([lat, ztreg])
    wtr = _treated_weight(samples, latent)
    subj_codes, subj_index = np.unique(samples["subject_id"].to_numpy(), return_inverse=True)
    counts = {"CD45+": np.full(n, FLOW_EVENTS)}
    rows = []
    for pop, (parent, pct, sd, load, mech) in FLOW.items():
        load = np.asarray(load, dtype=float)
        if not scen.severity_loading:
            load[:3] = 0.0  # null: keep only the (outcome-free) Treg latent
        resid = sd * scen.noise
        logit = (
            np.log(pct / (100 - pct))
            + lat4 @ load
            + rng.normal(0.0, resid * 0.7, subj_codes.size)[subj_index]
            + rng.normal(0.0, resid * 0.7, n)
            + mech * scen.mech_flow * wtr
        )
        p = 1.0 / (1.0 + np.exp(-logit))
        cnt = rng.binomial(counts[parent], p)
        counts[pop] = cnt
        freq = np.where(counts[parent] > 0, 100.0 * cnt / np.maximum(counts[parent], 1), np.nan)
        rows.append(
            pd.DataFrame(
                {
                    "sample_id": samples["sample_id"].to_numpy(),
                    "population": pop,
                    "parent": parent,
                    "frequency": np.round(freq, 3),
                    "count": cnt,
                }
            )
        )
    df = pd.concat(rows, ignore_index=True)
    order = {s: i for i, s in enumerate(samples["sample_id"])}
    return df.sort_values("sample_id", key=lambda c: c.map(order), kind="stable").reset_index(
        drop=True
    )
