"""CLIF-C ACLF score."""

from __future__ import annotations

import numpy as np

from biomarkers.clinical._common import Inputs, check_range

__all__ = ["clif_c_aclf"]


def clif_c_aclf(clif_of_score, age, wbc):
    """CLIF Consortium ACLF score (for patients with ACLF), roughly 0–100.

    ``10 × (0.33·CLIF-C OFs + 0.04·age + 0.63·ln WBC − 2)``, continuous (not rounded).

    Parameters
    ----------
    clif_of_score
        CLIF-C organ failure score, 6–18 (the ``clif_of`` column of :func:`clif_of`).
    age
        Age, years.
    wbc
        White blood cell count, ×10^9/L (= ×10^3/µL).

    Returns
    -------
    The score with the shape of the inputs; NaN where any input is NaN.

    Raises
    ------
    SchemaError
        For WBC ≤ 0, age < 0 or a CLIF-C OF score outside 6–18.

    Notes
    -----
    Source: Jalan R et al., J Hepatol 2014;61:1038-47 (DOI 10.1016/j.jhep.2014.06.012);
    EF-CLIF online calculator.

    Examples
    --------
    >>> from biomarkers.clinical import clif_c_aclf
    >>> round(clif_c_aclf(9, 50, 10), 2)
    44.21
    """
    inputs = Inputs({"clif_of_score": clif_of_score, "age": age, "wbc": wbc})
    check_range(inputs, "wbc", unit="×10^9/L")
    check_range(inputs, "age", unit="years", inclusive=True)
    check_range(inputs, "clif_of_score", unit="points", low=6.0, inclusive=True)
    of = inputs["clif_of_score"]
    with np.errstate(invalid="ignore"):
        if np.any(of > 18):
            from biomarkers.exceptions import SchemaError

            msg = f"clif_of_score must be within 6-18; got {float(of[of > 18][0])!r}"
            raise SchemaError(msg)
    score = 10.0 * (0.33 * of + 0.04 * inputs["age"] + 0.63 * np.log(inputs["wbc"]) - 2.0)
    return inputs.wrap(score, "clif_c_aclf")
