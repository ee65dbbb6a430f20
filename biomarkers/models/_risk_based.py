"""Risk-based analysis of heterogeneity of treatment effect (the PATH statement).

Kent et al., *Ann Intern Med* 2020;172:35 ask a trial to report, before any effect modelling,
the treatment effect across strata of *baseline risk* (a risk model blind to arm), on both the
absolute and the relative scale. Absolute benefit usually grows with risk even when the
relative effect is constant, which is what a clinician needs to decide whom to treat.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit, logit

from biomarkers._docs import doc_n_jobs, doc_random_state
from biomarkers._logging import logger
from biomarkers._names import parse_feature_name
from biomarkers._validation import did_you_mean, format_ids
from biomarkers.exceptions import ConfigError, DataQualityWarning, LeakageError, SchemaError
from biomarkers.models._cv import parallel_map, root_seed, seed_for
from biomarkers.models._inputs import _feature_days, _frame_of
from biomarkers.models._pred_cate import _Prep, fit_base, rmst_pseudo_values
from biomarkers.models._pred_data import _PredData, prepare
from biomarkers.models._risk_result import RiskBasedResult
from biomarkers.models._treatment_effect import newcombe_difference

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["RiskBasedResult", "risk_based"]

_Z = float(stats.norm.ppf(0.975))
_MIN_PER_ARM_AND_GROUP = 5  # n_groups may not leave fewer subjects of an arm per group on average
_N_GRID = 20
_CLINICAL_SCORES = ("meld", "meld_na", "meld3", "clif_of", "clif_c_aclf", "aarc", "child_pugh")


# ---------------------------------------------------------------------------------------------
# the risk column
# ---------------------------------------------------------------------------------------------
def _alias(text: str) -> str:
    """``"CLIF-C ACLF"`` → ``"clif_c_aclf"``: the entity a score's feature name carries."""
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def _columns_and_days(table) -> tuple[list[str], np.ndarray]:
    if isinstance(table, pd.DataFrame):
        names = [str(c) for c in table.columns]
        return names, _feature_days(names, None)
    feats, _obs, var, _ = _frame_of(table)
    names = [str(c) for c in feats.columns]
    return names, _feature_days(names, var)


def resolve_risk(table, risk: str, treatment_day: float) -> str:
    """The column holding a pre-specified baseline score: its name, or a short alias of it.

    ``"meld"``, ``"MELD"`` or ``"clinical:meld"`` find ``clinical:meld@D0`` (the baseline
    visit, known by ``treatment_day``). A score measured after treatment starts is refused.
    """
    names, days = _columns_and_days(table)
    day_of = dict(zip(names, days, strict=True))
    if risk in day_of:
        chosen = risk
    else:
        key = _alias(risk.removeprefix("clinical:"))
        matches = []
        for name in names:
            try:
                parsed = parse_feature_name(name)
            except SchemaError:
                continue
            if parsed.modality == "clinical" and _alias(parsed.short) == key:
                matches.append(name)
        baseline = [m for m in matches if not day_of[m] > treatment_day]
        if len(baseline) > 1:
            msg = (
                f"risk={risk!r} matches several baseline columns {format_ids(baseline)}; pass "
                "the full column name"
            )
            raise ConfigError(msg)
        if not matches:
            scores = [n for n in names if n.startswith("clinical:")] or names
            msg = (
                f"risk={risk!r}: no such column{did_you_mean(risk, names)}; pass 'internal' "
                f"or the column of a baseline score (e.g. clinical:meld@D0, or its short name "
                f"meld); available: {format_ids(scores)}"
            )
            raise SchemaError(msg)
        chosen = baseline[0] if baseline else matches[0]
    if day_of[chosen] > treatment_day:
        msg = (
            f"risk={risk!r}: column {chosen!r} is measured on day {day_of[chosen]:g}, after "
            f"treatment starts (day {treatment_day:g}); the baseline risk must be measured "
            "before treatment: use the score at the baseline visit (e.g. clinical:meld@D0)"
        )
        raise LeakageError(msg)
    return chosen


def _subset(data: _PredData, keep: np.ndarray) -> _PredData:
    """The same analysis restricted to the subjects ``keep``."""
    event = None if data.event is None else data.event[keep]
    return replace(data, subject_id=data.subject_id[keep], arm=data.arm[keep], y=data.y[keep],
                   event=event, X=data.X[keep], C=data.C[keep])  # fmt: skip


# ---------------------------------------------------------------------------------------------
# internal, arm-blind, cross-fitted risk model
# ---------------------------------------------------------------------------------------------
def _plain_folds(n: int, n_folds: int, seed: int) -> np.ndarray:
    """Fold id per subject from a shuffled K-fold split of the rows: blind to arm and outcome."""
    from sklearn.model_selection import KFold

    folds = np.empty(n, dtype=int)
    for k, (_, test) in enumerate(KFold(n_folds, shuffle=True, random_state=seed).split(
        np.zeros((n, 1)))):  # fmt: skip
        folds[test] = k
    return folds


class _CoxnetCV:
    """Elastic-net Cox model (scikit-survival Coxnet, ``l1_ratio=0.5``), penalty by inner CV.

    The penalty maximises Harrell's C over a 3-fold inner cross-validation of the training rows.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def _path(self, X, time, event, alphas=None):
        from sksurv.linear_model import CoxnetSurvivalAnalysis
        from sksurv.util import Surv

        kwargs = {"alphas": alphas} if alphas is not None else {"n_alphas": 20}
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="all coefficients are zero")
            return CoxnetSurvivalAnalysis(
                l1_ratio=0.5, alpha_min_ratio=0.01, max_iter=100000, **kwargs
            ).fit(X, Surv.from_arrays(event.astype(bool), time))

    def fit(self, X, time, event) -> _CoxnetCV:
        from sksurv.metrics import concordance_index_censored

        self.prep_ = _Prep().fit(X)
        Xs = self.prep_.transform(X)
        self.model_ = self._path(Xs, time, event)
        alphas = self.model_.alphas_
        inner = _plain_folds(time.size, 3, self.seed)
        score = np.zeros(alphas.size)
        for k in range(3):
            tr, te = inner != k, inner == k
            if event[tr].sum() < 2 or event[te].sum() < 1:
                continue
            sub = self._path(Xs[tr], time[tr], event[tr], alphas=alphas)
            for j, a in enumerate(alphas):
                lp = sub.predict(Xs[te], alpha=a)
                score[j] += concordance_index_censored(event[te].astype(bool), time[te], lp)[0]
        # alphas[0] zeroes every coefficient: a constant risk cannot rank anybody, so the
        # null model is never chosen; ties go to the strongest remaining penalty
        self.alpha_ = float(alphas[1 + int(np.argmax(score[1:]))])
        return self

    def predict(self, X) -> np.ndarray:
        return self.model_.predict(self.prep_.transform(X), alpha=self.alpha_)


def _fit_fold(X, y, event, folds, kind, seed, k):
    """Risk of fold ``k``'s subjects from a model fitted on the other folds (arm not used)."""
    tr, te = folds != k, folds == k
    if kind == "survival":
        model = _CoxnetCV(seed_for(seed, "pred_learn", 23, k)).fit(X[tr], y[tr], event[tr])
        return model.predict(X[te])
    model = fit_base(X[tr], y[tr], binary=kind == "binary", learner="linear",
                     seed=seed_for(seed, "pred_learn", 23, k))  # fmt: skip
    return model.predict(X[te])


def internal_risk(data: _PredData, *, n_folds: int, seed: int, n_jobs: int | None):
    """Cross-fitted risk of every subject: ``(risk, f(risk), folds)``; the arm is never used."""
    X = np.hstack([data.X, data.C])
    # the folds depend on the row count and the seed only (not on arm nor outcome), so a
    # subject's risk comes from models that never saw its outcome, and shuffling the arm
    # labels cannot change it
    folds = _plain_folds(data.y.size, n_folds, seed_for(seed, "pred_folds", 23))
    fn = partial(_fit_fold, X, data.y, data.event, folds, data.kind, seed)
    parts = parallel_map(fn, [(k,) for k in range(n_folds)], n_jobs=n_jobs,
                         description="internal risk model (cross-fitted)")  # fmt: skip
    risk = np.empty(data.y.size)
    for k, values in enumerate(parts):
        risk[folds == k] = values
    if data.kind == "binary":
        return risk, logit(np.clip(risk, 1e-6, 1 - 1e-6)), folds
    return risk, risk.copy(), folds


# ---------------------------------------------------------------------------------------------
# effects within a group
# ---------------------------------------------------------------------------------------------
def _nan_effect(status: str) -> dict:
    return {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "status": status}


def _binary_effects(y, arm) -> tuple[dict, dict]:
    """Risk difference (Newcombe hybrid score CI) and odds ratio (logistic GLM, Wald CI)."""
    import statsmodels.api as sm

    k1, n1 = int(y[arm == 1].sum()), int((arm == 1).sum())
    k0, n0 = int(y[arm == 0].sum()), int((arm == 0).sum())
    lo, hi = newcombe_difference(k1, n1, k0, n0, z=_Z)
    absolute = {"estimate": k1 / n1 - k0 / n0, "ci_low": lo, "ci_high": hi, "status": "ok"}
    if min(k1, k0, n1 - k1, n0 - k0) == 0:
        return absolute, _nan_effect("empty cell: odds ratio not estimable")
    fit = _logistic(y, sm.add_constant(arm.astype(float)))
    if fit is None:
        return absolute, _nan_effect("logistic model did not converge")
    b, se = float(fit.params[1]), float(fit.bse[1])
    relative = {"estimate": np.exp(b), "ci_low": np.exp(b - _Z * se),
                "ci_high": np.exp(b + _Z * se), "status": "ok"}  # fmt: skip
    return absolute, relative


def _continuous_effects(y, arm) -> tuple[dict, dict]:
    """Mean difference: OLS on arm with HC2 (Welch) standard error, normal CI."""
    import statsmodels.api as sm

    fit = sm.OLS(y, sm.add_constant(arm.astype(float))).fit(cov_type="HC2")
    b, se = float(fit.params[1]), float(fit.bse[1])
    absolute = {"estimate": b, "ci_low": b - _Z * se, "ci_high": b + _Z * se, "status": "ok"}
    return absolute, _nan_effect("no relative scale for a continuous outcome")


def km_rmst(time: np.ndarray, event: np.ndarray, horizon: float) -> tuple[float, float]:
    """Kaplan–Meier restricted mean survival time up to ``horizon`` and its standard error.

    ``RMST = ∫_0^τ S(t) dt``; ``Var = Σ_j A_j² d_j / (Y_j (Y_j - d_j))`` over event times
    ``t_j ≤ τ`` with ``A_j = ∫_{t_j}^τ S(t) dt`` (Klein & Moeschberger 2003, eq. 4.5.2; the
    estimator of the survRM2 package).
    """
    u = np.unique(time[(event == 1) & (time <= horizon)])
    at_risk = (time[:, None] >= u[None, :]).sum(axis=0).astype(float)
    deaths = ((time[:, None] == u[None, :]) & (event[:, None] == 1)).sum(axis=0).astype(float)
    surv = np.cumprod(1 - deaths / at_risk)
    edges = np.append(u, horizon)
    pieces = surv * np.diff(edges)  # S on [t_j, t_{j+1})
    rmst = float((u[0] if u.size else horizon) + pieces.sum())
    tail = np.cumsum(pieces[::-1])[::-1]  # A_j
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(at_risk > deaths, tail**2 * deaths / (at_risk * (at_risk - deaths)), 0.0)
    return rmst, float(np.sqrt(terms.sum()))


def _survival_effects(time, event, arm, horizon) -> tuple[dict, dict]:
    """RMST difference at ``horizon`` (Kaplan–Meier, Wald CI) and hazard ratio (PHReg, Efron)."""
    r1, s1 = km_rmst(time[arm == 1], event[arm == 1], horizon)
    r0, s0 = km_rmst(time[arm == 0], event[arm == 0], horizon)
    d, sd = r1 - r0, float(np.hypot(s1, s0))
    absolute = {"estimate": d, "ci_low": d - _Z * sd, "ci_high": d + _Z * sd, "status": "ok"}
    if event[arm == 1].sum() == 0 or event[arm == 0].sum() == 0:
        return absolute, _nan_effect("no event in an arm: hazard ratio not estimable")
    fit = _phreg(time, event, arm[:, None].astype(float))
    if fit is None:
        return absolute, _nan_effect("Cox model did not converge")
    b, se = float(fit.params[0]), float(fit.bse[0])
    relative = {"estimate": np.exp(b), "ci_low": np.exp(b - _Z * se),
                "ci_high": np.exp(b + _Z * se), "status": "ok"}  # fmt: skip
    return absolute, relative


def _logistic(y, exog):
    """Logistic GLM (statsmodels); ``None`` under (quasi-)separation or non-convergence."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            fit = sm.GLM(y, exog, family=sm.families.Binomial()).fit()
        except (ConvergenceWarning, PerfectSeparationWarning, np.linalg.LinAlgError):
            return None
    ok = np.all(np.isfinite(fit.bse)) and np.all(np.abs(fit.params) < 50)
    return fit if ok else None


def _phreg(time, event, exog):
    """Fit statsmodels' PHReg (Efron ties); ``None`` when the fit does not converge."""
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            fit = PHReg(time, exog, status=event, ties="efron").fit()
        except (ConvergenceWarning, np.linalg.LinAlgError):
            return None
    return fit if np.all(np.isfinite(fit.bse)) else None


def _group_row(data: _PredData, sel: np.ndarray, horizon: float | None) -> dict:
    y, arm = data.y[sel], data.arm[sel]
    row = {"n_treated": int(arm.sum()), "n_control": int((1 - arm).sum())}
    if data.kind == "binary":
        row |= {"events_treated": int(y[arm == 1].sum()), "events_control": int(y[arm == 0].sum())}
        absolute, relative = _binary_effects(y, arm)
    elif data.kind == "survival":
        ev = data.event[sel]
        row |= {
            "events_treated": int(ev[arm == 1].sum()),
            "events_control": int(ev[arm == 0].sum()),
        }
        absolute, relative = _survival_effects(y, ev, arm, horizon)
    else:
        row |= {"events_treated": np.nan, "events_control": np.nan}
        absolute, relative = _continuous_effects(y, arm)
    for scale, eff in (("absolute", absolute), ("relative", relative)):
        row |= {scale: eff["estimate"], f"{scale}_ci_low": eff["ci_low"],
                f"{scale}_ci_high": eff["ci_high"]}  # fmt: skip
    statuses = [e["status"] for e in (absolute, relative) if e["status"] != "ok"]
    row["status"] = "; ".join(statuses) if statuses else "ok"
    return row


# ---------------------------------------------------------------------------------------------
# effects along continuous risk
# ---------------------------------------------------------------------------------------------
def _design(arm, lp):
    return np.column_stack([np.ones(arm.size), arm, lp, arm * lp]).astype(float)


def _linear_effect(b, cov, grid):
    """``b[1] + b[3] * grid`` (arm effect at each grid value) and its delta-method SE."""
    est = b[1] + b[3] * grid
    var = cov[1, 1] + 2 * grid * cov[1, 3] + grid**2 * cov[3, 3]
    return est, np.sqrt(var)


def _interaction_row(scale, measure, method, b, se):
    p = float(2 * stats.norm.sf(abs(b / se))) if se > 0 else np.nan
    return {"scale": scale, "estimate": b, "se": se, "ci_low": b - _Z * se,
            "ci_high": b + _Z * se, "p_value": p, "measure": measure, "method": method}  # fmt: skip


def continuous_effects(data: _PredData, lp: np.ndarray, grid: np.ndarray, horizon):
    """Effects at ``grid`` values of f(risk) and the risk × treatment interaction tests."""
    import statsmodels.api as sm

    X = _design(data.arm, lp)
    G = np.column_stack([np.ones(grid.size), grid])
    out = pd.DataFrame({"risk_lp": grid})
    rows = []
    per = "per unit of f(risk)"
    if data.kind == "binary":
        fit = _logistic(data.y, X)
        b = np.full(4, np.nan) if fit is None else np.asarray(fit.params)
        cov = np.full((4, 4), np.nan) if fit is None else np.asarray(fit.cov_params())
        log_or, se = _linear_effect(b, cov, grid)
        p0 = expit(G @ b[[0, 2]])
        p1 = expit(G @ (b[[0, 2]] + b[[1, 3]]))
        # delta method: gradient of p1 - p0 in (b0, b_arm, b_risk, b_arm×risk)
        grad = (p1 * (1 - p1))[:, None] * np.column_stack([G[:, 0], G[:, 0], grid, grid])
        grad -= (p0 * (1 - p0))[:, None] * np.column_stack([G[:, 0], 0 * grid, grid, 0 * grid])
        rd_se = np.sqrt(np.einsum("ij,jk,ik->i", grad, cov, grad))
        out["absolute"], out["absolute_se"] = p1 - p0, rd_se
        out["relative"] = np.exp(log_or)
        out["relative_ci_low"], out["relative_ci_high"] = (
            np.exp(log_or - _Z * se),
            np.exp(log_or + _Z * se),
        )
        rows.append(_interaction_row("relative", f"log odds ratio {per}",
                                     "logistic GLM outcome ~ arm * f(risk), Wald"
                                     + (" (separation / no convergence)" if fit is None else ""),
                                     float(b[3]), float(np.sqrt(cov[3, 3]))))  # fmt: skip
        additive = sm.OLS(data.y, X).fit(cov_type="HC2")
        rows.append(_interaction_row("additive", f"risk difference {per}",
                                     "linear probability model outcome ~ arm * f(risk), HC2",
                                     float(additive.params[3]), float(additive.bse[3])))  # fmt: skip
    elif data.kind == "survival":
        fit = _phreg(data.y, data.event, X[:, 1:])
        if fit is not None:
            bc = np.r_[0.0, np.asarray(fit.params)]
            cov = np.zeros((4, 4))
            cov[1:, 1:] = np.asarray(fit.cov_params())
            log_hr, se = _linear_effect(bc, cov, grid)
            out["relative"] = np.exp(log_hr)
            out["relative_ci_low"] = np.exp(log_hr - _Z * se)
            out["relative_ci_high"] = np.exp(log_hr + _Z * se)
            rows.append(_interaction_row("relative", f"log hazard ratio {per}",
                                         "Cox (PHReg, Efron ties) time ~ arm * f(risk), Wald",
                                         float(bc[3]), float(np.sqrt(cov[3, 3]))))  # fmt: skip
        pseudo = rmst_pseudo_values(data.y, data.event, horizon)
        fit = sm.OLS(pseudo, X).fit(cov_type="HC2")
        est, se = _linear_effect(np.asarray(fit.params), np.asarray(fit.cov_params()), grid)
        out["absolute"], out["absolute_se"] = est, se
        rows.append(_interaction_row("additive", f"RMST difference (days) {per}",
                                     f"OLS of RMST pseudo-values (tau {horizon:g}) ~ arm * "
                                     "f(risk), HC2", float(fit.params[3]),
                                     float(fit.bse[3])))  # fmt: skip
    else:
        fit = sm.OLS(data.y, X).fit(cov_type="HC2")
        est, se = _linear_effect(np.asarray(fit.params), np.asarray(fit.cov_params()), grid)
        out["absolute"], out["absolute_se"] = est, se
        rows.append(_interaction_row("additive", f"mean difference {per}",
                                     "OLS outcome ~ arm * f(risk), HC2", float(fit.params[3]),
                                     float(fit.bse[3])))  # fmt: skip
    for col in ("relative", "relative_ci_low", "relative_ci_high"):
        if col not in out:
            out[col] = np.nan
    out["absolute_ci_low"] = out["absolute"] - _Z * out["absolute_se"]
    out["absolute_ci_high"] = out["absolute"] + _Z * out["absolute_se"]
    return out, pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# the public function
# ---------------------------------------------------------------------------------------------
def _check_params(risk, n_groups, n_folds, horizon) -> None:
    if not isinstance(risk, str) or not risk:
        msg = f"risk={risk!r} must be 'internal' or the column name of a baseline score"
        raise ConfigError(msg)
    for name, value in (("n_groups", n_groups), ("n_folds", n_folds)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 2:
            msg = f"{name}={value!r} must be an integer >= 2"
            raise ConfigError(msg)
    if horizon is not None and (not isinstance(horizon, Real) or horizon <= 0):
        msg = f"horizon={horizon!r} must be a positive number of days (or None)"
        raise ConfigError(msg)


def risk_groups(risk: np.ndarray, arm: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Group 1..``n_groups`` per subject, cut at quantiles of everybody's risk (arm-blind)."""
    smallest = int(min(arm.sum(), (1 - arm).sum()))
    most = smallest // _MIN_PER_ARM_AND_GROUP
    if n_groups > most:
        msg = (
            f"n_groups={n_groups} is too large: with {smallest} subjects in the smaller arm "
            f"a group would hold fewer than {_MIN_PER_ARM_AND_GROUP} of them; use n_groups <= "
            f"{max(most, 1)}"
        )
        raise ConfigError(msg)
    cuts = np.quantile(risk, np.arange(1, n_groups) / n_groups)
    group = np.searchsorted(cuts, risk, side="right") + 1
    for g in range(1, n_groups + 1):
        sel = group == g
        if min(int(arm[sel].sum()), int((1 - arm[sel]).sum())) < 2:
            msg = (
                f"risk group {g} of {n_groups} has fewer than 2 subjects in an arm (tied risk "
                f"values?); use fewer groups (n_groups < {n_groups})"
            )
            raise ConfigError(msg)
    return group, cuts


def _discrimination(data: _PredData, values: np.ndarray) -> tuple[str, float]:
    """How well the baseline risk ranks the outcome: AUROC, Harrell's C or R² (both arms)."""
    from biomarkers.models._metrics import primary_point

    if data.kind == "survival":
        from sksurv.util import Surv

        y = Surv.from_arrays(data.event.astype(bool), data.y)
        return "Harrell's C", primary_point("survival", y, values)
    return ("AUROC", "R²")[data.kind == "continuous"], primary_point(data.kind, data.y, values)


def _default_horizon(data: _PredData, group: np.ndarray) -> float:
    """The shortest longest follow-up over groups × arms: every RMST is then estimable."""
    return float(min(data.y[(group == g) & (data.arm == a)].max()
                     for g in np.unique(group) for a in (0, 1)))  # fmt: skip


def risk_based(
    table: ad.AnnData | pd.DataFrame,
    *,
    outcome: str | tuple[str, str],
    arm: str,
    treated: str,
    risk: str = "internal",
    markers: Sequence[str] | None = None,
    covariates: Sequence[str] = (),
    n_groups: int = 4,
    n_folds: int = 5,
    horizon: float | None = None,
    random_state: int | np.random.Generator | None = 0,
    n_jobs: int | None = None,
    treatment_day: float = 0,
) -> RiskBasedResult:
    """Treatment effect by baseline risk: the risk-based analysis of the PATH statement.

    1. **Baseline risk**, blind to arm: a pre-specified score measured before treatment
       (``risk="clinical:meld@D0"``, or its short name ``"meld"``, ``"clif_c_aclf"``,
       ``"aarc"`` ...), or ``risk="internal"``: a penalised model of the outcome on the
       baseline ``markers`` and ``covariates``, both arms pooled and the arm not a predictor —
       ridge logistic regression (binary; penalty by approximate leave-one-out deviance), ridge
       regression (continuous; exact leave-one-out) or an elastic-net Cox model (survival;
       Coxnet, ``l1_ratio=0.5``, penalty by inner 3-fold CV of Harrell's C, the all-zero
       model excluded). The internal model
       is **cross-fitted**: each subject's risk comes from a model fitted on the other
       ``n_folds - 1`` folds, the folds drawn from the seed alone (blind to arm and outcome).
       PATH's caveat: a risk model fitted on the whole trial and evaluated on the same subjects
       is overfitted to their outcomes, and since those outcomes carry the treatment effect the
       fit can induce spurious heterogeneity of the effect across risk groups; cross-fitting
       removes that.
    2. **Effect by risk group**: ``n_groups`` groups cut at quantiles of everybody's risk
       (arm-blind); per group n and events per arm, the absolute effect (risk difference with
       Newcombe's hybrid score CI; mean difference by OLS with HC2 (Welch) SE; RMST
       difference up to ``horizon`` from Kaplan–Meier with its standard variance) and the
       relative effect (odds ratio from a logistic GLM; hazard ratio from statsmodels
       ``PHReg``, Efron ties; Wald CIs), and the same for all subjects.
    3. **Effect along continuous risk**: ``outcome ~ arm * f(risk)`` with f the logit of an
       internal risk (binary), the Cox linear predictor (survival), the prediction
       (continuous) or a pre-specified score as it is; the absolute and relative effect at
       20 values of f between its 5th and 95th percentiles (delta-method CIs), and the risk ×
       treatment interaction test on the relative scale (logistic / Cox) and on the additive
       scale (linear probability model, OLS of RMST pseudo-values at ``horizon``, or OLS;
       HC2 SEs).

    Parameters
    ----------
    table
        FeatureTable (AnnData) or a DataFrame with one row per subject, as for
        :func:`biomarkers.models.predictive`.
    outcome
        Binary, continuous, ``(event, time)`` survival column(s) or an outcome named in
        ``uns["outcomes"]``, as for :func:`~biomarkers.models.predictive`.
    arm
        Column holding the randomised arm (exactly two labels).
    treated
        Label of the treated arm in ``arm``.
    risk
        ``"internal"`` or the column (feature name) of a pre-specified baseline score.
    markers
        Predictors of the internal risk model (default: every feature measured by
        ``treatment_day``); ignored with a pre-specified score.
    covariates
        Further baseline predictors of the internal risk model (numeric, or categorical →
        one-hot); ignored with a pre-specified score.
    n_groups
        Number of risk groups (quarters by default); each arm needs at least 5 subjects per
        group on average.
    n_folds
        Cross-fitting folds of the internal risk model.
    horizon
        Survival only: day up to which the RMST is computed; default the shortest longest
        follow-up over risk groups × arms, so every group's RMST is estimable.
    {random_state}
    {n_jobs}
    treatment_day
        Study day treatment starts; the risk score and the predictors must be measured by then
        (:class:`~biomarkers.exceptions.LeakageError` otherwise).

    Returns
    -------
    :class:`RiskBasedResult` with ``groups`` (``to_frame()``, ``risk_based.csv``),
    ``continuous``, ``interaction``, ``subjects`` and ``params``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n = 400
    >>> df = pd.DataFrame({{"arm": np.where(rng.random(n) < 0.5, "MSC", "SMT"),
    ...                    "meld": rng.normal(25, 6, n)}})
    >>> lin = -4 + 0.15 * df["meld"] - 0.8 * (df["arm"] == "MSC")
    >>> df["death"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    >>> res = risk_based(df, outcome="death", arm="arm", treated="MSC", risk="meld")
    >>> res.groups["group"].tolist()
    ['1', '2', '3', '4', 'all']
    >>> res.interaction["scale"].tolist()
    ['relative', 'additive']
    """
    _check_params(risk, n_groups, n_folds, horizon)
    seed = root_seed(random_state)
    internal = risk == "internal"
    score = None if internal else resolve_risk(table, risk, float(treatment_day))
    data = prepare(
        table,
        outcome=outcome,
        arm=arm,
        treated=treated,
        covariates=covariates if internal else (),
        markers=markers if internal else [score],
        treatment_day=treatment_day,
    )
    if internal:
        values, lp, folds = internal_risk(data, n_folds=n_folds, seed=seed, n_jobs=n_jobs)
        model = {
            "binary": "ridge logistic regression (penalty by approximate leave-one-out deviance)",
            "continuous": "ridge regression (penalty by exact leave-one-out error)",
            "survival": "elastic-net Cox (Coxnet, l1_ratio 0.5, penalty by inner 3-fold CV of C)",
        }[data.kind]
        model = f"internal, cross-fitted over {n_folds} folds, blind to arm: {model}"
    else:
        values = data.X[:, 0]
        known = np.isfinite(values)
        if not known.all():
            warnings.warn(
                f"{int((~known).sum())} subjects without a finite {score!r} are left out of "
                "the risk-based analysis",
                DataQualityWarning,
                stacklevel=2,
            )
            data, values = _subset(data, known), values[known]
        lp, folds = values.copy(), np.full(values.size, -1)
        model = f"pre-specified baseline score {score}"
    group, cuts = risk_groups(values, data.arm, n_groups)
    metric, discrimination = _discrimination(data, values)
    if data.kind == "survival" and horizon is None:
        horizon = _default_horizon(data, group)
    logger.info("risk-based analysis: %s; %d groups", model, n_groups)

    rows = []
    for g in [*range(1, n_groups + 1), "all"]:
        sel = np.ones(group.size, bool) if g == "all" else group == g
        rows.append({"group": str(g), "risk_low": float(values[sel].min()),
                     "risk_high": float(values[sel].max()),
                     "risk_median": float(np.median(values[sel])),
                     **_group_row(data, sel, horizon)})  # fmt: skip
    measures = {
        "binary": ("risk difference", "odds ratio"),
        "continuous": ("mean difference", ""),
        "survival": (f"RMST difference (days) up to {horizon or 0:g}", "hazard ratio"),
    }[data.kind]
    groups = pd.DataFrame(rows)
    groups.insert(8, "absolute_measure", measures[0])
    groups.insert(12, "relative_measure", measures[1])

    grid = np.linspace(*np.quantile(lp, [0.05, 0.95]), _N_GRID)
    continuous, interaction = continuous_effects(data, lp, grid, horizon)
    on_prob = internal and data.kind == "binary"
    continuous.insert(0, "risk", expit(grid) if on_prob else grid)
    continuous["absolute_measure"], continuous["relative_measure"] = measures
    continuous = continuous.drop(columns="absolute_se")

    subjects = pd.DataFrame({
        "subject_id": data.subject_id,
        "arm": np.where(data.arm == 1, data.treated_label, data.control_label),
        "risk": values, "risk_lp": lp, "group": group.astype(str), "fold": folds,
    })  # fmt: skip
    params = {
        "outcome": data.outcome_name,
        "kind": data.kind,
        "positive_class": data.positive_class,
        "arm": arm,
        "treated": data.treated_label,
        "control": data.control_label,
        "n_treated": int(data.arm.sum()),
        "n_control": int((1 - data.arm).sum()),
        "risk": risk if internal else score,
        "risk_model": model,
        "risk_discrimination": {
            "metric": metric,
            "value": discrimination,
            "on": "out-of-fold risk" if internal else "the score",
        },
        "risk_scale": "probability" if on_prob else ("linear predictor" if internal else "score"),
        "f_risk": "logit" if on_prob else "identity",
        "predictors": [*data.marker_names, *data.covariate_names] if internal else [score],
        "n_groups": int(n_groups),
        "cuts": [float(c) for c in cuts],
        "n_folds": int(n_folds) if internal else None,
        "horizon": None if horizon is None else float(horizon),
        "absolute_measure": measures[0],
        "relative_measure": measures[1] or None,
        "random_state": random_state if isinstance(random_state, int | None) else "Generator",
        "seed": seed,
        "treatment_day": float(treatment_day),
    }
    return RiskBasedResult(groups=groups, continuous=continuous, interaction=interaction,
                           subjects=subjects, params=params)  # fmt: skip


if risk_based.__doc__:
    risk_based.__doc__ = risk_based.__doc__.format(
        random_state=doc_random_state.replace("\n", "\n    "),
        n_jobs=doc_n_jobs.replace("\n", "\n    "),
    )
