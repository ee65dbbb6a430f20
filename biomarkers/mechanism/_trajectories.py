"""Trajectories of cytokines, flow populations and clinical scores with linear mixed models."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._logging import timed
from biomarkers._names import FeatureName, is_feature_name, parse_feature_name
from biomarkers._parallel import limit_blas
from biomarkers._progress import progress
from biomarkers._stats import bh_qvalues
from biomarkers._validation import check_choice, check_columns, did_you_mean, format_ids
from biomarkers.exceptions import DataQualityWarning, SchemaError
from biomarkers.mechanism._lmm import fit_arm_visit
from biomarkers.mechanism._result import TrajectoryResult
from biomarkers.mechanism._survivor import Design, survivor_aware, visit_counts
from biomarkers.mechanism._utils import (
    check_levels,
    join_design,
    resolve_treated,
    visit_order,
)

__all__ = ["trajectories"]

_SOURCE = "trajectories"
_RULES = ("lod_sqrt2", "lod_half", "lod", "drop")
_TRANSFORMS = (None, "log2", "log10", "log1p")
# biomarkers.io.CENSOR_CODES (contracts.md): ok, below, above, extrapolated, missing
_CENSOR_CODES = {0: "ok", 1: "below", 2: "above", 3: "extrapolated", 4: "missing"}
_COLUMNS = [
    "feature",
    "comparison",
    "term",
    "visit",
    "group",
    "effect",
    "se",
    "ci_low",
    "ci_high",
    "pvalue",
    "q_value",
    "n_obs",
    "n_subjects",
    "converged",
    "fit_warning",
]


def trajectories(
    table: pd.DataFrame | Any,
    *,
    features: Sequence[str] | None = None,
    visit_key: str = "visit",
    groupby: str = "arm",
    subject_key: str = "subject_id",
    covariates: Sequence[str] = (),
    reference_visit: str = "D0",
    censor_rule: str = "lod_sqrt2",
    responder_key: str | None = None,
    treated_arm: str | None = None,
    control_arm: str | None = None,
    transform: str | None = None,
    design_table: pd.DataFrame | None = None,
    ipw_covariates: Sequence[str] = (),
    ipw_truncate: float = 0.05,
) -> TrajectoryResult:
    """Per-feature trajectories over visits, by arm, with linear mixed models.

    For each feature a random-intercept model is fitted (statsmodels ``MixedLM``, REML)::

        value ~ arm * visit + covariates + (1 | subject)

    (treatment coding: control arm and ``reference_visit`` as references). Reported as linear
    combinations of the fixed effects, each with a Wald 95% CI and p-value: the arm difference
    at every visit (``term="arm_difference"``), the change from the reference visit within each
    arm (``"change"``) and the difference of these changes (``"difference"``). With
    ``responder_key`` the same model is fitted within the treated arm with responder status in
    place of the arm (``comparison="responder"``). ``q_value`` is BH within each comparison
    across features × terms × visits. ``.means`` holds the model-based mean of every
    group × visit (covariates at their average) for plotting.

    ACLF kills early, so later visits compare the arms among survivors only.
    ``tables["counts"]`` says how many subjects each arm has per feature × visit, and
    ``tables["survivor_aware"]`` puts beside the survivor-only arm difference of means
    (``estimate``) one that does not condition on survival (``estimate_ipw``): each sampled
    subject is weighted by the inverse probability of being alive and sampled at the visit,
    estimated within each arm from the feature's baseline value and ``ipw_covariates``.

    Censored values (``-inf``/``+inf`` as in a FeatureTable, or censor codes/labels as in the
    assay AnnData / tidy tables) are replaced before fitting by ``censor_rule``:
    ``"lod_sqrt2"`` (below → LOD/√2), ``"lod_half"`` (LOD/2), ``"lod"`` (LOD), or ``"drop"``
    (censored values left out). The LOD is the row's ``lod`` (tidy table) or
    ``var['lod']`` (AnnData); without one, the reported bound (``<3.2`` → 3.2) or else the
    smallest observed value of the feature. Values above a limit become the ULOQ, else the
    largest observed value (except with ``"drop"``).

    Parameters
    ----------
    table
        A wide DataFrame (one row per subject × visit; ``subject_key``, ``visit_key``,
        ``groupby`` and one column per feature), a tidy long table (``sample_id, analyte,
        value`` (+ ``censor, lod, uloq``), design from ``design_table`` or its own columns),
        an assay AnnData (samples × analytes; ``obs`` with the design; ``layers['censor']``),
        or a FeatureTable (subjects × ``modality:entity@visit`` features).
    features
        Features to model (columns, analytes, or FeatureTable entities / ``modality:entity``);
        default all.
    visit_key
        Column holding the visit label.
    groupby
        Column holding the arm.
    subject_key
        Column holding subject IDs (random intercept).
    covariates
        Extra fixed effects (columns constant within subject × visit or subject).
    reference_visit
        Baseline visit.
    censor_rule
        How censored values are replaced; see above.
    responder_key
        Column of responder status (1/True or ``"responder"`` = responder); adds responder vs
        non-responder trajectories within the treated arm.
    treated_arm
        Label of the treated arm; default the arm whose label contains ``MSC``.
    control_arm
        Label of the control arm; default the other arm (needed when there are more than two).
    transform
        ``None``, ``"log2"``, ``"log10"`` or ``"log1p"`` (natural log of 1 + x), applied after
        censoring; concentrations are usually modelled on the log scale.
    design_table
        Per-sample design (indexed by or with ``sample_id``) for tidy/AnnData inputs that lack
        ``subject_key``, ``visit_key`` or ``groupby``.
    ipw_covariates
        Numeric baseline columns (read at ``reference_visit``) that, with the feature's
        baseline value, predict being alive and sampled at a visit (e.g. a severity score).
    ipw_truncate
        Lower bound of the estimated probability of being sampled (caps the weights).

    Returns
    -------
    :class:`TrajectoryResult` with ``.table`` (``feature, comparison, term, visit, group,
    effect, se, ci_low, ci_high, pvalue, q_value, n_obs, n_subjects, converged, fit_warning``),
    ``.means`` (``feature, comparison, group, visit, mean, se, ci_low, ci_high, n``),
    ``tables["censoring"]`` (per feature: ``n_below, n_above, n_missing, rule``),
    ``tables["counts"]`` (``feature, visit, n_treated, n_control``: subjects with a value) and
    ``tables["survivor_aware"]`` (per feature × later visit: ``n_treated_baseline,
    n_control_baseline, n_treated, n_control``, the survivor-only ``estimate, se, ci_low,
    ci_high`` and the weighted ``estimate_ipw, se_ipw, ci_low_ipw, ci_high_ipw``, treated −
    control, and the largest weight ``max_weight``).

    Examples
    --------
    >>> res = trajectories(cyto, features=["IL6", "IL10"], transform="log2")  # doctest: +SKIP
    >>> res.table.query("term == 'difference'")  # doctest: +SKIP
    """
    check_choice("censor_rule", censor_rule, _RULES)
    check_choice("transform", transform, _TRANSFORMS)
    extra_cols = [*covariates, *ipw_covariates, *([responder_key] if responder_key else [])]
    extra_cols = list(dict.fromkeys(extra_cols))
    long = _to_long(
        table,
        visit_key=visit_key,
        groupby=groupby,
        subject_key=subject_key,
        extra=extra_cols,
        design_table=design_table,
    )
    if features is not None:
        long = _select(long, features)
    long, censoring = _apply_censoring(long, censor_rule)
    censoring["rule"] = censor_rule
    if transform is not None:
        long = _transform(long, transform)
    check_levels(long, visit_key, [reference_visit], source=_SOURCE)
    treated_label, control = resolve_treated(
        long, groupby, treated_arm, control=control_arm, source=_SOURCE
    )
    long = long[long[groupby].astype(str).isin([treated_label, control])]
    visits = visit_order(long[visit_key].unique())
    visits = [reference_visit] + [v for v in visits if v != reference_visit]

    comparisons: list[tuple[str, pd.DataFrame, str, str, str]] = [
        ("arm", long, groupby, treated_label, control)
    ]
    if responder_key:
        within = long[long[groupby].astype(str) == treated_label].copy()
        within["_responder"] = _responder_labels(within[responder_key])
        within = within[within["_responder"].notna()]
        comparisons.append(("responder", within, "_responder", "responder", "non-responder"))

    rows, means = [], []
    # one small MixedLM per feature: BLAS threads only add overhead (and oversubscribe cores)
    with timed(f"trajectories ({long['feature'].nunique()} features)"), limit_blas(1, small=True):
        for comparison, data, gcol, t_label, c_label in comparisons:
            groups = data.groupby("feature", sort=False)
            for feature, df in progress(groups, total=groups.ngroups, description=comparison):
                terms, mrows = fit_arm_visit(
                    df,
                    value="value",
                    subject=subject_key,
                    arm=gcol,
                    visit=visit_key,
                    treated=t_label,
                    control=c_label,
                    visits=visits,
                    reference_visit=reference_visit,
                    covariates=list(covariates),
                    means=True,
                )
                base = {"feature": feature, "comparison": comparison}
                rows.extend(
                    {**base, **{k: v for k, v in t.items() if k != "arm"}, "group": t["arm"]}
                    for t in terms
                )
                means.extend({**base, **m} for m in mrows)
    result = pd.DataFrame(rows)
    if result.empty:
        result = pd.DataFrame(columns=_COLUMNS)
    else:
        result["q_value"] = np.nan
        for _, idx in result.groupby("comparison").indices.items():
            result.loc[result.index[idx], "q_value"] = bh_qvalues(result["pvalue"].to_numpy()[idx])
        result = result[_COLUMNS]
        bad = result.loc[~result["converged"].astype(bool), "feature"].unique()
        if len(bad):
            msg = (
                f"{_SOURCE}: the mixed model did not converge cleanly for {len(bad)} "
                f"feature(s): {format_ids(list(bad))}; see the fit_warning column"
            )
            warnings.warn(msg, DataQualityWarning, stacklevel=2)
    design = Design("feature", subject_key, visit_key, groupby, treated_label, control)
    counts = visit_counts(long, design, visits)
    survivor = survivor_aware(long, design, reference_visit=reference_visit, visits=visits,
                              covariates=list(ipw_covariates), truncate=ipw_truncate)  # fmt: skip
    means_df = pd.DataFrame(means)
    if not means_df.empty:
        means_df = means_df.rename(columns={"effect": "mean"})[
            ["feature", "comparison", "group", "visit", "mean", "se", "ci_low", "ci_high", "n"]
        ]
    params = {
        "features": list(features) if features is not None else None,
        "visit_key": visit_key,
        "groupby": groupby,
        "subject_key": subject_key,
        "covariates": list(covariates),
        "reference_visit": reference_visit,
        "censor_rule": censor_rule,
        "responder_key": responder_key,
        "treated": treated_label,
        "control": control,
        "transform": transform,
        "ipw_covariates": list(ipw_covariates),
        "ipw_truncate": ipw_truncate,
    }
    extra = {"means": means_df, "censoring": censoring, "counts": counts,
             "survivor_aware": survivor}  # fmt: skip
    return TrajectoryResult(result, extra=extra, params=params)


def _to_long(
    data: Any,
    *,
    visit_key: str,
    groupby: str,
    subject_key: str,
    extra: list[str],
    design_table: pd.DataFrame | None,
) -> pd.DataFrame:
    """Long table: subject, visit, group, feature, value, censor, lod, uloq (+ extra)."""
    design = [subject_key, visit_key, groupby, *extra]
    if hasattr(data, "obs") and hasattr(data, "var"):
        if {"entity", "visit"} <= set(data.var.columns):
            long = _from_feature_table(data, visit_key=visit_key, subject_key=subject_key)
        else:
            long = _from_assay(data)
        obs = data.obs.copy()
        obs.index = obs.index.astype(str)
        if "sample_id" not in obs.columns and not {"entity", "visit"} <= set(data.var.columns):
            obs["sample_id"] = obs.index
        key = "sample_id" if "sample_id" in long.columns else subject_key
        obs = join_design(
            obs, design_table, key="sample_id", needed=design, source=_SOURCE, alt_key=subject_key
        )
        keep = [c for c in design if c in obs.columns and c not in long.columns]
        long = long.join(obs[keep], on=key)
    elif isinstance(data, pd.DataFrame):
        if {"analyte", "value"} <= set(data.columns):
            long = data.rename(columns={"analyte": "feature"}).copy()
            long = join_design(
                long,
                design_table,
                key="sample_id",
                needed=design,
                source=_SOURCE,
                alt_key=subject_key,
            )
            if "censor" not in long.columns:
                long["censor"] = "ok"
        else:
            check_columns(data, design, source=f"{_SOURCE}: table", hint="")
            value_cols = [
                c for c in data.columns
                if c not in design and pd.api.types.is_numeric_dtype(data[c])
            ]  # fmt: skip
            long = data.melt(id_vars=design, value_vars=value_cols, var_name="feature")
            long["censor"] = "ok"
    else:
        msg = f"{_SOURCE}: expected a DataFrame or an AnnData, got {type(data).__name__}"
        raise SchemaError(msg)
    check_columns(long, design, source=f"{_SOURCE}: table", hint="pass design_table=")
    dup = long.duplicated([subject_key, visit_key, "feature"])
    if dup.any():
        first = long.loc[dup].iloc[0]
        msg = (
            f"{_SOURCE}: {int(dup.sum())} repeated measurement(s) of the same subject × visit × "
            f"feature, e.g. {first[subject_key]!r} {first[visit_key]!r} {first['feature']!r}; "
            "average replicate wells first (biomarkers.io.average_replicates)"
        )
        raise SchemaError(msg)
    for col in ("lod", "uloq"):
        if col not in long.columns:
            long[col] = np.nan
    long["value"] = pd.to_numeric(long["value"], errors="coerce").astype(float)
    long["censor"] = long["censor"].astype(str)
    long[subject_key] = long[subject_key].astype(str)
    long[visit_key] = long[visit_key].astype(str)
    long["feature"] = long["feature"].astype(str)
    return long.reset_index(drop=True)


def _from_assay(adata: Any) -> pd.DataFrame:
    x = adata.X.toarray() if hasattr(adata.X, "toarray") else np.asarray(adata.X, float)
    n_obs, n_var = x.shape
    long = pd.DataFrame(
        {
            "sample_id": np.repeat(adata.obs_names.astype(str), n_var),
            "feature": np.tile(adata.var_names.astype(str), n_obs),
            "value": x.ravel(),
        }
    )
    if "censor" in adata.layers:
        codes = np.asarray(adata.layers["censor"]).ravel()
        long["censor"] = pd.Series(codes).map(_CENSOR_CODES).fillna("ok").to_numpy()
    else:
        long["censor"] = "ok"
    for col in ("lod", "uloq"):
        if col in adata.var.columns:
            long[col] = np.tile(adata.var[col].to_numpy(float), n_obs)
    return long


def _from_feature_table(ft: Any, *, visit_key: str, subject_key: str) -> pd.DataFrame:
    var = ft.var
    keep = var["visit"].notna().to_numpy()
    if "kind" in var.columns:
        keep &= (var["kind"].astype(str) == "value").to_numpy()
    x = ft.X.toarray() if hasattr(ft.X, "toarray") else np.asarray(ft.X, float)
    x = x[:, keep]
    var = var.loc[keep]
    entity = var["entity"].astype(str).to_numpy()
    if "modality" in var.columns:
        entity = np.array([_label(row) for row in var.itertuples()], dtype=object)
    n_obs, n_var = x.shape
    long = pd.DataFrame(
        {
            subject_key: np.repeat(ft.obs_names.astype(str), n_var),
            visit_key: np.tile(var["visit"].astype(str).to_numpy(), n_obs),
            "feature": np.tile(entity, n_obs),
            "value": x.ravel(),
            "censor": "ok",
        }
    )
    for col in ("lod", "uloq"):
        if col in var.columns:
            long[col] = np.tile(var[col].to_numpy(float), n_obs)
    return long


def _label(row: Any) -> str:
    """``modality:[cell_type:]entity`` of a FeatureTable row (raw entity, so "IL6" still selects)."""
    cell_type = str(getattr(row, "cell_type", "") or "")
    cell_type = None if cell_type in ("", "nan") else cell_type
    try:
        return FeatureName(str(row.modality), str(row.entity), cell_type=cell_type).key
    except SchemaError:  # an entity holding ':' or '@' (not built by the FeatureTable)
        return f"{row.modality}:{row.entity}"


def _select(long: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    names = set(long["feature"].unique())
    # "cytokine:IL6" may be asked for as "IL6": the name without its modality
    short = long["feature"].map(
        {n: parse_feature_name(n).short if is_feature_name(n) else n for n in names}
    )
    wanted = []
    for f in features:
        if f in names:
            wanted.append(long["feature"] == f)
        elif (short == f).any():
            wanted.append(short == f)
        else:
            msg = (
                f"{_SOURCE}: feature {f!r} not found{did_you_mean(f, names)}; "
                f"available: {format_ids(sorted(names), limit=8)}"
            )
            raise SchemaError(msg)
    return long[np.logical_or.reduce(wanted)].reset_index(drop=True)


def _apply_censoring(long: pd.DataFrame, rule: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    long = long.copy()
    value = long["value"].to_numpy(float)
    censor = long["censor"].to_numpy(object).copy()
    below = (value == -np.inf) | (censor == "below")
    above = (value == np.inf) | (censor == "above")
    missing = (censor == "missing") | (np.isnan(value) & ~below & ~above)
    ok = ~below & ~above & ~missing & np.isfinite(value)
    feat = long["feature"]
    obs_min = pd.Series(np.where(ok, value, np.nan)).groupby(feat.to_numpy()).transform("min")
    obs_max = pd.Series(np.where(ok, value, np.nan)).groupby(feat.to_numpy()).transform("max")
    lod = long["lod"].to_numpy(float)
    bound = np.where(np.isfinite(value), value, np.nan)
    lod = np.where(np.isfinite(lod), lod, np.where(np.isfinite(bound), bound, obs_min))
    uloq = long["uloq"].to_numpy(float)
    uloq = np.where(np.isfinite(uloq), uloq, np.where(np.isfinite(bound), bound, obs_max))
    factor = {"lod_sqrt2": 1 / np.sqrt(2), "lod_half": 0.5, "lod": 1.0}.get(rule)
    new = np.where(ok, value, np.nan)
    if factor is not None:
        new = np.where(below, lod * factor, new)
        new = np.where(above, uloq, new)
    long["value"] = new
    summary = (
        pd.DataFrame({"feature": feat, "n_below": below, "n_above": above, "n_missing": missing})
        .groupby("feature", sort=False)
        .sum()
        .astype(int)
        .reset_index()
    )
    return long[np.isfinite(new)].reset_index(drop=True), summary


def _transform(long: pd.DataFrame, transform: str) -> pd.DataFrame:
    value = long["value"].to_numpy(float)
    floor = 0.0 if transform != "log1p" else -1.0
    bad = value <= floor
    if bad.any():
        feats = sorted(long.loc[bad, "feature"].unique())
        msg = (
            f"{_SOURCE}: transform={transform!r} needs values > {floor:g}; "
            f"{int(bad.sum())} value(s) are not, in {format_ids(feats)}; "
            "use transform='log1p' or None"
        )
        raise SchemaError(msg)
    fn = {"log2": np.log2, "log10": np.log10, "log1p": np.log1p}[transform]
    return long.assign(value=fn(value))


def _responder_labels(values: pd.Series) -> pd.Series:
    def label(v: Any) -> Any:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return np.nan
        if isinstance(v, str):
            low = v.strip().lower()
            if low in {"responder", "yes", "true", "1"}:
                return "responder"
            if low in {"non-responder", "nonresponder", "no", "false", "0"}:
                return "non-responder"
            msg = (
                f"{_SOURCE}: responder value {v!r} not understood; use 1/0, True/False "
                "or 'responder'/'non-responder'"
            )
            raise SchemaError(msg)
        return "responder" if bool(v) else "non-responder"

    return values.map(label)
