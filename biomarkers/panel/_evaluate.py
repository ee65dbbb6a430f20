"""Evaluate a locked panel on a new cohort with observed outcomes (external validation).

Discrimination (AUROC with a DeLong CI), calibration (calibration-in-the-large, calibration slope,
observed/expected, a loess calibration curve and its ICI/E50/E90, Austin & Steyerberg, *Stat Med*
2019;38:4051), the decision curve and classification at the locked threshold, overall and in
pre-specified subgroups. Drift (:mod:`._drift`) and the updating ladder (:mod:`._update`) are
computed beside it and shown first in the validation report.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from biomarkers._atomic import write_json, write_table, write_text
from biomarkers._stats import DECISION_THRESHOLDS, decision_curve_table, net_benefit
from biomarkers._validation import check_random_state, format_ids
from biomarkers.exceptions import DataQualityWarning, SchemaError
from biomarkers.panel._measures import Z95, delong_auroc, logistic_fit, logit
from biomarkers.panel._threshold import threshold_metrics

if TYPE_CHECKING:
    from biomarkers.panel._drift import DriftReport
    from biomarkers.panel._panel import BiomarkerPanel
    from biomarkers.panel._update import UpdateResult

__all__ = ["PanelEvaluation", "calibration_measures", "evaluate_panel"]

#: Span of the loess calibration curve (R's ``loess`` default, as in Austin & Steyerberg 2019).
LOESS_FRAC = 0.75


# ---------------------------------------------------------------------------- measures
def _row(metric: str, est: float, lo: float, hi: float, method: str, n: int) -> dict[str, Any]:
    return {
        "metric": metric,
        "estimate": float(est),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "method": method,
        "n": int(n),
    }


def discrimination(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """AUROC with a DeLong 95% CI (clipped to [0, 1])."""
    auc, se = delong_auroc(y, p)
    lo, hi = max(0.0, auc - Z95 * se), min(1.0, auc + Z95 * se)
    return _row("auroc", auc, lo, hi, "DeLong", y.size)


def calibration_curve(y: np.ndarray, p: np.ndarray, *, frac: float = LOESS_FRAC) -> np.ndarray:
    """Loess-smoothed observed risk at each predicted risk, clipped to [0, 1].

    statsmodels ``lowess`` (local linear, tricube weights) without robustness iterations.
    """
    from statsmodels.nonparametric.smoothers_lowess import lowess

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # lowess on tied x divides 0/0 locally
        fitted = lowess(y, p, frac=frac, it=0, return_sorted=False)
    return np.clip(np.where(np.isfinite(fitted), fitted, p), 0.0, 1.0)


def _ici(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """ICI, E50, E90, Emax: mean, median, 90th percentile and maximum of |loess − predicted|."""
    diff = np.abs(calibration_curve(y, p) - p)
    return np.array([diff.mean(), np.median(diff), np.quantile(diff, 0.9), diff.max()])


def calibration_measures(
    y: Sequence[float] | np.ndarray,
    p: Sequence[float] | np.ndarray,
    *,
    n_bootstraps: int = 200,
    random_state: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Calibration of predicted risks ``p`` against binary outcomes ``y`` with 95% CIs.

    Parameters
    ----------
    y
        Observed outcome, 1 = the class the panel predicts.
    p
        Predicted probabilities of class 1.
    n_bootstraps
        Subject-bootstrap replicates for the CIs of ICI, E50, E90 and Emax (0: no CI).
    random_state
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per metric: ``calibration_in_the_large`` (intercept of
        ``logit P(y) = a + offset(logit p)``, Wald CI), ``calibration_slope`` (slope of
        ``logit P(y) = a + b logit p``, Wald CI), ``oe_ratio`` (observed / expected events, CI
        ``exp(ln(O/E) ± 1.96 √((1 − φ)/(n φ)))``), ``brier``, ``ici``, ``e50``, ``e90``,
        ``emax`` (percentile bootstrap CIs); columns ``metric, estimate, ci_low, ci_high,
        method, n``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.95, 400)
    >>> y = (rng.random(400) < p).astype(float)
    >>> cal = calibration_measures(y, p, n_bootstraps=0).set_index("metric")
    >>> bool(abs(cal.loc["calibration_slope", "estimate"] - 1) < 0.3)
    True
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    n = y.size
    lp = logit(p)
    citl = logistic_fit(np.ones((n, 1)), y, offset=lp)
    slope = logistic_fit(np.column_stack([np.ones(n), lp]), y)
    a, a_se = citl.params[0], citl.se[0]
    b, b_se = slope.params[1], slope.se[1]
    observed, expected = y.sum(), p.sum()
    phi = observed / n
    oe = observed / expected
    se_log_oe = np.sqrt((1 - phi) / (n * phi)) if 0 < phi < 1 else np.nan
    rows = [
        _row("calibration_in_the_large", a, a - Z95 * a_se, a + Z95 * a_se, "Wald", n),
        _row("calibration_slope", b, b - Z95 * b_se, b + Z95 * b_se, "Wald", n),
        _row(
            "oe_ratio",
            oe,
            oe * np.exp(-Z95 * se_log_oe),
            oe * np.exp(Z95 * se_log_oe),
            "Wald on ln(O/E), Riley et al. 2021",
            n,
        ),
    ]
    brier = float(np.mean((p - y) ** 2))
    point = _ici(y, p)
    boot = np.full((0, 5), np.nan)
    if n_bootstraps:
        rng = check_random_state(random_state)
        reps = []
        for _ in range(n_bootstraps):
            idx = rng.integers(0, n, n)
            yb, pb = y[idx], p[idx]
            reps.append([np.mean((pb - yb) ** 2), *_ici(yb, pb)])
        boot = np.asarray(reps)
    names = ("brier", "ici", "e50", "e90", "emax")
    for k, (name, est) in enumerate(zip(names, [brier, *point], strict=True)):
        if boot.shape[0]:
            lo, hi = np.nanquantile(boot[:, k], [0.025, 0.975])
            method = f"percentile bootstrap ({boot.shape[0]})"
        else:
            lo = hi = np.nan
            method = "no CI (n_bootstraps=0)"
        rows.append(_row(name, est, lo, hi, method, n))
    return pd.DataFrame(rows)


def _classification(y: np.ndarray, value: np.ndarray, threshold: float | None) -> list[dict]:
    if threshold is None:
        return []
    m = threshold_metrics(y, value, threshold)
    rows = []
    for name in ("sensitivity", "specificity", "ppv", "npv"):
        e = m[name]
        est = np.nan if e["estimate"] is None else e["estimate"]
        lo = np.nan if e["ci_low"] is None else e["ci_low"]
        hi = np.nan if e["ci_high"] is None else e["ci_high"]
        rows.append(_row(name, est, lo, hi, "Wilson", e["n"]))
    return rows


def performance_rows(
    y: np.ndarray,
    p: np.ndarray,
    value: np.ndarray,
    threshold: float | None,
    *,
    n_bootstraps: int,
    random_state: Any,
) -> pd.DataFrame:
    """Discrimination, calibration and classification rows for one (sub)cohort."""
    rows: list[dict] = []
    if len(np.unique(y)) == 2:
        rows.append(discrimination(y, p))
        cal = calibration_measures(y, p, n_bootstraps=n_bootstraps, random_state=random_state)
        rows += cal.to_dict(orient="records")
    rows += _classification(y, value, threshold)
    return pd.DataFrame(rows, columns=["metric", "estimate", "ci_low", "ci_high", "method", "n"])


# ---------------------------------------------------------------------------- inputs
def _binary01(labels: pd.Series, positive: Any) -> pd.Series:
    values = labels.dropna()
    levels = set(pd.unique(values).tolist())
    if levels <= {0.0, 1.0}:
        return labels.astype(float)
    if positive is not None and positive in levels and len(levels) == 2:
        return labels.map(lambda v: np.nan if pd.isna(v) else float(v == positive))
    msg = (
        f"outcome labels {sorted(map(str, levels))[:5]} are not 0/1 and the panel's positive "
        f"class {positive!r} is not one of them; give 1 = the class the panel predicts"
    )
    raise SchemaError(msg)


def outcome_labels(panel: BiomarkerPanel, table: Any, outcome: Any) -> pd.Series:
    """Observed binary outcome per subject (1 = the panel's class 1), NaN when unknown."""
    doc = panel.to_dict()
    kind = doc["outcome"].get("kind")
    if kind not in (None, "binary") or doc["model"].get("classes") is None:
        msg = (
            f"panel {panel.name!r} predicts a {kind} outcome; evaluate supports panels with a "
            "binary outcome (a probability of class 1)"
        )
        raise SchemaError(msg)
    if isinstance(outcome, str):
        frame = table.obs if hasattr(table, "obs") else table
        if outcome not in frame.columns:
            msg = (
                f"outcome column {outcome!r} is not in the table's "
                f"{'obs' if hasattr(table, 'obs') else 'columns'}; available: "
                f"{format_ids(list(frame.columns))}; pass the column holding the outcome"
            )
            raise SchemaError(msg)
        labels = frame[outcome]
    elif isinstance(outcome, pd.Series):
        labels = outcome
    elif hasattr(outcome, "table") and hasattr(outcome, "name"):  # biomarkers.clinical.Outcome
        if outcome.kind != "binary":
            msg = f"outcome {outcome.name!r} is {outcome.kind}; evaluate needs a binary outcome"
            raise SchemaError(msg)
        labels = outcome.table[outcome.name]
    else:
        msg = (
            f"outcome must be a column name, a pandas Series indexed by subject_id or a "
            f"biomarkers.clinical.Outcome; got {type(outcome).__name__}"
        )
        raise SchemaError(msg)
    labels = labels.copy()
    labels.index = labels.index.astype(str)
    classes = doc["model"]["classes"]
    return _binary01(labels, classes[1])


def _subgroup_frame(table: Any, keys: Sequence[str]) -> pd.DataFrame:
    frame = table.obs if hasattr(table, "obs") else table
    frame = frame.set_index("subject_id") if "subject_id" in frame.columns else frame
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        msg = (
            f"subgroup column(s) {format_ids(missing)} not in the table; available: "
            f"{format_ids(list(frame.columns))}; fix evaluate.subgroups"
        )
        raise SchemaError(msg)
    out = frame[list(keys)].copy()
    out.index = out.index.astype(str)
    return out


# ---------------------------------------------------------------------------- result
@dataclass(kw_only=True)
class PanelEvaluation:
    """The evaluation of a locked panel on a new cohort (drift first, then performance).

    Attributes
    ----------
    panel
        The evaluated (parent) panel.
    performance
        Overall rows ``metric, estimate, ci_low, ci_high, method, n``.
    subgroups
        The same per level of each pre-specified subgroup (``subgroup, level`` columns first).
    calibration_curve
        Loess calibration curve on a grid: ``predicted, observed``.
    decision_curve
        Net benefit of the panel beside treat-all/none at ``DECISION_THRESHOLDS`` and the
        panel's threshold (``threshold, treat_all, treat_none, panel, at_panel_threshold``).
    drift
        :class:`~biomarkers.panel._drift.DriftReport` of the markers and the case-mix.
    update
        :class:`~biomarkers.panel._update.UpdateResult`: the closed-testing ladder.
    n, n_events
        Evaluated subjects and subjects of class 1.
    excluded
        Why subjects were not evaluated (``reason`` → count).
    """

    panel: BiomarkerPanel
    performance: pd.DataFrame
    subgroups: pd.DataFrame
    calibration_curve: pd.DataFrame
    decision_curve: pd.DataFrame
    drift: DriftReport
    update: UpdateResult
    n: int
    n_events: int
    excluded: dict[str, int] = field(default_factory=dict)
    cohort: str | None = None

    @property
    def updated_panel(self) -> BiomarkerPanel | None:
        """The updated panel the ladder chose (``None`` when no update is needed)."""
        return self.update.panel

    def metric(self, name: str) -> float:
        """Overall estimate of one metric (e.g. ``"auroc"``, ``"calibration_slope"``)."""
        row = self.performance.set_index("metric").loc[name]
        return float(row["estimate"])

    def to_frame(self) -> pd.DataFrame:
        """Overall and subgroup rows in one long table (``subgroup = "all"`` for the overall)."""
        overall = self.performance.assign(subgroup="all", level="all")
        frame = pd.concat([overall, self.subgroups], ignore_index=True)
        first = ["subgroup", "level", "metric", "estimate", "ci_low", "ci_high", "n", "method"]
        return frame[first]

    def summary(self) -> dict[str, Any]:
        """Plain-data summary (stored in an updated panel's ``evaluation`` block)."""
        metrics = {
            r["metric"]: {
                "estimate": _num(r["estimate"]),
                "ci_low": _num(r["ci_low"]),
                "ci_high": _num(r["ci_high"]),
                "n": int(r["n"]),
            }
            for r in self.performance.to_dict(orient="records")
        }
        return {
            "cohort": self.cohort,
            "n_subjects": self.n,
            "n_events": self.n_events,
            "excluded": dict(self.excluded),
            "metrics": metrics,
            "subgroups": sorted(self.subgroups["subgroup"].unique().tolist())
            if len(self.subgroups)
            else [],
            "drift": self.drift.summary(),
            "update": self.update.summary(),
            "parent_checksum": self.panel.to_dict()["checksum"],
        }

    def save(self, directory: str | Path) -> list[Path]:
        """Write the evaluation tables, ``evaluation.json`` and ``evaluation.html``.

        Returns
        -------
        list of pathlib.Path
            ``evaluation.csv`` (overall + subgroups), ``calibration_curve.csv``,
            ``decision_curve.csv``, the drift files, ``update_tests.csv``, ``evaluation.json``
            and ``evaluation.html``, in that order. No subject-level data is written.
        """
        d = Path(directory)
        paths = [
            write_table(d / "evaluation.csv", self.to_frame()),
            write_table(d / "calibration_curve.csv", self.calibration_curve),
            write_table(d / "decision_curve.csv", self.decision_curve),
            *self.drift.save(d),
            write_table(d / "update_tests.csv", self.update.tests),
            write_json(d / "evaluation.json", self.summary()),
        ]
        paths.append(write_text(d / "evaluation.html", self.to_html()))
        return paths

    def to_html(self) -> str:
        """The validation report (drift before performance), one self-contained HTML page."""
        return render_evaluation(self)

    def _repr_html_(self) -> str:
        head = (
            f"<p>Panel {self.panel.name!r} on {self.n} subjects ({self.n_events} of class 1); "
            f"drift: {', '.join(self.drift.flagged) or 'none flagged'}; update: "
            f"{self.update.chosen}</p>"
        )
        return head + self.performance.to_html(index=False, float_format="%.3f", na_rep="–")

    def __repr__(self) -> str:
        return (
            f"<PanelEvaluation {self.panel.name!r}: n={self.n}, AUROC "
            f"{self._fmt('auroc')}, slope {self._fmt('calibration_slope')}, "
            f"update={self.update.chosen!r}>"
        )

    def _fmt(self, name: str) -> str:
        try:
            return f"{self.metric(name):.3f}"
        except KeyError:
            return "–"


def _num(x: Any) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


# ---------------------------------------------------------------------------- the job
def _in_population(scores: pd.DataFrame) -> pd.DataFrame:
    if "not_in_population" not in scores.columns:
        return scores
    return scores[scores["not_in_population"] == ""]


def _scored(scores: pd.DataFrame, labels: pd.Series):
    excluded: dict[str, int] = {}
    if "not_in_population" in scores.columns:
        outside = scores["not_in_population"] != ""
        for reason, count in scores.loc[outside, "not_in_population"].value_counts().items():
            excluded[str(reason)] = int(count)
        scores = scores[~outside]
    scores.index = scores.index.astype(str)
    y = labels.reindex(scores.index)
    unknown = y.isna()
    if unknown.any():
        excluded["outcome unknown (e.g. censored before the horizon)"] = int(unknown.sum())
        warnings.warn(
            f"evaluation: {int(unknown.sum())} of {len(y)} scored subject(s) have no observed "
            f"outcome ({format_ids(y.index[unknown])}); left out",
            DataQualityWarning,
            stacklevel=3,
        )
    keep = ~unknown & scores["probability"].notna()
    scores, y = scores[keep], y[keep]
    if y.nunique() < 2:
        msg = (
            f"evaluation needs subjects of both classes; the {len(y)} evaluable subject(s) all "
            f"have outcome {y.unique().tolist()}; evaluate on a cohort with events and non-events"
        )
        raise SchemaError(msg)
    return scores, y.to_numpy(dtype=float), excluded


def _curve_grid(y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    order = np.argsort(p, kind="mergesort")
    fitted = calibration_curve(y, p)[order]
    grid = np.quantile(p, np.linspace(0, 1, 101))
    return pd.DataFrame({"predicted": grid, "observed": np.interp(grid, p[order], fitted)})


def _decision(y: np.ndarray, p: np.ndarray, threshold: float | None) -> pd.DataFrame:
    thresholds = np.asarray(DECISION_THRESHOLDS, dtype=float)
    table = decision_curve_table(y, {"panel": p}, thresholds)
    table["at_panel_threshold"] = False
    if threshold is not None and 0 < threshold < 1:
        extra = decision_curve_table(y, {"panel": p}, [threshold]).assign(at_panel_threshold=True)
        table = pd.concat([table, extra], ignore_index=True).sort_values("threshold")
    return table.reset_index(drop=True)


def _subgroup_rows(
    y: np.ndarray,
    p: np.ndarray,
    value: np.ndarray,
    ids: pd.Index,
    groups: pd.DataFrame,
    threshold: float | None,
    *,
    random_state: Any,
) -> pd.DataFrame:
    frames = []
    for key in groups.columns:
        levels = groups[key].reindex(ids)
        for level in sorted(levels.dropna().astype(str).unique()):
            m = (levels.astype(str) == level).to_numpy()
            if m.sum() < 2:
                continue
            rows = performance_rows(
                y[m], p[m], value[m], threshold, n_bootstraps=0, random_state=random_state
            )
            rows = rows[~rows["metric"].isin(["ici", "e50", "e90", "emax"])]
            n_ev = int(y[m].sum())
            head = pd.DataFrame([_row("n_events", n_ev, np.nan, np.nan, "count", int(m.sum()))])
            frames.append(pd.concat([head, rows]).assign(subgroup=key, level=level))
    if not frames:
        return pd.DataFrame(
            columns=["subgroup", "level", "metric", "estimate", "ci_low", "ci_high", "n", "method"]
        )
    return pd.concat(frames, ignore_index=True)


def evaluate_panel(
    panel: BiomarkerPanel,
    table: Any,
    outcome: Any,
    *,
    subgroups: Sequence[str] = (),
    lot_key: str | None = None,
    candidates: Sequence[str] = (),
    alpha: float = 0.05,
    n_bootstraps: int = 200,
    allow_missing: str | None = None,
    cohort: str | None = None,
    random_state: int | None = 0,
) -> PanelEvaluation:
    """Evaluate ``panel`` on a new cohort; see :meth:`BiomarkerPanel.evaluate`."""
    from biomarkers.panel._drift import panel_drift
    from biomarkers.panel._update import update_ladder

    labels = outcome_labels(panel, table, outcome)
    groups = _subgroup_frame(table, list(subgroups)) if subgroups else None
    if lot_key is None and groups is not None:
        lot_key = next((k for k in subgroups if "lot" in k.lower()), None)
    scores = panel.score(table, allow_missing=allow_missing)
    population = _in_population(scores).index.astype(str)
    drift = panel_drift(
        panel, table, lot_key=lot_key, subjects=population, random_state=random_state
    )
    scores, y, excluded = _scored(scores, labels)
    p = scores["probability"].to_numpy(dtype=float)
    doc = panel.to_dict()
    th = doc["threshold"]
    threshold = None if th is None else float(th["value"])
    value = p if th is None or th["applies_to"] == "probability" else scores["score"].to_numpy()
    perf = performance_rows(
        y, p, value, threshold, n_bootstraps=n_bootstraps, random_state=random_state
    )
    nb_rows = []
    if threshold is not None and th["applies_to"] == "probability" and 0 < threshold < 1:
        nb = float(net_benefit(y, p, [threshold])[0])
        nb_rows.append(_row("net_benefit_at_threshold", nb, np.nan, np.nan, "Vickers", y.size))
    perf = pd.concat([perf, pd.DataFrame(nb_rows)], ignore_index=True) if nb_rows else perf
    groups = pd.DataFrame() if groups is None else groups
    sub = _subgroup_rows(y, p, value, scores.index, groups, threshold, random_state=random_state)
    ladder = update_ladder(
        panel, table, scores, y, candidates=candidates, alpha=alpha, allow_missing=allow_missing
    )
    evaluation = PanelEvaluation(
        panel=panel,
        performance=perf,
        subgroups=sub,
        calibration_curve=_curve_grid(y, p),
        decision_curve=_decision(y, p, threshold),
        drift=drift,
        update=ladder,
        n=int(y.size),
        n_events=int(y.sum()),
        excluded=excluded,
        cohort=cohort,
    )
    ladder.attach(evaluation)
    return evaluation


# ---------------------------------------------------------------------------- the report
_TEMPLATE = Path(__file__).resolve().parents[1] / "report" / "templates" / "evaluation.html.j2"


def _png(fig: Any) -> str:
    import base64
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figures(ev: PanelEvaluation) -> list[tuple[str, str]]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2, 4.0))
    ax = fig.subplots()
    cc = ev.calibration_curve
    ax.plot([0, 1], [0, 1], color="#999", lw=1, ls="--", label="ideal")
    ax.plot(cc["predicted"], cc["observed"], color="#0072B2", lw=2, label="loess")
    ax.set(xlabel="predicted probability", ylabel="observed proportion", xlim=(0, 1), ylim=(0, 1))
    ax.legend(frameon=False, loc="upper left")
    out = [("Calibration curve (loess, span 0.75)", _png(fig))]
    fig = Figure(figsize=(4.8, 4.0))
    ax = fig.subplots()
    dc = ev.decision_curve[~ev.decision_curve["at_panel_threshold"]]
    ax.plot(dc["threshold"], dc["panel"], color="#0072B2", lw=2, label="panel")
    ax.plot(dc["threshold"], dc["treat_all"], color="#D55E00", lw=1, label="treat all")
    ax.axhline(0, color="#333", lw=1, label="treat none")
    th = ev.panel.threshold
    if th is not None and 0 < th < 1:
        ax.axvline(th, color="#999", ls=":", lw=1, label="panel threshold")
    low = min(-0.05, float(np.nanmin(dc[["panel"]].to_numpy())) - 0.02)
    ax.set(xlabel="risk threshold", ylabel="net benefit", ylim=(low, None))
    ax.legend(frameon=False)
    out.append(("Decision curve", _png(fig)))
    return out


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, classes="tbl", float_format="%.3f", na_rep="–", border=0)


def render_evaluation(ev: PanelEvaluation) -> str:
    """HTML validation report: drift and case-mix first, then performance, then the update."""
    import jinja2

    import biomarkers

    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    template = env.from_string(_TEMPLATE.read_text(encoding="utf-8"))
    drift = ev.drift
    cm = drift.case_mix
    up = ev.update
    updated = up.panel
    return template.render(
        title=f"Validation of panel {ev.panel.name!r} (version {ev.panel.version})",
        subtitle=f"{ev.cohort or 'new cohort'}: {ev.n} subjects, {ev.n_events} of class 1",
        version=biomarkers.__version__,
        flagged=drift.flagged,
        flagged_lots=drift.summary()["flagged_lots"],
        case_mix=cm,
        excluded=ev.excluded,
        drift_table=_html_table(drift.markers),
        lots_table=_html_table(drift.lots[drift.lots["flagged"]]) if len(drift.lots) else "",
        performance_table=_html_table(ev.performance),
        subgroups_table=_html_table(ev.subgroups) if len(ev.subgroups) else "",
        figures=_figures(ev),
        decision_table=_html_table(ev.decision_curve),
        update_description=up.description,
        update_chosen=up.chosen,
        update_table=_html_table(up.tests),
        models_table=_html_table(up.models),
        update_note=up.note,
        updated_version=updated.version if updated is not None else None,
        parent_checksum=ev.panel.to_dict()["checksum"],
    )
