"""DiscoveryResult: the tables of a discover() run, its final models, save/load without pickle."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._atomic import write_bytes, write_json, write_table
from biomarkers._documents import read_document
from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.models._cv import CVPlan, parallel_map, seed_for
from biomarkers.models._engine import (
    FitConfig,
    final_fit,
    inner_cv_metrics,
    outer_fit,
    outer_fit_select,
)
from biomarkers.models._metrics import INTERVAL_LABELS, PRIMARY, cv_performance
from biomarkers.models._registry import get_spec, kept_columns
from biomarkers.models._stabl import selection_threshold

__all__ = ["DiscoveryResult"]

FORMAT = "biomarkers.discovery"
FORMAT_VERSION = 1
_TABLES = ("performance", "ranking", "oof_predictions", "comparison", "decision_curve")
_LANDMARK_TABLES = ("landmark", "landmark_removed")


def pipeline_to_dict(pipe, features: list[str]) -> dict:
    """The fitted preprocessing and model of a discovery pipeline as plain JSON-able data."""
    pre = pipe[: len(pipe.steps) - 1]
    est = pipe.steps[-1][1]
    cols = kept_columns(pre)
    var_mask = pre.named_steps["variance"].get_support()
    censor = pre.named_steps["censor"]
    out: dict[str, Any] = {
        "features": [features[i] for i in cols],
        "preprocessing": {
            "censor_rule": censor.rule,
            "below_limit_fill": censor.lower_fill_[cols].tolist(),
            "above_limit_fill": censor.upper_fill_[cols].tolist(),
            "missing_fill": pre.named_steps["impute"].statistics_[var_mask].tolist(),
            "center": pre.named_steps["scale"].mean_.tolist(),
            "scale": pre.named_steps["scale"].scale_.tolist(),
        },
        "estimator": type(est).__name__,
        "params": {k: v for k, v in est.get_params().items() if _jsonable(v)},
    }
    if hasattr(est, "get_booster"):
        out["model_kind"] = "xgboost"
        out["xgboost_json"] = json.loads(bytes(est.get_booster().save_raw("json")).decode())
    elif hasattr(est, "coef_"):
        out["model_kind"] = "linear"
        out["coefficients"] = np.ravel(est.coef_).astype(float).tolist()
        icpt = getattr(est, "intercept_", 0.0)
        out["intercept"] = float(np.ravel(icpt)[0]) if np.size(icpt) else 0.0
    else:
        out["model_kind"] = "not_exported"
        out["note"] = f"{type(est).__name__} has no plain-data export; only its settings are kept"
    return out


def _model_to_dict(model, features: list[str]) -> dict:
    """Plain data of a final model: a registry pipeline, or a fusion model's own ``to_dict``."""
    if not hasattr(model, "steps"):
        try:
            return model.to_dict()
        except ConfigError as err:  # a non-linear stacked model has no plain-data form
            return {"model_kind": "not_exported", "note": str(err)}
    return pipeline_to_dict(model, features)


def _jsonable(v) -> bool:
    return v is None or isinstance(v, bool | int | float | str)


class DiscoveryResult:
    """Result of :func:`biomarkers.models.discover`.

    Attributes
    ----------
    performance
        Tidy table ``model, metric, estimate, ci_low, ci_high, n``: out-of-fold metrics averaged
        over CV repeats, with 95% subject-bootstrap CIs.
    ranking
        One row per (model, feature): ``stability`` (selection frequency over all outer fits),
        ``importance`` (mean |standardised coefficient| or mean |TreeSHAP|, 0 when not
        selected), ``coefficient`` (mean signed coefficient, linear models), univariate
        ``effect`` / ``effect_kind`` / ``p_value`` / ``q_value`` (BH-FDR), ``stable`` (stability
        at or above the decoy-calibrated threshold) and ``rank`` within the model.
    oof_predictions
        ``subject_id, repeat, fold, model, y_true, y_pred`` (+ ``event, time`` for survival).
    permutation
        Dict ``model, metric, statistic, observed, null, p_value, n_permutations``.
    comparison
        Clinical comparator (``model, comparison, metric, estimate, ci_low, ci_high, n``); empty
        without ``clinical_baseline``.
    decision_curve
        Net benefit per threshold of baseline, baseline + markers, treat all / none.
    final_model
        Dict model name → fitted sklearn Pipeline refitted on all subjects. Empty for a result
        read back by :meth:`load` (tables only; no pickle is ever written).
    settings
        Everything needed to rerun: seeds, folds, grids, stability thresholds, chosen
        hyperparameters per outer fit.
    cv_plan
        The outer folds of the run (``None`` for a result read back by :meth:`load`); the
        cross-validation of :meth:`refit` and :meth:`panel` re-uses them.
    landmark
        The population at the landmark, one row per arm and ``all``: ``arm, n_before,
        event_before_landmark, censored_before_landmark, missing_landmark_visit, n_after``
        (see :func:`~biomarkers.models.landmark_population`); ``settings["landmark_day"]`` is
        the day (``None``: no landmark, everybody kept).
    landmark_removed
        The subjects left out at the landmark: ``subject_id, arm, reason, day``.
    fusion_weights
        ``discover(fusion=...)``: meta weight of every assay block in every outer fit
        (``model, repeat, fold, block, weight``); empty for ``fusion="none"``.
    fusion_contributions
        ``discover(fusion=...)``: out-of-fold share of each block in each subject's linear
        predictor (``subject_id, repeat, fold, model`` + one column per block, NaN where the
        subject lacks the block); empty for ``fusion="none"``.
    """

    def __init__(
        self,
        *,
        performance: pd.DataFrame,
        ranking: pd.DataFrame,
        oof_predictions: pd.DataFrame,
        permutation: dict,
        comparison: pd.DataFrame,
        decision_curve: pd.DataFrame,
        final_model: dict,
        settings: dict,
        data=None,
        final_model_data: dict | None = None,
        cv_plan: CVPlan | None = None,
        landmark: pd.DataFrame | None = None,
        landmark_removed: pd.DataFrame | None = None,
        fusion_weights: pd.DataFrame | None = None,
        fusion_contributions: pd.DataFrame | None = None,
    ) -> None:
        self.performance = performance
        self.ranking = ranking
        self.oof_predictions = oof_predictions
        self.permutation = permutation
        self.comparison = comparison
        self.decision_curve = decision_curve
        self.final_model = final_model
        self.settings = settings
        self._data = data
        self.final_model_data = final_model_data
        self.cv_plan = cv_plan
        self.landmark = pd.DataFrame() if landmark is None else landmark
        self.landmark_removed = pd.DataFrame() if landmark_removed is None else landmark_removed
        self.fusion_weights = pd.DataFrame() if fusion_weights is None else fusion_weights
        self.fusion_contributions = (
            pd.DataFrame() if fusion_contributions is None else fusion_contributions
        )

    # ------------------------------------------------------------------ summaries
    @property
    def models(self) -> list[str]:
        """Names of the models that were cross-validated."""
        return list(self.settings["models"])

    @property
    def best_model(self) -> str:
        """The model with the highest primary metric (AUROC, Harrell's C or R²)."""
        metric = PRIMARY[self.settings["task"]]
        perf = self.performance[self.performance["metric"] == metric]
        return str(perf.sort_values("estimate", ascending=False, kind="stable")["model"].iloc[0])

    @property
    def verdict(self) -> str:
        """What the permuted model's primary row says: "(no) evidence of discrimination".

        "No evidence of discrimination" whenever the 95% CI covers chance or the estimate is
        below it: a below-chance result is noise, never a significant inverse effect.
        """
        metric = PRIMARY[self.settings["task"]]
        perf = self.performance
        model = (self.permutation or {}).get("model") or self.best_model
        row = perf[(perf["model"] == model) & (perf["metric"] == metric)]
        if row.empty or "verdict" not in row:
            return ""
        return str(row["verdict"].iloc[0])

    def to_frame(self) -> pd.DataFrame:
        """Performance table with the permutation p-value on the permuted model's primary metric.

        Returns
        -------
        pandas.DataFrame
            ``model, metric, estimate, ci_low, ci_high, n, p_value``.
        """
        df = self.performance.copy()
        df["p_value"] = np.nan
        perm = self.permutation or {}
        if perm.get("n_permutations"):
            hit = (df["model"] == perm["model"]) & (df["metric"] == perm["metric"])
            df.loc[hit, "p_value"] = perm["p_value"]
        return df

    def _repr_html_(self) -> str:
        s = self.settings
        metric = PRIMARY[s["task"]]
        perf = self.to_frame()
        perf = perf[perf["metric"] == metric]
        rows = "".join(
            f"<tr><td>{r.model}</td><td>{r.estimate:.3f}</td>"
            f"<td>{r.ci_low:.3f}–{r.ci_high:.3f}</td>"
            f"<td>{'' if np.isnan(r.p_value) else f'{r.p_value:.3g}'}</td>"
            f"<td>{getattr(r, 'verdict', '')}</td></tr>"
            for r in perf.itertuples()
        )
        top = self.ranking[self.ranking["model"] == self.best_model].head(10)
        markers = "".join(
            f"<tr><td>{r.feature}</td><td>{r.stability:.2f}</td><td>{r.importance:.3g}</td>"
            f"<td>{r.q_value:.2g}</td></tr>"
            for r in top.itertuples()
        )
        return (
            f"<div><b>DiscoveryResult</b>: outcome <code>{s['outcome']}</code> ({s['task']}), "
            f"{s['n_subjects']} subjects × {s['n_features']} features, "
            f"{s['n_splits']}-fold × {s['n_repeats']} outer CV, {s['inner_cv']}-fold inner CV"
            f"<table><tr><th>model</th><th>{metric}</th><th>95% CI ({_ci_label(s)})</th>"
            f"<th>perm. p</th><th>verdict</th></tr>"
            f"{rows}</table><b>Top markers ({self.best_model})</b><table><tr><th>feature</th>"
            f"<th>stability</th><th>importance</th><th>q</th></tr>{markers}</table></div>"
        )

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"DiscoveryResult(outcome={s['outcome']!r}, task={s['task']!r}, models={self.models}, "
            f"n_subjects={s['n_subjects']}, n_features={s['n_features']})"
        )

    # ------------------------------------------------------------------ markers and panel
    def sample_size_budget(self):
        """Candidate parameters this run's outcome and event count support (Riley et al. 2020).

        Binary and survival outcomes use the binary criteria at the observed event count
        (criteria (i) and (ii) are the same formula for a survival model) with Riley's
        conservative anticipated Cox-Snell R² of 15% of its maximum; a continuous outcome uses
        the cross-validated R² of the first model (kept within 0.05-0.85).

        Returns
        -------
        SampleSizeBudget
            ``.parameters`` is the budget; ``.to_frame()`` one row per criterion.
        """
        return run_budget(self.settings["task"], self._data.y, self.performance)

    def select_markers(
        self, k: int | None = None, min_stability: float | None = None, *, model: str | None = None
    ) -> list[str]:
        """Markers in rank order (mean |importance|) whose stability reaches a threshold.

        Parameters
        ----------
        k
            Keep at most ``k`` markers (all above the threshold when ``None``).
        min_stability
            Minimum selection frequency; default the model's stability threshold
            (``settings["stability_thresholds"][model]["threshold"]``), or, when no feature
            is stable within the FDP target, Stabl's FDP+ minimiser (``fdp_minimiser``;
            its estimated FDP, above the target, is ``estimated_fdp``).
        model
            Which model's ranking; default :attr:`best_model`.

        Returns
        -------
        list of str
            Feature names in rank order (importance > 0 required).
        """
        model = self._check_model(model)
        if min_stability is None:
            min_stability = selection_threshold(self.settings["stability_thresholds"][model])
        rk = self.ranking[self.ranking["model"] == model]
        rk = rk[(rk["stability"] >= min_stability) & (rk["importance"] > 0)]
        feats = rk.sort_values("rank")["feature"].tolist()
        return feats if k is None else feats[: int(k)]

    def _check_model(self, model: str | None) -> str:
        model = self.best_model if model is None else model
        if model not in self.models:
            msg = f"model={model!r} was not run; this result has {', '.join(self.models)}"
            raise ConfigError(msg)
        return model

    def refit(self, features, model: str | None = None, *, n_jobs: int | None = None):
        """Re-run the nested CV and the final refit on ``features`` only.

        Parameters
        ----------
        features
            Feature names (a subset of the discovery table's).
        model
            Registry name; default :attr:`best_model`.
        n_jobs
            Parallel workers; ``None`` uses ``biomarkers.settings.n_jobs``.

        Returns
        -------
        pipeline, performance
            The pipeline fitted on all subjects (same inner search) and its own nested-CV
            performance table (same folds, repeats and bootstrap settings as the discovery run).
        """
        pipe, perf, _ = self._refit(features, model, n_jobs=n_jobs)
        return pipe, perf

    def _refit(
        self,
        features,
        model: str | None = None,
        *,
        n_jobs: int | None = None,
        select_in_folds: bool = False,
        candidates: list[str] | None = None,
    ):
        """Refit and also return the out-of-fold predictions (repeats × subjects).

        With ``select_in_folds`` the cross-validated estimate re-selects ``len(features)``
        markers from all candidates inside every outer training fold
        (:func:`~biomarkers.models._engine.outer_fit_select`), so it includes the selection.
        """
        if self._data is None or self.cv_plan is None:
            msg = (
                "this DiscoveryResult was loaded from disk and holds no data or folds; rerun "
                "discover() to refit models"
            )
            raise ConfigError(msg)
        model = self._check_model(model)
        d = self._data
        features = [str(f) for f in features]
        unknown = [f for f in features if f not in d.features]
        if unknown or not features:
            msg = f"refit: unknown feature(s) {unknown[:5]}; choose among the discovery features"
            raise SchemaError(msg)
        idx = [d.features.index(f) for f in features]
        s = self.settings
        rs = s["random_state"]
        # the markers the in-fold re-selection may pick (all by default; a panel's eligible ones)
        pool = list(range(len(d.features))) if candidates is None else [
            d.features.index(f) for f in candidates if f in d.features
        ]  # fmt: skip
        cfg_all = FitConfig(
            task=d.task, screen_k=s.get("screen_k"), keep=(),
            limits=None if d.limits is None else d.limits[pool],
            censor_rule=s["censor_rule"], n_inner=s["inner_cv"],
        )  # fmt: skip
        limits = None if d.limits is None else d.limits[idx]
        cfg = FitConfig(
            task=d.task, screen_k=None, keep=(), limits=limits,
            censor_rule=s["censor_rule"], n_inner=s["inner_cv"],
        )  # fmt: skip
        spec = get_spec(model, d.task)
        X = d.X[:, idx]
        if select_in_folds:
            fn, Xcv, fcfg = partial(outer_fit_select, k=len(idx)), d.X[:, pool], cfg_all
            description = "panel CV (selection in folds)"
        else:
            fn, Xcv, fcfg, description = outer_fit, X, cfg, "refit CV"
        plan = self.cv_plan
        tasks = [
            (Xcv, d.y, d.groups, tr, te, spec, fcfg, seed_for(rs, "fit", r, f))
            for r, f, tr, te in plan.folds()
        ]
        fits = parallel_map(fn, tasks, n_jobs=n_jobs, description=description)
        preds = np.full((plan.n_repeats, len(d.y)), np.nan)
        for (r, _, _, _), res in zip(plan.folds(), fits, strict=True):
            preds[r, res["test"]] = res["pred"]
        interval = s.get("interval", "bootstrap")
        inner = None
        if interval == "nested_cv":
            inner = inner_cv_metrics(
                Xcv, d.y, d.groups, plan, spec, fcfg, rs, n_jobs=n_jobs, fit=fn
            )
        perf = cv_performance(
            d.y, preds, plan.splits, task=d.task, interval=interval,
            n_bootstraps=s["n_bootstraps"], rng=np.random.default_rng(seed_for(rs, "bootstrap")),
            horizon=s["horizon"], inner=inner,
        )  # fmt: skip
        perf.insert(0, "model", model)
        pipe, _ = final_fit(X, d.y, d.groups, spec, cfg, seed_for(rs, "final", 99))
        return pipe, perf, preds

    def panel(
        self,
        k: int | None = None,
        min_stability: float | None = None,
        *,
        model: str | None = None,
        n_jobs: int | None = None,
        candidates: Sequence[str] | None = None,
        **kwargs,
    ):
        """Lock a biomarker panel: select markers, refit with the nested procedure, export.

        The panel's cross-validated estimate runs on the discovery folds (:attr:`cv_plan`) with
        the same seeds, on ``n_jobs`` workers of the active joblib backend.

        Parameters
        ----------
        k, min_stability
            Passed to :meth:`select_markers`.
        model
            Registry name; default :attr:`best_model`.
        n_jobs
            Parallel workers; ``None`` uses ``biomarkers.settings.n_jobs``. The panel is the
            same whatever ``n_jobs`` is.
        candidates
            The markers the panel may use (e.g. the eligible ones of
            :func:`biomarkers.panel.marker_eligibility`); default every discovery feature. The
            in-fold re-selection picks among them too.
        **kwargs
            Passed to :meth:`biomarkers.panel.BiomarkerPanel.from_estimator` (e.g. ``name``).

        Returns
        -------
        biomarkers.panel.BiomarkerPanel
        """
        model = self._check_model(model)
        pool = None if candidates is None else [str(c) for c in candidates]
        features = [
            f
            for f in self.select_markers(None, min_stability, model=model)
            if pool is None or f in pool
        ][: None if k is None else int(k)]
        if not features:
            msg = (
                f"no marker of {model!r} reaches stability {min_stability or 'threshold'}; "
                "lower min_stability= or pass k= with min_stability=0"
            )
            raise ConfigError(msg)
        pipe, perf, preds = self._refit(
            features, model, n_jobs=n_jobs, select_in_folds=True, candidates=pool
        )
        from biomarkers.panel import BiomarkerPanel

        d, s = self._data, self.settings
        idx = [d.features.index(f) for f in features]
        X = pd.DataFrame(d.X[:, idx], columns=features, index=d.subjects)
        validation = (
            f"{s['n_splits']}-fold x {s['n_repeats']} repeated, subject-grouped, stratified outer "
            f"CV with {s['inner_cv']}-fold inner tuning; {_ci_words(s)}; "
            f"the {len(features)} markers were re-selected inside "
            "every outer training fold (top by importance of the same model among all "
            "candidates), so the estimate includes the selection step"
        )
        metrics = {r.metric: (r.estimate, r.ci_low, r.ci_high) for r in perf.itertuples()}
        kw = {
            "features": features,
            "X": X,
            "var": None if d.var is None else d.var.reindex(features),
            "outcome": {
                "name": s["outcome"],
                "kind": s["task"],
                "assessed_day": s.get("assessed_day"),
                "definition": s.get("outcome_definition") or s["outcome"],
                "positive": s.get("positive"),
                "description": s.get("outcome_description") or s["outcome"],
            },
            "performance": {"validation": validation, "metrics": metrics},
            "population": {**_population(s, d.y, self.performance), **self._landmark_block()},
            "provenance": {"seed": s["random_state"], "model": model},
        }
        if s["task"] == "binary":
            kw.update(y_true=d.y, y_score=np.nanmean(preds, axis=0))
        else:
            kw["threshold"] = None
        # a caller's provenance (e.g. the job's assay costs) adds to the seed and model
        kw["provenance"] = {**kw["provenance"], **(kwargs.pop("provenance", None) or {})}
        kw.update(kwargs)
        return BiomarkerPanel.from_estimator(pipe, **kw)

    def _landmark_block(self) -> dict:
        """The panel's landmark: day, visit, time origin of the outcome, per-arm counts."""
        day = self.settings.get("landmark_day")
        block = {
            "landmark_day": day,
            "landmark_visit": None if day is None else _landmark_visit(day, self._data.var),
            "time_from": self.settings.get("landmark_time_from", "origin"),
        }
        if not self.landmark.empty:
            block["landmark_counts"] = _plain(self.landmark.to_dict(orient="records"))
        return block

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> list[Path]:
        """Write the result into folder ``path`` (atomic files, no pickle).

        Parameters
        ----------
        path
            Output folder (created).

        Returns
        -------
        list of pathlib.Path
            The files written, in this order: ``performance.csv``, ``ranking.csv``,
            ``oof_predictions.csv``, ``comparison.csv``, ``decision_curve.csv``,
            ``landmark.csv``, ``landmark_removed.csv``, ``permutation.json``, ``settings.json`` (format ``biomarkers.discovery`` version 1)
            and ``models/<name>.json`` per final model (preprocessing + coefficients, or
            XGBoost's own JSON model); with fusion also ``fusion_weights.csv`` and
            ``fusion_contributions.csv``. :meth:`load` reads them back.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        tables = (*_TABLES, *_LANDMARK_TABLES)
        written = [write_table(path / f"{name}.csv", getattr(self, name)) for name in tables]
        written += [
            write_table(path / f"{name}.csv", getattr(self, name))
            for name in ("fusion_weights", "fusion_contributions")
            if len(getattr(self, name))
        ]
        written.append(write_json(path / "permutation.json", self.permutation))
        written.append(
            write_json(
                path / "settings.json",
                {"format": FORMAT, "format_version": FORMAT_VERSION, **_plain(self.settings)},
            )
        )
        feats = self._data.features if self._data is not None else None
        for m, pipe in self.final_model.items():
            data = _model_to_dict(pipe, feats)
            written.append(
                write_bytes(
                    path / "models" / f"{m}.json",
                    (json.dumps(_plain(data), indent=1, allow_nan=False) + "\n").encode(),
                )
            )
        return written

    @classmethod
    def load(cls, path) -> DiscoveryResult:
        """Read a folder written by :meth:`save`.

        The loaded result has every table and the final models as plain data
        (:attr:`final_model_data`), but no fitted pipelines (:attr:`final_model` is empty) and
        no data, so :meth:`refit` and :meth:`panel` need a fresh :func:`discover` run.

        Parameters
        ----------
        path
            Folder written by :meth:`save`.

        Returns
        -------
        DiscoveryResult
        """
        path = Path(path)
        settings = read_document(
            path, "settings.json", fmt=FORMAT, version=FORMAT_VERSION,
            writer="DiscoveryResult.save()",
        )  # fmt: skip
        tables = {}
        for name in _TABLES:
            f = path / f"{name}.csv"
            try:
                tables[name] = pd.read_csv(f, dtype={"subject_id": str})
            except pd.errors.EmptyDataError:
                tables[name] = pd.DataFrame()
        for name in _LANDMARK_TABLES:  # absent from folders written before the landmarks
            f = path / f"{name}.csv"
            tables[name] = _read_optional(f)
        tables["fusion_weights"] = _read_fusion_weights(path / "fusion_weights.csv")
        tables["fusion_contributions"] = _read_optional(path / "fusion_contributions.csv")
        models = {}
        for f in sorted((path / "models").glob("*.json")):
            models[f.stem] = json.loads(f.read_text())
        return cls(
            **tables,
            permutation=json.loads((path / "permutation.json").read_text()),
            final_model={},
            settings=settings,
            final_model_data=models,
        )


def _ci_label(settings: dict) -> str:
    return INTERVAL_LABELS[settings.get("interval", "bootstrap")]


def _ci_words(settings: dict) -> str:
    """Which 95% CI the performance rows carry, in words (panel validation, summaries)."""
    interval = settings.get("interval", "bootstrap")
    boot = f"95% subject-bootstrap CIs ({settings['n_bootstraps']} replicates)"
    if interval == "bootstrap":
        return boot
    metric = PRIMARY[settings["task"]]
    return (
        f"{metric} averaged over test folds with a 95% CI ({INTERVAL_LABELS[interval]}), "
        f"other metrics {boot}"
    )


def _landmark_visit(day: float, var: pd.DataFrame | None) -> str:
    """The visit label of the landmark day (``var["visit"]`` of a feature on it, else ``D<day>``)."""
    if var is not None and {"day", "visit"} <= set(var.columns):
        at = var.loc[pd.to_numeric(var["day"], errors="coerce") == day, "visit"].dropna()
        plain = [str(v) for v in at if "-" not in str(v)]
        if plain:
            return plain[0]
    return f"D{day:g}"


def _population(settings: dict, y: np.ndarray, performance: pd.DataFrame | None = None) -> dict:
    """Panel population: subjects, survival events (class 1), the Riley parameter budget.

    The budget is :meth:`DiscoveryResult.sample_size_budget`'s ``parameters`` (``None`` when
    it cannot be computed).
    """
    pop = {"n_subjects": settings["n_subjects"]}
    if settings["task"] == "survival":
        pop["n_events"] = int(np.asarray(y["event"]).sum())
    try:
        pop["supported_parameters"] = run_budget(settings["task"], y, performance).parameters
    except ConfigError:  # no event, or no anticipated R² (continuous without performance)
        pop["supported_parameters"] = None
    return pop


RILEY_R2_FRACTION = 0.15  # Riley et al. 2020: anticipated R²_CS = 15% of its maximum


def run_budget(task: str, y, performance: pd.DataFrame | None = None):
    """:func:`~biomarkers.models.sample_size_budget` for a run's outcome (internal)."""
    from biomarkers.models._sample_size import sample_size_budget

    if task == "continuous":
        r2 = np.nan
        if performance is not None:
            rows = performance[performance["metric"] == "r2"]["estimate"]
            r2 = float(rows.iloc[0]) if len(rows) else np.nan
        if not np.isfinite(r2):
            msg = "sample_size_budget: no cross-validated R2 to anticipate a continuous outcome's"
            raise ConfigError(msg)
        return sample_size_budget(len(y), None, "continuous", r2_cs=min(max(r2, 0.05), 0.85))
    events = np.asarray(y["event"] if task == "survival" else y, dtype=float)
    n, phi = events.size, float(events.mean())
    if not 0 < phi < 1:
        msg = f"sample_size_budget: {int(events.sum())} events among {n}; need 0 < events < n"
        raise ConfigError(msg)
    max_r2 = 1.0 - np.exp(2.0 * (phi * np.log(phi) + (1 - phi) * np.log(1 - phi)))
    return sample_size_budget(n, float(events.sum()), "binary", r2_cs=RILEY_R2_FRACTION * max_r2)


def _plain(obj):
    """Numpy scalars/arrays → Python types; NaN/inf → None (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def _read_fusion_weights(path: Path) -> pd.DataFrame:
    """``fusion_weights.csv`` (absent without fusion); block names are text, even ``"null"``."""
    if not path.is_file():
        return pd.DataFrame()
    df = pd.read_csv(path, dtype={"model": str, "block": str}, keep_default_na=False)
    df["weight"] = pd.to_numeric(df["weight"])
    return df


def _read_optional(path: Path) -> pd.DataFrame:
    """A CSV written by save(), or an empty frame when it is absent or empty."""
    if not path.is_file():
        return pd.DataFrame()
    try:
        return pd.read_csv(path, dtype={"subject_id": str, "arm": str})
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
