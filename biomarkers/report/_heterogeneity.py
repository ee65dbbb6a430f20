"""Report part: RATE, calibration for benefit and the nested-CV heterogeneity test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from biomarkers.report._tables import Section, html_table

__all__: list[str] = []

TEXT = (
    " <b>Is the heterogeneity actionable?</b> Three cross-fitted checks, each one-sided "
    "(H1: the predicted benefit finds patients who benefit more): the rank-weighted average "
    "treatment effect (RATE; AUTOC and Qini weightings) of the out-of-fold CATE on "
    "doubly-robust scores, computed within folds with a half-sampling SE; the calibration "
    "slope for benefit (observed against predicted benefit; 1 = calibrated, 0 = no "
    "heterogeneity captured); and a repeated-CV comparison of a ridge model with arm × marker "
    "terms against the same model with one treatment effect (corrected resampled t). "
    "In a Phase-II trial these are hypothesis-generating."
)


def _read(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError):
        return None


def _ci(lo: Any, hi: Any) -> str:
    return "" if pd.isna(lo) else f"{lo:.3g} to {hi:.3g}"


def checks_table(
    rate: pd.DataFrame | None, calib: pd.DataFrame | None, test: pd.DataFrame | None
) -> pd.DataFrame:
    """One row per learner and check: estimate, 95% CI, one-sided p."""
    rows = []
    for _, r in (rate if rate is not None else pd.DataFrame()).iterrows():
        rows.append((r["learner"], f"RATE ({r['target']})", r["estimate"], r["ci_low"],
                     r["ci_high"], r["p_value"]))  # fmt: skip
    if calib is not None and "kind" in calib:
        for _, r in calib[calib["kind"].isin(["intercept", "slope"])].iterrows():
            name = f"calibration {r['kind']}" + (" (ideal 1)" if r["kind"] == "slope" else
                                                 " (ideal 0, two-sided p)")  # fmt: skip
            rows.append((r["learner"], name, r["observed"], r["ci_low"], r["ci_high"],
                         r["p_value"]))  # fmt: skip
    for _, r in (test if test is not None else pd.DataFrame()).iterrows():
        rows.append((r["model"], f"nested CV: {r['loss']} gain", r["difference"], r["ci_low"],
                     r["ci_high"], r["p_value"]))  # fmt: skip
    table = pd.DataFrame(rows, columns=["learner", "check", "estimate", "lo", "hi", "p"])
    table.insert(3, "95% CI", [_ci(a, b) for a, b in zip(table["lo"], table["hi"], strict=True)])
    return table.drop(columns=["lo", "hi"]).rename(columns={"p": "p (one-sided)"})


def add_heterogeneity(section: Section, folder: Path, figs: Any, *, prefix: str = "") -> None:
    """Append the checks' table and the benefit-calibration and TOC figures to ``section``."""
    import biomarkers.pl as pl

    rate = _read(folder / "rate.csv")
    calib = _read(folder / "benefit_calibration.csv")
    test = _read(folder / "heterogeneity_test.csv")
    toc = _read(folder / "toc.csv")
    if rate is None and calib is None and test is None:
        return
    section.text += TEXT
    section.tables.append(
        ("Actionable heterogeneity (rate.csv, benefit_calibration.csv, heterogeneity_test.csv)",
         html_table(checks_table(rate, calib, test)))
    )  # fmt: skip
    if calib is not None and not calib.empty:
        section.figure(figs, f"{prefix}benefit_calibration",
                       "Calibration for benefit (quarters of out-of-fold CATE)",
                       lambda: pl.benefit_calibration(calib))  # fmt: skip
    if toc is not None and not toc.empty:
        section.figure(figs, f"{prefix}toc", "Targeting operator characteristic (TOC)",
                       lambda: pl.toc(toc))  # fmt: skip
