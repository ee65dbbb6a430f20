from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import did_you_mean, format_ids
from biomarkers.exceptions import ConfigError, LeakageError, SchemaError
from biomarkers.features._block_builders import BuildContext, _Block, add_longitudinal, stack
from biomarkers.features._blocks import block_spec, resolve_blocks

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["build_feature_table"]

_VAR_COLUMNS = [
    "modality",
    "entity",
    "visit",
    "day",
    "unit",
    "kind",
    "lod",
    "uloq",
    "censored_fraction",
    "flag_censored",
    "log2_offset",
]


def _check_visits(study, visits, outcome) -> dict[str, int]:
    known = dict(study.visits)
    visits = [visits] if isinstance(visits, str) else list(visits)
    if not visits:
        msg = "build_feature_table: visits is empty; pass e.g. visits=['D0']"
        raise ConfigError(msg)
    for v in visits:
        if v not in known:
            msg = (
                f"build_feature_table: visit {v!r} is not a study visit{did_you_mean(v, known)}; "
                f"known: {', '.join(known)}"
            )
            raise ConfigError(msg)
    days = {v: int(known[v]) for v in sorted(visits, key=lambda v: known[v])}
    if outcome is not None:
        late = [v for v, d in days.items() if d >= outcome.assessed_day]
        if late:
            allowed = [v for v, d in known.items() if d < outcome.assessed_day]
            msg = (
                f"visits {', '.join(f'{v} (day {days[v]})' for v in late)} are at or after the "
                f"assessment of outcome {outcome.name!r} (day {outcome.assessed_day}); features "
                f"from them would leak the outcome; allowed visits: {', '.join(allowed) or 'none'}"
            )
            raise LeakageError(msg)
    return days


def _serialisable(value):
    """Block options as h5ad-writable ``uns`` (None dropped, sequences as lists of str)."""
    if isinstance(value, Mapping):
        return {str(k): _serialisable(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value]
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _outcome_meta(outcome) -> dict[str, Any]:
    """``Outcome.to_dict()`` whole (kind, label columns, day, definition, positive, description)."""
    if hasattr(outcome, "to_dict"):
        return _serialisable(outcome.to_dict())
    return {  # a duck-typed outcome without to_dict: its label columns are its table's
        "kind": outcome.kind,
        "columns": [str(c) for c in outcome.table.columns],
        "assessed_day": int(outcome.assessed_day),
        "definition": str(outcome.definition),
    }


def _tables(study) -> list[str]:
    """Names of the assays read from subject tables (``uns["source"] == "table"``)."""
    assays = getattr(study, "assays", None) or {}
    return [n for n, a in assays.items() if getattr(a, "uns", {}).get("source") == "table"]


def _build(ctx: BuildContext, opts: Mapping[str, Any], assays) -> _Block:
    """Run every resolved block's build function; log what each built."""
    acc = _Block(ctx.subjects)
    longitudinal = {}
    tables = _tables(ctx.study)
    for name, block_opts in opts.items():
        spec = block_spec(name, assays, tables=tables)
        if spec.longitudinal:
            longitudinal[name] = spec.build
            continue
        acc.current = name
        spec.build(ctx, name, block_opts, acc)
    add_longitudinal(acc, longitudinal, ctx.days)
    counts = acc.counts()
    logger.info(
        "features: built blocks %s",
        ", ".join(f"{b} ({counts.get(b, 0)})" for b in opts) or "none",
    )
    return acc


def _var_table(acc: _Block) -> tuple[np.ndarray, pd.DataFrame]:
    """``X`` and the tidy ``var`` (index = feature name) of the accumulated features."""
    X, var = stack(acc)
    for c in _VAR_COLUMNS:
        if c not in var:
            var[c] = np.nan
    var["censored_fraction"] = var["censored_fraction"].astype(float)
    var["flag_censored"] = var["flag_censored"].map(lambda x: x is True or x == 1).astype(bool)
    var["day"] = var["day"].astype(int) if len(var) else var["day"]
    var = var.set_index("name")
    var.index.name = None
    dup = var.index[var.index.duplicated()]
    if len(dup):
        msg = f"feature names collide after cleaning: {format_ids(list(dup))}; rename the entities"
        raise SchemaError(msg)
    var = var[[*_VAR_COLUMNS, *[c for c in var.columns if c not in _VAR_COLUMNS]]]
    for c in ("unit", "entity", "modality", "visit", "kind"):
        var[c] = var[c].astype(str)
    if "cell_type" in var:
        var["cell_type"] = var["cell_type"].fillna("").astype(str)
    return X, var


def build_feature_table(
    study,
    *,
    visits: Sequence[str] | str,
    blocks: Mapping[str, Any] | Sequence[str] | None = None,
    outcome=None,
    covariates: Sequence[str] | None = None,
) -> ad.AnnData:
    """Assemble the FeatureTable: one row per subject, one column per feature.

    Only per-subject, deterministic transforms happen here (log2 of a concentration, CLR within a
    sample, CPM within a pseudobulk sample, differences between a subject's own visits). Nothing
    is learned across subjects: censored-value substitution, scaling, CLR references, gene or
    feature selection by variance/missingness and normalisation with a learned reference are
    transformers (:class:`CensoredValueImputer`, :class:`VarianceFilter`,
    :class:`MissingnessFilter`, :class:`PseudobulkNormalizer`) that model pipelines fit inside each
    cross-validation training fold.

    Parameters
    ----------
    study
        A :class:`biomarkers.study.Study` (or any object with the same attributes: ``clinical``,
        ``labs``, ``samples``, ``visits``, ``assays``, ``singlecell``, ``singlecell_path``).
    visits
        Visit labels to take features from, e.g. ``["D0", "D7"]``; the earliest is the baseline
        for deltas.
    blocks
        Which feature blocks to build and their options (``features.blocks`` of a job config):
        block name → options (``True`` for the defaults), or a list of names. The blocks, their
        options and defaults are listed by :func:`available_blocks`; any other assay of
        ``study.assays`` is a block under its own name. ``None`` builds every block the study
        has data for: ``clinical``, one block per assay in ``study.assays``, ``composition``
        and ``pseudobulk`` (the 20 most variable genes of each cell type) when there are
        cells, and ``deltas``; the log lists the blocks built. A named block whose data the
        study lacks is a :class:`ConfigError`.
    outcome
        A :class:`biomarkers.clinical.Outcome` (``name, kind, table, assessed_day, definition``)
        or ``None``. Visits on or after ``assessed_day`` are refused with :class:`LeakageError`.
    covariates
        ``study.clinical`` columns copied to ``obs`` (default: all of them).

    Returns
    -------
    anndata.AnnData
        Subjects × features. ``obs`` (index ``subject_id``): ``arm``, covariates and the outcome
        columns. ``var`` (index = feature name ``modality:entity@visit``, pseudobulk and gene-set
        features ``modality:cell_type:entity@visit``, deltas ``...@D7-D0``, ``...@slope(D0..D7)``,
        ``...@auc(D0..D7)``): ``modality, entity, visit, day, unit, kind, lod, uloq,
        censored_fraction, flag_censored, log2_offset`` (+ ``cell_type``,
        ``replicate_cv_median``); ``log2_offset`` is ``c`` for values stored as
        ``log2(x + c)`` (pass it to :class:`CensoredValueImputer`), NaN otherwise. ``X``:
        float64 with ``-inf``/``+inf`` for values censored below/above a limit and ``NaN`` for
        missing. ``uns["outcomes"][outcome.name]`` (``Outcome.to_dict()``: ``kind, columns`` (the label
        columns), ``assessed_day, definition, positive`` (the words naming class 1 / the event)
        and ``description``), ``uns["feature_table"]["params"]`` (visits, resolved
        block options) and ``uns["blocks"]`` (features built by each resolved block, in build order).

    Raises
    ------
    LeakageError
        A requested visit is on or after the outcome's assessment day.
    ConfigError
        Unknown block, option, visit, cell type or gene; a named block whose assay or
        single-cell data the study lacks.
    """
    import anndata as ad

    days = _check_visits(study, visits, outcome)
    clinical = study.clinical.copy()
    clinical.index = clinical.index.astype(str)
    ctx = BuildContext(study, days, pd.Index(clinical.index, name="subject_id"))
    assays = list(getattr(study, "assays", None) or {})
    opts = resolve_blocks(
        blocks, assays=assays, singlecell=ctx.cells() is not None, tables=_tables(study)
    )
    acc = _build(ctx, opts, assays)
    X, var = _var_table(acc)

    keep = list(covariates) if covariates is not None else list(clinical.columns)
    for c in keep:
        if c not in clinical.columns:
            msg = f"covariate {c!r} not in study.clinical{did_you_mean(c, clinical.columns)}"
            raise ConfigError(msg)
    obs = clinical[[c for c in dict.fromkeys(["arm", *keep]) if c in clinical.columns]].copy()
    uns: dict[str, Any] = {
        "feature_table": {
            "params": {
                "visits": list(days),
                "visit_days": {k: int(v) for k, v in days.items()},
                "blocks": _serialisable(opts),
            }
        },
        "blocks": {b: int(acc.counts().get(b, 0)) for b in opts},
        "outcomes": {},
    }
    if outcome is not None:
        table = outcome.table.copy()
        table.index = table.index.astype(str)
        for c in table.columns:
            obs[c] = table[c].reindex(obs.index).to_numpy()
        uns["outcomes"][outcome.name] = _outcome_meta(outcome)
    obs.index.name = None
    return ad.AnnData(X=X.astype(np.float64), obs=obs, var=var, uns=uns)
