"""MELD-Na: OPTN/UNOS 2016 and Kim et al. 2008."""

from __future__ import annotations

import numpy as np

from biomarkers._validation import check_choice
from biomarkers.clinical._common import check_range, round_half_up
from biomarkers.clinical._meld import _bounded_labs, _prepare, meld_i_unos

__all__ = ["meld_na"]

_VERSIONS = ("unos2016", "kim2008")


def meld_na(
    bilirubin,
    inr,
    creatinine,
    sodium,
    *,
    dialysis=False,
    version: str = "unos2016",
    units: str = "conventional",
):
    """MELD-Na score (MELD corrected for serum sodium).

    Parameters
    ----------
    bilirubin
        Total bilirubin, mg/dL (µmol/L with ``units="si"``).
    inr
        International normalised ratio.
    creatinine
        Serum creatinine, mg/dL (µmol/L with ``units="si"``).
    sodium
        Serum sodium, mmol/L (= mEq/L; same in both unit systems).
    dialysis
        Dialysis ≥ 2 times / 24 h CVVHD in the prior week; sets creatinine to 4.0 mg/dL.
    version
        ``"unos2016"`` (default, OPTN policy 9.1 from 11 Jan 2016): MELD(i) is the UNOS MELD
        (tenth-rounded ×10, uncapped); if MELD(i) > 11,
        ``MELD(i) + 1.32·(137 − Na) − 0.033·MELD(i)·(137 − Na)``, else MELD(i); sodium bounded
        to 125–137; rounded half-up to an integer and capped at 40. The "> 11" test uses the
        *rounded* MELD(i) as the policy text implies (MELD(i) raw 11.09 → 11 → not corrected).
        ``"kim2008"`` (Kim WR et al., NEJM 2008;359:1018, as in the ``transplantr`` R package):
        ``MELD − Na − 0.025·MELD·(140 − Na) + 140`` with the continuous Kamath MELD (E = 1) and
        sodium bounded to 125–140; continuous, not rounded or capped.
    units
        ``"conventional"`` or ``"si"``.

    Returns
    -------
    MELD-Na with the shape of the inputs; NaN where any input is NaN.

    Raises
    ------
    SchemaError
        If bilirubin, INR, creatinine or sodium is ≤ 0 or infinite.

    Examples
    --------
    >>> from biomarkers.clinical import meld_na
    >>> meld_na(4.2, 1.2, 1.9, 125)
    28.0
    >>> round(meld_na(2, 1.8, 2, 131, version="kim2008"), 3)
    26.257
    """
    check_choice("version", version, _VERSIONS, source="meld_na")
    inputs = _prepare(bilirubin, inr, creatinine, dialysis, units, extra={"sodium": sodium})
    check_range(inputs, "sodium", unit="mmol/L")
    if version == "unos2016":
        mi = meld_i_unos(inputs)
        na = np.clip(inputs["sodium"], 125.0, 137.0)
        corrected = mi + 1.32 * (137.0 - na) - 0.033 * mi * (137.0 - na)
        score = np.where(mi > 11.0, corrected, mi)
        score = np.where(np.isnan(na), np.nan, score)
        return inputs.wrap(np.minimum(round_half_up(score), 40.0), "meld_na")
    bili, inr_, cr = _bounded_labs(inputs, cr_cap=4.0)
    m = 9.57 * np.log(cr) + 3.78 * np.log(bili) + 11.2 * np.log(inr_) + 6.43
    na = np.clip(inputs["sodium"], 125.0, 140.0)
    return inputs.wrap(m - na - 0.025 * m * (140.0 - na) + 140.0, "meld_na")
