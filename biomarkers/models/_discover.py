"""discover(): nested, subject-grouped, repeated cross-validation of a closed set of models."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd

from biomarkers._logging import logger, timed
from biomarkers._settings import settings
from biomarkers._stats import DECISION_THRESHOLDS, bh_qvalues, decision_curve_table
from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError, SmallSampleWarning
from biomarkers.models._cv import (
    CVPlan,
    discovery_plan,
    grouped_folds,
    parallel_map,
    root_seed,
    seed_for,
    strata,
)
from biomarkers.models._engine import FitConfig, final_fit, inner_cv_metrics, outer_fit
from biomarkers.models._fusion import FUSIONS, fusion_final_fit, fusion_outer_fit, fusion_tables
from biomarkers.models._inputs import Data, prepare
from biomarkers.models._metrics import (
    INTERVALS,
    PRIMARY,
    binary_metrics,
    bootstrap_counts,
    cv_performance,
    default_horizon,
    primary_point,
)
from biomarkers.models._registry import DEFAULT_SCREEN_K, get_spec, resolve_name
from biomarkers.models._result import DiscoveryResult
from biomarkers.models._stabl import STABILITY_METHODS, stability_threshold
from biomarkers.models._univariate import univariate_tests

__all__ = ["discover"]


def _fold_mean(task, y, folds) -> float:
    """The permutation statistic: the primary metric of each test fold, averaged over folds."""
    vals = [primary_point(task, y[te], pred) for te, pred in folds]
    vals = [v for v in vals if np.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


def _permutation_task(data, spec, cfg, random_state, b, n_splits, fold, fit=outer_fit):
    rng = np.random.default_rng(seed_for(random_state, "perm", b))
    perm = rng.permutation(len(data.y))
    yp = data.y[perm]
    splits = grouped_folds(
        strata(yp, data.task),
        data.groups,
        n_splits=n_splits,
        seed=seed_for(random_state, "perm_split", b),
    )
    tr, te = splits[fold]
    res = fit(
        data.X,
        yp,
        data.groups,
        tr,
        te,
        spec,
        cfg,
        seed_for(random_state, "perm_fit", b, fold),
        want_importance=False,
    )
    return b, res["test"], res["pred"]


def _ranking(
    data, outer, models, n_decoys_src, *, fdr_target, stability
) -> tuple[pd.DataFrame, dict]:
    p = len(data.features)
    eff, pval, kind = univariate_tests(data.X, data.y, task=data.task)
    q = bh_qvalues(pval)
    frames, thresholds = [], {}
    D = n_decoys_src.size
    for m in models:
        fits = [o for o in outer if o["model"] == m]
        width = p + D
        sel = np.zeros(width)
        mag = np.zeros(width)
        signed = np.zeros(width)
        for o in fits:
            sel[o["cols"]] += o["selected"]
            mag[o["cols"]] += o["mag"]
            signed[o["cols"]] += np.nan_to_num(o["signed"])
        nf = max(len(fits), 1)
        stab, mag, signed = sel / nf, mag / nf, signed / nf
        real, decoy = stab[:p], stab[p:]
        thr = _thresholds(real, decoy, method=stability, target=fdr_target)
        thresholds[m] = thr
        has_sign = get_spec(m, data.task).kind in ("linear", "svm")
        df = pd.DataFrame(
            {
                "model": m,
                "feature": data.features,
                "stability": real,
                "importance": mag[:p],
                "coefficient": signed[:p] if has_sign else np.nan,
                "effect": eff,
                "effect_kind": kind,
                "p_value": pval,
                "q_value": q,
            }
        )
        df["stable"] = df["stability"] >= thr["threshold"]
        # mean |importance| counts unselected fits as 0, so it already folds in stability and
        # (unlike "used in a split", which saturates for trees) separates strong from weak
        df = df.sort_values(
            ["importance", "stability", "p_value"], ascending=[False, False, True], kind="stable"
        )
        df["rank"] = np.arange(1, len(df) + 1)
        frames.append(df)
    return pd.concat(frames, ignore_index=True), thresholds


def _thresholds(real, decoy, *, method, target) -> dict:
    """The ``method`` threshold, with the other method's beside it (``alternatives``)."""
    if decoy.size == 0:  # n_decoys=0: no calibration, features selected in every fit are stable
        return {"method": "none", "threshold": 1.0, "estimated_fdp": float("nan"),
                "target": target, "n_decoys": 0}  # fmt: skip
    out = stability_threshold(real, decoy, method=method, target=target)
    out["alternatives"] = {
        other: stability_threshold(real, decoy, method=other, target=target)
        for other in STABILITY_METHODS
        if other != method
    }
    return out


def _comparison(
    data, oof, primary, plan: CVPlan, baseline, *, n_bootstraps, random_state, thresholds
):
    """Baseline-only logistic model on the same folds vs the primary model (baseline forced in)."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    Xb = np.where(np.isfinite(data.X[:, baseline]), data.X[:, baseline], np.nan)
    n = len(data.y)
    base = np.zeros((plan.n_repeats, n))
    for r, _, tr, te in plan.folds():
        mdl = make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=1.0),
        ).fit(Xb[tr], data.y[tr])
        base[r, te] = mdl.predict_proba(Xb[te])[:, 1]
    comb = oof[primary]
    W = bootstrap_counts(
        n, n_bootstraps, np.random.default_rng(seed_for(random_state, "bootstrap"))
    )
    rows = []
    est = {}
    dist = {}
    for label, P in (("baseline", base), ("baseline+markers", comb)):
        est[label] = np.mean([binary_metrics(data.y, pr)["auroc"][0] for pr in P])
        dist[label] = np.mean([binary_metrics(data.y, pr, W)["auroc"] for pr in P], axis=0)
    delta = dist["baseline+markers"] - dist["baseline"]
    for label in ("baseline", "baseline+markers"):
        lo, hi = np.nanpercentile(dist[label], [2.5, 97.5]) if n_bootstraps else (np.nan,) * 2
        rows.append(
            {
                "comparison": label,
                "metric": "auroc",
                "estimate": est[label],
                "ci_low": lo,
                "ci_high": hi,
                "n": n,
            }
        )
    lo, hi = np.nanpercentile(delta, [2.5, 97.5]) if n_bootstraps else (np.nan, np.nan)
    rows.append(
        {
            "comparison": "delta",
            "metric": "auroc",
            "estimate": est["baseline+markers"] - est["baseline"],
            "ci_low": lo,
            "ci_high": hi,
            "n": n,
        }
    )
    comparison = pd.DataFrame(rows)
    comparison["model"] = primary
    dc = decision_curve_table(data.y, {"baseline": base, "baseline+markers": comb}, thresholds)
    return comparison, dc, base


def discover(
    table,
    *,
    outcome,
    models: Sequence[str] = ("enet", "xgboost"),
    cv: int | tuple[int, int] | None = None,
    covariates: Sequence[str] = (),
    clinical_baseline: Sequence[str] | None = None,
    n_permutations: int = 200,
    n_bootstraps: int = 1000,
    random_state: int | None = 0,
    n_jobs: int | None = None,
    assessed_day: float | None = None,
    inner_cv: int = 3,
    screen_k: int | None = DEFAULT_SCREEN_K,
    censor_rule: str = "lod_sqrt2",
    n_decoys: int | None = None,
    fdr_target: float = 0.1,
    horizon: float | None = None,
    permutation_model: str | None = None,
    decision_thresholds: Sequence[float] = DECISION_THRESHOLDS,
    landmark: float | str | None = "auto",
    landmark_time_from: str = "origin",
    interval: str = "bbc",
    stability: str = "stabl",
    fusion: str = "none",
) -> DiscoveryResult:
    """Find markers of an outcome with nested, subject-grouped, repeated cross-validation.

    Parameters
    ----------
    table
        FeatureTable AnnData (subjects × features; ``obs`` holds the outcome columns, ``var`` the
        feature metadata incl. ``day`` and ``lod``, ``uns["outcomes"]`` the outcome definitions)
        or a DataFrame (subjects × features, index = subject IDs). Censored values are ``±inf``.
    outcome
        Name in ``uns["outcomes"]``, a column name, an ``(event, time)`` pair of column names, a
        Series indexed by subject, or a structured (event, time) array; an outcome declared in
        ``uns["outcomes"]`` is read by its kind (binary, continuous or survival). Binary labels
        are 0/1 (or two values; the later in sorted order is class 1); class 1 (the event, or
        the declared ``positive`` value) is what AUPRC, PPV/NPV and thresholds refer to, recorded
        as ``settings["positive"]``; subjects with a missing label are left
        out with a :class:`~biomarkers.exceptions.DataQualityWarning`.
    models
        Registry names (see :func:`available_models`); ``enet`` and ``xgboost`` resolve by task
        (``coxnet`` and ``xgboost_cox`` for survival outcomes).
    cv
        Outer CV: ``n_splits`` or ``(n_splits, n_repeats)``; default ``(5, 10)``. Fewer folds are
        used, with a :class:`~biomarkers.exceptions.SmallSampleWarning`, for tiny classes.
    covariates
        Features or ``obs`` columns always passed to the models (exempt from the screen). A
        string or categorical ``obs`` column becomes one indicator per level but the first
        (``sex`` → ``sex_M``; missing values imputed inside each training fold).
    clinical_baseline
        Clinical comparator, e.g. ``["clinical:meld@D0"]`` (binary outcomes): the same folds fit
        "baseline only" (logistic regression) and "baseline + markers" (the first model, with the
        baseline features forced in); reports ΔAUROC with a paired bootstrap CI and a decision
        curve.
    n_permutations
        Label permutations of the whole pipeline (tuning included) for the p-value.
    n_bootstraps
        Subject bootstrap replicates for every CI.
    random_state
        Seed; results are identical for the same seed whatever ``n_jobs`` is.
    n_jobs
        Number of parallel workers (joblib); ``None`` uses ``biomarkers.settings.n_jobs``.
    assessed_day
        Study day at which the outcome is assessed; features with ``var["day"] >=`` it are refused
        with :class:`~biomarkers.exceptions.LeakageError`. Defaults to
        ``uns["outcomes"][outcome]["assessed_day"]``; for DataFrames a feature's day is the one
        its name is known at (:func:`biomarkers.features.known_at_day`: ``@D28``, ``@D28-D0``
        and ``@slope(D0..D28)`` are all measured at day 28).
    inner_cv
        Inner folds for hyperparameter tuning.
    screen_k
        Features kept by the in-fold univariate screen (``None`` keeps all).
    censor_rule
        Rule of :class:`biomarkers.features.CensoredValueImputer` for ``-inf`` values.
    n_decoys
        Permuted decoy copies of real features added inside every outer training fold to
        calibrate the stability threshold; default ``min(p, 5000)``; 0 disables. Their subject
        order is permuted once per run, so each decoy is the same null feature in every fold.
    fdr_target
        Target false-discovery proportion of the stability threshold: a feature is ``stable``
        only when the estimated FDP at the threshold is ≤ it (none is, otherwise).
    stability
        How the decoys set the threshold (:func:`stability_threshold`): ``"stabl"``
        (default; Hédou et al. 2024's FDP+, whose realised FDP among stable markers stayed
        within the target on the calibration benchmark; at ``fdr_target=0.1`` it needs
        ≥ 10 markers passing together) or ``"decoy"`` (the same estimate without Stabl's
        ``1 +``, optimistic: above the target on null cohorts there); the other is in
        ``settings["stability_thresholds"][model]["alternatives"]``. See docs/models.md.
    horizon
        Survival horizon (time-dependent AUC, Uno's C); default the outcome's declared
        ``horizon_days`` when it lies inside follow-up, else the 75th percentile of the event
        times, kept strictly below the longest follow-up, where both
        metrics are defined.
    permutation_model
        Model whose whole pipeline is permuted; default the first of ``models``.
    decision_thresholds
        Risk thresholds of the decision curve.
    landmark
        Day of the landmark (days since randomisation / first dose): the model is for the
        subjects event-free, under follow-up and seen at that day
        (:func:`landmark_population`); the others are left out and counted per arm in
        ``result.landmark``. ``"auto"`` (default) is the latest day of the features (7 for
        ``@D7`` features), ``None`` keeps everybody; baseline features (day ≤ 0) need none.
        Features known after an explicit landmark raise
        :class:`~biomarkers.exceptions.LeakageError`.
    landmark_time_from
        ``"origin"`` (default): survival times count from the time origin, as the outcome
        defines them; ``"landmark"``: from the landmark (the landmark day is subtracted).

    interval
        Interval of the primary metric (AUROC, Harrell's C, R²), named in the ``interval``
        column of ``performance``: ``"bbc"`` (default; bootstrap bias-corrected CV,
        Tsamardinos et al. 2018, on within-fold ranks; it covered chance best on null
        cohorts, see docs/models.md), ``"nested_cv"`` (Bates, Hastie & Tibshirani 2023,
        runs an inner CV in every outer training set), ``"corrected_t"`` (Nadeau & Bengio
        2003 over repeats × folds) or ``"bootstrap"`` (the subject bootstrap of pooled
        out-of-fold predictions, which treats the fitted models as fixed). Except with
        ``"bootstrap"``, the primary estimate is the per-fold metric averaged over folds and
        repeats and the pooled one is the ``<metric>_pooled`` row; see docs/models.md.
    fusion
        How the assay blocks (the modalities of the feature names, :func:`assay_blocks`) are
        combined: ``"none"`` (default; early fusion: all features in one model, missing values
        imputed inside each training fold), ``"stacking"`` (:class:`StackedModel`: one
        ``models`` entry per block, a non-negative meta-learner per pattern of available
        blocks, subjects with missing blocks kept without imputing the block) or
        ``"cooperative"`` (:class:`CooperativeModel`, linear, agreement penalty tuned in the
        inner CV). Fusion models are fitted inside the outer training folds only (their inner
        CV runs in the outer training set); binary and continuous outcomes; no decoys
        (``n_decoys`` is 0). Per-fold block weights are in ``result.fusion_weights`` and the
        out-of-fold per-subject contributions in ``result.fusion_contributions``.

    Returns
    -------
    DiscoveryResult
        ``performance``, ``ranking``, ``oof_predictions``, ``permutation``, ``comparison``,
        ``final_model``; see :class:`DiscoveryResult`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from biomarkers.models import discover
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(60, 20)), columns=[f"f{i}" for i in range(20)])
    >>> X["response"] = (X["f0"] + rng.normal(size=60) > 0).astype(int)
    >>> res = discover(X, outcome="response", models=["enet"], cv=(3, 1),
    ...                n_permutations=0, n_bootstraps=20)
    >>> res.ranking["feature"].iloc[0]
    'f0'
    """
    n_jobs = settings.n_jobs if n_jobs is None else n_jobs
    random_state = root_seed(random_state)
    if cv is None:
        n_splits, n_repeats = 5, 10
    elif isinstance(cv, int):
        n_splits, n_repeats = cv, 1
    else:
        n_splits, n_repeats = (int(v) for v in cv)
    if n_splits < 2 or n_repeats < 1:
        msg = f"cv={cv!r}: need at least 2 folds and 1 repeat, e.g. cv=(5, 10)"
        raise ConfigError(msg)
    if isinstance(models, str):
        models = [models]
    models = list(dict.fromkeys(models))
    if not models:
        msg = "models=[]: name at least one model (see biomarkers.models.available_models())"
        raise ConfigError(msg)
    check_choice("interval", interval, INTERVALS, source="discover")
    check_choice("stability", stability, STABILITY_METHODS, source="discover")
    check_choice("fusion", fusion, FUSIONS, source="discover")
    for name, val in (("n_permutations", n_permutations), ("n_bootstraps", n_bootstraps)):
        if int(val) < 0:
            msg = f"{name}={val!r} must be >= 0"
            raise ConfigError(msg)

    data = prepare(
        table,
        outcome=outcome,
        covariates=covariates,
        clinical_baseline=clinical_baseline,
        assessed_day=assessed_day,
        landmark=landmark,
        landmark_time_from=landmark_time_from,
    )
    models = list(dict.fromkeys(resolve_name(m, data.task) for m in models))
    specs = {m: get_spec(m, data.task) for m in models}
    perm_model = resolve_name(permutation_model, data.task) if permutation_model else models[0]
    check_choice("permutation_model", perm_model, models, source="discover (one of models=)")
    if clinical_baseline and data.task != "binary":
        msg = f"clinical_baseline= is supported for binary outcomes; {data.outcome_name!r} is {data.task}"
        raise ConfigError(msg)
    if clinical_baseline and len(data.baseline) * 10 > min(np.bincount(data.y.astype(int))):
        warnings.warn(
            f"{len(data.baseline)} clinical baseline variable(s) for "
            f"{int(min(np.bincount(data.y.astype(int))))} subjects in the smaller class: fewer "
            "than 10 events per variable for the baseline logistic model",
            SmallSampleWarning,
            stacklevel=2,
        )
    if data.task == "survival" and horizon is None:
        inside = data.horizon is not None and data.horizon < float(np.max(data.y["time"]))
        horizon = data.horizon if inside else default_horizon(data.y)

    p = len(data.features)
    fit_fn, final_fn = outer_fit, final_fit
    if fusion != "none":
        if data.task == "survival":
            msg = (
                f"fusion={fusion!r} supports binary and continuous outcomes; "
                f"{data.outcome_name!r} is survival: use fusion='none'"
            )
            raise ConfigError(msg)
        n_decoys = 0  # block models are fitted per assay: appended decoys would form no block
        fit_fn = partial(fusion_outer_fit, features=list(data.features), fusion=fusion)
        final_fn = partial(fusion_final_fit, features=list(data.features), fusion=fusion)
    if n_decoys is None:
        n_decoys = min(p, 5000)
    n_decoys = int(min(max(n_decoys, 0), p))
    decoy_src = np.sort(
        np.random.default_rng(seed_for(random_state, "decoys")).choice(p, n_decoys, replace=False)
    )
    decoy_rows = np.random.default_rng(seed_for(random_state, "decoy_rows")).permutation(
        len(data.y)
    )
    decoys = data.X[decoy_rows][:, decoy_src] if n_decoys else None
    keep = tuple(sorted(set(data.forced) | set(data.baseline)))
    cfg = FitConfig(
        task=data.task,
        screen_k=screen_k,
        keep=keep,
        limits=data.limits,
        censor_rule=censor_rule,
        n_inner=inner_cv,
        decoy_src=decoy_src,
        decoys=decoys,
        censored=bool(np.isinf(data.X).any()),
    )
    plan = discovery_plan(
        data.y, data.groups, task=data.task, outcome_name=data.outcome_name,
        n_splits=n_splits, n_repeats=n_repeats, random_state=random_state,
    )  # fmt: skip
    n_splits = plan.n_splits

    tasks = [
        (data.X, data.y, data.groups, tr, te, specs[m], cfg, seed_for(random_state, "fit", r, f))
        for m in models
        for r, f, tr, te in plan.folds()
    ]
    with timed(f"discover: {len(tasks)} outer fits"):
        fits = parallel_map(fit_fn, tasks, n_jobs=n_jobs, description="outer CV")
    outer = []
    oof = {m: np.full((n_repeats, len(data.y)), np.nan) for m in models}
    rows = []
    keys = [(m, r, f) for m in models for r, f, _, _ in plan.folds()]
    for (m, r, f), res in zip(keys, fits, strict=True):
        res["model"] = m
        outer.append(res)
        oof[m][r, res["test"]] = res["pred"]
        rows.append(
            pd.DataFrame(
                {
                    "subject_id": data.subjects[res["test"]],
                    "repeat": r,
                    "fold": f,
                    "model": m,
                    "y_pred": res["pred"],
                    "_row": res["test"],
                }
            )
        )
    oof_df = pd.concat(rows, ignore_index=True)
    if data.task == "survival":
        oof_df["event"] = data.y["event"][oof_df["_row"]].astype(int)
        oof_df["time"] = data.y["time"][oof_df["_row"]]
        oof_df["y_true"] = oof_df["event"]
    else:
        oof_df["y_true"] = data.y[oof_df["_row"]]
    oof_df = oof_df.drop(columns="_row")
    front = ["subject_id", "repeat", "fold", "model", "y_true", "y_pred"]
    oof_df = oof_df[front + [c for c in oof_df.columns if c not in front]]

    perf = []
    for m in models:
        inner = None
        if interval == "nested_cv":
            with timed(f"discover: nested-CV interval of {m}"):
                inner = inner_cv_metrics(
                    data.X, data.y, data.groups, plan, specs[m], cfg, random_state,
                    n_jobs=n_jobs, fit=fit_fn,
                )  # fmt: skip
        rng = np.random.default_rng(seed_for(random_state, "bootstrap"))
        df = cv_performance(
            data.y, oof[m], plan.splits, task=data.task, interval=interval,
            n_bootstraps=n_bootstraps, rng=rng, horizon=horizon, inner=inner,
        )  # fmt: skip
        df.insert(0, "model", m)
        perf.append(df)
    performance = pd.concat(perf, ignore_index=True)

    with timed("discover: ranking"):
        ranking, thresholds = _ranking(
            data, outer, models, decoy_src, fdr_target=fdr_target, stability=stability
        )

    # permutation null of the whole pipeline (tuning, screening, decoys included); statistic =
    # the per-fold primary metric averaged over the folds of one repeat of the outer CV,
    # computed the same way on the real run (repeat 0) and on every permuted run
    metric = PRIMARY[data.task]
    observed = _fold_mean(
        data.task, data.y, [(te, oof[perm_model][0][te]) for _, te in plan.splits[0]]
    )
    null = np.full(n_permutations, np.nan)
    if n_permutations:
        ptasks = [
            (data, specs[perm_model], cfg, random_state, b, n_splits, f, fit_fn)
            for b in range(n_permutations)
            for f in range(n_splits)
        ]
        with timed(f"discover: {n_permutations} permutations"):
            pres = parallel_map(
                _permutation_task, ptasks, n_jobs=n_jobs, description="permutations"
            )
        folds: dict[int, list] = {}
        for b, te, pr in pres:
            folds.setdefault(b, []).append((te, pr))
        for b in range(n_permutations):
            rng = np.random.default_rng(seed_for(random_state, "perm", b))
            yp = data.y[rng.permutation(len(data.y))]
            null[b] = _fold_mean(data.task, yp, folds[b])
    p_value = (1 + int(np.sum(null >= observed))) / (1 + n_permutations)
    permutation = {
        "model": perm_model,
        "metric": metric,
        "statistic": f"per-fold {metric} averaged over the {n_splits} folds of one outer-CV repeat",
        "observed": observed,
        "null": null.tolist(),
        "p_value": float(p_value),
        "n_permutations": int(n_permutations),
    }

    comparison = pd.DataFrame(
        columns=["model", "comparison", "metric", "estimate", "ci_low", "ci_high", "n"]
    )
    decision_curve = pd.DataFrame()
    if clinical_baseline:
        comparison, decision_curve, base = _comparison(
            data,
            oof,
            models[0],
            plan,
            data.baseline,
            n_bootstraps=n_bootstraps,
            random_state=random_state,
            thresholds=list(decision_thresholds),
        )
        comparison = comparison[
            ["model", "comparison", "metric", "estimate", "ci_low", "ci_high", "n"]
        ]
        extra = oof_df[oof_df["model"] == models[0]].copy()
        extra["model"] = "clinical_baseline"
        extra["y_pred"] = base[extra["repeat"].to_numpy(), _rows_of(data, extra)]
        oof_df = pd.concat([oof_df, extra], ignore_index=True)

    settings_dict = {
        "outcome": data.outcome_name,
        "task": data.task,
        "positive_class": data.positive_class,
        "positive": data.positive,
        "outcome_definition": data.definition,
        "outcome_description": data.description,
        "models": models,
        "n_splits": n_splits,
        "n_repeats": n_repeats,
        "inner_cv": inner_cv,
        "screen_k": screen_k,
        "censor_rule": censor_rule,
        "n_decoys": n_decoys,
        "fdr_target": fdr_target,
        "n_permutations": int(n_permutations),
        "n_bootstraps": int(n_bootstraps),
        "interval": interval,
        "stability": stability,
        "random_state": random_state,
        "covariates": list(covariates),
        "clinical_baseline": list(clinical_baseline or []),
        "assessed_day": data.assessed_day,
        **data.landmark.settings(),
        "horizon": horizon,
        "n_subjects": len(data.y),
        "n_features": p,
        "stability_thresholds": thresholds,
        "best_params": {m: [o["params"] for o in outer if o["model"] == m] for m in models},
        "fusion": fusion,
    }

    final = {}
    ftasks = [
        (data.X, data.y, data.groups, specs[m], cfg, seed_for(random_state, "final", k))
        for k, m in enumerate(models)
    ]
    with timed("discover: final refit"):
        fres = parallel_map(final_fn, ftasks, n_jobs=n_jobs, description="final models")
    for m, (pipe, params) in zip(models, fres, strict=True):
        final[m] = pipe
        settings_dict.setdefault("final_params", {})[m] = params
    logger.info("discover: done (%d subjects, %d features)", len(data.y), p)
    fusion_weights, fusion_contributions = fusion_tables(outer, keys, data.subjects)
    return DiscoveryResult(
        performance=performance,
        ranking=ranking,
        oof_predictions=oof_df,
        permutation=permutation,
        comparison=comparison,
        decision_curve=decision_curve,
        final_model=final,
        settings=settings_dict,
        data=data,
        cv_plan=plan,
        landmark=data.landmark.report,
        landmark_removed=data.landmark.removed,
        fusion_weights=fusion_weights,
        fusion_contributions=fusion_contributions,
    )


def _rows_of(data: Data, frame: pd.DataFrame) -> np.ndarray:
    pos = pd.Series(np.arange(len(data.subjects)), index=data.subjects)
    return pos.loc[frame["subject_id"].to_numpy()].to_numpy()
