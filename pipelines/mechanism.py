"""The ``mechanism`` job: what MSC therapy did to cells, genes and cytokines over time."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pandas as pd

from biomarkers._logging import logger, timed
from biomarkers._parallel import parallel_backend
from pipelines._privacy import pseudonyms, scrub
from pipelines._steps import COHORT_REASON, build_outcome, load_study, side_labels, write_report

if TYPE_CHECKING:
    from biomarkers.clinical import Outcome
    from biomarkers.study import Study
    from pipelines.config import DiscoverConfig, MechanismConfig
    from pipelines.run import RunFolder

__all__ = ["mechanism_steps", "run_mechanism"]


def run_mechanism(cfg: MechanismConfig, run: RunFolder) -> dict[str, Any]:
    """Run every mechanism analysis the config enables and write the tables into ``run``."""
    study = load_study(cfg, blind_seed=run.blind_seed)
    outcome = build_outcome(cfg, study) if cfg.outcome else None
    ids = None if cfg.export_ids else pseudonyms(study.clinical.index)
    out = mechanism_steps(cfg, study, outcome, run, ids=ids)
    write_report(run)
    return out


def mechanism_steps(
    cfg: DiscoverConfig | MechanismConfig,
    study: Study,
    outcome: Outcome | None,
    run: RunFolder,
    *,
    ids: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The mechanism analyses, writing into ``run/mechanism/``; shared by both jobs.

    ``ids`` maps subject IDs to pseudonyms for the tables written (``None`` keeps the IDs).
    """
    import biomarkers as bm

    settings = cfg.mechanism
    found: dict[str, Any] = {}
    per_sample: dict[str, Any] = {}
    cohort = study.study_design == "cohort"
    arms = {"treated_arm": study.treated_arm, "control_arm": study.control_arm}
    design = _sided_design(study)
    ipw = _ipw_covariates(study)
    design = design.join(study.clinical[ipw], on="subject_id") if ipw else design
    reference = next(iter(study.visits))

    def save(relative: str, df: Any) -> None:
        run.write_table(relative, scrub(df, ids) if ids is not None else df, index=False)

    source = study.singlecell_path or study.singlecell
    if source is not None:
        # one pass over the cells: the pseudobulk's n_cells are the composition counts
        with timed("pseudobulk"):
            pdata = _annotate(_pseudobulk(cfg, source), design)
        with timed("pseudobulk DE"):
            de = bm.mechanism.pseudobulk_de(
                pdata, contrasts=_contrasts(settings.contrasts, pdata, reference, cohort=cohort),
                cell_type=settings.cell_type, min_cells=settings.min_cells,
                reference_visit=reference, **arms,
            )  # fmt: skip
        save("mechanism/de.csv", de.to_frame())
        if "paired_t" in de.tables:  # the two-visit cross-check (paired log-ratio, moderated t)
            save("mechanism/de_paired_t.csv", de.tables["paired_t"])
        found["de_significant"] = _count(de.to_frame(), "q_value", settings.fdr)
        if settings.enrichment and len(de.to_frame()):
            with timed("enrichment"):
                gene_sets = str(settings.gene_sets) if settings.gene_sets else None
                save(
                    "mechanism/enrichment.csv",
                    bm.mechanism.enrichment(de, gene_sets=gene_sets).to_frame(),
                )
        with timed("composition change"):
            composition = bm.features.composition(pdata)
            comp = bm.features.composition(pdata, tidy=True)
            comp = comp.join(design[[c for c in _DESIGN if c in design]], on="sample_id")
            change = bm.mechanism.composition_change(
                composition, design_table=design, design="~ visit" if cohort else "~ arm * visit",
                transform=settings.composition_transform, reference_visit=reference,
                ipw_covariates=ipw, **arms,
            )  # fmt: skip
        save("mechanism/composition.csv", comp)
        save("mechanism/composition_change.csv", change.to_frame())
        _save_survivor_aware(save, change, "composition_change")
        found["composition_significant"] = _count(change.to_frame(), "q_value", settings.fdr)
        per_sample["composition"] = composition
    if settings.trajectories and cohort and study.assays:
        logger.info("mechanism: trajectories by arm skipped: %s", COHORT_REASON)
        found["trajectories"] = f"skipped: {COHORT_REASON}"
    elif settings.trajectories:
        for name, adata in study.assays.items():
            with timed(f"trajectories: {name}"):
                traj = bm.mechanism.trajectories(
                    _with_sides(adata, study), transform=_transform(name, adata),
                    design_table=design, reference_visit=reference, ipw_covariates=ipw, **arms,
                )  # fmt: skip
            save(f"mechanism/trajectories_{name}.csv", traj.to_frame())
            from biomarkers.pl._labels import axis_units  # the report's axis units

            units = axis_units(adata.var, _transform(name, adata))
            save(
                f"mechanism/trajectory_means_{name}.csv",
                traj.means.assign(unit=traj.means["feature"].astype(str).map(units)),
            )
            _save_survivor_aware(save, traj, f"trajectories_{name}")
            found[f"trajectories_{name}_significant"] = _count(
                traj.to_frame(), "q_value", settings.fdr
            )
    per_sample.update(study.assays)
    if settings.links and len(per_sample) + (outcome is not None) < 2:
        logger.info("mechanism: links skipped: they need two modalities, or one and an outcome")
    elif settings.links:
        with timed("cross-modal links"):
            links = bm.mechanism.links(
                per_sample, design_table=design, outcome=outcome, fdr=settings.fdr
            )
        save("mechanism/links.csv", links.to_frame())
        found["links_significant"] = _count(links.to_frame(), "q_value", settings.fdr)
    logger.info("mechanism findings: %s", found)
    return found


_DESIGN = ("subject_id", "visit", "arm")


#: baseline severity scores (clinical table, first found) that predict being alive at a visit
IPW_COVARIATES = ("aarc_score", "meld", "clif_c_aclf", "meld_na")


def _ipw_covariates(study: Study) -> list[str]:
    """The first numeric baseline severity score of the clinical table (none if it has none).

    With each feature's baseline value it weights the survivor-aware estimates (inverse
    probability of being alive and sampled at the visit, within each arm).
    """
    clinical = study.clinical
    for name in IPW_COVARIATES:
        column = clinical.get(name)
        if column is not None and pd.api.types.is_numeric_dtype(column) and column.notna().all():
            return [name]
    return []


def _save_survivor_aware(save: Any, result: Any, prefix: str) -> None:
    """Subjects per arm × visit and the survivor-only vs IPW estimates, beside the main table."""
    for key in ("counts", "survivor_aware"):
        df = result.tables.get(key)
        if df is not None and len(df):
            save(f"mechanism/{prefix}_{key}.csv", df)


def _sided_design(study: Study) -> Any:
    """The sample design whose ``arm`` is the side of the comparison (pooled arms, one label)."""
    design = study.design
    if study.study_design != "cohort":
        design["arm"] = side_labels(study, design["arm"]).to_numpy()
    return design


def _with_sides(adata: Any, study: Study) -> Any:
    """An assay whose ``obs["arm"]`` holds the side of the comparison (unchanged for two arms)."""
    if study.study_design != "multi_arm" or "arm" not in adata.obs:
        return adata
    adata = adata.copy()
    adata.obs["arm"] = side_labels(study, adata.obs["arm"]).to_numpy()
    return adata


def _transform(name: str, adata: Any) -> str | None:
    """log2 for concentrations; NPX, flow frequencies and generic tables are modelled as given."""
    if name in ("olink", "flow") or adata.uns.get("source") == "table":
        return None
    return "log2"


def _contrasts(
    contrasts: list[dict[str, Any]] | None, pdata: Any, reference: str, *, cohort: bool
) -> list[dict[str, Any]] | None:
    """The configured contrasts; in a cohort by default each later visit against the first."""
    if contrasts is not None or not cohort:
        return contrasts
    from biomarkers.io._visits import visit_order

    later = [v for v in visit_order(pdata.obs["visit"].astype(str).unique()) if v != reference]
    logger.info("mechanism: a cohort, so DE compares visits only (%s vs %s)", later, reference)
    return [{"contrast": ["visit", v, reference]} for v in later]


def _pseudobulk(cfg: DiscoverConfig | MechanismConfig, source: Any) -> Any:
    """Pseudobulk where the config's ``backend`` runs the work (Dask workers read the file)."""
    from biomarkers.features import pseudobulk

    if cfg.backend.kind != "dask" or not isinstance(source, str | os.PathLike):
        return pseudobulk(source)
    with parallel_backend(cfg.backend.model_dump()) as client:
        return pseudobulk(source, backend="dask", client=client)


def _count(df: Any, column: str, fdr: float) -> int:
    return int((df[column] < fdr).sum()) if column in df else 0


def _annotate(pdata: Any, design: Any) -> Any:
    for col in _DESIGN:
        if col not in pdata.obs and col in design:
            pdata.obs[col] = pdata.obs["sample_id"].map(design[col]).to_numpy()
    return pdata
