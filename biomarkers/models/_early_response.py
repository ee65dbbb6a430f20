"""Early-response markers: what the treatment does to a marker on treatment, and what that says."""

from __future__ import annotations

import html
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from biomarkers._atomic import write_json, write_table
from biomarkers._names import is_feature_name, parse_feature_name
from biomarkers._stats import bh_qvalues
from biomarkers._validation import check_choice, did_you_mean, format_ids
from biomarkers.exceptions import ConfigError, SchemaError
from biomarkers.io._visits import visit_day
from biomarkers.models._inputs import _frame_of, read_outcome

if TYPE_CHECKING:
    import os

__all__ = ["EarlyResponseResult", "early_response"]

LABELS = ("pharmacodynamic", "response-associated", "both", "neither")
_MIN_PER_ARM = 5


@dataclass
class _Inputs:
    """One row per subject of the analysis: features, arm (1/0), outcome labels (internal)."""

    feats: pd.DataFrame
    treat: pd.Series  # 1.0 treated, 0.0 control (other arms dropped)
    y: pd.Series  # binary 0/1 / continuous value / survival time (NaN = no label)
    event: pd.Series | None
    kind: str
    outcome_name: str
    obs: pd.DataFrame  # the subjects' obs (FeatureTable) or the table itself (DataFrame)
    excluded: dict[str, int] = field(default_factory=dict)


def _timed_inputs(table, *, outcome, arm: str, treated, at_risk=None) -> _Inputs:
    """Features, arm and outcome of a FeatureTable or DataFrame (shared with ``mediation``)."""
    if isinstance(table, pd.DataFrame) and "subject_id" in table.columns:
        table = table.set_index("subject_id")
    feats, obs, _, outcomes = _frame_of(table)
    obs = obs.set_axis(feats.index)
    if arm not in obs.columns:
        msg = (
            f"arm column {arm!r} not found{did_you_mean(arm, obs.columns)}; "
            f"available: {format_ids(list(obs.columns))}; pass arm= with the arm column"
        )
        raise SchemaError(msg)
    labels = sorted(obs[arm].dropna().astype(str).unique())
    if treated is None or str(treated) not in labels or len(labels) < 2:
        msg = (
            f"treated={treated!r} is not an arm of column {arm!r} with a comparator "
            f"(arms: {format_ids(labels)}); pass treated= with the treated arm's label"
        )
        raise ConfigError(msg)
    treat = (obs[arm].astype(str) == str(treated)).astype(float).where(obs[arm].notna())
    lab = read_outcome(feats.index, obs, outcome, outcomes)
    if lab.kind == "survival":
        y = pd.Series(np.where(lab.ok, lab.time, np.nan), index=feats.index)
        event = pd.Series(np.where(lab.ok, lab.event, np.nan), index=feats.index)
    else:
        y, event = pd.Series(np.where(lab.ok, lab.values, np.nan), index=feats.index), None
    keep = pd.Series(True, index=feats.index)
    excluded: dict[str, int] = {}
    if at_risk is not None:
        mask = (
            pd.Series(at_risk, index=feats.index) if not isinstance(at_risk, pd.Series) else at_risk
        )
        mask = mask.reindex(feats.index).fillna(False).astype(bool)
        excluded["not at risk at the landmark (at_risk=False)"] = int((~mask).sum())
        keep &= mask
    excluded["arm missing"] = int((keep & treat.isna()).sum())
    keep &= treat.notna()
    return _Inputs(
        feats=feats.loc[keep].replace([np.inf, -np.inf], np.nan),
        treat=treat.loc[keep],
        y=y.loc[keep],
        event=None if event is None else event.loc[keep],
        kind=lab.kind,
        outcome_name=lab.name,
        obs=obs.loc[keep],
        excluded=excluded,
    )


def _pairs(feats: pd.DataFrame, markers, *, visit: str, baseline: str) -> dict[str, tuple]:
    """Marker key -> (feature at ``visit``, feature at ``baseline``) for values present at both."""
    found: dict[str, dict[str, str]] = {}
    for name in feats.columns:
        if not is_feature_name(name):
            continue
        p = parse_feature_name(name)
        if p.kind == "value" and p.visit in (visit, baseline):
            found.setdefault(p.key, {})[p.visit] = name
    pairs = {k: (v[visit], v[baseline]) for k, v in found.items() if len(v) == 2}
    if markers is None:
        if not pairs:
            msg = (
                f"no marker has a value at both {baseline!r} and {visit!r}; build the feature "
                f"table with visits [{baseline!r}, {visit!r}]"
            )
            raise SchemaError(msg)
        return pairs
    out = {}
    for m in markers:
        key = parse_feature_name(m).key if "@" in str(m) else str(m)
        if key not in pairs:
            msg = (
                f"marker {m!r} has no value at both {baseline!r} and {visit!r}"
                f"{did_you_mean(key, pairs)}; markers with both: {format_ids(sorted(pairs))}"
            )
            raise SchemaError(msg)
        out[key] = pairs[key]
    return out


def _fit(kind: str, y: np.ndarray, X: np.ndarray, event: np.ndarray | None = None):
    """Coefficient, CI and p-value of the first non-intercept column; NaN if the fit fails."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    nan = (np.nan, np.nan, np.nan, np.nan)
    try:
        with warnings.catch_warnings():
            # a fit that warns (separation, no convergence) gives no estimate rather than a wrong one
            warnings.simplefilter("error")
            if kind == "survival":
                if not np.any(event):  # no event, no partial likelihood (statsmodels crashes)
                    return nan
                res = sm.PHReg(y, X, status=event).fit(disp=False)
                j = 0
            else:
                Xc = sm.add_constant(X, has_constant="add")
                model = sm.Logit(y, Xc) if kind == "binary" else sm.OLS(y, Xc)
                res = model.fit(disp=False) if kind == "binary" else model.fit()
                j = 1
            ci = np.asarray(res.conf_int())[j]
            return float(res.params[j]), float(ci[0]), float(ci[1]), float(res.pvalues[j])
    except (ValueError, np.linalg.LinAlgError, PerfectSeparationError, Warning):
        return nan


def _effect_on_marker(change, base, treat) -> dict[str, Any]:
    """ANCOVA: change ~ arm + baseline among subjects with both values."""
    ok = change.notna() & base.notna()
    t = treat[ok].to_numpy()
    n1, n0 = int((t == 1).sum()), int((t == 0).sum())
    row = {
        "n_treated": n1,
        "n_control": n0,
        "mean_change_treated": float(change[ok][t == 1].mean()) if n1 else np.nan,
        "mean_change_control": float(change[ok][t == 0].mean()) if n0 else np.nan,
    }
    est = (np.nan,) * 4
    if min(n1, n0) >= _MIN_PER_ARM:
        X = np.column_stack([t, base[ok].to_numpy()])
        est = _fit("continuous", change[ok].to_numpy(), X)
    return row | dict(
        zip(("effect", "effect_ci_low", "effect_ci_high", "p_effect"), est, strict=True)
    )


def _association(x, inp: _Inputs, mask, *, with_arm: bool) -> tuple:
    ok = mask & x.notna() & inp.y.notna()
    if (inp.kind == "binary" and inp.y[ok].nunique() < 2) or ok.sum() < 2 * _MIN_PER_ARM:
        return (np.nan,) * 4 + (int(ok.sum()),)
    cols = [x[ok].to_numpy()] + ([inp.treat[ok].to_numpy()] if with_arm else [])
    ev = None if inp.event is None else inp.event[ok].to_numpy()
    return (*_fit(inp.kind, inp.y[ok].to_numpy(), np.column_stack(cols), ev), int(ok.sum()))


def _label(q_effect: float, q_assoc: float, fdr: float) -> str:
    pd_, assoc = bool(q_effect < fdr), bool(q_assoc < fdr)
    return LABELS[0 if pd_ and not assoc else 1 if assoc and not pd_ else 2 if pd_ else 3]


@dataclass(kw_only=True)
class EarlyResponseResult:
    """Per-marker early-response table (see :func:`early_response`).

    Attributes
    ----------
    table
        One row per marker (columns listed in :func:`early_response`).
    population
        ``landmark_day``, subjects per arm in the analysis and the subjects removed and why.
    params
        The arguments of the call.
    """

    table: pd.DataFrame
    population: dict[str, Any]
    params: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """The per-marker table (a copy)."""
        return self.table.copy()

    def save(self, directory: str | os.PathLike) -> list[Path]:
        """Write ``early_response.csv`` and ``early_response.json``; return the paths written."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        meta = {"population": self.population, "params": self.params}
        return [
            write_table(out / "early_response.csv", self.table),
            write_json(out / "early_response.json", meta),
        ]

    def _repr_html_(self) -> str:
        counts = self.table["label"].value_counts().to_dict()
        pop = html.escape(str(self.population.get("n_by_arm", {})))
        return (
            f"<div><b>EarlyResponseResult</b> — {len(self.table)} markers at "
            f"{html.escape(str(self.params['visit']))}; {html.escape(str(counts))}; population {pop}"
            f"{self.table.head(10).to_html(index=False)}</div>"
        )


def early_response(
    table,
    *,
    outcome,
    arm: str = "arm",
    treated: str | None = None,
    visit: str = "D7",
    baseline: str = "D0",
    markers: Sequence[str] | None = None,
    fdr: float = 0.1,
    use: str = "change",
    at_risk: pd.Series | np.ndarray | None = None,
    visits: Mapping[str, float] | None = None,
) -> EarlyResponseResult:
    """Early-response markers: the treatment's effect on each marker and the marker's link to outcome.

    Per marker with a value at ``baseline`` and at the on-treatment ``visit``:

    (a) **effect of treatment on the marker** (pharmacodynamic): change from baseline
        (``visit`` − ``baseline``) regressed on arm and the baseline value (ANCOVA) among subjects
        sampled at both visits (the survivors to ``visit``); ``effect`` is treated − control;
    (b) **association with the outcome at the landmark** (the visit's study day) among subjects
        event-free at it: the change (``use="change"``) or the on-treatment value
        (``use="value"``) as the only term within the treated arm (``assoc_treated``) and with an
        arm term in both arms (``assoc``); logistic (log-odds per unit), linear (per unit) or Cox
        (log hazard ratio per unit, follow-up from the origin, subjects with ``time > landmark``)
        by outcome kind. The change is not adjusted for the baseline value: given the baseline,
        the on-treatment value would carry the baseline's prognostic information.

    Each family gets BH q-values (``bh_qvalues``); the label is ``pharmacodynamic`` (a only),
    ``response-associated`` (b only), ``both`` or ``neither`` at ``fdr``. Markers measured on
    treatment are *response* markers (FDA-NIH BEST), not predictive ones: the subjects who reach
    ``visit`` are a selected group, so (b) is an association, not a randomised effect.

    Parameters
    ----------
    table
        FeatureTable (AnnData; ``obs`` holds arm and outcome) or DataFrame indexed by subject
        (or with a ``subject_id`` column) holding ``modality:entity@visit`` columns.
    outcome
        Name in ``uns["outcomes"]``, a column, or an ``(event, time)`` pair of columns.
    arm
        Arm column.
    treated
        Label of the treated arm; every other arm is the control.
    visit, baseline
        On-treatment and baseline visit labels.
    markers
        Marker keys (``cytokine:IL6``) or feature names; default every marker with both visits.
    fdr
        False discovery rate of the labels.
    use
        ``"change"`` or ``"value"``: what (b) relates to the outcome.
    at_risk
        Optional boolean per subject (aligned with the table or a Series indexed by subject):
        the landmark population (event-free and followed at the landmark) when the table does
        not tell it; subjects without a value at ``visit`` are left out in any case.
    visits
        Visit schedule (label -> study day) for the landmark day; default the standard one.

    Returns
    -------
    An :class:`EarlyResponseResult` whose ``table`` has one row per marker: ``marker, feature,
    n_treated, n_control, mean_change_treated, mean_change_control, effect, effect_ci_low,
    effect_ci_high, p_effect, q_value_effect, assoc_treated, p_assoc_treated,
    q_value_assoc_treated, n_assoc_treated, assoc, assoc_ci_low, assoc_ci_high, p_assoc,
    q_value_assoc, n_assoc, label``.

    Raises
    ------
    SchemaError
        If a column or marker is missing (the message lists what is there).
    ConfigError
        If ``treated``, ``use`` or ``fdr`` is not allowed.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import biomarkers as bm
    >>> rng = np.random.default_rng(0)
    >>> t = rng.integers(0, 2, 120)
    >>> il6 = rng.normal(size=120)
    >>> df = pd.DataFrame({"arm": np.where(t == 1, "MSC", "SMT"), "cytokine:IL6@D0": il6,
    ...                    "cytokine:IL6@D7": il6 - t + rng.normal(0, 0.5, 120),
    ...                    "alive_d90": rng.integers(0, 2, 120)})
    >>> res = bm.models.early_response(df, outcome="alive_d90", treated="MSC")
    >>> res.table.loc[0, ["marker", "label"]].tolist()
    ['cytokine:IL6', 'pharmacodynamic']
    """
    check_choice("use", use, ("change", "value"))
    if not 0 < fdr < 1:
        msg = f"fdr={fdr!r} must lie strictly between 0 and 1, e.g. 0.1"
        raise ConfigError(msg)
    inp = _timed_inputs(table, outcome=outcome, arm=arm, treated=treated, at_risk=at_risk)
    pairs = _pairs(inp.feats, markers, visit=visit, baseline=baseline)
    landmark = float(visit_day(visit, visits))
    alive = pd.Series(True, index=inp.y.index)
    if inp.kind == "survival":
        alive = inp.y > landmark
    rows = []
    for key, (f_visit, f_base) in pairs.items():
        value, base = inp.feats[f_visit], inp.feats[f_base]
        change = value - base
        x = change if use == "change" else value
        row = {"marker": key, "feature": f_visit} | _effect_on_marker(change, base, inp.treat)
        a_t = _association(x, inp, alive & (inp.treat == 1), with_arm=False)
        a_b = _association(x, inp, alive, with_arm=True)
        row |= {"assoc_treated": a_t[0], "p_assoc_treated": a_t[3], "n_assoc_treated": a_t[4]}
        row |= dict(
            zip(("assoc", "assoc_ci_low", "assoc_ci_high", "p_assoc", "n_assoc"), a_b, strict=True)
        )
        rows.append(row)
    res = pd.DataFrame(rows)
    for fam, col in (
        ("effect", "p_effect"),
        ("assoc_treated", "p_assoc_treated"),
        ("assoc", "p_assoc"),
    ):
        res.insert(res.columns.get_loc(col) + 1, f"q_value_{fam}", bh_qvalues(res[col]))
    q_e, q_a = res["q_value_effect"].fillna(1.0), res["q_value_assoc"].fillna(1.0)
    res["label"] = [_label(e, a, fdr) for e, a in zip(q_e, q_a, strict=True)]
    sampled = inp.feats[[f for f, _ in pairs.values()]].notna().any(axis=1)
    population = {
        "landmark_day": landmark,
        "visit": visit,
        "n_by_arm": {
            "treated": int(((inp.treat == 1) & sampled & alive).sum()),
            "control": int(((inp.treat == 0) & sampled & alive).sum()),
        },
        "excluded": inp.excluded
        | {
            f"no value at {visit} (died, left or not sampled before it)": int((~sampled).sum()),
            f"event or censoring at or before day {landmark:g}": int((sampled & ~alive).sum()),
        },
    }
    params = {
        "outcome": inp.outcome_name,
        "kind": inp.kind,
        "arm": arm,
        "treated": treated,
        "visit": visit,
        "baseline": baseline,
        "fdr": fdr,
        "use": use,
    }
    return EarlyResponseResult(table=res, population=population, params=params)
