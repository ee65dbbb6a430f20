"""Child–Turcotte–Pugh score and class."""

from __future__ import annotations

import numpy as np

from biomarkers.clinical._common import (
    Inputs,
    check_range,
    coerce_ascites,
    coerce_he_grade,
    to_conventional,
)

__all__ = ["child_pugh"]


def _points(x: np.ndarray, low_2: np.ndarray, high_3: np.ndarray) -> np.ndarray:
    """1/2/3 points with NaN passthrough; ``low_2``/``high_3`` are boolean masks."""
    out = np.where(high_3, 3.0, np.where(low_2, 2.0, 1.0))
    return np.where(np.isnan(x), np.nan, out)


def child_pugh(bilirubin, albumin, inr, ascites, he_grade, *, units: str = "conventional"):
    """Child–Turcotte–Pugh (CTP) points (5–15) and class (A/B/C).

    ===================  =========  ==================  =======================
    Parameter            1 point    2 points            3 points
    ===================  =========  ==================  =======================
    Bilirubin (mg/dL)    < 2        2–3                 > 3
    Albumin (g/dL)       > 3.5      2.8–3.5             < 2.8
    INR                  < 1.7      1.7–2.3             > 2.3
    Ascites              none       mild / slight       moderate–severe
    HE (West-Haven)      0          1–2                 3–4
    ===================  =========  ==================  =======================

    Boundary values (bilirubin 2.0 or 3.0, albumin 2.8 or 3.5, INR 1.7 or 2.3) score 2 points,
    as the closed middle ranges of the published table say. Class A = 5–6, B = 7–9, C = 10–15.

    Parameters
    ----------
    bilirubin
        Total bilirubin, mg/dL (µmol/L with ``units="si"``).
    albumin
        Serum albumin, g/dL (g/L with ``units="si"``).
    inr
        International normalised ratio.
    ascites
        ``"none"``, ``"mild"``/``"slight"``, ``"moderate-severe"``/``"moderate"``/``"severe"``/
        ``"refractory"``/``"tense"``, or 0/1/2 for none/mild/moderate–severe.
    he_grade
        West-Haven hepatic encephalopathy grade 0–4.
    units
        ``"conventional"`` or ``"si"``.

    Returns
    -------
    For scalar inputs a Series ``{"points", "class"}``; otherwise a DataFrame with columns
    ``child_pugh`` (points, float, NaN if any input is missing) and ``child_pugh_class``
    (``"A"``/``"B"``/``"C"``, missing when points are missing), indexed like the inputs.

    Raises
    ------
    SchemaError
        For bilirubin/albumin/INR ≤ 0, an HE grade outside 0–4 or unknown ascites text.

    Notes
    -----
    Sources: Pugh RN et al., Br J Surg 1973;60:646; cut-offs as tabulated in DOMAIN.md §1.4.
    The PBC/PSC bilirubin variant (4 and 10 mg/dL) is not implemented.

    Examples
    --------
    >>> from biomarkers.clinical import child_pugh
    >>> r = child_pugh(3.2, 2.6, 2.0, "mild", 2)
    >>> int(r["points"]), r["class"]
    (12, 'C')
    """
    inputs = Inputs(
        {
            "bilirubin": bilirubin,
            "albumin": albumin,
            "inr": inr,
            "ascites": ascites,
            "he_grade": he_grade,
        },
        converters={"ascites": coerce_ascites, "he_grade": coerce_he_grade},
    )
    to_conventional(inputs, units, {"bilirubin": "bilirubin", "albumin": "albumin"})
    si = units == "si"
    check_range(inputs, "bilirubin", unit="µmol/L" if si else "mg/dL")
    check_range(inputs, "albumin", unit="g/L" if si else "g/dL")
    check_range(inputs, "inr", unit="")
    b, a, i = inputs["bilirubin"], inputs["albumin"], inputs["inr"]
    asc, he = inputs["ascites"], inputs["he_grade"]
    with np.errstate(invalid="ignore"):
        points = (
            _points(b, b >= 2.0, b > 3.0)
            + _points(a, a <= 3.5, a < 2.8)
            + _points(i, i >= 1.7, i > 2.3)
            + _points(asc, asc >= 1, asc >= 2)
            + _points(he, he >= 1, he >= 3)
        )
    klass = np.full(points.shape, None, dtype=object)
    klass[points <= 6] = "A"
    klass[(points >= 7) & (points <= 9)] = "B"
    klass[points >= 10] = "C"
    if inputs.scalar:
        return inputs.wrap_frame({"points": points, "class": klass})
    return inputs.wrap_frame({"child_pugh": points, "child_pugh_class": klass})
