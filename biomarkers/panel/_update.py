"""Updating a locked panel on a new cohort: the ladder and its closed testing procedure.

The candidate updates, from the least to the most new information (Steyerberg, *Clinical
Prediction Models*, ch. 20; Vergouwe et al., *Stat Med* 2017;36:4529):

* ``none``: the locked panel, ``logit p = LP`` (no parameter re-estimated);
* ``intercept``: recalibration in the large, ``logit p = a + LP``;
* ``recalibration``: logistic recalibration, ``logit p = a + b LP``;
* ``refit``: every coefficient re-estimated on the panel's model inputs;
* ``extension``: the refit plus new markers (only when candidates are given).

The closed testing procedure compares the most general model with the locked panel first, by
likelihood-ratio tests, and steps down only while the simpler model is rejected, which keeps the
chance of updating a panel that needs no update at ``alpha``. An update writes a *new* panel: a
new version, the parent's checksum as lineage and the evaluation it rests on; the parent is
never modified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from biomarkers._validation import format_ids
from biomarkers.exceptions import SchemaError
from biomarkers.panel._measures import LogisticFit, logistic_fit, logit

if TYPE_CHECKING:
    from biomarkers.panel._evaluate import PanelEvaluation
    from biomarkers.panel._panel import BiomarkerPanel

__all__ = ["UPDATE_STEPS", "UpdateResult", "update_ladder"]

#: The rungs of the ladder, from no update to extension.
UPDATE_STEPS = ("none", "intercept", "recalibration", "refit", "extension")
_DESCRIPTION = {
    "none": "no update needed: the locked panel is kept",
    "intercept": "intercept update (recalibration in the large)",
    "recalibration": "logistic recalibration (intercept and slope of the linear predictor)",
    "refit": "refit of the coefficients on the new cohort",
    "extension": "refit extended with new markers",
}


@dataclass(kw_only=True)
class UpdateResult:
    """The updating ladder: fitted models, the closed tests and the chosen step.

    Attributes
    ----------
    chosen
        One of :data:`UPDATE_STEPS`.
    tests
        One row per likelihood-ratio test in the order run: ``test, model, compared_to,
        lr_statistic, df, p_value, significant, decision``.
    models
        One row per fitted model: ``model, n_parameters, loglik, aic``.
    alpha
        Level of every test.
    panel
        The updated panel (``None`` when ``chosen == "none"`` or the panel's model cannot be
        rewritten, see ``note``).
    """

    chosen: str
    tests: pd.DataFrame
    models: pd.DataFrame
    alpha: float
    fits: dict[str, LogisticFit] = field(default_factory=dict, repr=False)
    parent: Any = field(default=None, repr=False)
    candidates: list[str] = field(default_factory=list)
    design: dict[str, Any] = field(default_factory=dict, repr=False)
    panel: Any = None
    note: str = ""

    @property
    def description(self) -> str:
        """One sentence naming the chosen step."""
        return _DESCRIPTION[self.chosen]

    def to_frame(self) -> pd.DataFrame:
        """The closed tests, in the order run."""
        return self.tests.copy()

    def _repr_html_(self) -> str:
        head = f"<p>Update: {self.description}</p>"
        return head + self.tests.to_html(index=False, float_format="%.4g", na_rep="–")

    def summary(self) -> dict[str, Any]:
        """Plain data: chosen step, alpha and the tests (stored in the updated panel)."""
        tests = self.tests.replace({np.nan: None}).to_dict(orient="records")
        return {
            "chosen": self.chosen,
            "description": self.description,
            "alpha": self.alpha,
            "method": "closed testing procedure, likelihood-ratio tests (Vergouwe et al. 2017)",
            "tests": tests,
            "candidates": list(self.candidates),
            "note": self.note or None,
        }

    def attach(self, evaluation: PanelEvaluation) -> None:
        """Build the updated panel carrying ``evaluation``'s summary (nothing when no update)."""
        if self.chosen == "none":
            return
        model = self.parent.to_dict()["model"]
        if model["type"] != "linear" or model.get("link") != "logit":
            self.note = (
                f"the ladder chose {self.chosen!r}; an updated panel can be written for linear "
                f"logistic panels only (this one is {model['type']})"
            )
            return
        self.panel = updated_panel(self, evaluation.summary())


def _lr(big: LogisticFit, small: LogisticFit, df: int, alpha: float) -> dict[str, Any]:
    stat = max(0.0, 2.0 * (big.loglik - small.loglik))
    p = float(stats.chi2.sf(stat, df)) if df > 0 else 1.0
    return {"lr_statistic": stat, "df": df, "p_value": p, "significant": bool(p < alpha)}


def _design_columns(panel: BiomarkerPanel, table: Any, ids: pd.Index, allow_missing: str | None):
    """The model inputs (after the panel's preprocessing) of the scored subjects."""
    from biomarkers.panel._data import feature_matrix
    from biomarkers.panel._replay import model_columns

    doc = panel.to_dict()
    names = panel.features
    raw, all_ids, _, _ = feature_matrix(table, names, source="evaluation input")
    pos = pd.Index(all_ids.astype(str)).get_indexer(ids)
    raw = raw[pos].copy()
    handles = panel._handles_missing()
    for j in range(raw.shape[1]):
        fill = np.isnan(raw[:, j]) & ~handles[j]
        if fill.any() and allow_missing is not None:
            raw[fill, j] = doc["features"][j]["training"]["median"]
    return model_columns(doc["model"], raw, {n: k for k, n in enumerate(names)})


def _candidate_columns(table: Any, ids: pd.Index, candidates: Sequence[str]) -> np.ndarray:
    from biomarkers.panel._data import feature_matrix

    raw, all_ids, missing, _ = feature_matrix(table, list(candidates), source="evaluation input")
    if missing:
        msg = f"candidate marker(s) {format_ids(missing)} are not in the table; fix evaluate.candidates"
        raise SchemaError(msg)
    raw = raw[pd.Index(all_ids.astype(str)).get_indexer(ids)]
    bad = ~np.isfinite(raw).all(axis=0)
    if bad.any():
        names = [c for c, b in zip(candidates, bad, strict=True) if b]
        msg = (
            f"candidate marker(s) {format_ids(names)} have missing or censored values among the "
            "evaluated subjects; extension needs complete numbers: choose complete markers"
        )
        raise SchemaError(msg)
    return raw


def _standardise(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = raw.mean(axis=0)
    sd = raw.std(axis=0, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    return (raw - mean) / sd, mean, sd


def _fits(y, lp, cols, extra) -> dict[str, LogisticFit]:
    n = y.size
    one = np.ones((n, 1))
    fits = {
        "none": logistic_fit(np.zeros((n, 0)), y, offset=lp),
        "intercept": logistic_fit(one, y, offset=lp),
        "recalibration": logistic_fit(np.column_stack([one, lp]), y),
    }
    if cols is not None:
        fits["refit"] = logistic_fit(np.column_stack([one, cols]), y)
        if extra is not None:
            fits["extension"] = logistic_fit(np.column_stack([one, cols, extra]), y)
    return fits


def _closed_test(fits: dict[str, LogisticFit], *, n_inputs: int, n_extra: int, alpha: float):
    """Vergouwe et al. (2017): test the most general model first, step down while rejected."""
    rows: list[dict[str, Any]] = []

    def test(big: str, small: str, df: int) -> bool:
        res = _lr(fits[big], fits[small], df, alpha)
        rows.append({"test": len(rows) + 1, "model": big, "compared_to": small, **res})
        return res["significant"]

    if "extension" in fits:
        if not test("extension", "none", n_inputs + 1 + n_extra):
            return "none", rows
        if test("extension", "refit", n_extra):
            return "extension", rows
    if "refit" in fits and n_inputs > 1:
        if not test("refit", "none", n_inputs + 1):
            return "none", rows
        if not test("refit", "intercept", n_inputs):
            return "intercept", rows
        if not test("refit", "recalibration", n_inputs - 1):
            return "recalibration", rows
        return "refit", rows
    # one model input (refit = recalibration) or a non-linear panel: the three-rung ladder
    if not test("recalibration", "none", 2):
        return "none", rows
    if not test("recalibration", "intercept", 1):
        return "intercept", rows
    return "recalibration", rows


def update_ladder(
    panel: BiomarkerPanel,
    table: Any,
    scores: pd.DataFrame,
    y: np.ndarray,
    *,
    candidates: Sequence[str] = (),
    alpha: float = 0.05,
    allow_missing: str | None = None,
) -> UpdateResult:
    """Fit the ladder's models on the scored subjects and choose a step by closed testing.

    Parameters
    ----------
    panel
        The locked panel.
    table
        The new cohort's feature table (for the refit and the candidate markers).
    scores
        ``panel.score(table)`` of the evaluated subjects (index = subject IDs, in ``y``'s order).
    y
        Observed outcome (1 = the panel's class 1).
    candidates
        New markers for the extension step (complete numeric columns of ``table``).
    alpha
        Level of each likelihood-ratio test.
    allow_missing
        As in :meth:`BiomarkerPanel.score` (the refit sees the same imputed inputs).

    Returns
    -------
    UpdateResult
    """
    if not 0 < alpha < 1:
        msg = f"alpha={alpha!r} must be in (0, 1), e.g. 0.05"
        raise SchemaError(msg)
    model = panel.to_dict()["model"]
    lp = logit(scores["probability"].to_numpy(dtype=float))
    ids = pd.Index(scores.index.astype(str))
    cols = extra = None
    design: dict[str, Any] = {}
    if model["type"] == "linear":
        cols = _design_columns(panel, table, ids, allow_missing)
        finite = np.isfinite(cols).all(axis=1)
        if not finite.all():
            cols = None  # inputs the replay leaves NaN: refit impossible, recalibrate only
    if cols is not None and candidates:
        raw = _candidate_columns(table, ids, candidates)
        extra, mean, sd = _standardise(raw)
        design = {"raw": raw, "mean": mean, "sd": sd}
    fits = _fits(y, lp, cols, extra)
    n_inputs = 0 if cols is None else cols.shape[1]
    chosen, rows = _closed_test(fits, n_inputs=n_inputs, n_extra=len(candidates), alpha=alpha)
    for row in rows:
        row["decision"] = ""
    if rows:
        rows[-1]["decision"] = f"chosen: {chosen}"
    models = pd.DataFrame(
        [
            {
                "model": name,
                "n_parameters": int(f.params.size),
                "loglik": f.loglik,
                "aic": 2 * f.params.size - 2 * f.loglik,
            }
            for name, f in fits.items()
        ]
    )
    columns = ["test", "model", "compared_to", "lr_statistic", "df", "p_value", "significant"]
    return UpdateResult(
        chosen=chosen,
        tests=pd.DataFrame(rows, columns=[*columns, "decision"]),
        models=models,
        alpha=alpha,
        fits=fits,
        parent=panel,
        candidates=list(candidates) if extra is not None else [],
        design=design,
    )


# ---------------------------------------------------------------------------- new panel
def _new_model(parent_model: dict[str, Any], result: UpdateResult) -> tuple[float, np.ndarray]:
    intercept = float(parent_model["intercept"])
    coefs = np.asarray(parent_model["coefficients"], dtype=float)
    fit = result.fits[result.chosen]
    if result.chosen == "intercept":
        return intercept + float(fit.params[0]), coefs
    if result.chosen == "recalibration":
        a, b = (float(v) for v in fit.params)
        return a + b * intercept, b * coefs
    return float(fit.params[0]), np.asarray(fit.params[1:], dtype=float)


def updated_panel(result: UpdateResult, evaluation: dict[str, Any]) -> BiomarkerPanel:
    """The new panel the ladder chose (new version, lineage to the parent, its evaluation)."""
    parent = result.parent
    intercept, coefs = _new_model(parent.to_dict()["model"], result)
    markers = None
    if result.chosen == "extension":
        d = result.design
        markers = {"names": result.candidates, "raw": d["raw"], "mean": d["mean"], "sd": d["sd"]}
    return parent._updated(
        step=result.chosen, intercept=intercept, coefficients=coefs, new_markers=markers,
        evidence=result.summary(), evaluation=evaluation,
    )  # fmt: skip
