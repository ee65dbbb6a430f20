"""MELD: Kamath 2001 (continuous) and the OPTN/UNOS allocation version."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from biomarkers._validation import check_choice
from biomarkers.clinical._common import (
    Inputs,
    check_range,
    coerce_bool,
    round_half_up,
    to_conventional,
)
from biomarkers.exceptions import SchemaError

__all__ = ["meld"]

_VERSIONS = ("unos", "kamath")
# Aetiologies with E = 0 in Kamath's formula (alcoholic or cholestatic liver disease).
_E0 = ("alcohol", "ethyl", "etoh", "ald", "cholesta", "pbc", "psc", "biliary")


def _prepare(bilirubin, inr, creatinine, dialysis, units, extra=None) -> Inputs:
    values = {"bilirubin": bilirubin, "inr": inr, "creatinine": creatinine}
    values.update(extra or {})
    values["dialysis"] = dialysis
    inputs = Inputs(values, converters={"dialysis": coerce_bool})
    to_conventional(inputs, units, {"bilirubin": "bilirubin", "creatinine": "creatinine"})
    unit_b = "µmol/L" if units == "si" else "mg/dL"
    check_range(inputs, "bilirubin", unit=unit_b)
    check_range(inputs, "inr", unit="")
    check_range(inputs, "creatinine", unit=unit_b)
    return inputs


def _bounded_labs(inputs: Inputs, *, cr_cap: float) -> tuple[np.ndarray, ...]:
    """Floor bilirubin, INR, creatinine at 1.0; cap creatinine; dialysis sets creatinine to the cap."""
    bili = np.maximum(inputs["bilirubin"], 1.0)
    inr = np.maximum(inputs["inr"], 1.0)
    cr = np.minimum(np.maximum(inputs["creatinine"], 1.0), cr_cap)
    dialysis = np.nan_to_num(inputs["dialysis"], nan=0.0) == 1.0
    cr = np.where(dialysis & ~np.isnan(cr), cr_cap, cr)
    return bili, inr, cr


def meld_i_unos(inputs: Inputs) -> np.ndarray:
    """OPTN MELD(i) ×10 after rounding to the tenth (uncapped), e.g. 1.25 → 13."""
    bili, inr, cr = _bounded_labs(inputs, cr_cap=4.0)
    raw = 0.957 * np.log(cr) + 0.378 * np.log(bili) + 1.120 * np.log(inr) + 0.643
    return round_half_up(raw, 1) * 10.0


def _etiology_term(etiology: Any, shape: tuple[int, ...]) -> np.ndarray:
    if etiology is None:
        return np.ones(shape)
    raw = etiology.to_numpy(dtype=object) if hasattr(etiology, "to_numpy") else etiology
    arr = np.asarray(raw, dtype=object)
    codes, uniques = pd.factorize(pd.Series(arr.reshape(-1), dtype=object), use_na_sentinel=True)
    values = []
    for v in uniques:  # distinct aetiologies only
        if not isinstance(v, str):
            msg = f"etiology: expected text such as 'alcohol' or 'cryptogenic', got {v!r}"
            raise SchemaError(msg)
        values.append(0.0 if any(k in v.strip().lower() for k in _E0) else 1.0)
    e = np.array([*values, np.nan])[codes]
    return np.broadcast_to(e.reshape(arr.shape), shape)


def meld(
    bilirubin,
    inr,
    creatinine,
    *,
    dialysis=False,
    version: str = "unos",
    etiology=None,
    units: str = "conventional",
):
    """Model for End-stage Liver Disease (MELD) score.

    Parameters
    ----------
    bilirubin
        Total bilirubin, mg/dL (µmol/L with ``units="si"``; divided by 17.1).
    inr
        International normalised ratio (unitless).
    creatinine
        Serum creatinine, mg/dL (µmol/L with ``units="si"``; divided by 88.4).
    dialysis
        Dialysis ≥ 2 times or 24 h of CVVHD in the prior week (flag or array of flags); sets
        creatinine to 4.0 mg/dL. Missing flags count as no dialysis.
    version
        ``"unos"`` (default): OPTN/UNOS allocation MELD,
        ``10 × round_half_up(0.957·ln Cr + 0.378·ln Bili + 1.120·ln INR + 0.643, 1)``,
        labs floored at 1.0, creatinine capped at 4.0, result capped at 40 (integer-valued).
        ``"kamath"``: the original continuous score of Kamath et al. (Hepatology 2001;33:464),
        ``9.57·ln Cr + 3.78·ln Bili + 11.2·ln INR + 6.43·E``, with the same floors and creatinine
        cap (as in the ``ameld`` R package), not rounded and not capped.
    etiology
        Only for ``version="kamath"``: aetiology text (scalar or array); ``E = 0`` when it names an
        alcoholic or cholestatic disease (``alcohol``, ``ethyltoxic``, ``cholestatic``, ``PBC``,
        ``PSC``, ``biliary``), else 1. ``None`` uses ``E = 1`` for everyone.
    units
        ``"conventional"`` (mg/dL) or ``"si"`` (µmol/L).

    Returns
    -------
    MELD with the shape of the inputs (float scalar, array, or Series with the input index).
    NaN where any input is NaN.

    Raises
    ------
    SchemaError
        If a bilirubin, INR or creatinine value is ≤ 0 or infinite (the message shows it).

    Notes
    -----
    Sources: Kamath PS et al., Hepatology 2001;33:464-70; OPTN policy 9.1 (as quoted in
    MIT-LCP/mimic-code ``meld.sql``). Rounding is half-up (``decimal.ROUND_HALF_UP``), never
    Python's half-to-even ``round``.

    Examples
    --------
    >>> from biomarkers.clinical import meld
    >>> meld(1.5, 1.5, 1.0)
    13.0
    >>> round(meld(4.2, 1.2, 1.9, version="kamath"), 4)
    20.0392
    """
    check_choice("version", version, _VERSIONS, source="meld")
    if etiology is not None and version != "kamath":
        msg = "etiology is only used by version='kamath' (UNOS MELD applies 0.643 to everyone)"
        raise SchemaError(msg)
    inputs = _prepare(bilirubin, inr, creatinine, dialysis, units)
    if version == "unos":
        return inputs.wrap(np.minimum(meld_i_unos(inputs), 40.0), "meld")
    bili, inr_, cr = _bounded_labs(inputs, cr_cap=4.0)
    e = _etiology_term(etiology, inputs.shape)
    score = 9.57 * np.log(cr) + 3.78 * np.log(bili) + 11.2 * np.log(inr_) + 6.43 * e
    return inputs.wrap(score, "meld_kamath")
