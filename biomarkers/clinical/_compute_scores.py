"""Add every score a labs table supports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import check_columns
from biomarkers.clinical._aarc import aarc
from biomarkers.clinical._child_pugh import child_pugh
from biomarkers.clinical._clif_c_aclf import clif_c_aclf
from biomarkers.clinical._clif_c_ad import clif_c_ad
from biomarkers.clinical._clif_of import clif_of
from biomarkers.clinical._common import subject_table
from biomarkers.clinical._meld import meld
from biomarkers.clinical._meld3 import meld3
from biomarkers.clinical._meld_na import meld_na
from biomarkers.exceptions import SchemaError

__all__ = ["SCORE_COLUMNS", "compute_scores"]

B, INR, CR, NA, ALB = "bilirubin_mg_dl", "inr", "creatinine_mg_dl", "sodium_mmol_l", "albumin_g_dl"
WBC, LAC, HE, MAP, VP = "wbc_10e9_l", "lactate_mmol_l", "he_grade", "map_mmhg", "vasopressor"

#: Score → input columns it needs (``age``/``sex`` may come from ``clinical``).
SCORE_COLUMNS: dict[str, tuple[str, ...]] = {
    "meld": (B, INR, CR),
    "meld_kamath": (B, INR, CR),
    "meld_na": (B, INR, CR, NA),
    "meld3": (B, INR, CR, NA, ALB, "sex"),
    "child_pugh": (B, ALB, INR, "ascites", HE),
    "clif_of": (B, CR, HE, INR, MAP, VP, "pao2_fio2|spo2_fio2"),
    "clif_c_aclf": ("clif_of", "age", WBC),
    "clif_c_ad": ("age", CR, INR, WBC, NA),
    "aarc": (B, HE, INR, LAC, CR),
}


def _has(df: pd.DataFrame, need: str) -> bool:
    return any(alt in df.columns for alt in need.split("|"))


def compute_scores(labs: pd.DataFrame, *, clinical: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add every clinical score the labs table supports, per subject × visit.

    Parameters
    ----------
    labs
        Labs table (one row per subject × visit) with ``subject_id``, ``visit`` and the lab
        columns of the data contract (``bilirubin_mg_dl``, ``inr``, ``creatinine_mg_dl``,
        ``sodium_mmol_l``, ``albumin_g_dl``, ``wbc_10e9_l``, ``lactate_mmol_l``, ``he_grade``,
        ``map_mmhg``, ``vasopressor``, ``pao2_fio2`` / ``spo2_fio2``, ``dialysis``, ``ascites``).
    clinical
        Optional subject table (``subject_id`` column or index) supplying ``age``, ``sex``
        (``M``/``F``) and ``etiology``; columns already present in ``labs`` win.

    Returns
    -------
    A new DataFrame: ``labs`` plus, for each score whose inputs are present, ``meld`` (UNOS),
    ``meld_kamath`` (continuous; E from ``etiology`` when known), ``meld_na`` (UNOS 2016),
    ``meld3`` (uncapped), ``child_pugh`` + ``child_pugh_class``, the :func:`clif_of` columns
    (``clif_of_<organ>``, ``failure_<organ>``, ``n_organ_failures``, ``clif_of``,
    ``aclf_grade_easl``), ``clif_c_aclf``, ``clif_c_ad``, ``aarc`` + ``aarc_grade``.
    ``dialysis`` (if present; missing = no) is used as dialysis for MELD and as RRT for
    CLIF-C OF. ``df.attrs["scores"]`` lists the scores added and ``df.attrs["skipped_scores"]``
    maps each skipped score to its missing columns. Score columns already in ``labs`` are
    replaced by the recomputed values. ``labs`` is never modified.

    Raises
    ------
    SchemaError
        If ``subject_id``/``visit`` are missing, or a lab value is impossible (the message names
        the subject and visit).

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.clinical import compute_scores
    >>> labs = pd.DataFrame({"subject_id": ["S1"], "visit": ["D0"], "bilirubin_mg_dl": [1.5],
    ...                      "inr": [1.5], "creatinine_mg_dl": [1.0], "sodium_mmol_l": [135]})
    >>> compute_scores(labs)[["meld", "meld_na"]].iloc[0].tolist()
    [13.0, 15.0]
    """
    if not isinstance(labs, pd.DataFrame):
        msg = f"labs: expected a pandas DataFrame, got {type(labs).__name__}"
        raise SchemaError(msg)
    check_columns(labs, ["subject_id", "visit"], source="labs", hint="one row per subject × visit")
    out = labs.copy()
    work = labs.copy()
    work["subject_id"] = work["subject_id"].astype(str)
    if clinical is not None:
        clin = subject_table(clinical, source="clinical")
        for col in ("age", "sex", "etiology"):
            if col in clin.columns and col not in work.columns:
                work[col] = work["subject_id"].map(clin[col]).to_numpy()
    # Label every value with (subject_id, visit) so errors point at the row to fix.
    work.index = pd.MultiIndex.from_arrays(
        [work["subject_id"], work["visit"].astype(str)], names=["subject_id", "visit"]
    )
    added: list[str] = []
    skipped: dict[str, list[str]] = {}
    dialysis = work["dialysis"] if "dialysis" in work.columns else False

    def ready(score: str) -> bool:
        missing = [c for c in SCORE_COLUMNS[score] if not _has(work, c)]
        if missing:
            skipped[score] = missing
            return False
        return True

    def put(name: str, values) -> None:
        out[name] = np.asarray(values)
        work[name] = np.asarray(values)
        if name not in added:
            added.append(name)

    if ready("meld"):
        put("meld", meld(work[B], work[INR], work[CR], dialysis=dialysis))
    if ready("meld_kamath"):
        etiology = (
            work["etiology"].where(work["etiology"].notna(), None) if "etiology" in work else None
        )
        put(
            "meld_kamath",
            meld(
                work[B], work[INR], work[CR], dialysis=dialysis, version="kamath", etiology=etiology
            ),
        )
    if ready("meld_na"):
        put("meld_na", meld_na(work[B], work[INR], work[CR], work[NA], dialysis=dialysis))
    if ready("meld3"):
        put(
            "meld3",
            meld3(
                work[B], work[INR], work[CR], work[NA], work[ALB], work["sex"], dialysis=dialysis
            ),
        )
    if ready("child_pugh"):
        cp = child_pugh(work[B], work[ALB], work[INR], work["ascites"], work[HE])
        put("child_pugh", cp["child_pugh"])
        put("child_pugh_class", cp["child_pugh_class"])
    if ready("clif_of"):
        pf = work.get("pao2_fio2")
        sf = work.get("spo2_fio2")
        of = clif_of(
            work[B], work[CR], work[HE], work[INR], work[MAP], work[VP], pf, sf, rrt=dialysis
        )
        for col in of.columns:
            put(col, of[col])
    else:
        skipped.setdefault("clif_c_aclf", ["clif_of"])
    if "clif_c_aclf" not in skipped and ready("clif_c_aclf"):
        put("clif_c_aclf", clif_c_aclf(work["clif_of"], work["age"], work[WBC]))
    if ready("clif_c_ad"):
        put("clif_c_ad", clif_c_ad(work["age"], work[CR], work[INR], work[WBC], work[NA]))
    if ready("aarc"):
        a = aarc(work[B], work[HE], work[INR], work[LAC], work[CR])
        put("aarc", a["aarc"])
        put("aarc_grade", a["aarc_grade"])
    if skipped:
        logger.info(
            "compute_scores skipped %s",
            "; ".join(f"{k} (needs {', '.join(v)})" for k, v in skipped.items()),
        )
    out.attrs["scores"] = added
    out.attrs["skipped_scores"] = skipped
    return out
