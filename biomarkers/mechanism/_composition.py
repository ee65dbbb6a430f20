"""Change of cell-type composition over visits by arm (mixed models on transformed proportions)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from biomarkers._logging import timed
from biomarkers._stats import bh_qvalues
from biomarkers._validation import check_choice, check_columns, format_ids
from biomarkers.exceptions import DataQualityWarning, SchemaError
from biomarkers.mechanism._lmm import fit_arm_visit
from biomarkers.mechanism._result import CompositionResult
from biomarkers.mechanism._survivor import (
    COUNT_COLUMNS,
    SURVIVOR_COLUMNS,
    Design,
    survivor_aware,
    visit_counts,
)
from biomarkers.mechanism._utils import (
    check_levels,
    join_design,
    resolve_treated,
    visit_order,
)

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["composition_change"]

_SOURCE = "composition_change"
_TRANSFORMS = ("clr", "logit", "asin_sqrt")
_COLUMNS = [
    "cell_type",
    "term",
    "visit",
    "arm",
    "effect",
    "se",
    "ci_low",
    "ci_high",
    "pvalue",
    "q_value",
    "n_obs",
    "n_subjects",
    "transform",
    "converged",
    "fit_warning",
]


def composition_change(
    adata_or_counts: ad.AnnData | pd.DataFrame,
    *,
    sample_key: str = "sample_id",
    groups_key: str = "cell_type",
    design: str = "~ arm * visit",
    transform: str = "clr",
    subject_key: str = "subject_id",
    reference_visit: str = "D0",
    treated_arm: str | None = None,
    control_arm: str | None = None,
    design_table: pd.DataFrame | None = None,
    pseudocount: float = 0.5,
    ipw_covariates: Sequence[str] = (),
    ipw_truncate: float = 0.05,
) -> CompositionResult:
    """Change of cell-type proportions over visits, by arm, with linear mixed models.

    Counts per sample × cell type are turned into proportions, transformed, and for each cell
    type a random-intercept model is fitted (statsmodels ``MixedLM``, REML)::

        y ~ arm * visit (+ covariates) + (1 | subject)

    with treatment coding (control arm and ``reference_visit`` as references). For every
    visit V after the reference the table reports the change from the reference visit in
    each arm (``term="change"``), the difference of these changes between the arms
    (``term="difference"``, the treatment effect on the change) and the arm difference at
    each visit (``term="arm_difference"``), each with a Wald 95% CI and p-value from the
    model's fixed-effect covariance; ``q_value`` is BH across all cell types × terms.

    Later visits compare the arms among the subjects still alive and sampled:
    ``tables["counts"]`` has the subjects per arm, cell type and visit, and
    ``tables["survivor_aware"]`` the survivor-only arm difference of the transformed value
    beside an inverse-probability-weighted one that does not condition on survival (weights
    from the cell type's baseline value and ``ipw_covariates``, within each arm; see
    :func:`~biomarkers.mechanism.trajectories`). Both are empty for ``"~ visit"``.

    Parameters
    ----------
    adata_or_counts
        Cells AnnData (``obs`` with ``sample_key`` and ``groups_key``), pseudobulk AnnData
        (``obs`` with ``sample_id``, ``cell_type``, ``n_cells``), the samples × cell types
        counts AnnData of :func:`biomarkers.features.composition`, a wide DataFrame of counts
        (rows = samples, columns = cell types) or a long DataFrame with ``sample_key``,
        ``groups_key`` and ``count`` (or ``n_cells``) columns.
    sample_key
        Column identifying the sample.
    groups_key
        Column holding the cell type.
    design
        ``"~ arm * visit"`` (default), optionally ``+ covariate`` terms (per-sample columns),
        or ``"~ visit"`` for a single arm (changes only). The subject random intercept is
        always included.
    transform
        ``"clr"`` (centred log-ratio over the cell types of a sample, after adding
        ``pseudocount`` to every count), ``"logit"`` (of the pseudocounted proportion) or
        ``"asin_sqrt"`` (arcsine square root of the raw proportion).
    subject_key
        Column holding subject IDs (random intercept).
    reference_visit
        Baseline visit (reference level).
    treated_arm
        Label of the treated arm; default the arm whose label contains ``MSC``.
    control_arm
        Label of the control arm; default the other arm (needed when there are more than two).
    design_table
        Per-sample design (indexed by or with a ``sample_key`` column) supplying
        ``subject_key``, ``visit``, ``arm`` and covariates missing from the input.
    pseudocount
        Added to every count before ``clr``/``logit`` so zero counts stay finite.
    ipw_covariates
        Numeric per-sample columns read at ``reference_visit`` that, with the cell type's
        baseline value, predict being alive and sampled at a visit.
    ipw_truncate
        Lower bound of the estimated probability of being sampled (caps the weights).

    Returns
    -------
    :class:`CompositionResult` with ``.table`` (``cell_type, term, visit, arm, effect, se,
    ci_low, ci_high, pvalue, q_value, n_obs, n_subjects, transform, converged, fit_warning``;
    effects are on the transformed scale) and ``.proportions`` (per sample × cell type:
    ``count, proportion, value`` (transformed) and the design columns),
    ``tables["counts"]`` (``feature`` = cell type, ``visit, n_treated, n_control``) and
    ``tables["survivor_aware"]`` (columns as in :func:`~biomarkers.mechanism.trajectories`).

    Examples
    --------
    >>> res = composition_change(adata, transform="clr")  # doctest: +SKIP
    >>> res.table.query("term == 'difference' and q_value < 0.1")  # doctest: +SKIP
    """
    check_choice("transform", transform, _TRANSFORMS)
    arm_key, visit_key, covariates = _parse_design(design)
    counts, samples = _counts(adata_or_counts, sample_key=sample_key, groups_key=groups_key)
    needed = [subject_key, visit_key, *([arm_key] if arm_key else []), *covariates]
    needed += [c for c in ipw_covariates if c not in needed]
    samples = join_design(
        samples, design_table, key=sample_key, needed=needed, source=_SOURCE, alt_key=subject_key
    )
    check_columns(samples, needed, source=f"{_SOURCE}: sample design", hint="pass design_table=")
    samples = samples.loc[counts.index]
    check_levels(samples, visit_key, [reference_visit], source=_SOURCE)
    treated_label = control = None
    if arm_key:
        treated_label, control = resolve_treated(
            samples, arm_key, treated_arm, control=control_arm, source=_SOURCE
        )
        two = samples[arm_key].astype(str).isin([treated_label, control])
        samples, counts = samples[two.to_numpy()], counts[two.to_numpy()]
    values, props = _transform(counts, transform, pseudocount)
    long = (
        pd.DataFrame(
            {
                "count": counts.stack(),
                "proportion": props.stack(),
                "value": values.stack(),
            }
        )
        .rename_axis([sample_key, "cell_type"])
        .reset_index()
    )
    long = long.join(samples[needed], on=sample_key)
    long[subject_key] = long[subject_key].astype(str)
    long[visit_key] = long[visit_key].astype(str)
    visits = visit_order(long[visit_key].unique())
    visits = [reference_visit] + [v for v in visits if v != reference_visit]

    rows = []
    with timed(f"composition change ({transform})"):
        for ct, df in long.groupby("cell_type", sort=False):
            terms, _ = fit_arm_visit(
                df,
                value="value",
                subject=subject_key,
                arm=arm_key,
                visit=visit_key,
                treated=treated_label,
                control=control,
                visits=visits,
                reference_visit=reference_visit,
                covariates=covariates,
            )
            rows.extend({"cell_type": ct, **t} for t in terms)
    table = pd.DataFrame(rows)
    if table.empty:
        table = pd.DataFrame(columns=_COLUMNS)
    else:
        table["q_value"] = bh_qvalues(table["pvalue"].to_numpy())
        table["transform"] = transform
        table = table[_COLUMNS]
        bad = table.loc[~table["converged"].astype(bool), "cell_type"].unique()
        if len(bad):
            msg = (
                f"{_SOURCE}: the mixed model did not converge cleanly for {len(bad)} cell "
                f"type(s): {format_ids(list(bad))}; see the fit_warning column"
            )
            warnings.warn(msg, DataQualityWarning, stacklevel=2)
    counts_tab, survivor = _survivor_tables(
        long, arm_key, subject_key, visit_key, treated_label, control, reference_visit, visits,
        ipw_covariates=ipw_covariates, ipw_truncate=ipw_truncate,
    )  # fmt: skip
    params = {
        "sample_key": sample_key,
        "groups_key": groups_key,
        "design": design,
        "transform": transform,
        "subject_key": subject_key,
        "reference_visit": reference_visit,
        "treated": treated_label,
        "control": control,
        "pseudocount": pseudocount,
        "ipw_covariates": list(ipw_covariates),
        "ipw_truncate": ipw_truncate,
    }
    extra = {"proportions": long, "counts": counts_tab, "survivor_aware": survivor}
    return CompositionResult(table, extra=extra, params=params)


def _survivor_tables(long, arm_key, subject_key, visit_key, treated, control, reference_visit,
                     visits, *, ipw_covariates, ipw_truncate):  # fmt: skip
    """Subjects per arm × visit and the survivor-aware comparison (empty for one arm)."""
    if not arm_key:
        return pd.DataFrame(columns=COUNT_COLUMNS), pd.DataFrame(columns=SURVIVOR_COLUMNS)
    design = Design("cell_type", subject_key, visit_key, arm_key, treated, control)
    counts = visit_counts(long, design, visits)
    survivor = survivor_aware(long, design, reference_visit=reference_visit, visits=visits,
                              covariates=list(ipw_covariates), truncate=ipw_truncate)  # fmt: skip
    return counts, survivor


def _parse_design(design: str) -> tuple[str | None, str, list[str]]:
    rhs = design.split("~", 1)[-1]
    terms = [t.strip() for t in re.split(r"\+", rhs) if t.strip()]
    arm_key = visit_key = None
    covariates = []
    for term in terms:
        parts = [p.strip() for p in re.split(r"[*:]", term)]
        if len(parts) == 2 and arm_key is None:
            arm_key, visit_key = parts
        elif len(parts) == 1 and visit_key is None and arm_key is None and term == terms[0]:
            visit_key = parts[0]
        elif len(parts) == 1:
            covariates.append(parts[0])
        else:
            msg = (
                f"{_SOURCE}: design {design!r} not understood; use '~ arm * visit' "
                "(+ covariates) or '~ visit' for a single arm"
            )
            raise SchemaError(msg)
    if visit_key is None:
        msg = f"{_SOURCE}: design {design!r} has no visit term; use '~ arm * visit'"
        raise SchemaError(msg)
    return arm_key, visit_key, covariates


def _counts(data: Any, *, sample_key: str, groups_key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts (samples × cell types) and a per-sample table of the other columns."""
    if isinstance(data, pd.DataFrame):
        if groups_key in data.columns and sample_key in data.columns:
            count_col = next((c for c in ("count", "n_cells") if c in data.columns), None)
            if count_col is None:
                msg = (
                    f"{_SOURCE}: long table needs a 'count' (or 'n_cells') column next to "
                    f"{sample_key!r} and {groups_key!r}"
                )
                raise SchemaError(msg)
            counts = data.pivot_table(
                index=sample_key, columns=groups_key, values=count_col, aggfunc="sum",
                fill_value=0, observed=True,
            )  # fmt: skip
            samples = _per_sample(data.drop(columns=[groups_key, count_col]), sample_key)
        else:
            counts = data.copy()
            if not all(pd.api.types.is_numeric_dtype(t) for t in counts.dtypes):
                bad = [c for c, t in counts.dtypes.items() if not pd.api.types.is_numeric_dtype(t)]
                msg = (
                    f"{_SOURCE}: counts table column {bad[0]!r} is not numeric; pass a wide "
                    f"table of counts (samples × cell types) or a long table with "
                    f"{sample_key!r}, {groups_key!r} and 'count'"
                )
                raise SchemaError(msg)
            samples = pd.DataFrame(index=counts.index.astype(str))
            samples[sample_key] = samples.index
    elif hasattr(data, "obs") and groups_key not in data.obs.columns and "n_cells" in data.obs:
        # samples × cell types AnnData of counts (biomarkers.features.composition)
        x = data.X.toarray() if hasattr(data.X, "toarray") else np.asarray(data.X)
        counts = pd.DataFrame(x, index=data.obs_names.astype(str), columns=data.var_names)
        samples = data.obs.copy()
        samples.index = samples.index.astype(str)
        samples[sample_key] = samples.index
    elif hasattr(data, "obs"):
        obs = data.obs
        check_columns(obs, [sample_key, groups_key], source=f"{_SOURCE}: adata.obs", hint="")
        if "n_cells" in obs.columns and not obs.duplicated([sample_key, groups_key]).any():
            counts = obs.pivot_table(
                index=sample_key, columns=groups_key, values="n_cells", aggfunc="sum",
                fill_value=0, observed=True,
            )  # fmt: skip
        else:
            counts = pd.crosstab(obs[sample_key].astype(str), obs[groups_key].astype(str))
        samples = _per_sample(obs.drop(columns=[groups_key]), sample_key)
    else:
        msg = f"{_SOURCE}: expected an AnnData or a DataFrame, got {type(data).__name__}"
        raise SchemaError(msg)
    counts.index = counts.index.astype(str)
    counts.columns = counts.columns.astype(str)
    counts = counts.astype(float)
    if (counts.to_numpy() < 0).any():
        msg = f"{_SOURCE}: negative cell counts found; pass counts, not transformed values"
        raise SchemaError(msg)
    empty = counts.index[counts.sum(axis=1) == 0]
    if len(empty):
        msg = f"{_SOURCE}: sample(s) with no cells: {format_ids(list(empty))}; remove them"
        raise SchemaError(msg)
    if counts.shape[1] < 2:
        msg = f"{_SOURCE}: need at least 2 cell types, found {counts.shape[1]}"
        raise SchemaError(msg)
    samples.index = samples.index.astype(str)
    return counts, samples


def _per_sample(df: pd.DataFrame, sample_key: str) -> pd.DataFrame:
    """One row per sample with the columns that are constant within each sample."""
    df = df.copy()
    df[sample_key] = df[sample_key].astype(str)
    cols = [c for c in df.columns if c != sample_key]
    keep = [c for c in cols if (df.groupby(sample_key, observed=True)[c].nunique() <= 1).all()]
    out = df.groupby(sample_key, observed=True)[keep].first()
    out[sample_key] = out.index
    return out


def _transform(
    counts: pd.DataFrame, transform: str, pseudocount: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    c = counts.to_numpy(float)
    raw = c / c.sum(axis=1, keepdims=True)
    if transform == "asin_sqrt":
        values = np.arcsin(np.sqrt(raw))
    else:
        pc = c + pseudocount
        p = pc / pc.sum(axis=1, keepdims=True)
        if transform == "clr":
            logp = np.log(p)
            values = logp - logp.mean(axis=1, keepdims=True)
        else:
            values = np.log(p / (1 - p))
    return (
        pd.DataFrame(values, index=counts.index, columns=counts.columns),
        pd.DataFrame(raw, index=counts.index, columns=counts.columns),
    )
