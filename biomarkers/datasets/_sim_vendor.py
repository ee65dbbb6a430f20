"""Writers of the cytokine data in vendor export layouts (private helpers; DOMAIN.md §5)."""

from __future__ import annotations

import csv
import io
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from biomarkers._atomic import neutralise_cell, write_table, write_text
from biomarkers.datasets._sim_assays import DILUTION, N_STANDARDS, UNIT

__all__ = ["write_bioplex", "write_long", "write_msd", "write_olink", "write_xponent"]

# fixed, seed-independent run metadata: files carry no wall-clock time (byte-reproducible)
_RUN_DATE = "01/02/2027"


def _num(x: float, nd: int = 2) -> str:
    if x is None or not np.isfinite(x):
        return "NaN"
    return f"{float(x) + 0.0:.{nd}f}"


def _fmt(x, nd: int = 2) -> np.ndarray:
    """Vectorised :func:`_num`: fixed decimals, ``NaN`` for missing (object array of str)."""
    x = np.asarray(x, dtype=float) + 0.0
    out = np.char.mod(f"%.{nd}f", np.where(np.isfinite(x), x, 0.0)).astype(object)
    out[~np.isfinite(x)] = "NaN"
    return out


def _csv(rows: list[list]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([map(neutralise_cell, r) for r in rows])
    return buf.getvalue()


def write_long(cyto: pd.DataFrame, path: Path) -> Path:
    """Long CSV: one row per sample well and analyte; censored values as instruments write them."""
    x = cyto[cyto["type"] == "X"].copy()
    value = _fmt(x["conc"])
    cen = x["censor"].to_numpy()
    lod = x["lod"].to_numpy()
    far_below = x["conc"].to_numpy() < lod / 3
    value[cen == "below"] = [f"<{v:g}" for v in lod[cen == "below"]]
    value[(cen == "below") & far_below] = "OOR <"
    value[cen == "above"] = [f">{v:g}" for v in x["uloq"].to_numpy()[cen == "above"]]
    value[cen == "missing"] = "NaN"
    value[cen == "outlier"] = ""
    out = pd.DataFrame(
        {
            "sample_id": x["sample_id"].to_numpy(),
            "analyte": x["analyte"].to_numpy(),
            "value": value,
            "unit": UNIT,
            "lod": x["lod"].to_numpy(),
            "lloq": np.round(x["lloq"].to_numpy(), 4),
            "uloq": x["uloq"].to_numpy(),
            "plate": x["plate"].to_numpy(),
            "well": x["well"].to_numpy(),
            "dilution": DILUTION,
        }
    )
    return write_table(path, out)


def _xponent_name(typ: str, sid: str) -> str:
    if typ.startswith("S"):
        return f"Standard{typ[1:]}"
    if typ == "B":
        return "Background0"
    if typ.startswith("C"):
        return f"Control{typ[1:]}"
    return sid


def write_xponent(cyto: pd.DataFrame, path: Path) -> Path:
    """Luminex xPONENT CSV export: header blocks, then ``DataType:`` blocks and a CRC line."""
    analytes = list(dict.fromkeys(cyto["analyte"]))
    n_a = len(analytes)
    n_w = len(cyto) // n_a
    # cyto is analyte-major over one plate layout: reshape each column to (wells, analytes)
    first = cyto.iloc[:n_w]
    mfi, conc, beads, cen = (
        cyto[c].to_numpy().reshape(n_a, n_w).T for c in ("mfi", "conc", "bead_count", "censor")
    )
    display = dict(zip(cyto["analyte"], cyto["display"], strict=False))
    typ = first["type"].to_numpy()
    plate = first["plate"].to_numpy()
    plates = list(dict.fromkeys(plate))
    plate_no = {pl: i + 1 for i, pl in enumerate(plates)}
    loc, seen = [], dict.fromkeys(plates, 0)
    for pl, well in zip(plate, first["well"], strict=True):
        seen[pl] += 1
        loc.append(f"{seen[pl]}({plate_no[pl]},{well})")
    names = [_xponent_name(t, sid) for t, sid in zip(typ, first["sample_id"], strict=True)]
    blank = pd.DataFrame(mfi[typ == "B"]).groupby(plate[typ == "B"]).mean()
    net = np.maximum(mfi - blank.loc[plate].to_numpy(), 0.0)
    total = beads.sum(axis=1) + 37
    rows: list[list] = [
        ["Program", "xPONENT", "", "MAGPIX"],
        ["Build", "4.3.229.0"],
        ["Date", _RUN_DATE, "09:00"],
        [],
        ["SN", "MAGPX14123701"],
        ["Batch", "ACLF_MSC_cytokines"],
        ["Version", "1"],
        ["Operator", ""],
        ["ComputerName", "LAB-PC"],
        ["Country Code", "1033"],
        ["ProtocolName", "ACLF 12-plex"],
        ["ProtocolVersion", "1"],
        ["ProtocolDescription", ""],
        ["ProtocolDevelopingCompany", ""],
        ["SampleVolume", "50 uL"],
        ["DDGate", "4000 to 13000"],
        ["SampleTimeout", "60 sec"],
        ["BatchAuthor", ""],
        ["BatchStartTime", f"{_RUN_DATE} 9:00:00 AM"],
        ["BatchStopTime", f"{_RUN_DATE} 5:00:00 PM"],
        ["BatchDescription", ""],
        [],
        ["ProtocolPlate", "Name", "Standard 96", "Type", "96", "Inverted", "0"],
        ["ProtocolMicrosphere", "Analyte", *[display[a] for a in analytes]],
        ["", "Units", *[UNIT] * n_a],
        [],
        ["Samples", str(n_w), "Min Events", "50", "Per Bead"],
        [],
        ["Results"],
        [],
    ]

    def block(name: str, cells: np.ndarray, *, with_total: bool) -> None:
        rows.append(["DataType:", name])
        rows.append(
            [
                "Location",
                "Sample",
                *[display[a] for a in analytes],
                *(["Total Events"] if with_total else []),
            ]
        )
        for i in range(n_w):
            rows.append(
                [loc[i], names[i], *cells[i], *([str(int(total[i]))] if with_total else [])]
            )
        rows.append([])

    block("Median", _fmt(mfi, 1), with_total=True)
    block("Net MFI", _fmt(net, 1), with_total=True)
    block("Count", beads.astype(int).astype(str), with_total=True)
    res = _fmt(conc)
    res[cen == "below"] = "OOR <"
    res[cen == "above"] = "OOR >"
    res[np.isin(cen, ["missing", "outlier"])] = "NaN"
    res[typ == "B"] = "NaN"
    block("Result", res, with_total=False)
    rows.append(["DataType:", "Audit Logs"])
    rows.append(["UserId", "Date", "Message"])
    rows.append(["", f"{_RUN_DATE} 9:00:00 AM", "Batch created"])
    rows.append([])
    rows.append(["DataType:", "Warnings/Errors"])
    rows.append(["Location", "Status", "Message"])
    for i in np.flatnonzero((cen == "missing").any(axis=1)):
        rows.append([loc[i], "Warning", "Insufficient bead count in one or more regions"])
    rows.append([])
    body = _csv(rows)
    crc = zlib.crc32(body.encode("utf-8")) & 0xFFFFFFFF
    return write_text(path, body + f"-- CRC --\nCRC32: {crc:08X}\n")


def write_bioplex(cyto: pd.DataFrame, path: Path) -> Path:
    """Bio-Plex Manager export: per plate, one block per analyte (``Analyte: IL-6 (pg/mL)``)."""
    d = cyto
    typ = d["type"].to_numpy().astype(str)
    cen = d["censor"].to_numpy()
    conc, mfi, true = d["conc"].to_numpy(), d["mfi"].to_numpy(), d["true_conc"].to_numpy()
    key = [d["plate"], d["analyte"], d["type"], d["sample_id"]]
    sd = d.groupby(key, sort=False)["mfi"].transform("std").to_numpy()
    mean = d.groupby(key, sort=False)["mfi"].transform("mean").to_numpy()
    is_b = typ == "B"
    blank = (
        pd.Series(mfi[is_b])
        .groupby([d["plate"].to_numpy()[is_b], d["analyte"].to_numpy()[is_b]])
        .mean()
    )
    bkg = blank.reindex(pd.MultiIndex.from_arrays([d["plate"], d["analyte"]])).to_numpy()
    has_exp = np.char.startswith(typ, "S") | np.char.startswith(typ, "C")
    num = _fmt
    obs = num(conc)
    inrange = obs.copy()
    ratio = np.where(has_exp, _fmt(100 * conc / np.where(has_exp, true, 1), 1), "").astype(object)
    ext = (cen == "extrapolated") | ((cen == "above") & (conc <= 1.5 * d["uloq"].to_numpy()))
    obs[ext] = np.char.add("*", obs[ext].astype(str))
    inrange[ext] = "***"
    for flag, o, r in (
        ("below", "OOR <", "***"),
        ("missing", "***", "***"),
        ("outlier", "---", "---"),
    ):
        m = cen == flag
        obs[m], inrange[m], ratio[m] = o, r, ""
    m = (cen == "above") & ~ext
    obs[m], inrange[m], ratio[m] = "OOR >", "***", ""
    obs[is_b], inrange[is_b], ratio[is_b] = "", "", ""
    # unknowns are numbered X1, X2, ... per plate in plate order
    xnum = np.full(len(d), "", dtype=object)
    for _, idx in d[typ == "X"].groupby("plate", sort=False).groups.items():
        sids = d.loc[idx, "sample_id"]
        codes = pd.factorize(sids)[0] + 1
        xnum[d.index.get_indexer(idx)] = [f"X{c}" for c in codes]
    cols = np.column_stack(
        [
            np.where(typ == "X", xnum, typ),
            d["well"].to_numpy(),
            np.where(typ == "X", d["sample_id"].to_numpy(), ""),
            _fmt(mfi, 1),
            _fmt(mfi - bkg, 1),
            num(sd),
            num(100 * sd / mean),
            obs,
            np.where(has_exp, num(true), ""),
            ratio,
            inrange,
            np.where(np.char.startswith(typ, "S") | is_b, "1", str(DILUTION)),
        ]
    )
    header = [
        "Type", "Well", "Description", "FI", "FI - Bkgd", "Std Dev", "%CV", "Obs Conc", "Exp Conc",
        "(Obs/Exp) * 100", "Conc in Range", "Dilution",
    ]  # fmt: skip
    rows: list[list] = [["Bio-Plex Manager 6.2", "Report Type: Table of Results"], []]
    plate = d["plate"].to_numpy()
    analyte = d["analyte"].to_numpy()
    display = dict(zip(d["analyte"], d["display"], strict=False))
    for pl in sorted(dict.fromkeys(plate)):
        rows.append(["Plate Name:", pl])
        rows.append([])
        for a in dict.fromkeys(analyte):
            rows.append([f"Analyte: {display[a]} ({UNIT})"])
            rows.append(header)
            rows.extend(cols[(plate == pl) & (analyte == a)].tolist())
            rows.append([])
    return write_text(path, _csv(rows))


def write_msd(cyto: pd.DataFrame, path: Path) -> Path:
    """MSD Discovery Workbench long export (title line, blank line, header, one row per well × spot)."""
    analytes = list(dict.fromkeys(cyto["analyte"]))
    spot = {a: (i % 10) + 1 for i, a in enumerate(analytes)}
    d = cyto.copy()
    typ = d["type"].to_numpy()
    sample = d["sample_id"].to_numpy().copy()
    for k in range(N_STANDARDS):
        sample[typ == f"S{k + 1}"] = f"S{k + 1:03d}"
    sample[typ == "B"] = f"S{N_STANDARDS + 1:03d}"
    conc, lod, uloq = d["conc"].to_numpy(), d["lod"].to_numpy(), d["uloq"].to_numpy()
    cen = d["censor"].to_numpy()
    det = np.full(len(d), "In Detection Range", dtype=object)
    det[conc < lod] = "Below Detection Range"
    det[conc < lod / 3] = "Below Fit Curve Range"
    det[conc > uloq] = "Above Detection Range"
    det[conc > 3 * uloq] = "Above Fit Curve Range"
    calc = np.where(np.isin(det, ["Below Fit Curve Range", "Above Fit Curve Range"]), np.nan, conc)
    calc = np.where(np.isin(cen, ["missing", "outlier"]) | (typ == "B"), np.nan, calc)
    det[np.isin(cen, ["missing", "outlier"])] = ""
    signal = np.round(d["mfi"].to_numpy() * 3.0)
    d = d.assign(_sample=sample, _calc=calc, _signal=signal, _det=det)
    grp = d.groupby(["plate", "_sample", "analyte"], sort=False)
    sig_mean = grp["_signal"].transform("mean").to_numpy()
    sig_cv = 100 * grp["_signal"].transform("std").to_numpy() / sig_mean
    c_mean = grp["_calc"].transform("mean").to_numpy()
    c_cv = 100 * grp["_calc"].transform("std").to_numpy() / c_mean
    expected = np.where(
        np.char.startswith(typ.astype(str), "S") | (typ == "B"), d["true_conc"].to_numpy(), np.nan
    )
    rows = [
        ["Discovery Workbench 4.0 Export: ACLF MSC cytokine panel"],
        [],
        [
            "Plate Name", "Sample", "Assay", "Well", "Spot", "Dilution", "Concentration", "Signal", "Mean", "CV",
            "Calc. Concentration", "Calc. Conc. Mean", "Calc. Conc. CV", "Detection Range",
            "Detection Limits: Calc. Low", "Detection Limits: Calc. High", "Excluded",
        ],
    ]  # fmt: skip
    # cyto is analyte-major over the same plate layout: order rows by well, then analyte
    n_wells = len(d) // len(analytes)
    order = np.lexsort((np.arange(len(d)) // n_wells, np.arange(len(d)) % n_wells))
    is_std = np.char.startswith(typ.astype(str), "S") | (typ == "B")
    cols = np.column_stack(
        [
            d["plate"].to_numpy(),
            sample,
            d["display"].to_numpy(),
            d["well"].to_numpy(),
            d["analyte"].map(spot).to_numpy(),
            np.where(is_std, "1", str(DILUTION)),
            np.where(is_std, _fmt(expected, 3), ""),
            signal.astype(np.int64).astype(str),
            _fmt(sig_mean, 1),
            np.where(np.isfinite(sig_cv), _fmt(sig_cv, 2), ""),
            _fmt(calc, 3),
            _fmt(c_mean, 3),
            np.where(np.isfinite(c_cv), _fmt(c_cv, 2), ""),
            det,
            _fmt(lod, 3),
            _fmt(uloq, 1),
            np.where(cen == "outlier", "Y", ""),
        ]
    )
    rows.extend(cols[order].tolist())
    return write_text(path, _csv(rows))


OLINK_COLUMNS = [
    "SampleID", "Index", "OlinkID", "UniProt", "Assay", "MissingFreq", "Panel", "Panel_Version",
    "PlateID", "QC_Warning", "LOD", "NPX",
]  # fmt: skip


def write_olink(olink: pd.DataFrame, path: Path) -> Path:
    """Olink NPX long export, ``;``-delimited."""
    out = olink[OLINK_COLUMNS].sort_values(["PlateID", "Index", "OlinkID"], kind="stable")
    return write_table(path, out, sep=";")
