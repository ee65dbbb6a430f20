"""Result object of :func:`biomarkers.models.risk_based`."""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from biomarkers._atomic import write_json, write_table
from biomarkers._documents import read_document

__all__ = ["RiskBasedResult"]

RISK_FORMAT = "biomarkers.predictive.risk_based"
RISK_FORMAT_VERSION = 1
# (file stem, attribute) of the tables written by save()
_TABLES = (
    ("risk_based", "groups"),
    ("risk_based_continuous", "continuous"),
    ("risk_based_interaction", "interaction"),
    ("risk_scores", "subjects"),
)


@dataclass(kw_only=True)
class RiskBasedResult:
    """Risk-based analysis of a two-arm trial (PATH statement).

    Attributes
    ----------
    groups
        One row per risk group (``1`` = lowest risk ... ``n_groups``) then ``all``: ``group,
        risk_low, risk_high, risk_median, n_treated, n_control, events_treated, events_control,
        absolute_measure, absolute, absolute_ci_low, absolute_ci_high, relative_measure,
        relative, relative_ci_low, relative_ci_high, status``. Absolute effects are treated
        minus control (risk difference, mean difference or RMST difference at ``horizon``),
        relative effects treated over control (odds ratio, hazard ratio; NaN for continuous
        outcomes).
    continuous
        The effects along continuous risk from ``outcome ~ arm * f(risk)``, one row per grid
        point: ``risk, risk_lp`` (f(risk)) and the absolute and relative effects with CIs.
    interaction
        The risk × treatment interaction tests: one row per scale (``relative`` for binary
        and survival outcomes, ``additive`` for all) with ``estimate, se, ci_low, ci_high,
        p_value, measure, method``.
    subjects
        One row per subject: ``subject_id, arm, risk, risk_lp, group, fold`` (``fold`` is the
        cross-fitting fold of an internal risk model, -1 for a pre-specified score).
    params
        How the analysis was run (outcome, arms, risk source and model, cut points, horizon ...).
    """

    groups: pd.DataFrame
    continuous: pd.DataFrame
    interaction: pd.DataFrame
    subjects: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return the effect-by-risk-group table (a copy), written as ``risk_based.csv``."""
        return self.groups.copy()

    def _relative_test(self) -> pd.Series | None:
        if self.interaction.empty:
            return None
        rows = self.interaction.set_index("scale")
        key = "relative" if "relative" in rows.index else rows.index[0]
        return rows.loc[key]

    def __repr__(self) -> str:
        p = self.params
        test = self._relative_test()
        inter = "" if test is None else f", interaction p={float(test['p_value']):.3g}"
        return (
            f"RiskBasedResult({p.get('kind')} outcome {p.get('outcome')!r}, risk "
            f"{p.get('risk')!r}, {p.get('n_groups')} groups, {p.get('n_treated')} treated / "
            f"{p.get('n_control')} control{inter})"
        )

    def _repr_html_(self) -> str:
        p = self.params
        esc = html.escape
        cols = ["group", "n_treated", "n_control", "absolute", "absolute_ci_low"]
        cols += ["absolute_ci_high", "relative", "relative_ci_low", "relative_ci_high"]
        parts = [
            "<div><strong>RiskBasedResult</strong>",
            f"<p>{esc(str(p.get('kind')))} outcome <code>{esc(str(p.get('outcome')))}</code>; "
            f"baseline risk: {esc(str(p.get('risk_model')))}; {p.get('n_groups')} groups; "
            f"absolute: {esc(str(p.get('absolute_measure')))}, relative: "
            f"{esc(str(p.get('relative_measure')))}</p>",
            self.groups[[c for c in cols if c in self.groups]].to_html(
                index=False, float_format=lambda v: f"{v:.3g}"
            ),
        ]
        if not self.interaction.empty:
            parts.append(self.interaction.to_html(index=False, float_format=lambda v: f"{v:.3g}"))
        parts.append("</div>")
        return "\n".join(parts)

    def save(self, directory: str | os.PathLike) -> list[Path]:
        """Write the result's tables into ``directory`` (created if needed), atomically.

        Parameters
        ----------
        directory
            Destination folder.

        Returns
        -------
        list of pathlib.Path
            The files written: ``risk_based.csv`` (effects by risk group),
            ``risk_based_continuous.csv``, ``risk_based_interaction.csv``, ``risk_scores.csv``
            (one row per subject) and ``risk_based.json`` (format
            ``biomarkers.predictive.risk_based`` version 1: the parameters and the interaction
            tests). :meth:`load` reads them back.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = [write_table(out / f"{name}.csv", getattr(self, attr)) for name, attr in _TABLES]
        doc = {
            "format": RISK_FORMAT,
            "format_version": RISK_FORMAT_VERSION,
            "interaction": json.loads(self.interaction.to_json(orient="records")),
            "params": json.loads(json.dumps(self.params, default=_jsonable)),
        }
        written.append(write_json(out / "risk_based.json", doc))
        return written

    @classmethod
    def load(cls, directory: str | os.PathLike) -> RiskBasedResult:
        """Read a folder written by :meth:`save`.

        Parameters
        ----------
        directory
            Folder written by :meth:`save`.

        Returns
        -------
        RiskBasedResult
        """
        out = Path(directory)
        doc = read_document(
            out, "risk_based.json", fmt=RISK_FORMAT, version=RISK_FORMAT_VERSION,
            writer="RiskBasedResult.save()",
        )  # fmt: skip
        text = ("subject_id", "group", "absolute_measure", "relative_measure", "status")
        tables = {}
        for name, attr in _TABLES:
            df = pd.read_csv(out / f"{name}.csv", dtype=dict.fromkeys(text, str))
            for col in set(text[2:]) & set(df.columns):
                df[col] = df[col].fillna("")  # an empty measure (continuous outcome)
            tables[attr] = df
        return cls(**tables, params=doc.get("params", {}))


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray | tuple | set):
        return list(obj)
    return str(obj)
