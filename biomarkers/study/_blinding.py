"""Blinded dry runs: the arm labels replaced by a seeded dummy randomisation.

A team tests the whole analysis on the real data before unblinding: every step runs as it
will, but on arms that carry no information about the real allocation (same arm sizes, the
same randomisation strata), so no result of a blinded run can be read as a treatment effect.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers.exceptions import ConfigError, SchemaError

if TYPE_CHECKING:
    from biomarkers.study._study import Study

__all__ = ["blind_study", "dummy_randomisation"]

#: Draws tried before concluding that the strata leave only the real allocation possible.
_MAX_DRAWS = 1000


def _strata_codes(strata: pd.Series | pd.DataFrame | None, index: pd.Index) -> np.ndarray:
    """One integer code per subject: its stratum (missing values are a stratum of their own)."""
    if strata is None:
        return np.zeros(len(index), dtype=int)
    frame = strata.to_frame() if isinstance(strata, pd.Series) else strata
    if not frame.index.equals(index):
        msg = (
            "strata: the index does not match the arm's (one row per subject, in the same "
            "order); pass clinical[strata columns] of the same table"
        )
        raise SchemaError(msg)
    keys = frame.astype(str).where(frame.notna(), "<missing>")
    return keys.groupby(list(keys.columns), sort=True).ngroup().to_numpy()


def dummy_randomisation(
    arm: pd.Series,
    strata: pd.Series | pd.DataFrame | None = None,
    *,
    seed: int = 0,
) -> pd.Series:
    """Arm labels permuted at random within strata: a dummy randomisation for blinded runs.

    Every stratum keeps its number of subjects per arm (so the whole trial keeps its arm sizes
    and allocation ratio); which subject gets which label is random. A draw that reproduces the
    real allocation exactly is drawn again, so the dummy is never the trial's allocation.

    Parameters
    ----------
    arm
        The real arm label of each subject (index: subject IDs).
    strata
        The randomisation strata of each subject (one column per stratification factor, same
        index as ``arm``), or ``None`` (one stratum). Categorical values: each distinct
        combination of values is one stratum; a missing value is a stratum value of its own.
    seed
        Seed of the permutation (an integer >= 0); the same seed gives the same dummy arms.

    Returns
    -------
    pandas.Series
        The dummy arm labels, with the index and name of ``arm``.

    Raises
    ------
    SchemaError
        When every stratum holds a single arm (no permutation can differ from the real
        allocation) or the strata do not align with ``arm``.

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.study import dummy_randomisation
    >>> arm = pd.Series(["MSC", "SMT"] * 4, index=[f"S{i}" for i in range(8)], name="arm")
    >>> sex = pd.Series(["F"] * 4 + ["M"] * 4, index=arm.index)
    >>> dummy = dummy_randomisation(arm, strata=sex, seed=1)
    >>> dummy.groupby(sex).value_counts().to_dict() == arm.groupby(sex).value_counts().to_dict()
    True
    >>> dummy.equals(dummy_randomisation(arm, strata=sex, seed=1))
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"seed={seed!r}: a blind seed must be an integer >= 0, e.g. seed=0"
        raise ConfigError(msg)
    labels = arm.to_numpy(dtype=object, copy=True)
    codes = _strata_codes(strata, arm.index)
    groups = [np.flatnonzero(codes == c) for c in np.unique(codes)]
    if not any(len(set(map(str, labels[g]))) > 1 for g in groups):
        msg = (
            "dummy randomisation: every stratum holds subjects of one arm only, so no dummy "
            "allocation differs from the real one; use fewer strata (study.strata)"
        )
        raise SchemaError(msg)
    rng = np.random.default_rng(int(seed))
    for _ in range(_MAX_DRAWS):
        dummy = labels.copy()
        for g in groups:
            dummy[g] = labels[rng.permutation(g)]
        if not np.array_equal(dummy.astype(str), labels.astype(str)):
            break
    return pd.Series(dummy, index=arm.index, name=arm.name)


def blind_study(study: Study, *, seed: int = 0, strata: Sequence[str] | None = None) -> Study:
    """The same study with its arms replaced by :func:`dummy_randomisation`.

    Every view of the arm changes together: the clinical table's ``arm``, the treatment
    indicator, the study design and the ``arm`` of every assay's ``obs``, so each downstream
    step (features, models, predictive, mechanism) sees the dummy arms only.

    Parameters
    ----------
    study
        A study with arms (a cohort has nothing to blind).
    seed
        Seed of the dummy randomisation (not the trial's).
    strata
        Clinical columns used as randomisation strata (``study.strata`` in a job config).

    Returns
    -------
    Study
        A shallow copy; the input study is not changed.

    Examples
    --------
    >>> from biomarkers.study import blind_study
    >>> blinded = blind_study(study, seed=3, strata=["sex"])  # doctest: +SKIP
    """
    if study.study_design == "cohort":
        msg = (
            "blinded run: the study is a cohort (no arm column, or one arm), so there is no "
            "allocation to blind; run it without --blinded"
        )
        raise ConfigError(msg)
    clinical = study.clinical
    columns = list(strata or [])
    missing = [c for c in columns if c not in clinical.columns]
    if missing:
        msg = (
            f"study.strata: column {missing[0]!r} is not in the clinical table (columns: "
            f"{', '.join(map(str, clinical.columns))}); name the randomisation strata columns"
        )
        raise SchemaError(msg)
    dummy = dummy_randomisation(
        clinical["arm"], strata=clinical[columns] if columns else None, seed=seed
    )
    from biomarkers.study._design import Design

    other = copy.copy(study)
    other.clinical = clinical.assign(arm=dummy.astype(str))
    other.assays = {name: _relabelled(adata, dummy) for name, adata in study.assays.items()}
    design = Design(
        study.study_design, study.arms, study.treated_arms, study.control_arms, study.allocation
    )
    other._set_design(design, given=True)
    return other


def _relabelled(adata, dummy: pd.Series):
    """A copy of an assay whose ``obs['arm']`` follows the dummy arms (others as they are)."""
    if "arm" not in adata.obs.columns or "subject_id" not in adata.obs.columns:
        return adata
    out = adata.copy()
    out.obs["arm"] = out.obs["subject_id"].astype(str).map(dummy.astype(str)).to_numpy()
    return out
