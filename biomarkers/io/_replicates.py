"""Average replicate wells of a tidy assay table (an explicit step after reading)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from biomarkers._validation import check_columns
from biomarkers.io._constants import CENSOR_CODES
from biomarkers.io._tidy import censor_categorical

__all__ = ["average_replicates"]

_OK, _BELOW, _ABOVE, _EXTRA, _MISSING = (CENSOR_CODES[k] for k in CENSOR_CODES)


def average_replicates(tidy: pd.DataFrame) -> pd.DataFrame:
    """Average the replicate wells of each sample × analyte.

    Rules, per sample × analyte: ``missing`` wells are ignored; if some wells are measured
    (``ok`` or ``extrapolated``) the value is the mean of the measured wells and the flag is
    ``extrapolated`` when any of them is, else ``ok``; if all informative wells are censored on the
    same side, the flag is that side and the value the mean of the limits written (NaN if none);
    wells censored on both sides without a measured well give ``missing``.

    Parameters
    ----------
    tidy
        Table from :func:`read_cytokines` or :func:`read_flow`.

    Returns
    -------
    A new tidy table with one row per sample × analyte: the tidy columns without ``replicate``,
    plus ``n_replicates`` (wells in the group) and ``replicate_cv`` (coefficient of variation in
    % of the values used, NaN with fewer than two). ``plate``/``well`` and the other columns are
    those of the first well. ``attrs`` (controls) are kept.

    Examples
    --------
    >>> import pandas as pd
    >>> from biomarkers.io import average_replicates, parse_censored
    >>> v, c = parse_censored(["10", "12", "<2"])
    >>> tidy = pd.DataFrame({"sample_id": ["a", "a", "b"], "analyte": "IL6", "value": v,
    ...                      "censor": pd.Categorical.from_codes(c, ["ok", "below", "above",
    ...                      "extrapolated", "missing"])})
    >>> average_replicates(tidy)[["sample_id", "value", "censor", "n_replicates"]]
      sample_id  value censor  n_replicates
    0         a   11.0     ok             2
    1         b    2.0  below             1
    """
    check_columns(tidy, ["sample_id", "analyte", "value", "censor"], source="average_replicates")
    df = tidy.reset_index(drop=True)
    codes = pd.Categorical(df["censor"], categories=list(CENSOR_CODES)).codes.astype(np.int8)
    group = df.groupby(["sample_id", "analyte"], sort=False, observed=True).ngroup().to_numpy()
    n_groups = int(group.max()) + 1 if len(group) else 0
    value = df["value"].to_numpy(dtype=np.float64)

    def any_of(mask: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=mask.astype(np.float64), minlength=n_groups) > 0

    measured = (codes == _OK) | (codes == _EXTRA)
    g_measured = any_of(measured)
    g_extra = any_of(codes == _EXTRA)
    g_below = any_of(codes == _BELOW)
    g_above = any_of(codes == _ABOVE)
    use = np.where(g_measured[group], measured, (codes == _BELOW) | (codes == _ABOVE))
    use &= ~(~g_measured[group] & g_below[group] & g_above[group])
    finite = use & np.isfinite(value)
    n_used = np.bincount(group, weights=finite.astype(np.float64), minlength=n_groups)
    s1 = np.bincount(group, weights=np.where(finite, value, 0.0), minlength=n_groups)
    s2 = np.bincount(group, weights=np.where(finite, value**2, 0.0), minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n_used
        var = (s2 - n_used * mean**2) / (n_used - 1)
        cv = 100.0 * np.sqrt(np.clip(var, 0, None)) / np.abs(mean)
    cv[n_used < 2] = np.nan
    g_code = np.full(n_groups, _MISSING, dtype=np.int8)
    g_code[g_below & ~g_above] = _BELOW
    g_code[g_above & ~g_below] = _ABOVE
    g_code[g_measured] = _OK
    g_code[g_measured & g_extra] = _EXTRA
    first = df.groupby(group, sort=True).head(1)
    first = first.set_index(group[first.index.to_numpy()]).sort_index()
    out = first.drop(columns=[c for c in ("replicate",) if c in first.columns]).reset_index(
        drop=True
    )
    out["value"] = mean
    out["censor"] = censor_categorical(g_code)
    out["n_replicates"] = np.bincount(group, minlength=n_groups).astype(np.int64)
    out["replicate_cv"] = cv
    out.attrs = dict(tidy.attrs)
    return out
