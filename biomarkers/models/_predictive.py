"""Predictive versus prognostic markers in a randomised two-arm trial."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import partial
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from biomarkers._docs import doc_n_jobs, doc_random_state
from biomarkers._logging import logger, timed
from biomarkers._settings import settings
from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError, DataQualityWarning
from biomarkers.models._credibility import absolute_interactions
from biomarkers.models._cv import parallel_map, root_seed, seed_for
from biomarkers.models._heterogeneity import actionable_heterogeneity
from biomarkers.models._pred_cate import (
    calibration_test,
    cross_fit,
    make_folds,
    outcome_strata,
    survival_outcome,
)
from biomarkers.models._pred_data import prepare
from biomarkers.models._pred_interaction import EXTRA_COLUMNS, MARKER_COLUMNS, interaction_table
from biomarkers.models._pred_result import PredictiveResult
from biomarkers.models._pred_subgroups import subgroup_table
from biomarkers.models._shrinkage import SHRINKAGE, add_shrunk
from biomarkers.models._uplift import bootstrap_qini, qini_coefficient, qini_curve

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["PredictiveResult", "predictive"]

METHODS = ("interaction", "t_learner", "dr_learner")
LEARNERS = ("linear", "xgboost")


def _check_params(method, propensity, fdr, n_folds, n_bootstraps, n_permutations, learner):
    if isinstance(method, str):
        method = (method,)
    method = tuple(method)
    if not method:
        msg = f"method=() is empty; choose one or more of {', '.join(map(repr, METHODS))}"
        raise ConfigError(msg)
    for m in method:
        check_choice("method", m, METHODS)
    check_choice("learner", learner, LEARNERS)
    if not isinstance(propensity, Real) or not 0 < float(propensity) < 1:
        msg = (
            f"propensity={propensity!r} must be the randomisation probability of the treated "
            "arm, strictly between 0 and 1 (0.5 for 1:1 randomisation)"
        )
        raise ConfigError(msg)
    if not isinstance(fdr, Real) or not 0 < float(fdr) <= 1:
        msg = f"fdr={fdr!r} must be in (0, 1], e.g. 0.1"
        raise ConfigError(msg)
    for name, value, low in (
        ("n_folds", n_folds, 2),
        ("n_bootstraps", n_bootstraps, 0),
        ("n_permutations", n_permutations, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
            msg = f"{name}={value!r} must be an integer >= {low}"
            raise ConfigError(msg)
    return method


def _perm_qini(Xc, y, arm, strata, random_state, b, *, n_folds, binary, learner, propensity,
               learner_key):  # fmt: skip
    """Qini of the cross-fitted learner re-run after shuffling the arm labels (permutation b)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed_for(random_state, "pred_perm", b))
    arm_p = rng.permutation(arm)
    folds = make_folds(arm_p, strata, n_folds, seed_for(random_state, "pred_perm_split", b))
    with threadpool_limits(limits=1, user_api="blas"):
        cf = cross_fit(
            Xc,
            y,
            arm_p,
            folds,
            binary=binary,
            learner=learner,
            propensity=propensity,
            methods=(learner_key,),
            seed=seed_for(random_state, "pred_perm_fit", b),
            need_nuisance=False,
        )
    key = "cate_dr" if learner_key == "dr_learner" else "cate_t"
    return qini_coefficient(cf[key], y, arm_p)


def predictive(
    table: ad.AnnData | pd.DataFrame,
    *,
    outcome: str | tuple[str, str],
    arm: str,
    treated: str,
    covariates: Sequence[str] = (),
    markers: Sequence[str] | None = None,
    method: Sequence[str] = METHODS,
    propensity: float = 0.5,
    fdr: float = 0.1,
    n_folds: int = 5,
    n_bootstraps: int = 500,
    n_permutations: int = 200,
    random_state: int | np.random.Generator | None = 0,
    n_jobs: int | None = None,
    learner: str = "linear",
    treatment_day: float = 0,
    shrinkage: str = "eb",
) -> PredictiveResult:
    """Tell predictive markers (modify the treatment effect) from prognostic ones.

    Three complementary analyses of a randomised two-arm trial, one row per subject:

    1. **Interaction models** (``"interaction"``), one per marker: ``outcome ~ arm + marker +
       arm × marker (+ covariates)``, logistic (binary), linear (continuous) or Cox (survival,
       Efron ties), the marker standardised. The interaction gives the *predictive* test; the
       marker's effect in the control arm the *prognostic* test; each has its own BH-FDR across
       markers and each marker is labelled ``predictive``, ``prognostic``, ``both`` or
       ``neither`` at ``fdr``. Separation or non-convergence gives NaN and a ``status`` flag.
    2. **CATE learners** (``"t_learner"``, ``"dr_learner"``) on all markers and covariates
       together, cross-fitted over ``n_folds`` folds stratified by arm and outcome; the
       DR-learner uses the *known* randomisation probability ``propensity``. Out-of-fold CATE
       per subject; a calibration test (best linear projection of the doubly-robust scores on
       the CATE); the Qini curve and area of the out-of-fold CATE with a bootstrap CI and a
       permutation null (arm labels shuffled, learner re-run).
    3. **Subgroups**: treatment effect below and above each marker's median, the median taken
       in the training folds and subjects assigned out of fold.

    Parameters
    ----------
    table
        FeatureTable (AnnData, subjects × features; ``arm``, outcome and covariates in ``obs``)
        or a DataFrame with one row per subject (index or ``subject_id`` column = subject ID).
        Censored values ``-inf``/``+inf`` are replaced by the observed minimum/maximum
        (in the training folds for the learners); ``NaN`` markers are left out per marker
        (interaction, subgroups) or imputed by the training median (learners).
    outcome
        Binary column (0/1, 1 = the event or response, or two labels: the later in sorted order
        is class 1, recorded in ``params["positive_class"]``), continuous column, an
        ``(event, time)`` pair of columns for time-to-event outcomes, or an outcome named in
        ``uns["outcomes"]``. Subjects without an outcome are dropped.
    arm
        Column holding the randomised arm (exactly two labels).
    treated
        Label of the treated arm in ``arm``.
    covariates
        Adjustment columns (numeric, or categorical → one-hot) added to every model.
    markers
        Features to analyse, all measured by ``treatment_day``; default every such feature
        (AnnData) or every other numeric column measured by then (on-treatment features are
        left out).
    method
        Any of ``"interaction"``, ``"t_learner"``, ``"dr_learner"``.
    propensity
        Known probability of randomisation to the treated arm.
    fdr
        False discovery rate at which markers are labelled.
    n_folds
        Cross-fitting folds (learners and subgroup cut points).
    n_bootstraps
        Bootstrap resamples (within arm) for the Qini CI.
    n_permutations
        Arm-label shuffles for the Qini null; each re-runs the cross-fitted learner.
    {random_state}
    {n_jobs}
    learner
        Base learner of the CATE learners: ``"linear"`` (ridge / ridge-logistic, tuned in each
        training fold) or ``"xgboost"`` (shallow trees, fixed settings).
    treatment_day
        Study day treatment starts (randomisation / first dose; default 0). Effect modifiers
        must be measured by then: a marker known later (``@D7``, ``@D7-D0``) can be changed by
        the treatment and is refused with :class:`~biomarkers.exceptions.LeakageError`; use
        ``biomarkers.models.early_response`` or ``biomarkers.models.mediation`` for it. The
        population is the subjects event-free at the markers' latest day
        (:func:`landmark_population`; everybody for baseline markers), counted in
        ``result.landmark``.
    shrinkage
        Shrunk interactions next to the raw ones (columns ``interaction_shrunk``,
        ``interaction_shrunk_ci_low``, ``interaction_shrunk_ci_high``): ``"eb"`` (empirical
        Bayes on the raw estimates, see :func:`shrink_estimates`), ``"ridge"`` (one model
        with all markers and all marker × arm terms, interactions ridge-penalised, λ by 5-fold
        CV, percentile interval over 200 within-arm subject bootstraps at that λ; eb beyond
        500 markers),
        ``"horseshoe"`` (horseshoe prior on the raw estimates; eb with fewer than 10
        markers) or ``"none"``. The method used is in ``params["shrinkage_method"]``.
        Binary outcomes also get the interaction on the absolute scale (risk difference per
        SD, linear probability model with HC3 standard errors: ``interaction_rd*``).

    Returns
    -------
    :class:`PredictiveResult` with ``markers``, ``cate``, ``uplift``, ``subgroups``,
    ``heterogeneity`` and ``params``; ``save(dir)`` writes them.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n = 200
    >>> df = pd.DataFrame({{"arm": np.where(rng.random(n) < 0.5, "MSC", "SMT"),
    ...                    "il6": rng.normal(size=n), "crp": rng.normal(size=n)}})
    >>> lin = -0.5 + 1.5 * (df["arm"] == "MSC") * df["il6"]
    >>> df["response"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    >>> res = predictive(df, outcome="response", arm="arm", treated="MSC",
    ...                  n_bootstraps=20, n_permutations=0)
    >>> res.markers.set_index("marker").loc["il6", "label"]
    'predictive'
    """
    method = _check_params(method, propensity, fdr, n_folds, n_bootstraps, n_permutations, learner)
    check_choice("shrinkage", shrinkage, SHRINKAGE)
    propensity, fdr = float(propensity), float(fdr)
    n_jobs = settings.n_jobs if n_jobs is None else n_jobs
    seed = root_seed(random_state)

    data = prepare(
        table,
        outcome=outcome,
        arm=arm,
        treated=treated,
        covariates=covariates,
        markers=markers,
        treatment_day=treatment_day,
    )
    n = data.arm.size
    n_t = int(data.arm.sum())
    share, sd = n_t / n, np.sqrt(propensity * (1 - propensity) / n)
    if abs(share - propensity) > 4 * sd:
        warnings.warn(
            f"{share:.2f} of subjects are in the treated arm {data.treated_label!r} but "
            f"propensity={propensity}; pass the trial's randomisation probability",
            DataQualityWarning,
            stacklevel=2,
        )
    logger.info(
        "predictive: %s outcome %r, %d treated / %d control, %d markers",
        data.kind,
        data.outcome_name,
        n_t,
        n - n_t,
        len(data.marker_names),
    )

    if "interaction" in method:
        with timed("predictive: interaction models"):
            markers_df = interaction_table(data, fdr=fdr)
        with timed(f"predictive: shrunk interactions ({shrinkage})"):
            markers_df, shrink_settings = add_shrunk(
                markers_df, data, method=shrinkage, random_state=seed
            )
            if data.kind == "binary":
                markers_df = absolute_interactions(markers_df, data)
    else:
        shrink_settings = {"shrinkage": shrinkage, "shrinkage_method": "none"}
        markers_df = pd.DataFrame(columns=MARKER_COLUMNS + EXTRA_COLUMNS)

    tau = None
    if data.kind == "survival":
        y_learn, tau = survival_outcome(data.y, data.event, data.arm)
        cate_scale = f"RMST difference (days) up to {tau:g}"
    else:
        y_learn = data.y.astype(float)
        cate_scale = "risk difference" if data.kind == "binary" else "mean difference"
    strata = outcome_strata(data.kind, data.y, data.event)
    folds = make_folds(data.arm, strata, n_folds, seed_for(seed, "pred_folds"))

    learners = tuple(m for m in method if m != "interaction")
    cate = pd.DataFrame(
        {
            "subject_id": data.subject_id,
            "cate_t": np.nan,
            "cate_dr": np.nan,
            "fold": folds,
            "arm": np.where(data.arm == 1, data.treated_label, data.control_label),
        }
    )
    uplift: dict = {}
    hte: dict[str, pd.DataFrame] = {}
    het_rows = []
    binary = data.kind == "binary"
    Xc = np.hstack([data.X, data.C])
    if learners:
        with timed("predictive: cross-fitted CATE learners"):
            cf = cross_fit(
                Xc,
                y_learn,
                data.arm,
                folds,
                binary=binary,
                learner=learner,
                propensity=propensity,
                methods=learners,
                seed=seed_for(seed, "pred_learn"),
            )
        for key in learners:
            col = "cate_t" if key == "t_learner" else "cate_dr"
            cate[col] = cf[col]
            het_rows.append({"learner": key, **calibration_test(cf["phi"], cf[col])})
        with timed("predictive: RATE, benefit calibration, heterogeneity test"):
            hte = actionable_heterogeneity(
                learners, X=Xc, y=y_learn, arm=data.arm, folds=folds, kind=data.kind,
                learner=learner, propensity=propensity, n_bootstraps=n_bootstraps,
                random_state=seed, n_jobs=n_jobs,
            )  # fmt: skip
        primary = "dr_learner" if "dr_learner" in learners else "t_learner"
        score = cf["cate_dr" if primary == "dr_learner" else "cate_t"]
        curve = qini_curve(score, y_learn, data.arm)
        ci_low, ci_high, _ = bootstrap_qini(
            score,
            y_learn,
            data.arm,
            n_bootstraps=n_bootstraps,
            rng=np.random.default_rng(seed_for(seed, "pred_bootstrap")),
        )
        null = _permutation_null(
            Xc,
            y_learn,
            data.arm,
            strata,
            n_folds=n_folds,
            binary=binary,
            learner=learner,
            propensity=propensity,
            learner_key=primary,
            n_permutations=n_permutations,
            random_state=seed,
            n_jobs=n_jobs,
        )
        qini = curve.attrs["qini"]
        p_value = (1 + np.sum(null >= qini)) / (1 + null.size) if null.size else float("nan")
        uplift = {
            "learner": primary,
            "curve": curve,
            "qini": float(qini),
            "ci": (ci_low, ci_high),
            "p_value": float(p_value),
            "n_bootstraps": int(n_bootstraps),
            "n_permutations": int(n_permutations),
            "null": null,
        }
    het_columns = ["learner", "n", "ate", "ate_se", "ate_ci_low", "ate_ci_high", "p_ate"]
    het_columns += ["slope", "slope_se", "slope_ci_low", "slope_ci_high", "p_slope"]
    heterogeneity = pd.DataFrame(het_rows, columns=het_columns)

    with timed("predictive: subgroups"):
        subgroups = subgroup_table(data, folds)

    params = {
        "outcome": data.outcome_name,
        "kind": data.kind,
        "positive_class": data.positive_class,
        "positive": data.positive,
        "arm": arm,
        "treated": data.treated_label,
        "control": data.control_label,
        "n_treated": n_t,
        "n_control": n - n_t,
        "n_dropped": data.dropped.get("missing_outcome_arm_or_covariate", 0),
        "covariates": data.covariate_names,
        "method": list(method),
        "learner": learner,
        "propensity": propensity,
        "fdr": fdr,
        "n_folds": n_folds,
        "cate_scale": cate_scale,
        "tau": tau,
        "subgroup_cut": "median of the training folds",
        "random_state": random_state if isinstance(random_state, int | None) else "Generator",
        "seed": seed,
        "treatment_day": float(treatment_day),
        **data.landmark.settings(),
        **shrink_settings,
    }
    return PredictiveResult(
        markers=markers_df.reset_index(drop=True),
        cate=cate,
        uplift=uplift,
        subgroups=subgroups,
        heterogeneity=heterogeneity,
        params=params,
        landmark=data.landmark.report,
        **hte,
    )


def _permutation_null(Xc, y, arm, strata, *, n_permutations, random_state, n_jobs, **kwargs):
    """Qini of ``n_permutations`` arm-label shuffles, each seeded by its own named stream."""
    if n_permutations == 0:
        return np.empty(0)
    fn = partial(_perm_qini, Xc, y, arm, strata, **kwargs)
    tasks = [(random_state, b) for b in range(n_permutations)]
    with timed(f"predictive: {n_permutations} arm-label permutations"):
        values = parallel_map(fn, tasks, n_jobs=n_jobs, description="Qini permutation null")
    return np.asarray(values, dtype=float)


if predictive.__doc__:
    predictive.__doc__ = predictive.__doc__.format(
        random_state=doc_random_state.replace("\n", "\n    "),
        n_jobs=doc_n_jobs.replace("\n", "\n    "),
    )
