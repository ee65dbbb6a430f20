from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from biomarkers._logging import logger
from biomarkers._validation import did_you_mean, format_ids
from biomarkers.exceptions import (
    BelowDetectionLimitWarning,
    ConfigError,
    LeakageError,
    SchemaError,
)

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["DEFAULT_BLOCKS", "build_feature_table"]

#: severity scores looked for in ``study.labs`` (or computed by ``biomarkers.clinical``)
DEFAULT_SCORES = ("meld", "meld_na", "meld3", "clif_of", "clif_c_aclf", "aarc", "child_pugh")

#: blocks used when ``blocks=None``; single-cell blocks only run when the study has cells
DEFAULT_BLOCKS: dict[str, Any] = {
    "clinical": {"scores": list(DEFAULT_SCORES), "labs": []},
    "cytokines": {"assay": "cytokines", "transform": "log2", "offset": 1.0, "max_censored": 0.3},
    "flow": {"assay": "flow"},
    "composition": {"min_cells": 20, "pseudocount": 0.5},
    "deltas": True,
}

_BLOCK_KEYS = {
    "clinical": {"scores", "labs"},
    "cytokines": {"assay", "transform", "offset", "max_censored", "modality"},
    "olink": {"assay", "transform", "offset", "max_censored", "modality"},
    "flow": {"assay", "transform", "offset", "modality"},
    "composition": {"min_cells", "pseudocount", "sample_key", "groups_key"},
    "pseudobulk": {"cell_types", "genes", "n_genes", "min_cells", "layer", "groups_key"},
    "geneset": {"gene_sets", "cell_types", "min_cells", "layer", "groups_key"},
    "deltas": set(),
    "slope": set(),
    "auc": set(),
}
_ASSAY_BLOCKS = ("cytokines", "olink", "flow")
_MODALITY = {"cytokines": "cytokine", "olink": "olink", "flow": "flow"}
_UNSAFE = re.compile(r"[\s:@/]+")


def _known(unit: object) -> bool:
    """A unit that was stated (not None, NaN or empty)."""
    return isinstance(unit, str) and unit.strip() not in ("", "nan", "None")


def _clean(name: object) -> str:
    """Entity name safe inside ``modality:entity@visit`` (spaces, ':', '@', '/' → '_')."""
    return _UNSAFE.sub("_", str(name)).strip("_")


def _normalise_blocks(blocks) -> dict[str, Any]:
    if blocks is None:
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULT_BLOCKS.items()}
    if isinstance(blocks, (list, tuple)):
        blocks = {b: (True if b in ("deltas", "slope", "auc") else {}) for b in blocks}
    if not isinstance(blocks, Mapping):
        msg = f"features blocks must be a mapping or a list of block names, got {type(blocks).__name__}"
        raise ConfigError(msg)
    out: dict[str, Any] = {}
    for name, opts in blocks.items():
        if name not in _BLOCK_KEYS:
            msg = (
                f"features: unknown block {name!r}{did_you_mean(name, _BLOCK_KEYS)}; "
                f"available: {', '.join(_BLOCK_KEYS)}"
            )
            raise ConfigError(msg)
        if opts is False or opts is None:
            continue
        if name in ("deltas", "slope", "auc"):
            out[name] = bool(opts)
            continue
        opts = {} if opts is True else dict(opts)
        for key in opts:
            if key not in _BLOCK_KEYS[name]:
                msg = (
                    f"features.{name}: unknown option {key!r}"
                    f"{did_you_mean(key, _BLOCK_KEYS[name])}; allowed: "
                    f"{', '.join(sorted(_BLOCK_KEYS[name]))}"
                )
                raise ConfigError(msg)
        default = DEFAULT_BLOCKS.get(name)
        out[name] = {**(default if isinstance(default, dict) else {}), **opts}
    return out


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


class _Block:
    """Accumulates (subject × feature) columns and their var rows."""

    def __init__(self, subjects: pd.Index) -> None:
        self.subjects = subjects
        self.columns: list[np.ndarray] = []
        self.var: list[dict[str, Any]] = []

    def add(self, values: pd.Series, **var) -> None:
        self.columns.append(values.reindex(self.subjects).to_numpy(dtype=np.float64))
        self.var.append(var)


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


def _clinical_block(study, opts, days, acc: _Block) -> None:
    labs = study.labs
    if labs is None or len(labs) == 0:
        return
    labs = labs.copy()
    scores = list(opts.get("scores") or [])
    missing = [s for s in scores if s not in labs.columns]
    if missing:
        try:
            from biomarkers.clinical import compute_scores
        except ImportError:
            compute_scores = None
        if compute_scores is not None:
            computed = compute_scores(labs, clinical=study.clinical)
            if {"subject_id", "visit"} <= set(computed.columns):
                extra = [c for c in computed.columns if c not in labs.columns]
                labs = labs.merge(
                    computed[["subject_id", "visit", *extra]],
                    on=["subject_id", "visit"],
                    how="left",
                )
            else:
                for c in computed.columns:
                    if c not in labs.columns:
                        labs[c] = computed[c].to_numpy()
        still = [s for s in scores if s not in labs.columns]
        if still:
            logger.info("clinical block: scores %s not available; skipped", ", ".join(still))
        scores = [s for s in scores if s in labs.columns]
    lab_cols = list(opts.get("labs") or [])
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
    for visit, day in days.items():
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
                name=f"clinical:{_clean(c)}@{visit}",
                modality="clinical",
                entity=str(c),
                visit=visit,
                day=day,
                unit="score" if c in scores else "",
                kind="value",
            )


def _censor_codes(adata) -> tuple[int, int]:
    codes = adata.uns.get("censor_codes") if hasattr(adata, "uns") else None
    if isinstance(codes, Mapping):
        return int(codes.get("below", 1)), int(codes.get("above", 2))
    if codes is not None and len(codes):
        codes = [str(c) for c in codes]
        return codes.index("below"), codes.index("above")
    return 1, 2  # biomarkers.io.CENSOR_CODES: ok, below, above, extrapolated, missing


def _assay_block(study, block, opts, days, acc: _Block, *, subjects) -> None:
    name = opts.get("assay", block)
    assays = getattr(study, "assays", None) or {}
    if name not in assays:
        if block in DEFAULT_BLOCKS and "assay" not in opts:
            logger.info("features: study has no %r assay; block %r skipped", name, block)
            return
        msg = (
            f"features.{block}: study has no assay {name!r}{did_you_mean(name, assays)}; "
            f"available: {', '.join(assays) or 'none'}"
        )
        raise ConfigError(msg)
    adata = assays[name]
    modality = opts.get("modality", _MODALITY.get(block, block))
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
    var = adata.var
    lod = pd.to_numeric(var["lod"], errors="coerce").to_numpy() if "lod" in var else None
    uloq = pd.to_numeric(var["uloq"], errors="coerce").to_numpy() if "uloq" in var else None
    unit = var["unit"].astype(str).to_numpy() if "unit" in var else np.full(adata.n_vars, "")
    transform = opts.get("transform")
    offset = float(opts.get("offset", 1.0))
    if transform == "log2":
        finite = np.isfinite(X)
        if (X[finite] + offset <= 0).any():
            msg = f"assay {name!r}: values <= -offset ({-offset}) cannot be log2-transformed; set offset"
            raise SchemaError(msg)
        X[finite] = np.log2(X[finite] + offset)
        lod = np.log2(lod + offset) if lod is not None else None
        uloq = np.log2(uloq + offset) if uloq is not None else None
        unit = np.array(
            [f"log2({u}+{offset:g})" if _known(u) else f"log2(x+{offset:g})" for u in unit]
        )
    elif transform not in (None, "none"):
        msg = f"features.{block}.transform={transform!r}: use 'log2' or 'none'"
        raise ConfigError(msg)
    cv = None
    if "replicate_cv" in adata.layers:
        cv = np.asarray(adata.layers["replicate_cv"], dtype=float)
    max_censored = float(opts.get("max_censored", 0.3))
    values = pd.DataFrame(X, columns=np.arange(adata.n_vars))
    values["subject_id"] = adata.obs["subject_id"].astype(str).to_numpy()
    values["visit"] = adata.obs["visit"].astype(str).to_numpy()
    flagged = []
    for visit, day in days.items():
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
                "name": f"{modality}:{_clean(analyte)}@{visit}",
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
            stacklevel=3,
        )


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


def _cells(study):
    path = getattr(study, "singlecell_path", None)
    if path is not None:
        return path
    return getattr(study, "singlecell", None)


def _composition_block(study, opts, days, acc: _Block) -> None:
    from biomarkers.features._composition import composition

    cells = _cells(study)
    if cells is None:
        return
    comp = composition(
        cells,
        sample_key=opts.get("sample_key", "sample_id"),
        groups_key=opts.get("groups_key", "cell_type"),
        pseudocount=float(opts.get("pseudocount", 0.5)),
    )
    clr = pd.DataFrame(comp.layers["clr"], index=comp.obs_names, columns=comp.var_names)
    small = comp.obs["n_cells"].to_numpy() < int(opts.get("min_cells", 20))
    clr.loc[small] = np.nan  # too few cells for a composition: missing, not zero
    meta = _sample_table(study, comp.obs).reindex(clr.index)
    clr["subject_id"], clr["visit"] = meta["subject_id"].to_numpy(), meta["visit"].to_numpy()
    clr = clr.dropna(subset=["subject_id"])
    for visit, day in days.items():
        table = _per_visit(
            clr, visit_col="visit", subject_col="subject_id", visit=visit, what="composition"
        )
        for ct in comp.var_names:
            acc.add(
                table[ct] if ct in table else pd.Series(dtype=float),
                name=f"composition:{_clean(ct)}@{visit}",
                modality="composition",
                entity=str(ct),
                visit=visit,
                day=day,
                unit="clr",
                kind="value",
            )


def _pseudobulk_samples(study, opts):
    """Pseudobulk (log1p CPM within each sample) restricted to the requested cell types."""
    from biomarkers.features._pseudobulk import pseudobulk

    cells = _cells(study)
    if cells is None:
        return None
    pb = pseudobulk(
        cells,
        groups_key=opts.get("groups_key", "cell_type"),
        layer=opts.get("layer"),
        min_cells=int(opts.get("min_cells", 10)),
    )
    groups_key = opts.get("groups_key", "cell_type")
    wanted = opts.get("cell_types")
    if wanted:
        known = set(pb.obs[groups_key].astype(str))
        for ct in wanted:
            if ct not in known:
                msg = (
                    f"features: cell type {ct!r} not in the pseudobulk{did_you_mean(ct, known)}; "
                    f"available: {', '.join(sorted(known))}"
                )
                raise ConfigError(msg)
        pb = pb[pb.obs[groups_key].astype(str).isin(wanted)].copy()
    X = np.asarray(pb.X, dtype=np.float64)
    totals = X.sum(axis=1, keepdims=True)
    pb.layers["log1p_cpm"] = np.log1p(
        np.divide(X, totals, out=np.zeros_like(X), where=totals > 0) * 1e6
    )
    meta = _sample_table(study, pb.obs.set_index("sample_id", drop=False))
    s = pb.obs["sample_id"].astype(str)
    pb.obs["subject_id"] = meta["subject_id"].reindex(s).to_numpy()
    pb.obs["visit"] = meta["visit"].reindex(s).to_numpy()
    return pb


def _select_genes(pb, genes) -> list[str]:
    if genes is None or genes == "markers":
        from biomarkers.qc._celltypes import load_markers

        wanted = list(dict.fromkeys(load_markers()["gene"]))
        return [g for g in wanted if g in pb.var_names]
    if genes == "all":
        return list(pb.var_names)
    if isinstance(genes, str):
        msg = (
            f"features.pseudobulk.genes={genes!r}: use a list of genes, 'markers' or 'all'; "
            "selecting genes by variance across subjects is a learned step: put "
            "VarianceFilter(top_k=n_genes) in the model pipeline so it is fitted inside each fold"
        )
        raise ConfigError(msg)
    missing = [g for g in genes if g not in pb.var_names]
    if missing:
        msg = f"features.pseudobulk.genes: {format_ids(missing)} not in var_names of the single-cell data"
        raise ConfigError(msg)
    return list(genes)


def _pseudobulk_block(pb, opts, days, acc: _Block) -> None:
    groups_key = opts.get("groups_key", "cell_type")
    genes = _select_genes(pb, opts.get("genes"))
    idx = pb.var_names.get_indexer(genes)
    for ct in pb.obs[groups_key].astype(str).unique():
        rows = (pb.obs[groups_key].astype(str) == ct).to_numpy()
        frame = pd.DataFrame(pb.layers["log1p_cpm"][rows][:, idx], columns=genes)
        frame["subject_id"] = pb.obs["subject_id"].to_numpy()[rows]
        frame["visit"] = pb.obs["visit"].to_numpy()[rows]
        frame = frame.dropna(subset=["subject_id"])
        _add_cell_type_features(
            acc, frame, cell_type=ct, columns=genes, days=days, modality="pseudobulk",
            unit="log1p_cpm",
        )  # fmt: skip


def _geneset_block(pb, opts, days, acc: _Block) -> None:
    from biomarkers.features._genesets import geneset_scores, load_gene_sets

    groups_key = opts.get("groups_key", "cell_type")
    sets = opts.get("gene_sets")
    if sets is None:
        sets = load_gene_sets()
    elif isinstance(sets, str):
        from biomarkers.features._genesets import read_gmt

        sets = read_gmt(sets)
    scores = geneset_scores(pb, sets, layer="log1p_cpm")
    scores["subject_id"] = pb.obs["subject_id"].to_numpy()
    scores["visit"] = pb.obs["visit"].to_numpy()
    scores["_ct"] = pb.obs[groups_key].astype(str).to_numpy()
    scores = scores.dropna(subset=["subject_id"])
    set_names = [c for c in scores.columns if c not in ("subject_id", "visit", "_ct")]
    for ct in scores["_ct"].unique():
        frame = scores[scores["_ct"] == ct].drop(columns=["_ct"])
        _add_cell_type_features(
            acc, frame, cell_type=ct, columns=set_names, days=days, modality="geneset",
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
                name=f"{modality}:{_clean(cell_type)}:{_clean(col)}@{visit}",
                modality=modality,
                entity=str(col),
                cell_type=cell_type,
                visit=visit,
                day=day,
                unit=unit,
                kind="value",
            )


def _longitudinal(X: np.ndarray, var: pd.DataFrame, blocks, days: dict[str, int]):
    """Deltas from the first visit, and slope / time-averaged AUC over all visits."""
    visits = list(days)
    if len(visits) < 2:
        return None
    base = visits[0]
    value_rows = var[var["kind"] == "value"]
    key = value_rows["name"].str.replace(r"@[^@]+$", "", regex=True)
    value_rows = value_rows.assign(_key=key.to_numpy())
    cols, meta = [], []
    for k, grp in value_rows.groupby("_key", sort=False):
        pos = {r.visit: int(r.Index) for r in grp.itertuples()}
        if base not in pos or len(pos) < 2:
            continue
        first = grp.iloc[0]
        common = {
            c: first[c]
            for c in var.columns
            if c not in ("name", "visit", "day", "kind", "censored_fraction", "flag_censored")
            and c != "_key"
        }
        # a change/slope/AUC is never censored: limits do not apply to it
        common.update({c: np.nan for c in ("lod", "uloq", "log2_offset") if c in common})
        if blocks.get("deltas", False):
            for v in visits[1:]:
                if v not in pos:
                    continue
                with np.errstate(invalid="ignore"):
                    d = X[:, pos[v]] - X[:, pos[base]]
                # a change involving a censored value (±inf) has no number: missing
                d[~np.isfinite(d)] = np.nan
                cols.append(d)
                meta.append(
                    {
                        **common,
                        "name": f"{k}@{v}-{base}",
                        "visit": f"{v}-{base}",
                        "day": days[v],
                        "kind": "delta",
                    }
                )
        present = [v for v in visits if v in pos]
        t = np.array([days[v] for v in present], dtype=float)
        Y = np.column_stack([X[:, pos[v]] for v in present])
        Y = np.where(np.isfinite(Y), Y, np.nan)
        complete = ~np.isnan(Y).any(axis=1)
        span = f"{present[0]}..{present[-1]}"
        if blocks.get("slope", False):
            tc = t - t.mean()
            slope = np.full(X.shape[0], np.nan)
            slope[complete] = (
                (Y[complete] - Y[complete].mean(axis=1, keepdims=True)) @ tc / (tc @ tc)
            )
            cols.append(slope)
            meta.append(
                {
                    **common,
                    "name": f"{k}@slope({span})",
                    "visit": span,
                    "day": int(t.max()),
                    "kind": "slope",
                }
            )
        if blocks.get("auc", False):
            auc = np.full(X.shape[0], np.nan)
            width = np.diff(t)
            trap = ((Y[:, 1:] + Y[:, :-1]) / 2) @ width / (t[-1] - t[0])
            auc[complete] = trap[complete]
            cols.append(auc)
            meta.append(
                {
                    **common,
                    "name": f"{k}@auc({span})",
                    "visit": span,
                    "day": int(t.max()),
                    "kind": "auc",
                }
            )
    if not cols:
        return None
    return np.column_stack(cols), pd.DataFrame(meta)


def _serialisable(value):
    """Block options as h5ad-writable ``uns`` (None dropped, sequences as lists of str)."""
    if isinstance(value, Mapping):
        return {str(k): _serialisable(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value]
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


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
        Which feature blocks to build and their options (the ``features:`` section of a job
        config); ``None`` uses :data:`DEFAULT_BLOCKS`. Blocks: ``clinical`` (``scores``,
        ``labs``), ``cytokines``/``olink``/``flow`` (``assay``, ``transform`` "log2"|"none",
        ``offset``, ``max_censored``), ``composition`` (``min_cells``, ``pseudocount``),
        ``pseudobulk`` (``cell_types``, ``genes`` list|"markers"|"all", ``min_cells``,
        ``layer``), ``geneset`` (``gene_sets`` dict or GMT path, ``cell_types``), and the
        switches ``deltas``, ``slope``, ``auc``. A list of names uses each block's defaults.
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
        missing. ``uns["outcomes"]`` and ``uns["feature_table"]["params"]``.

    Raises
    ------
    LeakageError
        A requested visit is on or after the outcome's assessment day.
    ConfigError
        Unknown block, option, visit, assay, cell type or gene.
    """
    import anndata as ad

    days = _check_visits(study, visits, outcome)
    opts = _normalise_blocks(blocks)
    clinical = study.clinical.copy()
    clinical.index = clinical.index.astype(str)
    subjects = pd.Index(clinical.index, name="subject_id")
    acc = _Block(subjects)

    if "clinical" in opts:
        _clinical_block(study, opts["clinical"], days, acc)
    for block in _ASSAY_BLOCKS:
        if block in opts:
            _assay_block(study, block, opts[block], days, acc, subjects=subjects)
    if "composition" in opts:
        _composition_block(study, opts["composition"], days, acc)
    if "pseudobulk" in opts or "geneset" in opts:
        pb_opts = {**opts.get("geneset", {}), **opts.get("pseudobulk", {})}
        pb = _pseudobulk_samples(study, pb_opts)
        if pb is not None:
            if "pseudobulk" in opts:
                _pseudobulk_block(pb, opts["pseudobulk"], days, acc)
            if "geneset" in opts:
                _geneset_block(pb, opts["geneset"], days, acc)

    columns = [
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
    if acc.columns:
        X = np.column_stack(acc.columns)
        var = pd.DataFrame(acc.var)
    else:
        X = np.empty((len(subjects), 0))
        var = pd.DataFrame(columns=["name", *columns])
    long = _longitudinal(X, var.reset_index(drop=True), opts, days) if len(var) else None
    if long is not None:
        X = np.hstack([X, long[0]])
        var = pd.concat([var, long[1]], ignore_index=True)
    for c in columns:
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
    var = var[[*columns, *[c for c in var.columns if c not in columns]]]
    for c in ("unit", "entity", "modality", "visit", "kind"):
        var[c] = var[c].astype(str)
    if "cell_type" in var:
        var["cell_type"] = var["cell_type"].fillna("").astype(str)

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
        "outcomes": {},
    }
    if outcome is not None:
        table = outcome.table.copy()
        table.index = table.index.astype(str)
        for c in table.columns:
            obs[c] = table[c].reindex(obs.index).to_numpy()
        uns["outcomes"][outcome.name] = {
            "kind": outcome.kind,
            "columns": [str(c) for c in table.columns],
            "assessed_day": int(outcome.assessed_day),
            "definition": str(outcome.definition),
        }
    obs.index.name = None
    return ad.AnnData(X=X.astype(np.float64), obs=obs, var=var, uns=uns)
