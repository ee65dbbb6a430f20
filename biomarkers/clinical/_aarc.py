"""APASL AARC-ACLF score and grade."""

from __future__ import annotations

import numpy as np

from biomarkers.clinical._child_pugh import _points
from biomarkers.clinical._common import Inputs, check_range, coerce_he_grade, to_conventional

__all__ = ["aarc"]


def aarc(bilirubin, he_grade, inr, lactate, creatinine, *, units: str = "conventional"):
    """APASL ACLF Research Consortium (AARC) score (5–15) and grade (I–III).

    ======================  ======  =======  ======
    Variable                1       2        3
    ======================  ======  =======  ======
    Bilirubin (mg/dL)       < 15    15–25    > 25
    HE (West-Haven)         0       I–II     III–IV
    INR                     < 1.8   1.8–2.5  > 2.5
    Lactate (mmol/L)        < 1.5   1.5–2.5  > 2.5
    Creatinine (mg/dL)      < 0.7   0.7–1.5  > 1.5
    ======================  ======  =======  ======

    Values exactly at a cut-off (15/25, 1.8/2.5, 1.5/2.5, 0.7/1.5) fall in the middle category
    (the published table writes the middle bins as closed ranges). Grade I = 5–7, II = 8–10,
    III = 11–15.

    Parameters
    ----------
    bilirubin
        Total bilirubin, mg/dL (µmol/L with ``units="si"``).
    he_grade
        West-Haven hepatic encephalopathy grade 0–4.
    inr
        International normalised ratio.
    lactate
        Arterial/venous lactate, mmol/L (same in both unit systems).
    creatinine
        Serum creatinine, mg/dL (µmol/L with ``units="si"``).
    units
        ``"conventional"`` or ``"si"``.

    Returns
    -------
    For scalar inputs a Series ``{"points", "grade"}``; otherwise a DataFrame with columns
    ``aarc`` (points) and ``aarc_grade`` (1, 2, 3 for I, II, III), both float with NaN when an
    input is missing, indexed like the inputs.

    Raises
    ------
    SchemaError
        For bilirubin/INR/creatinine ≤ 0, lactate < 0 or an HE grade outside 0–4.

    Notes
    -----
    Source: Choudhury A et al., Hepatol Int 2017;11:461-71 (DOI 10.1007/s12072-017-9816-z).

    Examples
    --------
    >>> from biomarkers.clinical import aarc
    >>> r = aarc(18, 2, 2.2, 2.0, 1.2)
    >>> int(r["points"]), int(r["grade"])
    (10, 2)
    """
    inputs = Inputs(
        {
            "bilirubin": bilirubin,
            "he_grade": he_grade,
            "inr": inr,
            "lactate": lactate,
            "creatinine": creatinine,
        },
        converters={"he_grade": coerce_he_grade},
    )
    to_conventional(inputs, units, {"bilirubin": "bilirubin", "creatinine": "creatinine"})
    unit = "µmol/L" if units == "si" else "mg/dL"
    check_range(inputs, "bilirubin", unit=unit)
    check_range(inputs, "inr", unit="")
    check_range(inputs, "lactate", unit="mmol/L", inclusive=True)
    check_range(inputs, "creatinine", unit=unit)
    b, he, i = inputs["bilirubin"], inputs["he_grade"], inputs["inr"]
    lac, cr = inputs["lactate"], inputs["creatinine"]
    with np.errstate(invalid="ignore"):
        points = (
            _points(b, b >= 15, b > 25)
            + _points(he, he >= 1, he >= 3)
            + _points(i, i >= 1.8, i > 2.5)
            + _points(lac, lac >= 1.5, lac > 2.5)
            + _points(cr, cr >= 0.7, cr > 1.5)
        )
        grade = np.where(points >= 11, 3.0, np.where(points >= 8, 2.0, 1.0))
    grade = np.where(np.isnan(points), np.nan, grade)
    if inputs.scalar:
        return inputs.wrap_frame({"points": points, "grade": grade})
    return inputs.wrap_frame({"aarc": points, "aarc_grade": grade})
