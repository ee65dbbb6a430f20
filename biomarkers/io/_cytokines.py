"""Read a cytokine / soluble-protein panel in any supported vendor layout into a tidy table."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import check_choice
from biomarkers.exceptions import BelowDetectionLimitWarning, SchemaError
from biomarkers.io._constants import CENSOR_CODES
from biomarkers.io._table import check_file
from biomarkers.io._tidy import attach_controls
from biomarkers.io._vendors import LAYOUTS, PARSERS, container_format, detect_layout

__all__ = ["read_cytokines"]

_ASSAY_NAME = {
    "long": "cytokines",
    "wide": "cytokines",
    "xponent": "luminex",
    "bioplex": "luminex",
    "msd": "msd",
    "olink": "olink",
    "olink_wide": "olink",
}


def read_cytokines(
    path: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    sep: str | None = None,
    assay: str | None = None,
    datatype: str = "Result",
    control_pattern: str | None = None,
    warn_censored: float | None = None,
) -> pd.DataFrame:
    """Read a cytokine panel (any supported vendor layout) into one tidy table.

    Layouts (see ``docs/formats.md``): ``long`` (``sample_id, analyte, value`` + ``unit, lod,
    lloq, uloq, plate, well, dilution``), ``wide`` (samples × analytes, ``IL6 (pg/mL)`` headers),
    ``xponent`` (Luminex xPONENT CSV), ``bioplex`` (Bio-Plex Manager), ``msd`` (MSD Discovery
    Workbench), ``olink`` (NPX long, ``,`` or ``;``, or Parquet) and ``olink_wide`` (Target 96).

    Parameters
    ----------
    path
        The export (CSV/TSV/TXT, XLSX or Parquet), or a list of exports (e.g. one per plate)
        read with the same options and stacked; plate labels that repeat across files (xPONENT
        numbers every file's plate ``1``) are prefixed with the file name.
    format
        One of the layouts above, or ``"auto"`` to detect it from the content.
    columns
        ``{file column: standard name}`` for the long/wide layouts.
    sheet
        Excel sheet name or index.
    sep
        Delimiter; ``None`` detects it (``,``, ``;``, tab).
    assay
        Platform name written in the ``assay`` column; default from the layout (``cytokines``,
        ``luminex``, ``msd``, ``olink``).
    datatype
        xPONENT block to read: ``"Result"`` (concentrations, default) or e.g. ``"Median"`` (MFI).
    control_pattern
        Regular expression (case-insensitive) of sample names that are standards, blanks or
        controls, overriding the layout's default (a ``type``/``sample_type`` column wins).
    warn_censored
        Emit :class:`~biomarkers.exceptions.BelowDetectionLimitWarning` for analytes with more than
        this fraction of censored values. Default ``None``: no warning (censoring is normal in
        multiplex panels and is judged by :mod:`biomarkers.qc`); the fractions above 50 % are
        logged at INFO level either way.

    Returns
    -------
    DataFrame with columns ``sample_id, analyte, value, censor, raw, unit, lod, lloq, uloq, plate,
    well, replicate, assay`` (plus layout extras: ``dilution``, ``bead_count``, ``olink_id``,
    ``panel``, ``qc_warning``). ``value`` is the number written (NaN when none), ``censor`` a
    Categorical (``ok, below, above, extrapolated, missing``), ``raw`` the string as written,
    ``replicate`` the 1-based replicate well number. Standards, blanks and controls are in
    ``df.attrs["controls"]`` (same columns plus ``type``), never among the samples.

    Raises
    ------
    SchemaError
        Unknown layout, missing columns, a value that is neither a number nor a censoring token
        (file, row, column and value named), duplicate sample × analyte rows that are not
        replicate wells, a one-column file read with the wrong delimiter.
    InputFileError
        Missing, empty or unreadable file.

    Examples
    --------
    >>> import biomarkers as bm
    >>> tidy = bm.io.read_cytokines("bioplex_export.csv")  # doctest: +SKIP
    >>> tidy.groupby("analyte")["censor"].value_counts()  # doctest: +SKIP
    """
    if isinstance(path, list | tuple):
        return _read_many(
            path,
            format=format,
            columns=columns,
            sheet=sheet,
            sep=sep,
            assay=assay,
            datatype=datatype,
            control_pattern=control_pattern,
            warn_censored=warn_censored,
        )
    path = check_file(path)
    fmt = container_format(path, None)
    layout = str(format).lower()
    if layout == "auto":
        layout = detect_layout(path, fmt, sheet=sheet, sep=sep, columns=columns)
    else:
        check_choice("format", layout, ("auto", *LAYOUTS), source="read_cytokines")
    assay = assay or _ASSAY_NAME[layout]
    kwargs = {
        "fmt": fmt,
        "sheet": sheet,
        "sep": sep,
        "assay": assay,
        "control_pattern": control_pattern,
    }
    if layout in {"long", "wide"}:
        kwargs["columns"] = columns
    if layout == "xponent":
        kwargs["datatype"] = datatype
    tidy = PARSERS[layout](path, **kwargs)
    n_controls = len(tidy.attrs["controls"])
    logger.info(
        "read %s (%s): %d samples × %d analytes, %d rows, %d control/standard rows",
        path,
        layout,
        tidy["sample_id"].nunique(),
        tidy["analyte"].nunique(),
        len(tidy),
        n_controls,
    )
    if len(tidy):
        censored = tidy["censor"].isin(["below", "above"])
        frac = censored.groupby(tidy["analyte"], sort=False, observed=True).mean()
        mostly = frac[frac > 0.5]
        if len(mostly):
            logger.info(
                "%s: analytes with > 50%% censored values: %s",
                path,
                ", ".join(f"{a} ({f:.0%})" for a, f in mostly.items()),
            )
        high = frac[frac > warn_censored] if warn_censored is not None else frac.iloc[:0]
        if len(high):
            import warnings

            shown = ", ".join(f"{a} ({f:.0%})" for a, f in high.head(5).items())
            warnings.warn(
                f"{path}: {len(high)} analyte(s) have more than {warn_censored:.0%} censored values: {shown}",
                BelowDetectionLimitWarning,
                stacklevel=2,
            )
    return tidy


def _read_many(paths, **kwargs) -> pd.DataFrame:
    if not paths:
        msg = "read_cytokines: empty list of files; give at least one path"
        raise SchemaError(msg)
    tables = [read_cytokines(p, **kwargs) for p in paths]
    plates = [set(t["plate"].dropna()) | set(t.attrs["controls"]["plate"].dropna()) for t in tables]
    clash = any(
        plates[i] & plates[j] for i in range(len(plates)) for j in range(i + 1, len(plates))
    )
    samples, controls = [], []
    for p, t in zip(paths, tables, strict=True):
        c = t.attrs["controls"]
        t = t.copy()
        t.attrs = {}  # a DataFrame in attrs makes pd.concat fail; re-attached below
        if clash:
            stem = Path(p).stem
            t["plate"] = t["plate"].map(lambda x, s=stem: f"{s}:{x}" if isinstance(x, str) else s)
            c = c.assign(
                plate=c["plate"].map(lambda x, s=stem: f"{s}:{x}" if isinstance(x, str) else s)
            )
        samples.append(t)
        controls.append(c)
    out = pd.concat(samples, ignore_index=True)
    if out.duplicated(["sample_id", "analyte", "plate", "well"]).any():
        dup = out[out.duplicated(["sample_id", "analyte", "plate", "well"], keep=False)].iloc[0]
        msg = (
            f"read_cytokines: sample {dup['sample_id']!r} × analyte {dup['analyte']!r} is in two "
            f"files on the same plate {dup['plate']!r} and well {dup['well']!r}; is a file listed twice?"
        )
        raise SchemaError(msg)
    out["replicate"] = out.groupby(["sample_id", "analyte"], sort=False).cumcount().to_numpy() + 1
    out["censor"] = pd.Categorical(out["censor"], categories=list(CENSOR_CODES))
    ctl = pd.concat(controls, ignore_index=True)
    ctl["censor"] = pd.Categorical(ctl["censor"], categories=list(CENSOR_CODES))
    return attach_controls(out, ctl)
