from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from biomarkers._validation import check_columns, did_you_mean, format_ids
from biomarkers.exceptions import SchemaError

__all__ = ["PlateMedianNormalizer", "bridge_normalize"]


def _log_values(tidy: pd.DataFrame, *, log: bool) -> np.ndarray:
    v = pd.to_numeric(tidy["value"], errors="coerce").to_numpy(dtype=float)
    if not log:
        return v
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v > 0, np.log2(v), np.nan)


def _ok(tidy: pd.DataFrame) -> np.ndarray:
    if "censor" in tidy.columns:
        return (tidy["censor"].astype(str) == "ok").to_numpy()
    return np.ones(len(tidy), dtype=bool)


def _apply_offsets(
    tidy: pd.DataFrame, offsets: pd.DataFrame, *, log: bool, what: str
) -> pd.DataFrame:
    """Subtract per (plate, analyte) offsets from value (and lod/lloq/uloq) on the log scale."""
    out = tidy.copy()
    key = pd.MultiIndex.from_arrays([out["plate"].astype(str), out["analyte"].astype(str)])
    long = offsets.stack(future_stack=True)  # plate × analyte → long
    off = long.reindex(key).to_numpy(dtype=float)
    off = np.nan_to_num(off, nan=0.0)
    factor = 2.0**-off if log else None
    for col in ("value", "lod", "lloq", "uloq"):
        if col not in out.columns:
            continue
        v = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)
        out[col] = v * factor if log else v - off
    out.attrs = {**tidy.attrs, what: offsets}
    return out


def bridge_normalize(
    tidy: pd.DataFrame,
    *,
    bridge_samples: Sequence[str],
    reference_plate: str,
    log: bool = True,
) -> pd.DataFrame:
    """Align plates to a reference plate with bridge samples run on every plate.

    For each plate *p* and analyte *a*, the offset is the median over bridge samples of the
    paired difference ``log2 x(bridge, p, a) - log2 x(bridge, reference, a)`` (uncensored values
    only); values (and ``lod``/``lloq``/``uloq``) on plate *p* are divided by ``2**offset``. Bridge
    samples are technical controls, not subjects, so this is not learned from the study's
    subjects and can be applied before cross-validation.

    Parameters
    ----------
    tidy
        Tidy assay table (``sample_id, analyte, value, plate``; ``censor`` optional).
    bridge_samples
        Sample IDs of the bridge (reference) samples present on several plates.
    reference_plate
        Plate every other plate is aligned to.
    log
        Compute offsets on ``log2`` values (concentrations; default) or on the values as given
        (e.g. Olink NPX, already log2).

    Returns
    -------
    pandas.DataFrame
        A copy of ``tidy`` with corrected values; ``attrs["bridge_offsets"]`` holds the plates ×
        analytes offsets (0 for the reference plate; NaN → no correction when no bridge pair).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"sample_id": ["B1", "B1", "S1"], "analyte": "IL6",
    ...                   "value": [10.0, 20.0, 40.0], "plate": ["P1", "P2", "P2"]})
    >>> bridge_normalize(t, bridge_samples=["B1"], reference_plate="P1")["value"].round(6).tolist()
    [10.0, 10.0, 20.0]
    """
    check_columns(
        tidy,
        ["sample_id", "analyte", "value", "plate"],
        source="assay table",
        hint="bridge normalisation needs the plate of every well",
    )
    plates = tidy["plate"].astype(str)
    if reference_plate not in set(plates):
        msg = (
            f"reference_plate {reference_plate!r} not in the table{did_you_mean(reference_plate, set(plates))}; "
            f"plates: {format_ids(sorted(set(plates)))}"
        )
        raise SchemaError(msg)
    bridge = [str(b) for b in bridge_samples]
    sid = tidy["sample_id"].astype(str)
    missing = [b for b in bridge if b not in set(sid)]
    if missing:
        msg = f"bridge samples {format_ids(missing)} not in the table; check bridge_samples"
        raise SchemaError(msg)
    lv = _log_values(tidy, log=log)
    sel = sid.isin(bridge).to_numpy() & _ok(tidy) & np.isfinite(lv)
    b = pd.DataFrame(
        {
            "sample_id": sid[sel],
            "analyte": tidy["analyte"].astype(str)[sel],
            "plate": plates[sel],
            "v": lv[sel],
        }
    )
    b = b.groupby(["sample_id", "analyte", "plate"])["v"].mean().unstack("plate")
    if reference_plate not in b.columns:
        msg = f"no uncensored bridge measurement on reference plate {reference_plate!r}"
        raise SchemaError(msg)
    diffs = b.sub(b[reference_plate], axis=0)
    offsets = diffs.groupby(level="analyte").median().T  # plates × analytes
    offsets.loc[reference_plate] = 0.0
    return _apply_offsets(tidy, offsets, log=log, what="bridge_offsets")


class PlateMedianNormalizer:
    """Remove plate effects by aligning per-plate analyte medians to a reference median.

    :meth:`fit` learns, from the rows it is given (e.g. the training subjects' samples), the
    median ``log2`` value of each analyte on each plate and the reference (the median over all
    fitted rows, or the median on ``reference_plate``); :meth:`transform` divides values on plate
    *p* by ``2**(median_p - reference)``. It works on tidy tables (not arrays) because it needs the
    plate of each well; fit it on training samples inside cross-validation when the plates mix
    subjects of both folds.

    Parameters
    ----------
    reference_plate
        Plate to align to; ``None`` aligns every plate to the overall median.
    log
        Work on ``log2`` values (concentrations) or on values as given (NPX).

    Attributes
    ----------
    offsets_
        plates × analytes DataFrame of the learned shifts.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"sample_id": ["a", "b", "c", "d"], "analyte": "IL6",
    ...                   "value": [1.0, 2.0, 4.0, 8.0], "plate": ["P1", "P1", "P2", "P2"]})
    >>> PlateMedianNormalizer(reference_plate="P1").fit(t).transform(t)["value"].tolist()
    [1.0, 2.0, 1.0, 2.0]
    """

    def __init__(self, *, reference_plate: str | None = None, log: bool = True) -> None:
        self.reference_plate = reference_plate
        self.log = log

    def fit(self, tidy: pd.DataFrame, y=None) -> PlateMedianNormalizer:
        """Learn per-plate medians and the reference from ``tidy``.

        Parameters
        ----------
        tidy
            Tidy assay table (``sample_id, analyte, value, plate``; ``censor`` optional).
        y
            Ignored.

        Returns
        -------
        self
        """
        check_columns(
            tidy,
            ["analyte", "value", "plate"],
            source="assay table",
            hint="plate normalisation needs the plate of every well",
        )
        lv = _log_values(tidy, log=self.log)
        sel = _ok(tidy) & np.isfinite(lv)
        d = pd.DataFrame(
            {
                "analyte": tidy["analyte"].astype(str)[sel],
                "plate": tidy["plate"].astype(str)[sel],
                "v": lv[sel],
            }
        )
        med = d.groupby(["plate", "analyte"])["v"].median().unstack("analyte")
        if self.reference_plate is None:
            ref = d.groupby("analyte")["v"].median()
        else:
            if self.reference_plate not in med.index:
                msg = (
                    f"reference_plate {self.reference_plate!r} not in the fitted rows"
                    f"{did_you_mean(self.reference_plate, med.index)}; plates: {format_ids(list(med.index))}"
                )
                raise SchemaError(msg)
            ref = med.loc[self.reference_plate]
        self.offsets_ = med.sub(ref, axis=1)
        return self

    def transform(self, tidy: pd.DataFrame) -> pd.DataFrame:
        """Apply the learned plate shifts (plates unseen in :meth:`fit` are left as they are).

        Parameters
        ----------
        tidy
            Tidy assay table with a ``plate`` column.

        Returns
        -------
        pandas.DataFrame
            A corrected copy; ``attrs["plate_offsets"]`` holds the offsets.
        """
        if not hasattr(self, "offsets_"):
            msg = "PlateMedianNormalizer is not fitted yet; call fit(tidy) first"
            raise RuntimeError(msg)
        check_columns(tidy, ["analyte", "value", "plate"], source="assay table")
        return _apply_offsets(tidy, self.offsets_, log=self.log, what="plate_offsets")

    def fit_transform(self, tidy: pd.DataFrame, y=None) -> pd.DataFrame:
        """Fit to ``tidy`` and return it corrected.

        Parameters
        ----------
        tidy
            Tidy assay table.
        y
            Ignored.

        Returns
        -------
        pandas.DataFrame
        """
        return self.fit(tidy).transform(tidy)
