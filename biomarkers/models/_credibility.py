"""Credibility card of predictive markers (ICEMAN-style, Schandelmaier et al., CMAJ 2020)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from biomarkers._validation import check_choice
from biomarkers.exceptions import ConfigError

if TYPE_CHECKING:
    from biomarkers.models._pred_data import _PredData
    from biomarkers.models._pred_result import PredictiveResult

__all__ = ["credibility"]

RD_COLUMNS = ["interaction_rd", "interaction_rd_ci_low", "interaction_rd_ci_high"]
RATINGS = ("very low", "low", "moderate", "high")
# ICEMAN: "is the number of effect modifiers tested small (<= 5)?"
FEW_MODIFIERS = 5
_ABS_COLUMNS = [
    "absolute_scale",
    "interaction_abs",
    "interaction_abs_ci_low",
    "interaction_abs_ci_high",
]
CARD_COLUMNS = [
    "marker",
    "label",
    "analysed",
    "prespecified",
    "hypothesised",
    "direction_as_hypothesised",
    "n_modifiers_tried",
    "relative_scale",
    "interaction",
    "ci_low",
    "ci_high",
    "p_interaction",
    "q_value_interaction",
    "absolute_scale",
    "interaction_abs",
    "interaction_abs_ci_low",
    "interaction_abs_ci_high",
    "n_related_outcomes",
    "consistent_related",
    "consistency",
    "continuous_as_continuous",
    "rating",
    "evidence",
]


def absolute_interactions(markers: pd.DataFrame, data: _PredData) -> pd.DataFrame:
    """Binary outcome: the interaction on the risk-difference scale, per SD of the marker.

    A linear probability model ``y ~ arm + z + arm × z (+ covariates)`` per marker (``z``
    standardised as in the logistic models, complete cases) with HC3 robust standard errors,
    as statsmodels ``OLS(...).fit(cov_type="HC3")`` (the tests check it), batched over markers:
    how much the risk difference between arms changes per SD.
    """
    from biomarkers.models._pred_interaction import _BLOCK, _batched_inv, _standardise

    keep, Z, _, _ = _standardise(data.X)
    arm, y = data.arm.astype(float), data.y.astype(float)
    out = np.full((len(markers), 3), np.nan)
    quant = stats.norm.ppf(0.975)
    todo = np.flatnonzero((markers["status"] == "ok").to_numpy())
    for start in range(0, todo.size, _BLOCK):
        idx = todo[start : start + _BLOCK]
        Zb = Z[:, idx].T  # m × n
        cols = [np.ones_like(Zb), np.broadcast_to(arm, Zb.shape), Zb, arm[None, :] * Zb]
        Xt = np.stack(cols + [np.broadcast_to(c, Zb.shape) for c in data.C.T], axis=2)
        w = keep[:, idx].T.astype(float)
        with np.errstate(all="ignore"):
            bread = _batched_inv(np.einsum("mnp,mn,mnq->mpq", Xt, w, Xt))
            beta = np.einsum("mpq,mnq,mn->mp", bread, Xt, w * y)
            resid = (y[None, :] - np.einsum("mnp,mp->mn", Xt, beta)) * w
            lev = np.einsum("mnp,mpq,mnq->mn", Xt, bread, Xt) * w
            u = resid**2 / (1 - lev) ** 2
            meat = np.einsum("mnp,mn,mnq->mpq", Xt, u, Xt)
            se = np.sqrt(np.einsum("mpq,mqr,mrp->mp", bread, meat, bread)[:, 3])
        est = beta[:, 3]
        out[idx] = np.column_stack([est, est - quant * se, est + quant * se])
    return markers.assign(**dict(zip(RD_COLUMNS, out.T, strict=True)))


def credibility(
    result: PredictiveResult,
    *,
    prespecified: Mapping[str, str] | None = None,
    related: Mapping[str, PredictiveResult] | None = None,
    phase: str = "II",
    favourable: str | None = None,
) -> pd.DataFrame:
    """Credibility card: one row per reported predictive marker, ICEMAN-style rating.

    Rows are the markers labelled ``predictive`` or ``both`` plus every pre-specified marker
    (analysed or not). Columns:

    - ``prespecified`` (yes/no), ``hypothesised`` (``higher``/``lower``: benefit of the
      treatment larger when the marker is higher/lower), ``direction_as_hypothesised``
      (yes/no/not pre-specified);
    - ``n_modifiers_tried``: the family size, every marker the interaction models tested;
    - ``relative_scale`` with ``interaction``, CI, p and q (log odds ratio / log hazard ratio
      per SD); ``absolute_scale`` with ``interaction_abs*`` (binary: risk difference per SD,
      linear probability model; continuous: the mean difference itself; survival: not
      computed, relative only);
    - ``consistency`` across ``related`` outcomes: consistent in one related outcome when its
      interaction has the same sign and the two 95% CIs overlap (``consistent_related`` /
      ``n_related_outcomes``);
    - ``continuous_as_continuous``: always ``yes`` (the interaction models use the
      standardised continuous marker; the median subgroups are a display only);
    - ``rating`` and ``evidence``.

    The rating rule (after ICEMAN's items on chance, pre-specification with direction, the
    number of modifiers and consistency):

    - **very low**: no estimate, or interaction p >= 0.05, or the direction opposite to a
      pre-specified hypothesis, or inconsistent in a related outcome;
    - otherwise **high**: pre-specified with the direction as hypothesised, p < 0.005, at most
      5 modifiers tried and consistent in at least one related outcome, in a trial of phase
      ``"III"`` (a single Phase-II trial is capped at moderate: ICEMAN's high needs
      confirmation);
    - otherwise **moderate**: pre-specified with the direction as hypothesised, p < 0.01 and
      (at most 5 modifiers tried or consistent in a related outcome);
    - otherwise **low** (e.g. every data-driven finding).

    ``evidence`` is ``hypothesis-generating`` for every Phase-II finding and every finding
    that was not pre-specified, else ``confirmatory``.

    Parameters
    ----------
    result
        The predictive analysis (with ``method`` including ``"interaction"``).
    prespecified
        Marker → ``"higher"`` or ``"lower"``, the hypothesised direction from the plan.
    related
        Outcome name → the predictive analysis of a related outcome (same markers).
    phase
        Trial phase, ``"II"`` or ``"III"``.
    favourable
        Whether a higher outcome (class 1 / larger value) is good: ``"higher"`` or ``"lower"``;
        default ``"lower"`` for survival (events are bad) and ``"higher"`` otherwise. Decides
        which sign of the interaction means a larger benefit.

    Returns
    -------
    pandas.DataFrame
        One row per reported marker, columns as listed above; ``attrs["phase"]``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from biomarkers.models import predictive
    >>> rng = np.random.default_rng(1)
    >>> n = 200
    >>> df = pd.DataFrame({"arm": np.where(rng.random(n) < 0.5, "MSC", "SMT"),
    ...                    "il6": rng.normal(size=n), "crp": rng.normal(size=n)})
    >>> lin = -0.5 + 1.5 * (df["arm"] == "MSC") * df["il6"]
    >>> df["response"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    >>> res = predictive(df, outcome="response", arm="arm", treated="MSC",
    ...                  method=["interaction"], shrinkage="none")
    >>> card = credibility(res, prespecified={"il6": "higher"})
    >>> card.set_index("marker").loc["il6", ["direction_as_hypothesised", "evidence"]].tolist()
    ['yes', 'hypothesis-generating']
    """
    prespecified = dict(prespecified or {})
    related = dict(related or {})
    check_choice("phase", phase, ("II", "III"))
    for marker, direction in prespecified.items():
        if direction not in ("higher", "lower"):
            msg = (
                f"prespecified[{marker!r}] = {direction!r}; use 'higher' or 'lower' "
                "(treatment benefit larger when the marker is higher / lower)"
            )
            raise ConfigError(msg)
    kind = result.params.get("kind")
    if favourable is None:
        favourable = "lower" if kind == "survival" else "higher"
    check_choice("favourable", favourable, ("higher", "lower"))
    sign = 1.0 if favourable == "higher" else -1.0
    m = result.markers.set_index("marker", drop=False)
    reported = m.index[m["label"].isin(["predictive", "both"])].tolist()
    names = list(dict.fromkeys(reported + list(prespecified)))
    rows = [
        _row(name, m, prespecified.get(name), related, sign=sign, kind=kind, phase=phase)
        for name in names
    ]
    card = pd.DataFrame(rows, columns=CARD_COLUMNS)
    card.attrs["phase"] = phase
    return card


def _row(name, m, hypothesis, related, *, sign, kind, phase) -> dict:
    row: dict = dict.fromkeys(CARD_COLUMNS, np.nan)
    analysed = name in m.index and m.loc[name, "status"] == "ok"
    rec = m.loc[name] if name in m.index else None
    est = float(rec["interaction"]) if analysed else np.nan
    p = float(rec["p_interaction"]) if analysed else np.nan
    row.update(
        marker=name,
        label=rec["label"] if rec is not None else "not analysed",
        analysed="yes" if analysed else "no",
        prespecified="yes" if hypothesis else "no",
        hypothesised=hypothesis or "",
        n_modifiers_tried=len(m),
        relative_scale=_relative_scale(kind, m),
        continuous_as_continuous="yes",
        n_related_outcomes=len(related),
    )
    if analysed:
        for col in ("interaction", "ci_low", "ci_high", "p_interaction", "q_value_interaction"):
            row[col] = float(rec[col])
        row.update(zip(_ABS_COLUMNS, _absolute(kind, rec), strict=True))
    benefit_up = sign * est > 0  # benefit of treatment larger when the marker is higher
    if not hypothesis:
        row["direction_as_hypothesised"] = "not pre-specified"
    elif not analysed or est == 0:
        row["direction_as_hypothesised"] = "no"
    else:
        row["direction_as_hypothesised"] = "yes" if benefit_up == (hypothesis == "higher") else "no"
    n_cons = sum(_consistent(rec, r.markers) for r in related.values()) if analysed else 0
    row["consistent_related"] = n_cons
    row["consistency"] = (
        "no related outcomes"
        if not related
        else ("yes" if n_cons == len(related) else "no") + f" ({n_cons}/{len(related)})"
    )
    row["rating"] = _rating(
        analysed=analysed,
        p=p,
        as_hypothesised=row["direction_as_hypothesised"] == "yes",
        prespecified=bool(hypothesis),
        few=len(m) <= FEW_MODIFIERS,
        n_related=len(related),
        n_consistent=n_cons,
        phase=phase,
    )
    row["evidence"] = (
        "confirmatory" if phase != "II" and hypothesis and analysed else "hypothesis-generating"
    )
    return row


def _relative_scale(kind, m) -> str:
    if kind == "continuous":
        return "none (continuous outcome)"
    return str(m["scale"].iloc[0]) if len(m) else ""


def _absolute(kind, rec) -> tuple:
    if kind == "binary" and "interaction_rd" in rec.index:
        return ("risk difference per SD", *(float(rec[c]) for c in RD_COLUMNS))
    if kind == "continuous":
        return ("mean difference per SD", float(rec["interaction"]), float(rec["ci_low"]),
                float(rec["ci_high"]))  # fmt: skip
    return ("not computed (relative scale only)", np.nan, np.nan, np.nan)


def _consistent(rec, other: pd.DataFrame) -> bool:
    """Same sign of the interaction and overlapping 95% CIs in the related outcome."""
    hit = other[(other["marker"] == rec["marker"]) & (other["status"] == "ok")]
    if hit.empty:
        return False
    o = hit.iloc[0]
    same_sign = np.sign(o["interaction"]) == np.sign(rec["interaction"]) != 0
    overlap = o["ci_low"] <= rec["ci_high"] and rec["ci_low"] <= o["ci_high"]
    return bool(same_sign and overlap)


def _rating(
    *, analysed, p, as_hypothesised, prespecified, few, n_related, n_consistent, phase
) -> str:
    """The rule of :func:`credibility` (docstring), one rating per marker."""
    if (
        not analysed
        or not p < 0.05
        or (prespecified and not as_hypothesised)
        or n_consistent < n_related
    ):
        return "very low"
    pre = prespecified and as_hypothesised
    consistent = n_related > 0 and n_consistent == n_related
    if pre and p < 0.005 and few and consistent and phase != "II":
        return "high"
    if pre and p < 0.01 and (few or consistent):
        return "moderate"
    return "low"
