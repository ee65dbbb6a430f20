"""MELD 3.0 (Kim et al., Gastroenterology 2021)."""

from __future__ import annotations

import numpy as np

from biomarkers.clinical._common import (
    Inputs,
    check_range,
    coerce_bool,
    coerce_female,
    round_half_up,
    to_conventional,
)

__all__ = ["meld3"]


def meld3(
    bilirubin,
    inr,
    creatinine,
    sodium,
    albumin,
    female,
    *,
    dialysis=False,
    cap: float | None = None,
    units: str = "conventional",
):
    """MELD 3.0 score.

    ``1.33·female + 4.56·ln Bili + 0.82·(137 − Na) − 0.24·(137 − Na)·ln Bili + 9.09·ln INR
    + 11.14·ln Cr + 1.85·(3.5 − Alb) − 1.83·(3.5 − Alb)·ln Cr + 6``, rounded half-up to an integer.
    Bilirubin, INR and creatinine are floored at 1.0; creatinine is capped at 3.0 (and set to 3.0
    with dialysis); sodium is bounded to 125–137 mmol/L; albumin to 1.5–3.5 g/dL.

    Parameters
    ----------
    bilirubin
        Total bilirubin, mg/dL (µmol/L with ``units="si"``).
    inr
        International normalised ratio.
    creatinine
        Serum creatinine, mg/dL (µmol/L with ``units="si"``).
    sodium
        Serum sodium, mmol/L.
    albumin
        Serum albumin, g/dL (g/L with ``units="si"``; divided by 10).
    female
        1/True/``"F"`` for female, 0/False/``"M"`` for male. (OPTN also applies the female term to
        candidates aged 12–17 of both sexes; pass 1 for them if that matters.)
    dialysis
        Dialysis ≥ 2 times or 24 h CVVHD in the prior week; sets creatinine to 3.0 mg/dL.
    cap
        Upper cap of the final score. ``None`` (default) leaves it uncapped as derived by Kim et
        al.; OPTN allocation caps at 40 (``cap=40``).
    units
        ``"conventional"`` or ``"si"``.

    Returns
    -------
    MELD 3.0 with the shape of the inputs; NaN where any input is NaN.

    Raises
    ------
    SchemaError
        If a lab value is ≤ 0 or infinite, or ``female`` is not a 0/1 or F/M value.

    Notes
    -----
    Source: Kim WR et al., Gastroenterology 2021;161:1887-95 (PMC8608337).

    Examples
    --------
    >>> from biomarkers.clinical import meld3
    >>> meld3(2.0, 1.5, 1.2, 138, 3.5, female=False)
    15.0
    """
    inputs = Inputs(
        {
            "bilirubin": bilirubin,
            "inr": inr,
            "creatinine": creatinine,
            "sodium": sodium,
            "albumin": albumin,
            "female": female,
            "dialysis": dialysis,
        },
        converters={"female": coerce_female, "dialysis": coerce_bool},
    )
    to_conventional(
        inputs, units, {"bilirubin": "bilirubin", "creatinine": "creatinine", "albumin": "albumin"}
    )
    si = units == "si"
    for name, unit in (
        ("bilirubin", "µmol/L" if si else "mg/dL"),
        ("inr", "(INR)"),
        ("creatinine", "µmol/L" if si else "mg/dL"),
        ("sodium", "mmol/L"),
        ("albumin", "g/L" if si else "g/dL"),
    ):
        check_range(inputs, name, unit=unit)
    bili = np.maximum(inputs["bilirubin"], 1.0)
    inr = np.maximum(inputs["inr"], 1.0)
    cr = np.minimum(np.maximum(inputs["creatinine"], 1.0), 3.0)
    dialysis = np.nan_to_num(inputs["dialysis"], nan=0.0) == 1.0
    cr = np.where(dialysis & ~np.isnan(cr), 3.0, cr)
    na = np.clip(inputs["sodium"], 125.0, 137.0)
    alb = np.clip(inputs["albumin"], 1.5, 3.5)
    raw = (
        1.33 * inputs["female"]
        + 4.56 * np.log(bili)
        + 0.82 * (137.0 - na)
        - 0.24 * (137.0 - na) * np.log(bili)
        + 9.09 * np.log(inr)
        + 11.14 * np.log(cr)
        + 1.85 * (3.5 - alb)
        - 1.83 * (3.5 - alb) * np.log(cr)
        + 6.0
    )
    score = round_half_up(raw)
    if cap is not None:
        score = np.minimum(score, float(cap))
    return inputs.wrap(score, "meld3")
