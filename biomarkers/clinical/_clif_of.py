"""CLIF-C organ failure score and the EASL-CLIF ACLF grade."""

from __future__ import annotations

import numpy as np

from biomarkers.clinical._child_pugh import _points
from biomarkers.clinical._common import (
    Inputs,
    check_range,
    coerce_bool,
    coerce_he_grade,
    to_conventional,
)

__all__ = ["ORGANS", "clif_of"]

ORGANS = ("liver", "kidney", "brain", "coagulation", "circulation", "respiration")


def clif_of(
    bilirubin,
    creatinine,
    he_grade,
    inr,
    map_mmhg,
    vasopressor,
    pao2_fio2=None,
    spo2_fio2=None,
    *,
    rrt=False,
    units: str = "conventional",
):
    """CLIF-C organ failure score (CLIF-C OFs, 6–18), organ failures and EASL-CLIF ACLF grade.

    ============  ===================  ==================  ========================  =====================
    Organ         1                    2                   3                         organ failure
    ============  ===================  ==================  ========================  =====================
    Liver         bilirubin < 6        6–12 mg/dL          > 12                      subscore 3
    Kidney        creatinine < 2       ≥ 2 and < 3.5       ≥ 3.5 or RRT              subscore ≥ 2
    Brain         HE grade 0           1–2                 3–4                       subscore 3
    Coagulation   INR < 2.0            ≥ 2.0 and < 2.5     ≥ 2.5                     subscore 3
    Circulation   MAP ≥ 70 mmHg        MAP < 70            any vasopressor           subscore 3
    Respiration   P/F > 300 (S/F>357)  200–300 (214–357)   ≤ 200 (≤ 214)             subscore 3
    ============  ===================  ==================  ========================  =====================

    Respiration uses PaO2/FiO2 when present and SpO2/FiO2 otherwise (per element).

    EASL-CLIF grade (CANONIC): 0 = no ACLF (no organ failure; a single non-kidney failure with
    creatinine < 1.5 mg/dL and no HE; or single brain failure with creatinine < 1.5);
    1 = single kidney failure, or single liver/coagulation/circulation/lung failure with
    creatinine 1.5–1.9 and/or HE grade 1–2, or single brain failure with creatinine 1.5–1.9;
    2 = two organ failures; 3 = three or more.

    Parameters
    ----------
    bilirubin
        Total bilirubin, mg/dL (µmol/L with ``units="si"``).
    creatinine
        Serum creatinine, mg/dL (µmol/L with ``units="si"``).
    he_grade
        West-Haven HE grade 0–4 (patients intubated for HE: pass 3).
    inr
        International normalised ratio.
    map_mmhg
        Mean arterial pressure, mmHg.
    vasopressor
        Any vasopressor (terlipressin and/or catecholamines): 1/True or 0/False.
    pao2_fio2
        PaO2/FiO2 ratio, mmHg.
    spo2_fio2
        SpO2/FiO2 ratio, used where PaO2/FiO2 is missing.
    rrt
        Renal replacement therapy (flag or array of flags); kidney subscore 3. Missing counts as
        no RRT.
    units
        ``"conventional"`` or ``"si"``.

    Returns
    -------
    For scalar inputs a Series, otherwise a DataFrame indexed like the inputs, with columns
    ``clif_of_<organ>`` (subscores 1–3) and ``failure_<organ>`` (1.0/0.0) for the six organs,
    ``n_organ_failures``, ``clif_of`` (total 6–18) and ``aclf_grade_easl`` (0–3). A missing
    input makes its organ's subscore and failure NaN and the total, count and grade NaN (never
    silently scored as normal).

    Raises
    ------
    SchemaError
        For bilirubin/creatinine/INR/MAP/ratios ≤ 0 or an HE grade outside 0–4.

    Notes
    -----
    Sources: Jalan R et al., J Hepatol 2014;61:1038-47; Moreau R et al., Gastroenterology
    2013;144:1426-37 (CANONIC grades); EF-CLIF calculator.

    Examples
    --------
    >>> from biomarkers.clinical import clif_of
    >>> r = clif_of(4, 2.3, 0, 1.6, 80, 0, pao2_fio2=400)
    >>> int(r["clif_of"]), int(r["aclf_grade_easl"])
    (7, 1)
    """
    inputs = Inputs(
        {
            "bilirubin": bilirubin,
            "creatinine": creatinine,
            "he_grade": he_grade,
            "inr": inr,
            "map_mmhg": map_mmhg,
            "vasopressor": vasopressor,
            "pao2_fio2": np.nan if pao2_fio2 is None else pao2_fio2,
            "spo2_fio2": np.nan if spo2_fio2 is None else spo2_fio2,
            "rrt": rrt,
        },
        converters={"he_grade": coerce_he_grade, "vasopressor": coerce_bool, "rrt": coerce_bool},
    )
    to_conventional(inputs, units, {"bilirubin": "bilirubin", "creatinine": "creatinine"})
    unit = "µmol/L" if units == "si" else "mg/dL"
    check_range(inputs, "bilirubin", unit=unit)
    check_range(inputs, "creatinine", unit=unit)
    check_range(inputs, "inr", unit="")
    check_range(inputs, "map_mmhg", unit="mmHg")
    check_range(inputs, "pao2_fio2", unit="mmHg")
    check_range(inputs, "spo2_fio2", unit="")
    b, cr, he, inr = inputs["bilirubin"], inputs["creatinine"], inputs["he_grade"], inputs["inr"]
    mp, vp = inputs["map_mmhg"], inputs["vasopressor"]
    pf, sf = inputs["pao2_fio2"], inputs["spo2_fio2"]
    rrt_ = np.nan_to_num(inputs["rrt"], nan=0.0) == 1.0
    with np.errstate(invalid="ignore"):
        kidney = np.where(rrt_, 3.0, _points(cr, cr >= 2.0, cr >= 3.5))
        # Vasopressor dominates MAP: on pressors the subscore is 3 whatever the MAP.
        circ = np.where(vp == 1.0, 3.0, _points(mp, mp < 70, np.zeros_like(mp, dtype=bool)))
        circ = np.where(np.isnan(vp), np.nan, circ)
        resp_pf = _points(pf, pf <= 300, pf <= 200)
        resp_sf = _points(sf, sf <= 357, sf <= 214)
        sub = {
            "liver": _points(b, b >= 6, b > 12),
            "kidney": kidney,
            "brain": _points(he, he >= 1, he >= 3),
            "coagulation": _points(inr, inr >= 2.0, inr >= 2.5),
            "circulation": circ,
            "respiration": np.where(np.isnan(pf), resp_sf, resp_pf),
        }
        fail = {
            organ: np.where(np.isnan(s), np.nan, (s >= 2) if organ == "kidney" else (s == 3))
            for organ, s in sub.items()
        }
    fail = {k: v.astype(float) for k, v in fail.items()}
    total = sum(sub.values())
    n_fail = sum(fail.values())
    grade = _easl_grade(n_fail, fail, cr, he, rrt_)
    columns: dict[str, np.ndarray] = {f"clif_of_{k}": v for k, v in sub.items()}
    columns.update({f"failure_{k}": v for k, v in fail.items()})
    columns.update({"n_organ_failures": n_fail, "clif_of": total, "aclf_grade_easl": grade})
    return inputs.wrap_frame(columns)


def _easl_grade(n_fail, fail, cr, he, rrt) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        cr_mid = (cr >= 1.5) & (cr < 2.0) & ~rrt
        he_12 = (he >= 1) & (he <= 2)
        single_kidney = (n_fail == 1) & (fail["kidney"] == 1)
        single_brain = (n_fail == 1) & (fail["brain"] == 1)
        single_other = (n_fail == 1) & ~single_kidney & ~single_brain
        grade = np.select(
            [
                n_fail >= 3,
                n_fail == 2,
                single_kidney,
                single_brain & cr_mid,
                single_other & (cr_mid | he_12),
            ],
            [3.0, 2.0, 1.0, 1.0, 1.0],
            default=0.0,
        )
    return np.where(np.isnan(n_fail), np.nan, grade)
