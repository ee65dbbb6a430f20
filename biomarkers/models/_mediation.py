"""Causal mediation at a landmark: does the treatment act on the outcome through an early marker."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from biomarkers._atomic import write_json, write_table
from biomarkers._names import known_at_day
from biomarkers._validation import check_choice, check_random_state, did_you_mean, format_ids
from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.models._early_response import _timed_inputs

if TYPE_CHECKING:
    import os

__all__ = ["MediationResult", "mediation"]

KINDS = ("interventional", "natural")
# confounding strengths |rho|: a confounder that makes the two models' errors correlate by 0.5
# is already a very strong one; for a binary outcome the risk difference saturates beyond that
STRENGTHS = tuple(float(r) for r in np.round(np.linspace(0.0, 0.5, 11), 2))
_GH_X, _GH_W = np.polynomial.hermite.hermgauss(30)
_GH_W = _GH_W / np.sqrt(np.pi)
_LOGISTIC_SD = np.pi / np.sqrt(3.0)

_ASSUMPTIONS = (
    "Treatment is randomised: no confounding of treatment-mediator or treatment-outcome. "
    "The mediator is not randomised: the estimate assumes no unmeasured mediator-outcome "
    "confounding given treatment and the covariates (see the sensitivity analysis: how strong a "
    "confounder, as the correlation rho between the mediator and outcome model errors, would "
    "change the indirect effect), and no mediator-outcome confounder affected by treatment "
    "(none is modelled). The population is the subjects event-free and sampled at the mediator's "
    "visit: a post-randomisation subgroup when treatment changes early survival, so the effects "
    "are those among landmark survivors. Models: linear mediator with normal errors; linear "
    "(continuous) or logistic (binary) outcome with treatment x mediator interaction."
)
_KIND_NOTES = {
    "natural": (
        "Natural effects: NIE = E[Y(1, M(1))] - E[Y(1, M(0))], NDE = E[Y(1, M(0))] - E[Y(0, M(0))]; "
        "their identification also needs cross-world independence of the potential mediator and outcome."
    ),
    "interventional": (
        "Interventional effects: the mediator is set to a random draw from its distribution under "
        "treatment or control given the covariates (VanderWeele, Vansteelandt & Robins 2014); no "
        "cross-world assumption. Without treatment-induced mediator-outcome confounders they are "
        "identified by the same g-formula as the natural effects, so the numbers coincide."
    ),
}


@dataclass
class _Fit:
    """Coefficients of the two models (internal)."""

    a: np.ndarray  # mediator model: 1, T, C
    sigma_m: float
    b: np.ndarray  # outcome model: 1, T, M, T*M, C
    sigma_y: float  # residual SD (continuous) or the logistic latent SD (binary)


def _design(t, m, C, *, interaction: bool) -> np.ndarray:
    cols = [np.ones_like(t), t, m] + ([t * m] if interaction else [np.zeros_like(t)])
    return np.column_stack([*cols, C])


def _fit_models(t, m, y, C, *, binary: bool, interaction: bool) -> _Fit:
    import statsmodels.api as sm

    Xm = np.column_stack([np.ones_like(t), t, C])
    mres = sm.OLS(m, Xm).fit()
    Xy = _design(t, m, C, interaction=interaction)
    if not interaction:
        Xy = np.delete(Xy, 3, axis=1)
    if binary:
        yres = sm.Logit(y, Xy).fit(disp=False, method="newton", maxiter=100)
        sigma_y = _LOGISTIC_SD
    else:
        yres = sm.OLS(y, Xy).fit()
        sigma_y = float(np.sqrt(yres.scale))
    b = np.asarray(yres.params, dtype=float)
    if not interaction:
        b = np.insert(b, 3, 0.0)
    return _Fit(np.asarray(mres.params, dtype=float), float(np.sqrt(mres.scale)), b, sigma_y)


def _mean_outcome(fit: _Fit, t: float, t_m: float, C, *, binary: bool, gamma=None) -> float:
    """E[Y(t, M(t_m))]: the mediator drawn from its model under ``t_m``, averaged over subjects."""
    g = fit.b[2] if gamma is None else gamma
    mu = fit.a[0] + fit.a[1] * t_m + C @ fit.a[2:]
    m = mu[:, None] + np.sqrt(2.0) * fit.sigma_m * _GH_X[None, :]
    eta = fit.b[0] + fit.b[1] * t + (g + fit.b[3] * t) * m + (C @ fit.b[4:])[:, None]
    f = 1.0 / (1.0 + np.exp(-eta)) if binary else eta
    return float((f @ _GH_W).mean())


def _effects(fit: _Fit, C, *, binary: bool, gamma=None) -> dict[str, float]:
    q = {
        (t, tm): _mean_outcome(fit, t, tm, C, binary=binary, gamma=gamma)
        for t in (0, 1)
        for tm in (0, 1)
    }
    ie, de = q[1, 1] - q[1, 0], q[1, 0] - q[0, 0]
    te = ie + de
    return {
        "indirect": ie,
        "direct": de,
        "total": te,
        "proportion_mediated": ie / te if te != 0 else np.nan,
    }


def _gamma_at(fit: _Fit, rho: float) -> float:
    """Mediator coefficient if the mediator and outcome errors correlated by ``rho`` (Imai et al. 2010).

    With ``e1 = gamma * e2 + e3`` (total-effect model error), ``sigma1^2 = gamma^2 sigma2^2 +
    sigma3^2`` and ``rho~ = corr(e1, e2)``, ``gamma(rho) = sigma1 / sigma2 (rho~ - rho sqrt((1 -
    rho~^2) / (1 - rho^2)))``: ``gamma(0)`` is the estimate and ``gamma(rho~) = 0``. For a binary
    outcome the outcome error is the logistic latent one (SD pi / sqrt(3)).
    """
    g, s2, s3 = fit.b[2], fit.sigma_m, fit.sigma_y
    s1 = np.sqrt(g**2 * s2**2 + s3**2)
    rt = g * s2 / s1
    return float(s1 / s2 * (rt - rho * np.sqrt((1 - rt**2) / (1 - rho**2))))


def _sensitivity(fit: _Fit, C, *, binary: bool, strengths: Sequence[float]) -> pd.DataFrame:
    """Indirect effect for confounding of growing strength in the direction that explains it away."""
    sign = 1.0 if fit.b[2] + fit.b[3] >= 0 else -1.0
    rows = []
    for s in strengths:
        g = _gamma_at(fit, sign * s)
        rows.append((s, sign * s, g, _effects(fit, C, binary=binary, gamma=g)["indirect"]))
    return pd.DataFrame(rows, columns=["strength", "rho", "mediator_coefficient", "indirect"])


def _explaining_rho(fit: _Fit) -> float:
    """The rho at which the indirect effect is 0 (NaN when none in (-1, 1)).

    The indirect effect is 0 exactly when the treated arm's mediator slope ``gamma(rho) + delta``
    is 0, and ``gamma(rho)`` is monotone in rho: a root of that slope.
    """
    from scipy.optimize import brentq

    def slope(r: float) -> float:
        return _gamma_at(fit, r) + fit.b[3]

    lo, hi = -0.9999, 0.9999
    if np.sign(slope(lo)) == np.sign(slope(hi)):
        return float("nan")
    return float(brentq(slope, lo, hi, xtol=1e-8))


@dataclass(kw_only=True)
class MediationResult:
    """Mediation of the treatment effect through one early marker (see :func:`mediation`).

    Attributes
    ----------
    effects
        ``effect`` (``indirect, direct, total, proportion_mediated``), ``kind``, ``estimate``,
        ``ci_low``, ``ci_high``, ``scale``.
    sensitivity
        ``strength, rho, mediator_coefficient, indirect``: the indirect effect if unmeasured
        confounding made the mediator and outcome errors correlate by ``rho`` (``strength`` =
        ``|rho|``, signed to shrink the effect).
    rho_explaining_away
        The ``rho`` at which the indirect effect vanishes (NaN if none).
    population
        Subjects per arm analysed, removed and why, the landmark day.
    assumptions
        What the estimate assumes, in words.
    params
        The call's arguments.
    """

    effects: pd.DataFrame
    sensitivity: pd.DataFrame
    rho_explaining_away: float
    population: dict[str, Any]
    assumptions: str
    params: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """The effects table (a copy)."""
        return self.effects.copy()

    def save(self, directory: str | os.PathLike) -> list[Path]:
        """Write ``mediation_effects.csv``, ``mediation_sensitivity.csv`` and ``mediation.json``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        meta = {
            "rho_explaining_away": self.rho_explaining_away,
            "population": self.population,
            "assumptions": self.assumptions,
            "params": self.params,
        }
        return [
            write_table(out / "mediation_effects.csv", self.effects),
            write_table(out / "mediation_sensitivity.csv", self.sensitivity),
            write_json(out / "mediation.json", meta),
        ]

    def _repr_html_(self) -> str:
        return (
            f"<div><b>MediationResult</b> — mediator <code>{html.escape(str(self.params['mediator']))}</code>, "
            f"{html.escape(str(self.population['n_by_arm']))}; rho explaining the indirect effect away: "
            f"{self.rho_explaining_away:.2f}{self.effects.to_html(index=False)}"
            f"<p>{html.escape(self.assumptions)}</p></div>"
        )


def _frame(inp, mediator: str, covariates: Sequence[str]) -> pd.DataFrame:
    """Treatment, mediator, outcome and covariates per subject (NaN where missing)."""
    if mediator not in inp.feats.columns:
        msg = (
            f"mediator {mediator!r} not found{did_you_mean(mediator, inp.feats.columns)}; "
            "pass mediator= with an on-treatment feature (e.g. 'cytokine:HGF@D7') or a column"
        )
        raise SchemaError(msg)
    frame = pd.DataFrame({"t": inp.treat, "m": inp.feats[mediator], "y": inp.y})
    for c in covariates:
        src = inp.obs if c in inp.obs.columns else inp.feats
        if c not in src.columns:
            msg = (
                f"covariate {c!r} not found{did_you_mean(c, [*inp.obs.columns, *inp.feats.columns])}; "
                f"available: {format_ids(list(inp.obs.columns))}; pass covariates= with numeric columns"
            )
            raise SchemaError(msg)
        frame[c] = pd.to_numeric(src[c], errors="coerce")
    return frame


def mediation(
    table,
    *,
    outcome,
    mediator: str,
    arm: str = "arm",
    treated: str | None = None,
    covariates: Sequence[str] = (),
    n_bootstraps: int = 1000,
    random_state: int | np.random.Generator | None = None,
    kind: str = "interventional",
    interaction: bool = True,
    at_risk: pd.Series | np.ndarray | None = None,
    ci: float = 0.95,
    strengths: Sequence[float] = STRENGTHS,
    visits: Mapping[str, float] | None = None,
) -> MediationResult:
    """Direct and indirect effects of treatment through an early (on-treatment) marker.

    Parametric g-formula (VanderWeele's regression-based approach): a linear model of the
    mediator on treatment (+ covariates) and a linear (continuous outcome) or logistic (binary
    outcome) model of the outcome on treatment, mediator, their product (``interaction``) and
    the covariates; the mediator is integrated over its fitted normal distribution under each
    arm (Gauss–Hermite), the outcome averaged over the analysed subjects. Effects are mean
    (continuous) or risk (binary) differences; percentile bootstrap CIs resample subjects.
    The population is the landmark population of the mediator's visit: subjects with the
    mediator observed (alive and sampled), an outcome label and, if given, ``at_risk``.

    The sensitivity analysis (Imai, Keele & Yamamoto 2010) recomputes the indirect effect for
    an assumed correlation ``rho`` between the errors of the mediator and outcome models (what
    an unmeasured mediator–outcome confounder would induce), for growing strengths ``|rho|`` in
    the direction that explains the effect away; ``rho_explaining_away`` is the correlation that
    would make it 0. For a binary outcome the coefficient is shifted on the logistic latent scale
    (error SD pi / sqrt(3)) and the risk difference recomputed; beyond ``|rho|`` of about 0.5
    the risks saturate, so the default strengths stop there.

    Parameters
    ----------
    table
        FeatureTable (AnnData) or DataFrame indexed by subject (or with ``subject_id``).
    outcome
        Binary or continuous outcome: a name in ``uns["outcomes"]`` or a column.
    mediator
        The on-treatment feature (e.g. ``cytokine:HGF@D7`` or a change ``@D7-D0``).
    arm
        Arm column.
    treated
        Label of the treated arm; every other arm is the control.
    covariates
        Baseline covariates (numeric columns or features) in both models.
    n_bootstraps
        Bootstrap resamples for the CIs (``0`` skips them).
    random_state
        Seed of the bootstrap.
    kind
        ``"interventional"`` or ``"natural"`` effects (names and assumptions; see Notes).
    interaction
        Include the treatment × mediator term in the outcome model.
    at_risk
        Optional boolean per subject: event-free and followed at the mediator's visit.
    ci
        Confidence level.
    strengths
        Confounding strengths ``|rho|`` (in [0, 1)) of the sensitivity table, applied in the
        direction that shrinks the indirect effect.
    visits
        Visit schedule for the mediator's day.

    Returns
    -------
    A :class:`MediationResult` (``effects``, ``sensitivity``, ``rho_explaining_away``,
    ``population``, ``assumptions``).

    Raises
    ------
    SchemaError
        If the mediator, a covariate or the outcome is missing, or the outcome is a survival one.
    ConfigError
        If ``kind``, ``treated``, ``ci`` or ``n_bootstraps`` is not allowed.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import biomarkers as bm
    >>> rng = np.random.default_rng(0)
    >>> t = rng.integers(0, 2, 300)
    >>> m = 0.8 * t + rng.normal(size=300)
    >>> df = pd.DataFrame({"arm": np.where(t == 1, "MSC", "SMT"), "cytokine:HGF@D7": m,
    ...                    "y": 0.5 * m + 0.3 * t + rng.normal(size=300)})
    >>> res = bm.models.mediation(df, outcome="y", mediator="cytokine:HGF@D7", treated="MSC",
    ...                           n_bootstraps=50, random_state=0)
    >>> list(res.effects["effect"])
    ['indirect', 'direct', 'total', 'proportion_mediated']

    Notes
    -----
    Without treatment-induced mediator–outcome confounders (none is modelled), natural and
    interventional effects have the same g-formula, so ``kind`` changes the effects' names and the
    assumptions stated, not the numbers.
    """
    check_choice("kind", kind, KINDS)
    if isinstance(n_bootstraps, bool) or not isinstance(n_bootstraps, int) or n_bootstraps < 0:
        msg = f"n_bootstraps={n_bootstraps!r} must be an integer >= 0 (e.g. 1000)"
        raise ConfigError(msg)
    if not 0 < ci < 1:
        msg = f"ci={ci!r} must lie strictly between 0 and 1, e.g. 0.95"
        raise ConfigError(msg)
    inp = _timed_inputs(table, outcome=outcome, arm=arm, treated=treated, at_risk=at_risk)
    if inp.kind == "survival":
        msg = (
            f"outcome {inp.outcome_name!r} is a survival outcome; mediation takes a binary or "
            "continuous outcome at a landmark (e.g. death by day 90 among those alive at the visit)"
        )
        raise SchemaError(msg)
    frame = _frame(inp, mediator, covariates)
    ok = frame.notna().all(axis=1)
    data = frame[ok]
    n1, n0 = int((data["t"] == 1).sum()), int((data["t"] == 0).sum())
    if min(n1, n0) < 10:
        msg = (
            f"mediation needs >= 10 subjects per arm with mediator {mediator!r} and outcome "
            f"observed; found treated {n1}, control {n0}"
        )
        raise SchemaError(msg)
    binary = inp.kind == "binary"
    cov = list(covariates)

    def estimate(d: pd.DataFrame):
        t, m, y = (d[c].to_numpy(dtype=float) for c in ("t", "m", "y"))
        C = d[cov].to_numpy(dtype=float) if cov else np.empty((len(d), 0))
        fit = _fit_models(t, m, y, C, binary=binary, interaction=interaction)
        return fit, C

    fit, C = estimate(data)
    point = _effects(fit, C, binary=binary)
    boots = _bootstrap(
        data, estimate, binary=binary, n=n_bootstraps, rng=check_random_state(random_state)
    )
    alpha = (1 - ci) / 2
    scale = "risk difference" if binary else "mean difference"
    rows = []
    for name, est in point.items():
        lo, hi = np.nanquantile(boots[name], [alpha, 1 - alpha]) if len(boots) else (np.nan, np.nan)
        rows.append(
            (
                name,
                kind,
                est,
                float(lo),
                float(hi),
                scale if name != "proportion_mediated" else "ratio",
            )
        )
    effects = pd.DataFrame(
        rows, columns=["effect", "kind", "estimate", "ci_low", "ci_high", "scale"]
    )
    sens = _sensitivity(fit, C, binary=binary, strengths=strengths)
    rho0 = _explaining_rho(fit)
    population = {
        "landmark_day": known_at_day(mediator, visits),
        "n_by_arm": {"treated": n1, "control": n0},
        "excluded": inp.excluded
        | {
            "mediator, outcome or a covariate missing (not alive or not sampled at the visit)": int(
                (~ok).sum()
            )
        },
    }
    params = {
        "outcome": inp.outcome_name,
        "mediator": mediator,
        "arm": arm,
        "treated": treated,
        "covariates": cov,
        "n_bootstraps": n_bootstraps,
        "kind": kind,
        "interaction": interaction,
        "ci": ci,
        "outcome_kind": inp.kind,
    }
    return MediationResult(
        effects=effects,
        sensitivity=sens,
        rho_explaining_away=rho0,
        population=population,
        assumptions=f"{_ASSUMPTIONS} {_KIND_NOTES[kind]}",
        params=params,
    )


def _bootstrap(data: pd.DataFrame, estimate, *, binary: bool, n: int, rng) -> pd.DataFrame:
    """Effects on ``n`` resamples of subjects within arm (a failed fit is left out)."""
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    idx = {a: np.flatnonzero(data["t"].to_numpy() == a) for a in (0.0, 1.0)}
    out = []
    for _ in range(n):
        pick = np.concatenate([rng.choice(v, v.size) for v in idx.values()])
        try:
            fit, C = estimate(data.iloc[pick])
        except (np.linalg.LinAlgError, PerfectSeparationError, ValueError):
            continue
        out.append(_effects(fit, C, binary=binary))
    return pd.DataFrame(out)
