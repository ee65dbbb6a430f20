from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from biomarkers._validation import check_columns, format_ids
from biomarkers.exceptions import BelowDetectionLimitWarning

__all__ = ["cytokine_qc"]


def cytokine_qc(
    tidy: pd.DataFrame,
    *,
    max_censored: float = 0.3,
    max_plate_shift: float = 1.0,
) -> pd.DataFrame:
    """Per-analyte QC of a tidy cytokine table: censored fractions and plate medians.

    Parameters
    ----------
    tidy
        Tidy assay table as returned by ``biomarkers.io.read_cytokines`` (``sample_id, analyte,
        value, censor``; ``plate`` optional).
    max_censored
        Analytes with a larger fraction of censored values (``below`` or ``above``) among the
        non-missing ones are flagged ``flag_censored`` (kept, never dropped silently) and listed
        in a :class:`BelowDetectionLimitWarning`.
    max_plate_shift
        Flag ``flag_plate`` when plate medians of ``log2(value)`` differ by more than this
        (1 = two-fold); consider :func:`biomarkers.features.bridge_normalize`.

    Returns
    -------
    pandas.DataFrame
        Indexed by analyte: ``n, n_below, n_above, n_missing, censored_fraction, flag_censored``
        and, with a ``plate`` column, ``plate_median:<plate>`` (median of uncensored values),
        ``plate_log2_range`` and ``flag_plate``.
    """
    check_columns(
        tidy,
        ["sample_id", "analyte", "value", "censor"],
        source="cytokine table",
        hint="pass the tidy table from biomarkers.io.read_cytokines",
    )
    tidy = pd.DataFrame(tidy, copy=False)
    tidy.attrs = {}  # reader attrs hold the controls table; pandas would compare it on every op
    censor = tidy["censor"].astype(str)
    df = pd.DataFrame(
        {
            "analyte": tidy["analyte"].astype(str).to_numpy(),
            "below": (censor == "below").to_numpy(),
            "above": (censor == "above").to_numpy(),
            "missing": (censor == "missing").to_numpy()
            | tidy["value"].isna().to_numpy() & ~censor.isin(["below", "above"]).to_numpy(),
        }
    )
    g = df.groupby("analyte", sort=True)
    out = pd.DataFrame(
        {
            "n": g.size(),
            "n_below": g["below"].sum(),
            "n_above": g["above"].sum(),
            "n_missing": g["missing"].sum(),
        }
    )
    observed = out["n"] - out["n_missing"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["censored_fraction"] = (out["n_below"] + out["n_above"]) / observed.where(observed > 0)
    out["flag_censored"] = out["censored_fraction"] > max_censored
    if "plate" in tidy.columns:
        ok = (censor == "ok").to_numpy() & (tidy["value"] > 0).to_numpy()
        sub = tidy.loc[ok, ["analyte", "plate", "value"]].astype({"analyte": str, "plate": str})
        med = sub.groupby(["analyte", "plate"])["value"].median().unstack("plate")
        med = med.reindex(out.index)
        for plate in med.columns:
            out[f"plate_median:{plate}"] = med[plate]
        logmed = np.log2(med)
        out["plate_log2_range"] = logmed.max(axis=1) - logmed.min(axis=1)
        out["flag_plate"] = out["plate_log2_range"] > max_plate_shift
    flagged = list(out.index[out["flag_censored"]])
    if flagged:
        warnings.warn(
            f"{len(flagged)} analytes have more than {max_censored:.0%} censored values "
            f"(flag_censored, kept): {format_ids(flagged)}",
            BelowDetectionLimitWarning,
            stacklevel=2,
        )
    return out
