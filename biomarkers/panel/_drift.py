"""Drift and applicability of a locked panel in a new cohort, shown before its performance.

Per marker, the new cohort's distribution is compared with the training summaries the panel
stores (median and spread, share outside the training range, censored and missing shares, the
unit); per assay lot, the median shift of each marker; and the case-mix of the two populations
by a membership model's cross-validated AUROC (as in transportability analyses: an AUROC near
0.5 means the cohorts cannot be told apart from the markers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._atomic import write_json, write_table
from biomarkers._validation import check_random_state
from biomarkers.panel._data import feature_matrix

__all__ = ["DriftReport", "panel_drift"]

#: Default flags: |median shift| in training SDs, share outside the training range, IQR ratio,
#: rise in the missing or censored share.
SHIFT_SD = 0.5
OUTSIDE_SHARE = 0.10
IQR_RATIO = (0.5, 2.0)
SHARE_RISE = 0.10
_PROBS = np.linspace(0.0, 1.0, 21)


@dataclass(kw_only=True)
class DriftReport:
    """Marker drift, lot shifts and case-mix of a new cohort against a panel's training data.

    Attributes
    ----------
    markers
        One row per panel marker: ``feature, unit_panel, unit_new, unit_match, n, median_training,
        median_new, median_shift_sd, iqr_training, iqr_new, iqr_ratio, outside_range_share,
        missing_share_training, missing_share_new, censored_share_training, censored_share_new,
        flagged, reason``.
    lots
        One row per lot × marker (``lot, feature, n, median_new, median_shift_sd, flagged``);
        empty without a lot column.
    case_mix
        ``membership_auroc``, ``ci_low``, ``ci_high``, ``n_training``, ``n_new``, ``method``
        (``membership_auroc`` is None when the panel stores no training quantiles).
    """

    markers: pd.DataFrame
    lots: pd.DataFrame
    case_mix: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> list[str]:
        """Markers flagged for drift, largest median shift first."""
        m = self.markers[self.markers["flagged"]]
        order = m["median_shift_sd"].abs().fillna(np.inf).sort_values(ascending=False).index
        return m.loc[order, "feature"].tolist()

    def summary(self) -> dict[str, Any]:
        """Plain data for the evaluation summary."""
        lots = self.lots[self.lots["flagged"]] if len(self.lots) else self.lots
        return {
            "flagged": self.flagged,
            "flagged_lots": sorted({f"{r.lot}: {r.feature}" for r in lots.itertuples()}),
            "membership_auroc": self.case_mix.get("membership_auroc"),
        }

    def to_frame(self) -> pd.DataFrame:
        """The per-marker table."""
        return self.markers.copy()

    def _repr_html_(self) -> str:
        head = f"<p>Drift flagged: {', '.join(self.flagged) or 'none'}</p>"
        return head + self.markers.to_html(index=False, float_format="%.3f", na_rep="–")

    def save(self, directory: str | Path) -> list[Path]:
        """Write ``drift.csv``, ``drift_lots.csv`` and ``case_mix.json``; return the paths."""
        d = Path(directory)
        return [
            write_table(d / "drift.csv", self.markers),
            write_table(d / "drift_lots.csv", self.lots),
            write_json(d / "case_mix.json", self.case_mix),
        ]


def _unit_norm(unit: Any) -> str:
    return "".join(str(unit).split()).lower().replace("µ", "u").replace("μ", "u")


def _training_quantiles(training: dict[str, Any] | None) -> np.ndarray | None:
    q = (training or {}).get("quantiles")
    return None if not q or any(v is None for v in q) else np.asarray(q, dtype=float)


def _training_spread(training: dict[str, Any] | None) -> tuple[float, float]:
    """Training SD and IQR (NaN when the panel stores neither quantiles nor an SD)."""
    training = training or {}
    q = _training_quantiles(training)
    iqr = float(q[15] - q[5]) if q is not None else np.nan
    sd = training.get("sd")
    sd = float(sd) if sd is not None else (iqr / 1.349 if np.isfinite(iqr) else np.nan)
    return sd, iqr


def _marker_row(feature: dict[str, Any], x: np.ndarray, unit_new: str | None) -> dict[str, Any]:
    training = feature.get("training") or {}
    finite = x[np.isfinite(x)]
    n_total = x.size
    sd, iqr_tr = _training_spread(training)
    med_tr = training.get("median")
    med_new = float(np.median(finite)) if finite.size else np.nan
    iqr_new = float(np.subtract(*np.quantile(finite, [0.75, 0.25]))) if finite.size else np.nan
    lo, hi = training.get("min"), training.get("max")
    outside = np.nan
    if lo is not None and hi is not None and finite.size:
        outside = float(np.mean((finite < lo) | (finite > hi)))
    n_tr = training.get("n", 0) + training.get("n_missing", 0)
    n_cens_tr = training.get("n_below", 0) + training.get("n_above", 0)
    n_tr_all = n_tr + n_cens_tr
    unit_panel = feature.get("unit")
    match = (
        None if not unit_panel or not unit_new else _unit_norm(unit_panel) == _unit_norm(unit_new)
    )
    return {
        "feature": feature["name"],
        "unit_panel": unit_panel,
        "unit_new": unit_new,
        "unit_match": match,
        "n": int(n_total),
        "median_training": np.nan if med_tr is None else float(med_tr),
        "median_new": med_new,
        "median_shift_sd": (med_new - med_tr) / sd if med_tr is not None and sd > 0 else np.nan,
        "iqr_training": iqr_tr,
        "iqr_new": iqr_new,
        "iqr_ratio": iqr_new / iqr_tr if iqr_tr and np.isfinite(iqr_tr) and iqr_tr > 0 else np.nan,
        "outside_range_share": outside,
        "missing_share_training": training.get("n_missing", 0) / n_tr_all if n_tr_all else np.nan,
        "missing_share_new": float(np.mean(np.isnan(x))) if n_total else np.nan,
        "censored_share_training": n_cens_tr / n_tr_all if n_tr_all else np.nan,
        "censored_share_new": float(np.mean(np.isinf(x))) if n_total else np.nan,
    }


def _flag(row: dict[str, Any], *, shift_sd: float) -> tuple[bool, str]:
    why = []
    if row["unit_match"] is False:
        why.append(f"unit {row['unit_new']} (panel {row['unit_panel']})")
    if abs(row["median_shift_sd"]) >= shift_sd:
        why.append(f"median shifted {row['median_shift_sd']:+.2f} training SD")
    if row["outside_range_share"] >= OUTSIDE_SHARE:
        why.append(f"{row['outside_range_share']:.0%} outside the training range")
    if not IQR_RATIO[0] <= row["iqr_ratio"] <= IQR_RATIO[1] and np.isfinite(row["iqr_ratio"]):
        why.append(f"spread ×{row['iqr_ratio']:.2f}")
    for kind in ("missing", "censored"):
        rise = row[f"{kind}_share_new"] - row[f"{kind}_share_training"]
        if rise >= SHARE_RISE:
            why.append(f"{kind} share +{rise:.0%}")
    return bool(why), "; ".join(why)


def _lot_rows(doc, raw, ids, lots: pd.Series, *, shift_sd: float) -> pd.DataFrame:
    rows = []
    lots = lots.reindex(ids)
    for lot in sorted(lots.dropna().astype(str).unique()):
        m = (lots.astype(str) == lot).to_numpy()
        for j, f in enumerate(doc["features"]):
            x = raw[m, j]
            finite = x[np.isfinite(x)]
            sd, _ = _training_spread(f.get("training"))
            med_tr = (f.get("training") or {}).get("median")
            med = float(np.median(finite)) if finite.size else np.nan
            shift = (med - med_tr) / sd if med_tr is not None and sd > 0 else np.nan
            rows.append(
                {
                    "lot": lot,
                    "feature": f["name"],
                    "n": int(m.sum()),
                    "median_new": med,
                    "median_shift_sd": shift,
                    "flagged": bool(abs(shift) >= shift_sd),
                }
            )
    cols = ["lot", "feature", "n", "median_new", "median_shift_sd", "flagged"]
    return pd.DataFrame(rows, columns=cols)


def membership_auroc(
    doc: dict[str, Any], raw: np.ndarray, *, random_state: Any = 0, n_splits: int = 5
) -> dict[str, Any]:
    """Cross-validated AUROC of a logistic model telling training from new subjects.

    The training rows are drawn from the stored training quantiles of each marker (marginals
    only: the panel stores no correlations), as many as the panel was trained on.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from biomarkers.panel._measures import Z95, delong_auroc

    usable = [
        j
        for j, f in enumerate(doc["features"])
        if _training_quantiles(f.get("training")) is not None
    ]
    method = (
        "5-fold cross-validated logistic membership model (training rows drawn from the stored "
        "per-marker quantiles; marginal distributions only)"
    )
    if not usable:
        return {
            "membership_auroc": None,
            "ci_low": None,
            "ci_high": None,
            "method": "not available: the panel stores no training quantiles (re-export it)",
        }
    rng = check_random_state(random_state)
    n_tr = int(doc["population"].get("n_subjects") or 100)
    train = np.column_stack(
        [
            np.interp(rng.random(n_tr), _PROBS, _training_quantiles(doc["features"][j]["training"]))
            for j in usable
        ]
    )
    new = raw[:, usable].copy()
    for k, j in enumerate(usable):
        q = _training_quantiles(doc["features"][j]["training"])
        col = new[:, k]
        col[np.isneginf(col)], col[np.isposinf(col)] = q[0], q[-1]
        med = np.nanmedian(col) if np.isfinite(col).any() else q[10]
        col[np.isnan(col)] = med
    X = np.vstack([train, new])
    y = np.r_[np.zeros(len(train)), np.ones(len(new))]
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=int(rng.integers(2**31)))
    model = make_pipeline(StandardScaler(), LogisticRegression())
    prob = cross_val_predict(model, X, y, cv=folds, method="predict_proba")[:, 1]
    auc, se = delong_auroc(y, prob)
    return {
        "membership_auroc": auc,
        "ci_low": max(0.0, auc - Z95 * se),
        "ci_high": min(1.0, auc + Z95 * se),
        "n_training": n_tr,
        "n_new": len(new),
        "markers": [doc["features"][j]["name"] for j in usable],
        "method": method,
    }


def panel_drift(
    panel: Any,
    table: Any,
    *,
    lot_key: str | None = None,
    subjects: Sequence[str] | None = None,
    shift_sd: float = SHIFT_SD,
    random_state: int | None = 0,
) -> DriftReport:
    """Compare a new cohort's markers with the training summaries stored in ``panel``.

    Parameters
    ----------
    panel
        A :class:`~biomarkers.panel.BiomarkerPanel`.
    table
        The new cohort: FeatureTable or DataFrame as :meth:`BiomarkerPanel.score` takes it.
    lot_key
        Column of ``table.obs`` (or of the DataFrame) naming the assay lot of each subject.
    subjects
        Compare only these subjects (e.g. those in the panel's population: a D7 panel's
        subjects with a D7 visit); default all.
    shift_sd
        Flag a marker (or lot) whose median moved at least this many training SDs.
    random_state
        Seed of the membership model.

    Returns
    -------
    DriftReport
    """
    doc = panel.to_dict()
    raw, ids, _, units = feature_matrix(table, panel.features, source="evaluation input")
    if subjects is not None:
        keep = pd.Index(ids.astype(str)).isin([str(s) for s in subjects])
        raw, ids = raw[keep], ids[keep]
    rows = []
    for j, f in enumerate(doc["features"]):
        row = _marker_row(f, raw[:, j], units.get(f["name"]))
        row["flagged"], row["reason"] = _flag(row, shift_sd=shift_sd)
        rows.append(row)
    lots = pd.DataFrame(columns=["lot", "feature", "n", "median_new", "median_shift_sd", "flagged"])
    if lot_key is not None:
        frame = table.obs if hasattr(table, "obs") else table
        frame = frame.set_index("subject_id") if "subject_id" in frame.columns else frame
        if lot_key in frame.columns:
            series = frame[lot_key].copy()
            series.index = series.index.astype(str)
            lots = _lot_rows(doc, raw, pd.Index(ids.astype(str)), series, shift_sd=shift_sd)
    case_mix = membership_auroc(doc, raw, random_state=random_state)
    return DriftReport(markers=pd.DataFrame(rows), lots=lots, case_mix=case_mix)
