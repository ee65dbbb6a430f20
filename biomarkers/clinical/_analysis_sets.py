"""Analysis populations (ITT, per-protocol, safety) from randomisation and dosing records."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from biomarkers._validation import check_columns, did_you_mean, format_ids
from biomarkers.clinical._common import coerce_bool, subject_table
from biomarkers.exceptions import DataQualityWarning, SchemaError

__all__ = ["analysis_sets"]


def analysis_sets(
    clinical: pd.DataFrame,
    dosing: pd.DataFrame,
    *,
    treated_arm: str = "ucMSC+SMT",
    n_infusions: int = 4,
    followup_days: int = 90,
) -> pd.DataFrame:
    """Intention-to-treat, per-protocol and safety sets, one row per subject.

    Choices (documented in ``docs/clinical.md``):

    - ``itt``: randomised, i.e. a non-missing ``arm`` (and a non-missing ``randomisation_day``
      when that column exists). Analysed in the arm they were randomised to.
    - ``per_protocol``: control arm: randomised subjects who completed follow-up
      (``last_followup_day >= followup_days``) or died or were transplanted before (an outcome
      was observed); treated arm: randomised subjects who received all ``n_infusions``
      infusions (distinct ``dose_number`` with ``given == 1``). A treated subject who died
      before the last infusion is *not* per-protocol.
    - ``safety``: treated arm: received at least one infusion; control arm: every randomised
      subject.

    Parameters
    ----------
    clinical
        Subject table (``subject_id`` column or index) with ``arm``, ``death``,
        ``last_followup_day`` and optionally ``transplant``, ``randomisation_day``.
    dosing
        One row per planned infusion: ``subject_id``, ``dose_number``, ``given`` (0/1)
        (``planned_day``, ``day``, ``cells_per_kg`` are not needed here).
    treated_arm
        Label of the cell-therapy arm; every other arm is a control arm.
    n_infusions
        Number of infusions in the protocol (4 weekly infusions in NCT07131306).
    followup_days
        End of follow-up, days after randomisation (90).

    Returns
    -------
    DataFrame indexed by ``subject_id`` with ``arm``, ``n_infusions_given`` (int) and the
    boolean columns ``itt``, ``per_protocol``, ``safety``.

    Raises
    ------
    SchemaError
        For missing columns, dosing rows of unknown subjects, or a ``treated_arm`` that is not
        an arm of the clinical table.

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.clinical import analysis_sets
    >>> clin = pd.DataFrame({"subject_id": ["t1", "c1"], "arm": ["ucMSC+SMT", "SMT"],
    ...                      "death": [0, 0], "last_followup_day": [90, 90]})
    >>> dosing = pd.DataFrame({"subject_id": ["t1"] * 4, "dose_number": [1, 2, 3, 4],
    ...                        "given": [1, 1, 1, 0]})
    >>> analysis_sets(clin, dosing)[["itt", "per_protocol", "safety"]].to_numpy().tolist()
    [[True, False, True], [True, True, True]]
    """
    clin = subject_table(clinical, source="clinical")
    check_columns(clin, ["arm", "death", "last_followup_day"], source="clinical")
    if not isinstance(dosing, pd.DataFrame):
        msg = f"dosing: expected a pandas DataFrame, got {type(dosing).__name__}"
        raise SchemaError(msg)
    check_columns(dosing, ["subject_id", "dose_number", "given"], source="dosing")
    arms = clin["arm"].dropna().astype(str).unique().tolist()
    if treated_arm not in arms:
        msg = (
            f"treated_arm {treated_arm!r} is not an arm of the clinical table"
            f"{did_you_mean(treated_arm, arms)}; arms: {', '.join(arms)}"
        )
        raise SchemaError(msg)
    dose_ids = dosing["subject_id"].astype(str)
    unknown = sorted(set(dose_ids) - set(clin.index))
    if unknown:
        msg = f"dosing: subject_id not in the clinical table: {format_ids(unknown)}; fix the IDs"
        raise SchemaError(msg)

    arm = clin["arm"].astype("string")
    itt = arm.notna().to_numpy(dtype=bool)
    if "randomisation_day" in clin.columns:
        itt &= pd.to_numeric(clin["randomisation_day"], errors="coerce").notna().to_numpy()
    treated = (arm == treated_arm).fillna(False).to_numpy(dtype=bool)

    given = coerce_bool(dosing["given"], "dosing column 'given'") == 1
    doses = pd.Series(dosing["dose_number"].to_numpy()[given], index=dose_ids.to_numpy()[given])
    n_given = doses.groupby(level=0).nunique().reindex(clin.index, fill_value=0).astype(int)
    control_dosed = n_given.index[(n_given > 0).to_numpy() & ~treated]
    if len(control_dosed):
        warnings.warn(
            f"dosing: infusions recorded as given to subjects not in {treated_arm!r}: "
            f"{format_ids(control_dosed)}; they stay in their randomised arm",
            DataQualityWarning,
            stacklevel=2,
        )

    death = np.nan_to_num(coerce_bool(clin["death"], "clinical column 'death'"), nan=0.0) == 1
    if "transplant" in clin.columns:
        death |= np.nan_to_num(coerce_bool(clin["transplant"], "clinical column 'transplant'")) == 1
    fu = pd.to_numeric(clin["last_followup_day"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        completed = (fu >= followup_days) | death
    per_protocol = itt & np.where(treated, n_given.to_numpy() >= n_infusions, completed)
    safety = itt & np.where(treated, n_given.to_numpy() >= 1, True)
    return pd.DataFrame(
        {
            "arm": clin["arm"],
            "n_infusions_given": n_given.to_numpy(),
            "itt": itt,
            "per_protocol": per_protocol,
            "safety": safety,
        },
        index=clin.index,
    )
