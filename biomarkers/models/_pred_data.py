"""Input handling for :func:`biomarkers.models.predictive` (table → arrays), shared helpers."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from biomarkers._validation import check_columns, did_you_mean, format_ids
from biomarkers.exceptions import (
    DataQualityWarning,
    LeakageError,
    SchemaError,
    SmallSampleWarning,
)
from biomarkers.models._inputs import _feature_days, _frame_of, covariate_design, read_outcome
from biomarkers.models._population import Landmark, population, resolve_landmark

__all__: list[str] = []

_KINDS = ("binary", "continuous", "survival")


@dataclass
class _PredData:
    """Arrays of one two-arm analysis, one row per subject (complete outcome and arm)."""

    subject_id: np.ndarray  # str
    arm: np.ndarray  # int 0 control / 1 treated
    kind: str  # binary | continuous | survival
    y: np.ndarray  # binary 0/1, continuous value, survival time
    event: np.ndarray | None  # survival only
    X: np.ndarray  # markers (float, may hold NaN and ±inf)
    marker_names: list[str]
    C: np.ndarray  # covariates, numeric design columns (no missing)
    covariate_names: list[str]
    treated_label: str
    control_label: str
    outcome_name: str
    positive_class: str | None = None  # the label coded 1 (binary), "event" (survival)
    positive: str | None = None  # words naming class 1 / the event (Outcome.positive)
    dropped: dict = field(default_factory=dict)
    landmark: Landmark | None = None  # population at the markers' landmark


def _frame_parts(table, markers):
    """Return (obs frame, marker frame or None, source, outcomes) of a FeatureTable or DataFrame."""
    if isinstance(table, pd.DataFrame) and "subject_id" in table.columns:
        table = table.set_index("subject_id")
    feats, obs, var, outcomes = _frame_of(table)
    if var is None:
        return obs.copy(), None, "table", outcomes
    obs.index = feats.index
    names = list(feats.columns)
    if markers is not None:
        chosen = [str(m) for m in markers]
        for m in chosen:
            if m not in set(names):
                msg = (
                    f"marker {m!r} not found in the FeatureTable's var_names"
                    f"{did_you_mean(m, names)}; available: {format_ids(names)}; "
                    "pass markers= with existing feature names"
                )
                raise SchemaError(msg)
        feats = feats[chosen]
    feats.attrs["day"] = dict(zip(names, _feature_days(names, var), strict=True))
    return obs, feats, "FeatureTable", outcomes


def prepare(
    table,
    *,
    outcome,
    arm: str,
    treated,
    covariates: Sequence[str] = (),
    markers: Sequence[str] | None = None,
    treatment_day: float = 0,
) -> _PredData:
    """Validate the inputs of ``predictive`` and turn them into arrays."""
    obs, Xdf, source, outcomes_meta = _frame_parts(table, markers)
    if isinstance(covariates, str):
        covariates = (covariates,)
    covariates = list(covariates)
    if isinstance(outcome, str) and outcome not in outcomes_meta:
        check_columns(obs, [outcome], source=source, hint="pass the column name that holds it")
    lab = read_outcome(obs.index, obs, outcome, outcomes_meta)
    kind, outcome_cols, assessed = lab.kind, lab.columns, lab.assessed_day
    if assessed is not None and Xdf is not None and "day" in Xdf.attrs:
        late = [m for m in Xdf.columns if Xdf.attrs["day"].get(m, -np.inf) >= float(assessed)]
        if late:
            msg = (
                f"{source}: features {format_ids(late)} are measured on or after day "
                f"{assessed:g}, when outcome {outcome!r} is assessed; leave them out with markers="
            )
            raise LeakageError(msg)
    hint = "pass the column name that holds it"
    check_columns(obs, [arm, *covariates], source=source, hint=hint)
    if obs.index.has_duplicates:
        dup = obs.index[obs.index.duplicated()].unique().tolist()
        msg = (
            f"{source}: subject IDs {format_ids(dup)} appear more than once; predictive() "
            "needs one row per subject (aggregate visits into features first)"
        )
        raise SchemaError(msg)

    if Xdf is None:
        used = {arm, *outcome_cols, *covariates}
        if markers is None:
            chosen = [
                c for c in obs.columns if c not in used and pd.api.types.is_numeric_dtype(obs[c])
            ]
            if not chosen:
                msg = f"{source}: no numeric marker column left besides arm/outcome/covariates"
                raise SchemaError(msg)
        else:
            chosen = [str(m) for m in markers]
            check_columns(obs, chosen, source=source, hint="pass markers= with existing columns")
            for m in chosen:
                if not pd.api.types.is_numeric_dtype(obs[m]):
                    msg = (
                        f"{source}: marker column {m!r} is not numeric (dtype {obs[m].dtype}); "
                        "encode it as numbers or leave it out of markers="
                    )
                    raise SchemaError(msg)
        Xdf = obs[chosen].astype(float)
    days = _marker_days(Xdf)
    if markers is None:  # default: every marker measured before treatment starts
        base = ~(days > float(treatment_day))
        if not base.any():
            _check_baseline(Xdf.columns, days, treatment_day, source)
        Xdf, days = Xdf.loc[:, base], days[base]
    _check_baseline(Xdf.columns, days, treatment_day, source)
    lm = population(obs, Xdf, days, outcome=outcome, outcomes=outcomes_meta, arm_key=arm,
                    landmark_day=resolve_landmark("auto", days, assessed_day=assessed,
                                                  names=list(Xdf.columns)))  # fmt: skip

    # arms
    arm_values = obs[arm]
    labels = pd.unique(arm_values.dropna().astype(str))
    if str(treated) not in labels:
        msg = (
            f"{source}: treated arm {treated!r} not found in column {arm!r}"
            f"{did_you_mean(str(treated), labels)}; arms present: {format_ids(sorted(labels))}"
        )
        raise SchemaError(msg)
    if len(labels) != 2:
        msg = (
            f"{source}: column {arm!r} must hold exactly two arms, found {len(labels)}: "
            f"{format_ids(sorted(labels))}; subset the table to the two arms to compare"
        )
        raise SchemaError(msg)
    control = next(a for a in labels if a != str(treated))

    # outcome (labels coded by read_outcome: binary 0/1, survival time + event)
    y_full = pd.Series(lab.time if kind == "survival" else lab.values, index=obs.index)
    ev = pd.Series(lab.event, index=obs.index) if kind == "survival" else None
    ok = pd.Series(lab.ok, index=obs.index)
    ok &= arm_values.notna() & lm.keep

    cov_design, cov_names = covariate_design(obs, covariates)
    if cov_names:
        cov_ok = cov_design.notna().all(axis=1)
        if (ok & ~cov_ok).any():
            warnings.warn(
                f"{int((ok & ~cov_ok).sum())} subjects with missing covariates "
                f"({', '.join(covariates)}) are left out of the predictive analysis",
                DataQualityWarning,
                stacklevel=3,
            )
        ok &= cov_ok
    n_dropped = int((~ok).sum())
    ok_np = ok.to_numpy()
    arm01 = (arm_values.astype(str).to_numpy() == str(treated)).astype(int)[ok_np]
    data = _PredData(
        subject_id=obs.index.to_numpy(dtype=str)[ok_np],
        arm=arm01,
        kind=kind,
        y=y_full.to_numpy(dtype=float)[ok_np],
        event=None if ev is None else ev.to_numpy(dtype=float)[ok_np].astype(int),
        X=Xdf.to_numpy(dtype=float)[ok_np],
        marker_names=[str(c) for c in Xdf.columns],
        C=cov_design.to_numpy(dtype=float)[ok_np] if cov_names else np.empty((ok_np.sum(), 0)),
        covariate_names=cov_names,
        treated_label=str(treated),
        control_label=str(control),
        outcome_name=" / ".join(map(str, outcome_cols)),
        positive_class=lab.positive_class,
        positive=lab.positive,
        dropped={"missing_outcome_arm_or_covariate": n_dropped - int((~lm.keep).sum())},
        landmark=lm,
    )
    n_t, n_c = int(data.arm.sum()), int((1 - data.arm).sum())
    if min(n_t, n_c) < 3:
        msg = (
            f"{source}: only {n_t} treated and {n_c} control subjects have a known outcome; "
            "the predictive analysis needs subjects in both arms"
        )
        raise SchemaError(msg)
    if min(n_t, n_c) < 20:
        warnings.warn(
            f"only {n_t} treated and {n_c} control subjects: treatment × marker estimates "
            "will be very uncertain",
            SmallSampleWarning,
            stacklevel=3,
        )
    return data


def _marker_days(Xdf: pd.DataFrame) -> np.ndarray:
    """Day each marker is known at: the FeatureTable's ``var["day"]``, else its name's day."""
    names = [str(c) for c in Xdf.columns]
    known = Xdf.attrs.get("day")
    if known is None:
        return _feature_days(names, None)
    return np.array([known.get(m, np.nan) for m in names], dtype=float)


def _check_baseline(names, days: np.ndarray, treatment_day: float, source: str) -> None:
    """Effect modifiers must be measured before treatment starts (day ≤ ``treatment_day``)."""
    late = [str(m) for m, d in zip(names, days, strict=True) if d > float(treatment_day)]
    if late:
        msg = (
            f"{source}: {len(late)} marker(s) are measured after treatment starts (day "
            f"{float(treatment_day):g}): {format_ids(late)}; a treatment × marker interaction "
            "needs markers measured before treatment (pass baseline markers= only); analyse "
            "on-treatment markers with biomarkers.models.early_response (change by arm, "
            "association with the outcome) or biomarkers.models.mediation"
        )
        raise LeakageError(msg)


def fill_censored(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Replace ``-inf``/``+inf`` by the training column's finite minimum/maximum.

    The rule (:class:`~biomarkers.features.CensoredValueImputer` with ``rule="keep"``) is
    learned on ``train`` only and applied to ``train`` and to every array of ``others`` (the
    held-out rows); a column without any finite training value becomes NaN.
    """
    from biomarkers.features import CensoredValueImputer

    imputer = CensoredValueImputer("keep").fit(train)
    return [imputer.transform(a) for a in (train, *others)]
