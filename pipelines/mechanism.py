"""The ``mechanism`` job: what MSC therapy did to cells, genes and cytokines over time."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from biomarkers._logging import logger, timed
from biomarkers._parallel import parallel_backend
from pipelines._privacy import pseudonyms, scrub
from pipelines._steps import build_outcome, load_study, write_report

if TYPE_CHECKING:
    from biomarkers.clinical import Outcome
    from biomarkers.study import Study
    from pipelines.config import DiscoverConfig, MechanismConfig
    from pipelines.run import RunFolder

__all__ = ["mechanism_steps", "run_mechanism"]


def run_mechanism(cfg: MechanismConfig, run: RunFolder) -> dict[str, Any]:
    """Run every mechanism analysis the config enables and write the tables into ``run``."""
    study = load_study(cfg)
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
    arms = {"treated_arm": study.treated_arm, "control_arm": study.control_arm}
    design = study.design

    def save(relative: str, df: Any) -> None:
        run.write_table(relative, scrub(df, ids) if ids is not None else df, index=False)

    source = study.singlecell_path or study.singlecell
    if source is not None:
        # one pass over the cells: the pseudobulk's n_cells are the composition counts
        with timed("pseudobulk"):
            pdata = _annotate(_pseudobulk(cfg, source), study)
        with timed("pseudobulk DE (pydeseq2)"):
            de = bm.mechanism.pseudobulk_de(
                pdata, contrasts=settings.contrasts, cell_type=settings.cell_type,
                min_cells=settings.min_cells, **arms,
            )  # fmt: skip
        save("mechanism/de.csv", de.to_frame())
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
            comp = comp.join(design[["subject_id", "visit", "arm"]], on="sample_id")
            change = bm.mechanism.composition_change(
                composition, design_table=design,
                transform=settings.composition_transform, **arms,
            )  # fmt: skip
        save("mechanism/composition.csv", comp)
        save("mechanism/composition_change.csv", change.to_frame())
        found["composition_significant"] = _count(change.to_frame(), "q_value", settings.fdr)
        per_sample["composition"] = composition
    if settings.trajectories:
        for name, adata in study.assays.items():
            with timed(f"trajectories: {name}"):
                transform = None if name in ("olink", "flow") else "log2"  # NPX is already log2
                traj = bm.mechanism.trajectories(
                    adata, transform=transform, design_table=design, **arms
                )
            save(f"mechanism/trajectories_{name}.csv", traj.to_frame())
            save(f"mechanism/trajectory_means_{name}.csv", traj.means)
            found[f"trajectories_{name}_significant"] = _count(
                traj.to_frame(), "q_value", settings.fdr
            )
            per_sample[name] = adata
    if settings.links and per_sample:
        with timed("cross-modal links"):
            links = bm.mechanism.links(
                per_sample, design_table=design, outcome=outcome, fdr=settings.fdr
            )
        save("mechanism/links.csv", links.to_frame())
        found["links_significant"] = _count(links.to_frame(), "q_value", settings.fdr)
    logger.info("mechanism findings: %s", found)
    return found


def _pseudobulk(cfg: DiscoverConfig | MechanismConfig, source: Any) -> Any:
    """Pseudobulk where the config's ``backend`` runs the work (Dask workers read the file)."""
    from biomarkers.features import pseudobulk

    if cfg.backend.kind != "dask" or not isinstance(source, str | os.PathLike):
        return pseudobulk(source)
    with parallel_backend(cfg.backend.model_dump()) as client:
        return pseudobulk(source, backend="dask", client=client)


def _count(df: Any, column: str, fdr: float) -> int:
    return int((df[column] < fdr).sum()) if column in df else 0


def _annotate(pdata: Any, study: Study) -> Any:
    design = study.design
    for col in ("subject_id", "visit", "arm"):
        if col not in pdata.obs:
            pdata.obs[col] = pdata.obs["sample_id"].map(design[col]).to_numpy()
    return pdata
