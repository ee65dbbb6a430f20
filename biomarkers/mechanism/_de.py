"""Pseudobulk differential expression per cell type: pydeseq2's NB GLM, subject-block, mixed or paired t."""

from __future__ import annotations

import contextlib
import re
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from biomarkers._logging import logger, timed
from biomarkers._parallel import limit_blas, resolve_n_jobs
from biomarkers._progress import progress
from biomarkers._stats import bh_qvalues
from biomarkers._validation import check_choice, check_columns, did_you_mean, format_ids
from biomarkers.exceptions import ConfigError, SchemaError, SmallSampleWarning
from biomarkers.mechanism._de_paired import paired_moderated_t
from biomarkers.mechanism._result import DEResult
from biomarkers.mechanism._utils import (
    as_list,
    check_levels,
    join_design,
    resolve_treated,
    visit_order,
)

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["pseudobulk_de"]

_SOURCE = "pseudobulk_de"
# edgeR::filterByExpr defaults (Chen, Lun & Smyth 2016)
_MIN_TOTAL_COUNT = 15
_LARGE_N = 10
_MIN_PROP = 0.7

_METHODS = ["auto", "subject_block", "pydeseq2", "mixed", "paired_t"]
_COLUMNS = [
    "cell_type",
    "gene",
    "log2fc",
    "lfc_se",
    "stat",
    "pvalue",
    "padj_deseq2",
    "q_value",
    "q_value_global",
    "base_mean",
    "n_samples",
    "contrast",
]


def pseudobulk_de(
    pdata: ad.AnnData | pd.DataFrame,
    *,
    design: str = "~ subject + visit",
    contrast: Sequence | np.ndarray | None = None,
    contrasts: Sequence[Mapping[str, Any]] | None = None,
    cell_type: str | Sequence[str] | None = None,
    method: str = "auto",
    min_cells: int = 10,
    min_counts: int = 10,
    min_samples: int | None = None,
    design_table: pd.DataFrame | None = None,
    n_jobs: int | None = None,
    arm: str | Sequence[str] | None = None,
    visit: str | Sequence[str] | None = None,
    subject_key: str = "subject_id",
    treated_arm: str | None = None,
    control_arm: str | None = None,
    reference_visit: str = "D0",
) -> DEResult:
    """Differential expression of pseudobulk samples, per cell type, with pydeseq2's NB GLM.

    Each cell type is tested on its own: pseudobulk samples with fewer than ``min_cells`` cells
    are dropped, lowly expressed genes are removed with edgeR's ``filterByExpr`` rule, then
    pydeseq2 fits the negative-binomial GLM and a Wald test of the contrast. pydeseq2's
    ``log2FoldChange``, ``lfcSE``, ``stat``, ``pvalue``, ``padj`` and ``baseMean`` are passed
    through unchanged.

    For designs with a subject term (paired visits, arm × visit) the default ``method="auto"``
    runs pydeseq2's pipeline with the subject-block inference
    (:class:`~biomarkers.mechanism._de_subject.SubjectBlockInference`): the subject effects
    are profiled out exactly and all genes are fitted at once, seconds instead of minutes,
    with the same model, dispersion prior, filtering and output. Between-subject designs
    (``~ arm`` at one visit) use pydeseq2's own inference. A design without a subject term on
    samples that repeat subjects (``~ arm + age + visit`` over two visits: a between-subject
    contrast with repeated visits) gets the voom-weighted mixed model with a subject random
    intercept (``method="mixed"``, :mod:`~biomarkers.mechanism._de_mixed`). For two-visit within-subject
    contrasts the paired log-ratio moderated t is reported alongside in
    ``tables["paired_t"]``.

    Three contrast forms are supported:

    * ``("visit", "D7", "D0")`` — a factor, the tested level and the reference level (pydeseq2's
      own form). Only samples at these two levels are used. With the default paired design
      ``~ subject + visit`` subjects lacking either visit are dropped (recorded in
      ``.dropped``); restrict to one arm with ``arm="ucMSC+SMT"``.
    * ``("arm", "ucMSC+SMT", "SMT")`` with ``design="~ arm"`` and ``visit="D28"`` — between-arm
      comparison at one visit (unpaired).
    * ``(("arm", "ucMSC+SMT", "SMT"), ("visit", "D7", "D0"))`` — the arm × visit interaction,
      i.e. the difference between the arms of the within-subject change from D0 to D7. The
      design is built explicitly as ``~ subject + visit + arm:visit`` (columns: intercept,
      subject dummies, ``visit[D7]``, ``arm[ucMSC+SMT]:visit[D7]``; the arm main effect is
      absorbed by the subjects, who are nested in arms) and the contrast is the vector that
      selects the interaction column; ``design`` is ignored.

    A numpy contrast vector (one weight per column of the design matrix built from ``design``)
    is passed to pydeseq2 as is.

    Several contrasts in one call: ``contrasts=[{"contrast": ..., "arm": ..., "visit": ...,
    "design": ...}, ...]`` (keys other than ``contrast`` default to the call's arguments; YAML
    lists are accepted). With neither ``contrast`` nor ``contrasts``, the default set is, for
    every visit after ``reference_visit``: the paired change within ``treated_arm`` and the
    arm × visit interaction.

    Parameters
    ----------
    pdata
        Pseudobulk AnnData ((sample × cell type) × genes; ``obs`` with ``sample_id``,
        ``cell_type``, ``n_cells`` and the design columns, ``X`` summed raw counts), or a
        DataFrame of counts (rows = pseudobulk samples, columns = genes) whose rows are
        described by ``design_table`` (same index).
    design
        Formula of the model (formulaic syntax, as pydeseq2). ``subject`` refers to
        ``subject_key`` when ``obs`` has no ``subject`` column.
    contrast
        What to test; see above.
    contrasts
        Several contrasts, as a list of dicts; see above.
    cell_type
        Cell type(s) to test; default all.
    method
        ``"auto"`` (subject-block inference when the design has a subject term; the mixed model
        when it has none but a cell type's samples repeat subjects; pydeseq2's own otherwise),
        ``"subject_block"`` (refuses designs without a subject term), ``"mixed"`` (voom
        weights, subject random intercept, moderated t on log2 CPM; refuses a subject term;
        ``padj_deseq2`` is then empty),
        ``"pydeseq2"`` (pydeseq2's per-gene inference, the reference) or ``"paired_t"`` (the
        paired log-ratio moderated t as the main table; ``padj_deseq2`` is then empty).
        (``backend`` means where work runs, as in :func:`biomarkers.features.pseudobulk`.)
    min_cells
        Pseudobulk samples with fewer cells are dropped (needs ``obs['n_cells']``).
    min_counts
        edgeR ``min.count``: a gene is kept when its CPM is at least
        ``min_counts / median library size × 10⁶`` in at least ``min_samples`` samples and
        its total count is at least 15.
    min_samples
        Number of samples that must pass the CPM threshold; default the smallest group size of
        the contrast (edgeR rule, with its large-group relaxation above 10).
    design_table
        Per-sample design (indexed by or with a ``sample_id`` column) joined onto ``obs`` for
        the columns it lacks (``subject_id``, ``visit``, ``arm`` ...); for a counts DataFrame,
        the row annotations (same index).
    n_jobs
        Processes for pydeseq2 (``DefaultInference(n_cpus=...)``); ``None`` uses
        ``biomarkers.settings.n_jobs``, ``-1`` all cores.
    arm
        Keep only samples of this arm (or arms), e.g. ``"ucMSC+SMT"``.
    visit
        Keep only samples of this visit (or visits), e.g. ``"D28"``.
    subject_key
        Column holding subject IDs (used for the ``subject`` term and for pairing).
    treated_arm
        Treated arm label for the default contrasts (default: the arm naming ``MSC``).
    control_arm
        Control arm label for the default contrasts (default: the other arm).
    reference_visit
        Baseline visit of the default contrasts.

    Returns
    -------
    :class:`DEResult` with ``.table`` (``cell_type, gene, log2fc, lfc_se, stat, pvalue,
    padj_deseq2`` (pydeseq2's BH with independent filtering), ``q_value`` (BH within cell type
    over genes with a p-value), ``q_value_global`` (BH across all cell types of the contrast),
    ``base_mean, n_samples, contrast``), ``.dropped`` (``contrast, cell_type, kind, id, reason``) and
    ``tables["notes"]`` (``contrast, cell_type, message``: pydeseq2's warnings about its automatic
    fallbacks, e.g. a mean-based dispersion trend; also logged), and for two-visit
    within-subject contrasts ``tables["paired_t"]`` (same columns, the paired log-ratio
    moderated t; ``padj_deseq2`` empty).

    Examples
    --------
    >>> res = pseudobulk_de(
    ...     pdata, contrast=("visit", "D7", "D0"), arm="ucMSC+SMT"
    ... )  # doctest: +SKIP
    >>> res.table.query("q_value < 0.1")  # doctest: +SKIP
    """
    check_choice("method", method, _METHODS)
    n_jobs = resolve_n_jobs(n_jobs)
    counts, obs, genes = _inputs(pdata, design_table=design_table, subject_key=subject_key)
    if subject_key in obs.columns and "subject" not in obs.columns:
        obs["subject"] = obs[subject_key].astype(str)
    specs = _contrast_specs(
        obs,
        contrast=contrast,
        contrasts=contrasts,
        defaults={"design": design, "arm": arm, "visit": visit},
        treated_arm=treated_arm,
        control_arm=control_arm,
        reference_visit=reference_visit,
    )
    tables, paired, dropped, notes, labels = [], [], [], [], []
    for spec in specs:
        (table, paired_table), drop, note, label = _one_contrast(
            counts,
            obs,
            genes,
            cell_type=cell_type,
            min_cells=min_cells,
            min_counts=min_counts,
            min_samples=min_samples,
            n_jobs=n_jobs,
            method=method,
            **spec,
        )
        tables.append(table)
        paired.append(paired_table)
        dropped.extend({**d, "contrast": label} for d in drop)
        notes.extend({**n, "contrast": label} for n in note)
        labels.append(label)
    table = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    if table.empty:
        msg = f"{_SOURCE}: no cell type could be tested for {'; '.join(labels)}; see .dropped"
        warnings.warn(msg, SmallSampleWarning, stacklevel=2)
    params = {
        "contrasts": [
            {k: (_jsonable_contrast(v) if k == "contrast" else v) for k, v in spec.items()}
            for spec in specs
        ],
        "contrast_labels": labels,
        "cell_type": cell_type,
        "method": method,
        "min_cells": min_cells,
        "min_counts": min_counts,
        "min_samples": min_samples,
        "subject_key": subject_key,
    }
    dropped_df = pd.DataFrame(dropped, columns=["contrast", "cell_type", "kind", "id", "reason"])
    notes_df = pd.DataFrame(notes, columns=["contrast", "cell_type", "message"])
    extra = {"dropped": dropped_df, "notes": notes_df}
    if method != "paired_t" and any(len(p) for p in paired):
        extra["paired_t"] = pd.concat([p for p in paired if len(p)], ignore_index=True)
    return DEResult(table, extra=extra, params=params)


def _contrast_specs(
    obs: pd.DataFrame,
    *,
    contrast: Any,
    contrasts: Any,
    defaults: dict[str, Any],
    treated_arm: str | None,
    control_arm: str | None,
    reference_visit: str,
) -> list[dict[str, Any]]:
    """The contrasts to run, each as ``{contrast, design, arm, visit}``."""
    if contrast is not None and contrasts is not None:
        msg = f"{_SOURCE}: give contrast= or contrasts=, not both"
        raise ConfigError(msg)
    if contrast is not None:
        return [{"contrast": contrast, **defaults}]
    if contrasts is not None:
        specs = []
        allowed = ["contrast", "design", "arm", "visit"]
        for i, item in enumerate(contrasts):
            if not isinstance(item, Mapping) or "contrast" not in item:
                msg = (
                    f"{_SOURCE}: contrasts[{i}] must be a dict with a 'contrast' key "
                    f"(and optionally design, arm, visit), got {item!r}"
                )
                raise ConfigError(msg)
            for key in item:
                if key not in allowed:
                    msg = (
                        f"{_SOURCE}: contrasts[{i}] has unknown key {key!r}"
                        f"{did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}"
                    )
                    raise ConfigError(msg)
            c = item["contrast"]
            if isinstance(c, list) and len(c) == 2 and all(isinstance(x, list) for x in c):
                c = (tuple(c[0]), tuple(c[1]))  # YAML gives lists
            specs.append({**defaults, **dict(item), "contrast": c})
        return specs
    # default: for every visit after the reference, the paired change in the treated arm and
    # the arm × visit interaction
    check_columns(obs, ["arm", "visit"], source=f"{_SOURCE} (default contrasts)", hint="")
    treated, control = resolve_treated(obs, "arm", treated_arm, control=control_arm, source=_SOURCE)
    check_levels(obs, "visit", [reference_visit], source=_SOURCE)
    later = [v for v in visit_order(obs["visit"].astype(str).unique()) if v != reference_visit]
    specs = []
    for v in later:
        specs.append({**defaults, "contrast": ("visit", v, reference_visit), "arm": treated})
        specs.append(
            {
                **defaults,
                "contrast": (("arm", treated, control), ("visit", v, reference_visit)),
                "arm": None,
            }
        )
    return specs


def _one_contrast(
    counts: Any,
    obs: pd.DataFrame,
    genes: np.ndarray,
    *,
    contrast: Any,
    design: str,
    arm: Any,
    visit: Any,
    cell_type: Any,
    min_cells: int,
    min_counts: int,
    min_samples: int | None,
    n_jobs: int,
    method: str,
) -> tuple[tuple[pd.DataFrame, pd.DataFrame], list[dict[str, Any]], list[dict[str, str]], str]:
    import scipy.sparse as sp

    kind, spec = _parse_contrast(contrast)
    if kind == "interaction":
        (arm_col, treated, control), (visit_col, v_test, v_ref) = spec
        needed = [arm_col, visit_col, "subject"]
    elif kind == "simple":
        needed = [spec[0], *_formula_columns(design, obs.columns)]
    else:
        needed = _formula_columns(design, obs.columns)
    missing = [c for c in dict.fromkeys(needed) if c not in obs.columns]
    if missing:
        col = "subject_id" if missing[0] == "subject" else missing[0]
        msg = (
            f"{_SOURCE}: design column {col!r} not found in pdata.obs"
            f"{did_you_mean(col, obs.columns)}; available: {', '.join(map(str, obs.columns))}; "
            "add it or pass design_table="
        )
        raise SchemaError(msg)

    dropped: list[dict[str, Any]] = []
    notes: list[dict[str, str]] = []
    keep = np.ones(len(obs), bool)
    for col, values in (("arm", arm), ("visit", visit)):
        if values is not None:
            check_columns(obs, [col], source=f"{_SOURCE} ({col}= filter)", hint="")
            check_levels(obs, col, as_list(values), source=_SOURCE)
            keep &= obs[col].astype(str).isin([str(v) for v in as_list(values)]).to_numpy()
    if kind == "simple":
        factor, test, ref = spec
        check_levels(obs[keep], factor, [test, ref], source=_SOURCE)
        keep &= obs[factor].astype(str).isin([test, ref]).to_numpy()
    elif kind == "interaction":
        check_levels(obs[keep], arm_col, [treated, control], source=_SOURCE)
        check_levels(obs[keep], visit_col, [v_test, v_ref], source=_SOURCE)
        keep &= obs[arm_col].astype(str).isin([treated, control]).to_numpy()
        keep &= obs[visit_col].astype(str).isin([v_test, v_ref]).to_numpy()
    if "n_cells" in obs.columns:
        few = keep & (obs["n_cells"].to_numpy() < min_cells)
        for i in np.flatnonzero(few):
            dropped.append(
                {
                    "cell_type": obs["cell_type"].iat[i],
                    "kind": "sample",
                    "id": obs.index[i],
                    "reason": f"n_cells={obs['n_cells'].iat[i]} < min_cells={min_cells}",
                }
            )
        keep &= ~few

    cell_types = list(dict.fromkeys(obs["cell_type"].astype(str)))
    if cell_type is not None:
        wanted = [str(c) for c in as_list(cell_type)]
        check_levels(obs, "cell_type", wanted, source=_SOURCE)
        cell_types = [c for c in cell_types if c in wanted]
    label = _contrast_label(kind, spec, arm=arm, visit=visit)
    paired = kind == "interaction" or (kind == "simple" and "subject" in needed)
    has_subject = kind == "interaction" or "subject" in _formula_columns(design, obs.columns)
    if method == "subject_block" and not has_subject:
        msg = (
            f"{_SOURCE}: method='subject_block' needs a design with a subject term, got "
            f"design={design!r} for {label}; use method='auto' or 'pydeseq2', or add subject"
        )
        raise ConfigError(msg)
    block = method in ("auto", "subject_block") and has_subject
    if method == "mixed" and kind != "interaction" and has_subject:
        msg = (
            f"{_SOURCE}: method='mixed' takes the subject as a random effect, got "
            f"design={design!r} for {label}; drop 'subject' from the design"
        )
        raise ConfigError(msg)
    if method == "mixed" and "subject" not in obs.columns:
        msg = f"{_SOURCE}: method='mixed' needs subject IDs (subject_key= column in pdata.obs)"
        raise SchemaError(msg)

    tables, paired_tables = [], []
    # per-gene pydeseq2 algebra is small: one BLAS thread per worker (threads only add overhead)
    with timed(f"pseudobulk DE ({label})"), limit_blas(n_jobs, small=True):
        for ct in progress(cell_types, description="pseudobulk DE"):
            start = time.perf_counter()
            rows = np.flatnonzero(keep & (obs["cell_type"].astype(str) == ct).to_numpy())
            sub = obs.iloc[rows]
            if paired:
                pair_col = visit_col if kind == "interaction" else spec[0]
                levels = [v_test, v_ref] if kind == "interaction" else [spec[1], spec[2]]
                ok, lost = _complete_pairs(sub, pair_col, levels)
                dropped.extend(
                    {"cell_type": ct, "kind": "subject", "id": s, "reason": "unpaired"}
                    for s in lost
                )
                rows, sub = rows[ok], sub[ok]
            groups = _groups(sub, kind, spec)
            reason = _too_small(groups, kind)
            if reason:
                dropped.append({"cell_type": ct, "kind": "cell_type", "id": ct, "reason": reason})
                logger.info("pseudobulk DE: skipping %s (%s)", ct, reason)
                continue
            mat = counts[rows]
            mat = mat.toarray() if sp.issparse(mat) else np.asarray(mat)
            gene_keep = filter_by_expr(mat, groups, min_counts=min_counts, min_samples=min_samples)
            dropped.extend(
                {"cell_type": ct, "kind": "gene", "id": g, "reason": "filterByExpr"}
                for g in genes[~gene_keep]
            )
            if gene_keep.sum() < 2:
                reason = f"{int(gene_keep.sum())} gene(s) pass filterByExpr"
                dropped.append({"cell_type": ct, "kind": "cell_type", "id": ct, "reason": reason})
                continue
            counts_df = pd.DataFrame(
                mat[:, gene_keep].astype(np.int64),
                index=sub.index.astype(str),
                columns=genes[gene_keep],
            )
            two_visit = (
                paired_moderated_t(counts_df.to_numpy(), sub, kind, spec) if paired else None
            )
            if two_visit is not None:
                two_visit.insert(0, "gene", genes[gene_keep])
                two_visit.insert(0, "cell_type", ct)
                two_visit["n_samples"] = len(rows)
                paired_tables.append(two_visit)
            messages: list[str] = []
            engine = (
                "paired_t" if method == "paired_t" else "subject_block" if block else "pydeseq2"
            )
            try:
                if method == "paired_t":
                    if two_visit is None:
                        msg = "paired_t needs a two-visit within-subject contrast"
                        raise ValueError(msg)
                    res = two_visit.drop(columns=["cell_type", "n_samples"])
                elif _use_mixed(method, sub, has_subject=has_subject):
                    engine = "mixed"
                    res = _run_mixed(counts_df, sub, kind, spec, design)
                else:
                    res = _run_pydeseq2(
                        counts_df, sub, kind, spec, design,
                        n_jobs=n_jobs, notes=messages, block=block,
                    )  # fmt: skip
            except ValueError as err:  # e.g. design not of full rank in this cell type
                reason = f"pydeseq2: {str(err).splitlines()[0]}"
                dropped.append({"cell_type": ct, "kind": "cell_type", "id": ct, "reason": reason})
                logger.warning("pseudobulk DE: skipping %s (%s)", ct, reason)
                continue
            for m in messages:
                logger.warning("pseudobulk DE %s: pydeseq2: %s", ct, m)
                notes.append({"cell_type": ct, "message": m})
            res.insert(0, "cell_type", ct)
            res["n_samples"] = len(rows)
            tables.append(res)
            logger.info(
                "pseudobulk DE %s (%s): %d samples × %d genes by %s in %.1f s",
                ct, label, len(rows), int(gene_keep.sum()),
                engine,
                time.perf_counter() - start,
            )  # fmt: skip

    table = _assemble(tables, label)
    paired_table = _assemble(paired_tables, label) if paired_tables else _assemble([], label)
    return (table, paired_table), dropped, notes, label


def filter_by_expr(
    counts: np.ndarray,
    groups: np.ndarray | None = None,
    *,
    min_counts: int = 10,
    min_samples: int | None = None,
) -> np.ndarray:
    """Apply edgeR's ``filterByExpr`` rule to a samples × genes count matrix; return the genes to keep."""
    counts = np.asarray(counts, float)
    lib = counts.sum(axis=1)
    median_lib = float(np.median(lib))
    if median_lib <= 0:
        return np.zeros(counts.shape[1], bool)
    cutoff = min_counts / median_lib * 1e6
    cpm = counts / np.where(lib > 0, lib, 1)[:, None] * 1e6
    if min_samples is None:
        if groups is None:
            n = counts.shape[0]
        else:
            _, sizes = np.unique(np.asarray(groups), return_counts=True)
            n = int(sizes[sizes > 0].min())
        if n > _LARGE_N:
            n = _LARGE_N + (n - _LARGE_N) * _MIN_PROP
    else:
        n = min_samples
    tol = 1e-14
    keep_cpm = (cpm >= cutoff).sum(axis=0) >= n - tol
    keep_total = counts.sum(axis=0) >= _MIN_TOTAL_COUNT - tol
    return keep_cpm & keep_total


def _inputs(
    pdata: Any, *, design_table: pd.DataFrame | None, subject_key: str
) -> tuple[Any, pd.DataFrame, np.ndarray]:
    import scipy.sparse as sp

    if isinstance(pdata, pd.DataFrame):
        if design_table is None:
            msg = (
                f"{_SOURCE}: a counts DataFrame needs design_table= with one row per counts row "
                "(same index) holding the design columns"
            )
            raise SchemaError(msg)
        missing = pdata.index.difference(design_table.index)
        if len(missing):
            msg = (
                f"{_SOURCE}: {len(missing)} counts row(s) not in design_table index: "
                f"{format_ids(list(missing))}; index both by the same sample IDs"
            )
            raise SchemaError(msg)
        obs = design_table.loc[pdata.index].copy()
        if "cell_type" not in obs.columns:
            obs["cell_type"] = "all"
        values = pdata.to_numpy()
        genes = np.asarray(pdata.columns.astype(str))
    else:
        if not hasattr(pdata, "obs") or not hasattr(pdata, "X"):
            msg = (
                f"{_SOURCE}: pdata must be a pseudobulk AnnData or a counts DataFrame, "
                f"got {type(pdata).__name__}"
            )
            raise SchemaError(msg)
        obs = pdata.obs.copy()
        check_columns(obs, ["cell_type"], source=f"{_SOURCE}: pdata.obs", hint="")
        obs = join_design(
            obs,
            design_table,
            key="sample_id",
            needed=[subject_key, "visit", "arm"],
            source=_SOURCE,
            alt_key=subject_key,
        )
        values = pdata.X
        genes = np.asarray(pdata.var_names.astype(str))
    data = values.data if sp.issparse(values) else np.asarray(values)
    if (
        data.size
        and not np.issubdtype(data.dtype, np.integer)
        and (not np.all(np.isfinite(data)) or np.any(data != np.round(data)))
    ):
        msg = (
            f"{_SOURCE}: pdata.X must hold summed raw counts (non-negative integers); found "
            "non-integer values — pass the pseudobulk of raw counts, not normalised data"
        )
        raise SchemaError(msg)
    if data.size and data.min() < 0:
        msg = f"{_SOURCE}: pdata.X has negative values (min {data.min()}); pass raw counts"
        raise SchemaError(msg)
    if sp.issparse(values):
        values = sp.csr_matrix(values)
    obs.index = obs.index.astype(str)
    if obs.index.has_duplicates:
        msg = f"{_SOURCE}: pseudobulk sample names are not unique; call obs_names_make_unique()"
        raise SchemaError(msg)
    return values, obs, genes


def _parse_contrast(contrast: Any) -> tuple[str, Any]:
    if isinstance(contrast, np.ndarray):
        return "vector", contrast.astype(float)
    if isinstance(contrast, list | tuple):
        if len(contrast) == 3 and all(isinstance(c, str) for c in contrast):
            return "simple", tuple(contrast)
        if (
            len(contrast) == 2
            and all(isinstance(c, list | tuple) and len(c) == 3 for c in contrast)
            and all(isinstance(x, str) for c in contrast for x in c)
        ):
            return "interaction", (tuple(contrast[0]), tuple(contrast[1]))
    msg = (
        f"{_SOURCE}: contrast={contrast!r} not understood; use ('visit', 'D7', 'D0'), "
        "(('arm', 'ucMSC+SMT', 'SMT'), ('visit', 'D7', 'D0')) for the interaction, "
        "or a numpy contrast vector"
    )
    raise ConfigError(msg)


def _formula_columns(design: str, columns: pd.Index) -> list[str]:
    tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", design)
    keywords = {"C", "Treatment", "Sum", "np", "log", "I", "center", "scale"}
    cols = {str(c) for c in columns}
    named = [t for t in dict.fromkeys(tokens) if t not in keywords]
    unknown = [t for t in named if t not in cols]
    if unknown == ["subject"]:
        msg = (
            f"{_SOURCE}: design column 'subject_id' not found in pdata.obs (the design's "
            f"'subject' term); available: {', '.join(sorted(cols))}; add it, pass "
            "subject_key= or design_table="
        )
        raise SchemaError(msg)
    if unknown:
        msg = (
            f"{_SOURCE}: design {design!r} uses {unknown[0]!r}, not a column of pdata.obs"
            f"{did_you_mean(unknown[0], cols)}; available: {', '.join(sorted(cols))}"
        )
        raise SchemaError(msg)
    return named


def _complete_pairs(sub: pd.DataFrame, col: str, levels: Sequence[str]) -> tuple[np.ndarray, list]:
    have = sub.groupby("subject", observed=True)[col].agg(lambda s: set(s.astype(str)))
    complete = {s for s, v in have.items() if set(levels) <= v}
    lost = sorted(set(have.index) - complete)
    return sub["subject"].isin(complete).to_numpy(), lost


def _groups(sub: pd.DataFrame, kind: str, spec: Any) -> np.ndarray | None:
    if kind == "simple":
        return sub[spec[0]].astype(str).to_numpy()
    if kind == "interaction":
        (arm_col, *_), (visit_col, *_) = spec
        return (sub[arm_col].astype(str) + "|" + sub[visit_col].astype(str)).to_numpy()
    return None


def _too_small(groups: np.ndarray | None, kind: str) -> str:
    if groups is None:
        return ""
    values, sizes = np.unique(groups, return_counts=True)
    need = 4 if kind == "interaction" else 2
    if len(values) < need:
        return f"only {len(values)} of {need} contrast groups have samples"
    if sizes.min() < 2:
        return f"group {values[sizes.argmin()]!r} has {sizes.min()} sample(s) (need ≥ 2)"
    return ""


def _interaction_design(sub: pd.DataFrame, spec: Any) -> tuple[pd.DataFrame, np.ndarray]:
    (arm_col, treated, _), (visit_col, v_test, _) = spec
    subjects = sorted(sub["subject"].astype(str).unique())
    cols = {"Intercept": np.ones(len(sub))}
    subj = sub["subject"].astype(str).to_numpy()
    for s in subjects[1:]:
        cols[f"subject[{s}]"] = (subj == s).astype(float)
    at_test = (sub[visit_col].astype(str) == v_test).to_numpy(float)
    is_treated = (sub[arm_col].astype(str) == treated).to_numpy(float)
    cols[f"visit[{v_test}]"] = at_test
    cols[f"arm[{treated}]:visit[{v_test}]"] = at_test * is_treated
    dm = pd.DataFrame(cols, index=sub.index.astype(str))
    vec = np.zeros(dm.shape[1])
    vec[-1] = 1.0
    return dm, vec


def _use_mixed(method: str, sub: pd.DataFrame, *, has_subject: bool) -> bool:
    """``method="mixed"``, or ``"auto"`` on a design without subject term whose samples repeat subjects."""
    if method == "mixed":
        return True
    return (
        method == "auto"
        and not has_subject
        and "subject" in sub.columns
        and bool(sub["subject"].duplicated().any())
    )


def _run_mixed(
    counts_df: pd.DataFrame, sub: pd.DataFrame, kind: str, spec: Any, design: str
) -> pd.DataFrame:
    """The voom-weighted subject random-intercept model (:func:`mixed_model_de`)."""
    from biomarkers.mechanism._de_mixed import mixed_model_de

    meta = sub.copy()
    meta.index = meta.index.astype(str)
    if kind == "interaction":
        (arm_col, treated, _), (visit_col, v_test, _) = spec
        at_test = (meta[visit_col].astype(str) == v_test).to_numpy(float)
        is_treated = (meta[arm_col].astype(str) == treated).to_numpy(float)
        matrix = np.column_stack([np.ones(len(meta)), is_treated, at_test, at_test * is_treated])
        vec = np.array([0.0, 0.0, 0.0, 1.0])
    else:
        from formulaic_contrasts import FormulaicContrasts

        used = _formula_columns(design, meta.columns)
        for col in used:
            if not pd.api.types.is_numeric_dtype(meta[col]):
                meta[col] = meta[col].astype(str)
        fc = FormulaicContrasts(meta[used], design)
        matrix = fc.design_matrix.to_numpy(float)
        if kind == "simple":
            factor, test, ref = spec
            vec = np.asarray(fc.contrast(factor, ref, test), float)
        else:
            vec = np.asarray(spec, float)
            if len(vec) != matrix.shape[1]:
                msg = (
                    f"contrast vector has {len(vec)} weights, the design "
                    f"{list(fc.design_matrix.columns)} has {matrix.shape[1]} columns"
                )
                raise ValueError(msg)
    res = mixed_model_de(counts_df.to_numpy(), matrix, meta["subject"].to_numpy(), vec)
    res.insert(0, "gene", counts_df.columns.astype(str))
    return res


def _run_pydeseq2(
    counts_df: pd.DataFrame,
    sub: pd.DataFrame,
    kind: str,
    spec: Any,
    design: str,
    *,
    n_jobs: int,
    notes: list[str],
    block: bool = False,
) -> pd.DataFrame:
    try:
        from pydeseq2.dds import DeseqDataSet
        from pydeseq2.default_inference import DefaultInference
        from pydeseq2.ds import DeseqStats
    except ImportError as err:  # pragma: no cover - pydeseq2 is a core dependency
        msg = "pseudobulk_de needs pydeseq2: pip install 'pydeseq2>=0.5'"
        raise ImportError(msg) from err

    meta = sub.copy()
    meta.index = meta.index.astype(str)
    for col in meta.columns:
        if not pd.api.types.is_numeric_dtype(meta[col]):
            meta[col] = meta[col].astype(str)
    inference: Any = DefaultInference(n_cpus=n_jobs)
    if block:
        from biomarkers.mechanism._de_subject import SubjectBlockInference

        inference = SubjectBlockInference(meta["subject"].to_numpy(), inference)
    if kind == "interaction":
        design_arg: Any
        design_arg, vec = _interaction_design(sub, spec)
        contrast: Any = vec
    elif kind == "simple":
        design_arg, contrast = design, list(spec)
    else:
        design_arg, contrast = design, spec
    if kind != "interaction":
        used = _formula_columns(design, meta.columns)
        meta = meta[used]
    else:
        meta = meta[["subject"]]
    # pydeseq2 warns about its automatic fallbacks (mean dispersion trend, few residual df);
    # they are kept in result.tables["notes"] and the log instead of interrupting batch runs
    with warnings.catch_warnings(record=True) as caught, _fast_replicate_count():
        warnings.simplefilter("always")
        dds = DeseqDataSet(
            counts=counts_df, metadata=meta, design=design_arg, inference=inference, quiet=True
        )
        dds.deseq2()
        stats = DeseqStats(dds, contrast=contrast, inference=inference, quiet=True)
        stats.summary()
    notes.extend(dict.fromkeys(str(w.message).splitlines()[0] for w in caught))
    res = stats.results_df
    return pd.DataFrame(
        {
            "gene": res.index.astype(str),
            "log2fc": res["log2FoldChange"].to_numpy(),
            "lfc_se": res["lfcSE"].to_numpy(),
            "stat": res["stat"].to_numpy(),
            "pvalue": res["pvalue"].to_numpy(),
            "padj_deseq2": res["padj"].to_numpy(),
            "base_mean": res["baseMean"].to_numpy(),
        }
    )


def _n_or_more_replicates(design_matrix: pd.DataFrame, min_replicates: int) -> pd.Series:
    """pydeseq2's ``n_or_more_replicates`` (same result) without a MultiIndex over every column.

    pydeseq2 factorises each design column into a categorical to count identical design rows;
    with one column per subject that is most of its run time outside the model fits.
    """
    _, inverse, sizes = np.unique(
        design_matrix.to_numpy(), axis=0, return_inverse=True, return_counts=True
    )
    return pd.Series(sizes[inverse.ravel()] >= min_replicates, index=design_matrix.index)


@contextlib.contextmanager
def _fast_replicate_count() -> Iterator[None]:
    """Use :func:`_n_or_more_replicates` inside pydeseq2 for the duration of one fit."""
    from unittest import mock

    import pydeseq2.dds
    import pydeseq2.utils

    with (
        mock.patch.object(pydeseq2.dds, "n_or_more_replicates", _n_or_more_replicates),
        mock.patch.object(pydeseq2.utils, "n_or_more_replicates", _n_or_more_replicates),
    ):
        yield


def _assemble(tables: list[pd.DataFrame], label: str) -> pd.DataFrame:
    if not tables:
        return pd.DataFrame(columns=_COLUMNS)
    table = pd.concat(tables, ignore_index=True)
    table["q_value"] = np.nan
    for _, idx in table.groupby("cell_type", sort=False).indices.items():
        table.loc[table.index[idx], "q_value"] = bh_qvalues(table["pvalue"].to_numpy()[idx])
    table["q_value_global"] = bh_qvalues(table["pvalue"].to_numpy())
    table["contrast"] = label
    return table[_COLUMNS]


def _contrast_label(kind: str, spec: Any, *, arm: Any, visit: Any) -> str:
    if kind == "simple":
        label = f"{spec[0]}: {spec[1]} vs {spec[2]}"
    elif kind == "interaction":
        (a, t, c), (v, vt, vr) = spec
        label = f"{a}×{v}: ({vt} vs {vr}) {t} vs {c}"
    else:
        label = "vector: " + ",".join(f"{x:g}" for x in spec)
    filters = [f"{k}={'/'.join(map(str, as_list(x)))}" for k, x in (("arm", arm), ("visit", visit))]
    filters = [f for f, x in zip(filters, (arm, visit), strict=True) if x is not None]
    return label + (f" [{', '.join(filters)}]" if filters else "")


def _jsonable_contrast(contrast: Any) -> Any:
    if isinstance(contrast, np.ndarray):
        return contrast.tolist()
    return contrast
