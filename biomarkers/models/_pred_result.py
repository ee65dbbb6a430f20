"""Result object of :func:`biomarkers.models.predictive`."""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._atomic import write_json, write_table
from biomarkers._documents import read_document

__all__ = ["PredictiveResult"]

UPLIFT_FORMAT = "biomarkers.predictive.uplift"
UPLIFT_FORMAT_VERSION = 1
# (file stem, attribute) of the tables written by save()
_TABLES = (
    ("predictive_markers", "markers"),
    ("cate", "cate"),
    ("subgroups", "subgroups"),
    ("heterogeneity", "heterogeneity"),
    ("landmark", "landmark"),
    # RATE, TOC, calibration for benefit and the nested-CV heterogeneity test (optional: older
    # folders and runs without a CATE learner have none)
    ("rate", "rate"),
    ("toc", "toc"),
    ("benefit_calibration", "benefit_calibration"),
    ("heterogeneity_test", "heterogeneity_test"),
)
_OPTIONAL = {"landmark", "rate", "toc", "benefit_calibration", "heterogeneity_test"}


@dataclass(kw_only=True)
class PredictiveResult:
    """Predictive-versus-prognostic analysis of a two-arm trial.

    Attributes
    ----------
    markers
        One row per marker: ``marker, n, beta_control, beta_treated, interaction, ci_low,
        ci_high, p_interaction, q_value_interaction, p_prognostic, q_value_prognostic, label`` then
        ``n_events, se_*, ci_control_*, ci_treated_*, p_treated, scale, status``. Coefficients
        are per standard deviation of the marker (log odds ratio, mean difference or log hazard
        ratio, see ``scale``); ``status`` is ``ok`` or why the model gave no estimate
        (``separation``, ``not_converged``, ``constant``, ``too_few``, ``failed``).
        Then, unless ``shrinkage="none"``, ``interaction_shrunk``, ``interaction_shrunk_ci_low``,
        ``interaction_shrunk_ci_high`` (method in ``params["shrinkage_method"]``) and, for
        binary outcomes, the risk-difference interaction ``interaction_rd*``.
    cate
        One row per subject: ``subject_id, cate_t, cate_dr, fold, arm``; out-of-fold conditional
        average treatment effects (treated minus control) on the scale in ``params["cate_scale"]``.
    uplift
        ``{"learner", "curve" (DataFrame), "qini", "ci" (low, high), "p_value",
        "n_bootstraps", "n_permutations", "null" (array)}``; empty when no learner ran.
    subgroups
        Forest-plot-ready table: ``marker, subgroup, n, effect, ci_low, ci_high, measure,
        n_treated, n_control, cut, p_difference``.
    heterogeneity
        One row per learner: the best linear projection of the doubly-robust scores on the
        out-of-fold CATE (``ate``, ``slope`` with CIs and p-values).
    params
        How the analysis was run (outcome, arms, propensity, FDR, folds, seeds ...).
    landmark
        The population at the markers' landmark, one row per arm and ``all`` (``arm, n_before,
        event_before_landmark, censored_before_landmark, missing_landmark_visit, n_after``);
        nobody is removed for baseline markers.
    rate
        One row per learner and target (``AUTOC``, ``QINI``): the rank-weighted average
        treatment effect of the sequentially cross-fitted CATE (fold k scored by models of
        folds 0..k-1) on DR scores fitted the same way, within folds (``estimate, se,
        ci_low, ci_high``, one-sided ``p_value``), see :func:`rank_average_treatment_effect`.
    toc
        Targeting operator characteristic per learner: ``learner, share`` (q), ``toc, ci_low, ci_high``.
    benefit_calibration
        Per learner, observed against predicted benefit in quarters of predicted benefit and
        the calibration intercept and slope, see :func:`benefit_calibration`.
    heterogeneity_test
        Repeated-CV comparison of arm × markers against arm + markers, see
        :func:`heterogeneity_test`.
    """

    markers: pd.DataFrame
    cate: pd.DataFrame
    uplift: dict[str, Any]
    subgroups: pd.DataFrame
    heterogeneity: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)
    landmark: pd.DataFrame = field(default_factory=pd.DataFrame)
    rate: pd.DataFrame = field(default_factory=pd.DataFrame)
    toc: pd.DataFrame = field(default_factory=pd.DataFrame)
    benefit_calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    heterogeneity_test: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_frame(self) -> pd.DataFrame:
        """Return the per-marker table (a copy), the result's main table."""
        return self.markers.copy()

    def _label_counts(self) -> dict[str, int]:
        if self.markers.empty:
            return {}
        counts = self.markers["label"].value_counts()
        return {k: int(counts.get(k, 0)) for k in ("predictive", "prognostic", "both", "neither")}

    def __repr__(self) -> str:
        p = self.params
        counts = ", ".join(f"{k}: {v}" for k, v in self._label_counts().items())
        qini = self.uplift.get("qini", float("nan"))
        return (
            f"PredictiveResult({p.get('kind')} outcome {p.get('outcome')!r}, "
            f"{p.get('n_treated')} treated / {p.get('n_control')} control, "
            f"{len(self.markers)} markers [{counts}], Qini={qini:.4g}, "
            f"p={self.uplift.get('p_value', float('nan')):.3g})"
        )

    def _repr_html_(self) -> str:
        p = self.params
        esc = html.escape
        parts = [
            "<div><strong>PredictiveResult</strong>",
            f"<p>{esc(str(p.get('kind')))} outcome <code>{esc(str(p.get('outcome')))}</code>; "
            f"{p.get('n_treated')} <em>{esc(str(p.get('treated')))}</em> vs "
            f"{p.get('n_control')} <em>{esc(str(p.get('control')))}</em>; "
            f"FDR {p.get('fdr')}; propensity {p.get('propensity')}</p>",
        ]
        if self._label_counts():
            counts = ", ".join(f"{k}: {v}" for k, v in self._label_counts().items())
            parts.append(f"<p>Markers: {esc(counts)}</p>")
            cols = ["marker", "interaction", "ci_low", "ci_high", "q_value_interaction"]
            cols += ["q_value_prognostic", "label"]
            top = self.markers.sort_values("p_interaction", na_position="last").head(10)
            parts.append(top[cols].to_html(index=False, float_format=lambda v: f"{v:.3g}"))
        if self.uplift:
            lo, hi = self.uplift["ci"]
            parts.append(
                f"<p>Qini ({esc(self.uplift['learner'])}, out-of-fold): "
                f"{self.uplift['qini']:.4g} (95% CI {lo:.3g} to {hi:.3g}); permutation "
                f"p = {self.uplift['p_value']:.3g} ({self.uplift['n_permutations']} shuffles)</p>"
            )
        if not self.heterogeneity.empty:
            parts.append(self.heterogeneity.to_html(index=False, float_format=lambda v: f"{v:.3g}"))
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
            The files written: ``predictive_markers.csv``, ``cate.csv``, ``subgroups.csv``,
            ``heterogeneity.csv``, ``landmark.csv``, ``rate.csv``, ``toc.csv``,
            ``benefit_calibration.csv``, ``heterogeneity_test.csv`` and ``uplift.json`` (format ``biomarkers.predictive.uplift``,
            version 1: the Qini curve, coefficient, CI, permutation null and p-value, and the
            parameters). :meth:`load` reads them back.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = [write_table(out / f"{name}.csv", getattr(self, attr)) for name, attr in _TABLES]
        written.append(write_json(out / "uplift.json", self._uplift_json()))
        return written

    @classmethod
    def load(cls, directory: str | os.PathLike) -> PredictiveResult:
        """Read a folder written by :meth:`save`.

        Parameters
        ----------
        directory
            Folder written by :meth:`save`.

        Returns
        -------
        PredictiveResult
        """
        out = Path(directory)
        doc = read_document(
            out, "uplift.json", fmt=UPLIFT_FORMAT, version=UPLIFT_FORMAT_VERSION,
            writer="PredictiveResult.save()",
        )  # fmt: skip
        tables = {}
        for name, attr in _TABLES:
            if not (out / f"{name}.csv").is_file() and attr in _OPTIONAL:
                continue  # folders written before these tables
            try:
                tables[attr] = pd.read_csv(out / f"{name}.csv", dtype={"subject_id": str})
            except pd.errors.EmptyDataError:
                tables[attr] = pd.DataFrame()
        uplift: dict[str, Any] = {}
        if "qini" in doc:
            uplift = {
                "learner": doc["learner"],
                "curve": pd.DataFrame(doc["curve"]),
                "qini": doc["qini"],
                "ci": tuple(doc["ci"]),
                "p_value": _nan(doc["p_value"]),
                "n_bootstraps": doc["n_bootstraps"],
                "n_permutations": doc["n_permutations"],
                "null": np.asarray(doc.get("null", []), dtype=float),
            }
        return cls(**tables, uplift=uplift, params=doc.get("params", {}))

    def _uplift_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"format": UPLIFT_FORMAT, "format_version": UPLIFT_FORMAT_VERSION}
        u = self.uplift
        if u:
            doc.update(
                learner=u["learner"],
                qini=float(u["qini"]),
                ci=[float(u["ci"][0]), float(u["ci"][1])],
                p_value=float(u["p_value"]),
                n_bootstraps=int(u["n_bootstraps"]),
                n_permutations=int(u["n_permutations"]),
                null=np.asarray(u["null"], dtype=float).tolist(),
                curve={c: u["curve"][c].astype(float).tolist() for c in u["curve"].columns},
            )
        doc["params"] = json.loads(json.dumps(self.params, default=_jsonable))
        return doc


def _nan(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray | tuple | set):
        return list(obj)
    return str(obj)
