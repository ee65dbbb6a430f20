"""Build functions of the feature blocks (the registry in ``_blocks.py`` names them).

Every value block has the signature ``build(ctx, block, opts, acc)``: it reads the study held by
the :class:`BuildContext` and adds one column per feature to the accumulator ``acc``. Every
feature name is made by :func:`_name` and every longitudinal visit label by
:func:`_longitudinal_name`, the two places that know the name format.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._names import feature_name, parse_feature_name
from biomarkers._validation import did_you_mean, format_ids
from biomarkers.exceptions import BelowDetectionLimitWarning, ConfigError, SchemaError

__all__: list[str] = []

#: severity scores looked for in ``study.labs`` (or computed by ``biomarkers.clinical``)
DEFAULT_SCORES = ("meld", "meld_na", "meld3", "clif_of", "clif_c_aclf", "aarc", "child_pugh")


# ---------------------------------------------------------------- names (the only two makers)


def _name(modality: str, entity: object, visit: str, *, cell_type: object = None) -> str:
    """Feature name ``modality:entity@visit``, ``modality:cell_type:entity@visit`` per cell type."""
    return feature_name(modality, entity, visit, cell_type=cell_type or None)


def _longitudinal_name(
    modality: str, entity: str, kind: str, visits: list[str], *, cell_type: str | None
) -> tuple[str, str]:
    """(name, ``var["visit"]``) of a change (``visits`` = [later, base]) or a slope/AUC span."""
    later, first = (visits[0], visits[1]) if kind == "delta" else (visits[-1], visits[0])
    name = feature_name(
        modality, entity, later, start=first, kind=kind, cell_type=cell_type or None
    )
    return name, parse_feature_name(name).var_visit


# ---------------------------------------------------------------- shared plumbing


class _Block:
    """Accumulates (subject × feature) columns, their var rows and the block each came from."""

    def __init__(self, subjects: pd.Index) -> None:
        self.subjects = subjects
        self.columns: list[np.ndarray] = []
        self.var: list[dict[str, Any]] = []
        self.blocks: list[str] = []
        self.current = ""

    def add(self, values: pd.Series | np.ndarray, **var) -> None:
        if isinstance(values, pd.Series):
            values = values.reindex(self.subjects).to_numpy(dtype=np.float64)
        self.columns.append(np.asarray(values, dtype=np.float64))
        self.var.append(var)
        self.blocks.append(self.current)

    def counts(self) -> dict[str, int]:
        """Features built per block, in build order."""
        out: dict[str, int] = {}
        for b in self.blocks:
            out[b] = out.get(b, 0) + 1
        return out


@dataclass
class BuildContext:
    """What the build functions read: the study, the visits (label → day) and the subjects."""

    study: Any
    days: dict[str, int]
    subjects: pd.Index
    _pseudobulk: dict[tuple, Any] = field(default_factory=dict)

    def cells(self):
        """The single-cell data (a path when streamable, else the AnnData) or None."""
        path = getattr(self.study, "singlecell_path", None)
        return path if path is not None else getattr(self.study, "singlecell", None)

    def pseudobulk(self, opts: Mapping[str, Any]):
        """Pseudobulk profiles (log1p CPM) shared by the blocks that ask for the same ones."""
        key = (opts["groups_key"], opts["layer"], int(opts["min_cells"]))
        if key not in self._pseudobulk:
            self._pseudobulk[key] = _pseudobulk_samples(self, *key)
        return self._pseudobulk[key]


def _per_visit(
    frame: pd.DataFrame, *, visit_col: str, subject_col: str, visit: str, what: str
) -> pd.DataFrame:
    """Rows of one visit indexed by subject (duplicate samples averaged, with a log line)."""
    sub = frame[frame[visit_col].astype(str) == visit]
    if sub[subject_col].duplicated().any():
        dup = sub.loc[sub[subject_col].duplicated(), subject_col].unique()
        logger.info("%s: %d subjects have several samples at %s; averaged", what, len(dup), visit)
        num = sub.drop(columns=[visit_col]).groupby(subject_col, observed=True)
        return num.mean(numeric_only=True)
    return sub.set_index(subject_col).drop(columns=[visit_col])


def _known(unit: object) -> bool:
    """A unit that was stated (not None, NaN or empty)."""
    return isinstance(unit, str) and unit.strip() not in ("", "nan", "None")


# ---------------------------------------------------------------- clinical


def _labs_with_scores(study, scores: list[str]) -> pd.DataFrame:
    """``study.labs`` plus the severity scores it lacks, computed when ``biomarkers.clinical`` can."""
    labs = study.labs.copy()
    if all(s in labs.columns for s in scores):
        return labs
    try:
        from biomarkers.clinical import compute_scores
    except ImportError:
        return labs
    computed = compute_scores(labs, clinical=study.clinical)
    if {"subject_id", "visit"} <= set(computed.columns):
        extra = [c for c in computed.columns if c not in labs.columns]
        return labs.merge(
            computed[["subject_id", "visit", *extra]], on=["subject_id", "visit"], how="left"
        )
    for c in computed.columns:
        if c not in labs.columns:
            labs[c] = computed[c].to_numpy()
    return labs


def _lab_columns(labs: pd.DataFrame, chosen, *, scores) -> list[str]:
    """The ``labs`` option: a list of columns, or ``"all"`` = every numeric labs column."""
    if isinstance(chosen, str):
        if chosen != "all":
            msg = (
                f"features.clinical.labs: {chosen!r} is not a list of columns; use labs: all "
                "(every numeric column of study.labs) or a list such as [bilirubin_mg_dl, inr]"
            )
            raise ConfigError(msg)
        from biomarkers.io import numeric_columns

        return numeric_columns(labs, exclude=scores)
    return [str(c) for c in chosen or []]


def build_clinical(ctx: BuildContext, block: str, opts, acc: _Block) -> None:
    """Severity scores and lab values per visit from ``study.labs``."""
    if ctx.study.labs is None or len(ctx.study.labs) == 0:
        return
    scores = list(opts.get("scores") or [])
    labs = _labs_with_scores(ctx.study, scores)
    still = [s for s in scores if s not in labs.columns]
    if still:
        logger.info("clinical block: scores %s not available; skipped", ", ".join(still))
    scores = [s for s in scores if s in labs.columns]
    lab_cols = _lab_columns(ctx.study.labs, opts.get("labs"), scores=scores)
    for c in lab_cols:
        if c not in labs.columns:
            msg = (
                f"features.clinical.labs: column {c!r} not in study.labs"
                f"{did_you_mean(c, labs.columns)}; available: {', '.join(map(str, labs.columns[:15]))}"
            )
            raise ConfigError(msg)
    cols = list(dict.fromkeys([*scores, *lab_cols]))
    if not cols:
        return
    labs["subject_id"] = labs["subject_id"].astype(str)
    for visit, day in ctx.days.items():
        table = _per_visit(
            labs[["subject_id", "visit", *cols]],
            visit_col="visit",
            subject_col="subject_id",
            visit=visit,
            what="labs",
        )
        for c in cols:
            values = (
                pd.to_numeric(table[c], errors="coerce") if c in table else pd.Series(dtype=float)
            )
            acc.add(
                values,
                name=_name("clinical", c, visit),
                modality="clinical",
                entity=str(c),
                visit=visit,
                day=day,
                unit="score" if c in scores else "",
                kind="value",
            )


# ---------------------------------------------------------------- tabular assays


def _censor_codes(adata) -> tuple[int, int]:
    codes = adata.uns.get("censor_codes") if hasattr(adata, "uns") else None
    if isinstance(codes, Mapping):
        return int(codes.get("below", 1)), int(codes.get("above", 2))
    if codes is not None and len(codes):
        codes = [str(c) for c in codes]
        return codes.index("below"), codes.index("above")
    return 1, 2  # biomarkers.io.CENSOR_CODES: ok, below, above, extrapolated, missing


def _assay_values(adata, name: str) -> np.ndarray:
    """``X`` as float64 with ``-inf``/``+inf`` where ``layers["censor"]`` says below/above."""
    for col in ("subject_id", "visit"):
        if col not in adata.obs.columns:
            msg = f"assay {name!r}: obs column {col!r} missing; the Study must join samples to subjects"
            raise SchemaError(msg)
    X = np.asarray(
        adata.X.toarray() if hasattr(adata.X, "toarray") else adata.X, dtype=float
    ).copy()
    below_code, above_code = _censor_codes(adata)
    if "censor" in adata.layers:
        censor = np.asarray(adata.layers["censor"])
        X[censor == below_code] = -np.inf
        X[censor == above_code] = np.inf
    return X


def _transform(X, var, *, name: str, block: str, transform, offset: float):
    """Apply the block's transform to values and limits; return ``(X, lod, uloq, unit)``."""
    n = X.shape[1]
    lod = pd.to_numeric(var["lod"], errors="coerce").to_numpy() if "lod" in var else None
    uloq = pd.to_numeric(var["uloq"], errors="coerce").to_numpy() if "uloq" in var else None
    unit = var["unit"].astype(str).to_numpy() if "unit" in var else np.full(n, "")
    if transform in (None, "none"):
        return X, lod, uloq, unit
    if transform != "log2":
        msg = f"features.{block}.transform={transform!r}: use 'log2' or 'none'"
        raise ConfigError(msg)
    finite = np.isfinite(X)
    if (X[finite] + offset <= 0).any():
        msg = (
            f"assay {name!r}: values <= -offset ({-offset}) cannot be log2-transformed; set offset"
        )
        raise SchemaError(msg)
    X[finite] = np.log2(X[finite] + offset)
    lod = np.log2(lod + offset) if lod is not None else None
    uloq = np.log2(uloq + offset) if uloq is not None else None
    unit = np.array([f"log2({u}+{offset:g})" if _known(u) else f"log2(x+{offset:g})" for u in unit])
    return X, lod, uloq, unit


def build_assay(ctx: BuildContext, block: str, opts, acc: _Block) -> None:
    """One feature per analyte × visit of a tabular assay (``study.assays[opts["assay"]]``)."""
    name = opts["assay"]
    adata = ctx.study.assays[name]
    modality = opts.get("modality") or name
    transform = opts.get("transform")
    offset = float(opts.get("offset", 1.0))
    X, lod, uloq, unit = _transform(
        _assay_values(adata, name),
        adata.var,
        name=name,
        block=block,
        transform=transform,
        offset=offset,
    )
    cv = None
    if "replicate_cv" in adata.layers:
        cv = np.asarray(adata.layers["replicate_cv"], dtype=float)
    max_censored = float(opts.get("max_censored", 0.3))
    values = pd.DataFrame(X, columns=np.arange(adata.n_vars))
    values["subject_id"] = adata.obs["subject_id"].astype(str).to_numpy()
    values["visit"] = adata.obs["visit"].astype(str).to_numpy()
    subjects = ctx.subjects
    flagged = []
    for visit, day in ctx.days.items():
        table = _per_visit(
            values, visit_col="visit", subject_col="subject_id", visit=visit, what=name
        )
        table = table.reindex(subjects)
        in_visit = values["visit"].to_numpy() == visit
        for j, analyte in enumerate(adata.var_names):
            col = table[j] if j in table else pd.Series(np.nan, index=subjects)
            v = col.to_numpy(dtype=float)
            observed = ~np.isnan(v)
            frac = float(np.isinf(v[observed]).mean()) if observed.any() else np.nan
            flag = bool(frac > max_censored) if observed.any() else False
            if flag:
                flagged.append(f"{analyte}@{visit}")
            meta = {
                "name": _name(modality, analyte, visit),
                "modality": modality,
                "entity": str(analyte),
                "visit": visit,
                "day": day,
                "unit": str(unit[j]),
                "kind": "value",
                "lod": float(lod[j]) if lod is not None else np.nan,
                "uloq": float(uloq[j]) if uloq is not None else np.nan,
                "censored_fraction": frac,
                "flag_censored": flag,
                "log2_offset": offset if transform == "log2" else np.nan,
            }
            if cv is not None:
                with np.errstate(all="ignore"):
                    cvs = cv[in_visit, j]
                    meta["replicate_cv_median"] = (
                        float(np.nanmedian(cvs)) if np.isfinite(cvs).any() else np.nan
                    )
            acc.add(col, **meta)
    if flagged:
        warnings.warn(
            f"{len(flagged)} {modality} features have more than {max_censored:.0%} censored "
            f"values (flagged in var['flag_censored'], kept): {format_ids(flagged)}",
            BelowDetectionLimitWarning,
            stacklevel=4,
        )


# ---------------------------------------------------------------- single cell


def _sample_table(study, cell_obs: pd.DataFrame | None = None) -> pd.DataFrame:
    """sample_id -> subject_id, visit (from study.samples, else from the cells' obs)."""
    samples = getattr(study, "samples", None)
    if samples is not None and {"subject_id", "visit"} <= set(samples.columns):
        out = samples[["subject_id", "visit"]].copy()
        out.index = out.index.astype(str)
        return out.astype(str)
    if cell_obs is not None and {"subject_id", "visit"} <= set(cell_obs.columns):
        return cell_obs[["subject_id", "visit"]].astype(str)
    msg = "study.samples lacks subject_id/visit; cannot map single-cell samples to subjects"
    raise SchemaError(msg)


def build_composition(ctx: BuildContext, block: str, opts, acc: _Block) -> None:
    """CLR of cell-type counts within each sample, per cell type × visit."""
    from biomarkers.features._composition import composition

    cells = ctx.cells()
    if cells is None:
        return
    comp = composition(
        cells,
        sample_key=opts["sample_key"],
        groups_key=opts["groups_key"],
        pseudocount=float(opts["pseudocount"]),
    )
    clr = pd.DataFrame(comp.layers["clr"], index=comp.obs_names, columns=comp.var_names)
    small = comp.obs["n_cells"].to_numpy() < int(opts["min_cells"])
    clr.loc[small] = np.nan  # too few cells for a composition: missing, not zero
    meta = _sample_table(ctx.study, comp.obs).reindex(clr.index)
    clr["subject_id"], clr["visit"] = meta["subject_id"].to_numpy(), meta["visit"].to_numpy()
    clr = clr.dropna(subset=["subject_id"])
    for visit, day in ctx.days.items():
        table = _per_visit(
            clr, visit_col="visit", subject_col="subject_id", visit=visit, what="composition"
        )
        for ct in comp.var_names:
            acc.add(
                table[ct] if ct in table else pd.Series(dtype=float),
                name=_name("composition", ct, visit),
                modality="composition",
                entity=str(ct),
                visit=visit,
                day=day,
                unit="clr",
                kind="value",
            )


def _pseudobulk_samples(ctx: BuildContext, groups_key: str, layer, min_cells: int):
    """Pseudobulk (log1p CPM within each sample) with subject_id and visit in ``obs``."""
    from biomarkers.features._pseudobulk import pseudobulk

    cells = ctx.cells()
    if cells is None:
        return None
    pb = pseudobulk(cells, groups_key=groups_key, layer=layer, min_cells=min_cells)
    X = np.asarray(pb.X, dtype=np.float64)
    totals = X.sum(axis=1, keepdims=True)
    pb.layers["log1p_cpm"] = np.log1p(
        np.divide(X, totals, out=np.zeros_like(X), where=totals > 0) * 1e6
    )
    meta = _sample_table(ctx.study, pb.obs.set_index("sample_id", drop=False))
    s = pb.obs["sample_id"].astype(str)
    pb.obs["subject_id"] = meta["subject_id"].reindex(s).to_numpy()
    pb.obs["visit"] = meta["visit"].reindex(s).to_numpy()
    return pb


def _cell_types(pb, opts) -> list[str]:
    """The cell types of the pseudobulk a block uses (all, or its ``cell_types`` checked)."""
    known = list(dict.fromkeys(pb.obs[opts["groups_key"]].astype(str)))
    wanted = opts.get("cell_types")
    if not wanted:
        return known
    for ct in wanted:
        if ct not in known:
            msg = (
                f"features: cell type {ct!r} not in the pseudobulk{did_you_mean(ct, known)}; "
                f"available: {', '.join(sorted(known))}"
            )
            raise ConfigError(msg)
    return [ct for ct in known if ct in set(map(str, wanted))]


def _top_genes(values: np.ndarray, var_names, *, by: str, n: int) -> list[str]:
    """The ``n`` most variable (Seurat dispersion) or most expressed (mean) genes of ``values``.

    ``values`` is log1p CPM, one row per pseudobulk profile of one cell type. ``"variable"`` is
    :func:`scanpy.pp.highly_variable_genes` with ``flavor="seurat"`` (dispersion normalised
    within bins of mean expression, so lowly expressed noisy genes do not dominate).
    """
    n = min(int(n), values.shape[1])
    if by == "variable" and values.shape[0] > 2:
        import anndata as ad
        import scanpy as sc

        hvg = sc.pp.highly_variable_genes(
            ad.AnnData(values), flavor="seurat", n_top_genes=n, inplace=False
        )
        score = hvg["dispersions_norm"].to_numpy(dtype=float)
        score = np.where(np.isfinite(score), score, -np.inf)
    else:  # too few profiles for a dispersion: most expressed
        score = values.mean(axis=0) if len(values) else np.zeros(values.shape[1])
    order = np.argsort(-score, kind="stable")[:n]
    return [str(var_names[i]) for i in order if values[:, i].any()]


def _select_genes(pb, rows: np.ndarray, opts) -> list[str]:
    """Genes of one cell type: top ``n_genes`` variable or expressed, markers, all, or a list.

    ``"variable"`` / ``"expressed"`` rank genes by their dispersion / mean over all the cell
    type's profiles (every subject and visit): they never see the outcome or the arm.
    """
    genes = opts.get("genes")
    if genes in ("variable", "expressed"):
        values = pb.layers["log1p_cpm"][rows]
        return _top_genes(values, pb.var_names, by=genes, n=int(opts["n_genes"]))
    if genes == "markers":
        from biomarkers.qc._celltypes import load_markers

        wanted = list(dict.fromkeys(load_markers()["gene"]))
        return [g for g in wanted if g in pb.var_names]
    if genes == "all":
        return list(pb.var_names)
    if isinstance(genes, str):
        msg = (
            f"features.pseudobulk.genes={genes!r}: use 'variable' or 'expressed' (top n_genes, "
            "outcome-blind), 'markers', 'all' or a list of genes; for a selection fitted inside "
            "each fold use genes: all and VarianceFilter(top_k=...) in the model pipeline"
        )
        raise ConfigError(msg)
    missing = [g for g in genes if g not in pb.var_names]
    if missing:
        msg = f"features.pseudobulk.genes: {format_ids(missing)} not in var_names of the single-cell data"
        raise ConfigError(msg)
    return list(genes)


def build_pseudobulk(ctx: BuildContext, block: str, opts, acc: _Block) -> None:
    """log1p CPM of each selected gene per cell type × visit."""
    pb = ctx.pseudobulk(opts)
    if pb is None:
        return
    groups = pb.obs[opts["groups_key"]].astype(str).to_numpy()
    for ct in _cell_types(pb, opts):
        rows = groups == ct
        genes = _select_genes(pb, rows, opts)
        idx = pb.var_names.get_indexer(genes)
        frame = pd.DataFrame(pb.layers["log1p_cpm"][rows][:, idx], columns=genes)
        frame["subject_id"] = pb.obs["subject_id"].to_numpy()[rows]
        frame["visit"] = pb.obs["visit"].to_numpy()[rows]
        frame = frame.dropna(subset=["subject_id"])
        _add_cell_type_features(
            acc, frame, cell_type=ct, columns=genes, days=ctx.days, modality="pseudobulk",
            unit="log1p_cpm",
        )  # fmt: skip


def build_geneset(ctx: BuildContext, block: str, opts, acc: _Block) -> None:
    """Gene-set scores (mean log1p CPM of the set, centred) per cell type × visit."""
    from biomarkers.features._genesets import bundled_gene_sets, geneset_scores, read_gmt

    pb = ctx.pseudobulk(opts)
    if pb is None:
        return
    sets = opts.get("gene_sets")
    if sets is None:
        sets = bundled_gene_sets()
    elif isinstance(sets, str):
        sets = read_gmt(sets)
    keep = np.isin(pb.obs[opts["groups_key"]].astype(str), _cell_types(pb, opts))
    if not keep.all():
        pb = pb[keep].copy()
    scores = geneset_scores(pb, sets, layer="log1p_cpm")
    scores["subject_id"] = pb.obs["subject_id"].to_numpy()
    scores["visit"] = pb.obs["visit"].to_numpy()
    scores["_ct"] = pb.obs[opts["groups_key"]].astype(str).to_numpy()
    scores = scores.dropna(subset=["subject_id"])
    set_names = [c for c in scores.columns if c not in ("subject_id", "visit", "_ct")]
    for ct in scores["_ct"].unique():
        frame = scores[scores["_ct"] == ct].drop(columns=["_ct"])
        _add_cell_type_features(
            acc, frame, cell_type=ct, columns=set_names, days=ctx.days, modality="geneset",
            unit="mean log1p_cpm, centred",
        )  # fmt: skip


def _add_cell_type_features(
    acc: _Block, frame, *, cell_type: str, columns, days, modality: str, unit: str
) -> None:
    """One feature per column × visit from a cell type's per-sample table (subject_id, visit)."""
    for visit, day in days.items():
        table = _per_visit(
            frame, visit_col="visit", subject_col="subject_id", visit=visit, what=modality
        )
        for col in columns:
            acc.add(
                table[col] if col in table else pd.Series(dtype=float),
                name=_name(modality, col, visit, cell_type=cell_type),
                modality=modality,
                entity=str(col),
                cell_type=cell_type,
                visit=visit,
                day=day,
                unit=unit,
                kind="value",
            )


# ---------------------------------------------------------------- longitudinal (per series)
# Each gets the subjects × visits values ``Y`` of one feature series (NaN where unknown, the
# present visits in day order, ``t`` their days) and returns ``(kind, values, visits used, day)``.


def build_deltas(Y: np.ndarray, present: list[str], t: np.ndarray, base: str):
    """Change from the first visit at every later visit."""
    out = []
    j0 = present.index(base)
    for j, v in enumerate(present):
        if v == base:
            continue
        d = Y[:, j] - Y[:, j0]  # a change involving a censored value (±inf) is missing
        out.append(("delta", d, [v, base], int(t[j])))
    return out


def build_slope(Y: np.ndarray, present: list[str], t: np.ndarray, base: str):
    """Least-squares slope per day over the present visits (subjects with all of them)."""
    complete = ~np.isnan(Y).any(axis=1)
    tc = t - t.mean()
    slope = np.full(Y.shape[0], np.nan)
    slope[complete] = (Y[complete] - Y[complete].mean(axis=1, keepdims=True)) @ tc / (tc @ tc)
    return [("slope", slope, present, int(t.max()))]


def build_auc(Y: np.ndarray, present: list[str], t: np.ndarray, base: str):
    """Time-averaged area under the curve (trapezoids / span) over the present visits."""
    complete = ~np.isnan(Y).any(axis=1)
    auc = np.full(Y.shape[0], np.nan)
    trap = ((Y[:, 1:] + Y[:, :-1]) / 2) @ np.diff(t) / (t[-1] - t[0])
    auc[complete] = trap[complete]
    return [("auc", auc, present, int(t.max()))]


_NOT_CARRIED = ("name", "visit", "day", "kind", "censored_fraction", "flag_censored")


def add_longitudinal(acc: _Block, kinds: Mapping[str, Any], days: dict[str, int]) -> None:
    """Add the enabled changes (``kinds``: block name → build) of every value series to ``acc``."""
    visits = list(days)
    if len(visits) < 2 or not kinds:
        return
    base = visits[0]
    series: dict[tuple, dict[str, int]] = {}
    for i, meta in enumerate(acc.var):
        if meta["kind"] == "value":
            key = (meta["modality"], meta.get("cell_type") or "", meta["entity"])
            series.setdefault(key, {})[meta["visit"]] = i
    X = np.column_stack(acc.columns) if acc.columns else np.empty((len(acc.subjects), 0))
    for (modality, cell_type, entity), pos in series.items():
        if base not in pos or len(pos) < 2:
            continue
        first = acc.var[next(iter(pos.values()))]
        common = {k: v for k, v in first.items() if k not in _NOT_CARRIED}
        # a change/slope/AUC is never censored: limits do not apply to it
        common.update({c: np.nan for c in ("lod", "uloq", "log2_offset") if c in common})
        present = [v for v in visits if v in pos]
        Y = np.column_stack([X[:, pos[v]] for v in present])
        Y = np.where(np.isfinite(Y), Y, np.nan)
        t = np.array([days[v] for v in present], dtype=float)
        for block, build in kinds.items():
            for kind, values, used, day in build(Y, present, t, base):
                name, label = _longitudinal_name(modality, entity, kind, used, cell_type=cell_type)
                acc.current = block
                acc.add(
                    values,
                    **common,
                    name=name,
                    visit=label,
                    day=day,
                    kind=kind,
                )


def stack(acc: _Block) -> tuple[np.ndarray, pd.DataFrame]:
    """The accumulated columns as ``(X, var)``."""
    if not acc.columns:
        return np.empty((len(acc.subjects), 0)), pd.DataFrame(columns=["name"])
    return np.column_stack(acc.columns), pd.DataFrame(acc.var)
