"""CLIF-C AD score."""

from __future__ import annotations

import numpy as np

from biomarkers.clinical._common import Inputs, check_range, to_conventional

__all__ = ["clif_c_ad"]


def clif_c_ad(age, creatinine, inr, wbc, sodium, *, units: str = "conventional"):
    """CLIF Consortium Acute Decompensation score (for patients without ACLF).

    ``10 × (0.03·age + 0.66·ln Cr + 1.71·ln INR + 0.88·ln WBC − 0.05·Na + 8)``, continuous.

    Parameters
    ----------
    age
        Age, years.
    creatinine
        Serum creatinine, mg/dL (µmol/L with ``units="si"``).
    inr
        International normalised ratio.
    wbc
        White blood cell count, ×10^9/L.
    sodium
        Serum sodium, mmol/L.
    units
        ``"conventional"`` or ``"si"``.

    Returns
    -------
    The score with the shape of the inputs; NaN where any input is NaN.

    Raises
    ------
    SchemaError
        For creatinine/INR/WBC/sodium ≤ 0 or age < 0.

    Notes
    -----
    Source: Jalan R et al., J Hepatol 2015;62:831-40; EF-CLIF online calculator.

    Examples
    --------
    >>> from biomarkers.clinical import clif_c_ad
    >>> round(clif_c_ad(55, 1.2, 1.5, 7, 132), 2)
    55.76
    """
    inputs = Inputs(
        {"age": age, "creatinine": creatinine, "inr": inr, "wbc": wbc, "sodium": sodium}
    )
    to_conventional(inputs, units, {"creatinine": "creatinine"})
    check_range(inputs, "age", unit="years", inclusive=True)
    check_range(inputs, "creatinine", unit="µmol/L" if units == "si" else "mg/dL")
    check_range(inputs, "inr", unit="")
    check_range(inputs, "wbc", unit="×10^9/L")
    check_range(inputs, "sodium", unit="mmol/L")
    score = 10.0 * (
        0.03 * inputs["age"]
        + 0.66 * np.log(inputs["creatinine"])
        + 1.71 * np.log(inputs["inr"])
        + 0.88 * np.log(inputs["wbc"])
        - 0.05 * inputs["sodium"]
        + 8.0
    )
    return inputs.wrap(score, "clif_c_ad")
