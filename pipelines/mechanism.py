"""The ``mechanism`` job: what MSC therapy did to cells, genes and cytokines over time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from biomarkers._logging import logger, timed

if TYPE_CHECKING:
    from biomarkers.clinical import Outcome
    from biomarkers.study import Study
    from pipelines.config import DiscoverConfig, MechanismConfig
    from pipelines.run import RunFolder

__all__ = ["mechanism_steps", "run_mechanism"]


def run_mechanism(cfg: MechanismConfig, run: RunFolder) -> dict[str, Any]:
    """Run every mechanism analysis the config enables and write the tables into ``run``."""
    from pipelines.discover import _report, build_outcome, load_study

    study = load_study(cfg)
    outcome = build_outcome(cfg, study) if cfg.outcome else None
    out = mechanism_steps(cfg, study, outcome, run)
    _report(run)
    return out


def mechanism_steps(
    cfg: DiscoverConfig | MechanismConfig, study: Study, outcome: Outcome | None, run: RunFolder
) -> dict[str, Any]:
    """The mechanism analyses, writing into ``run/mechanism/``; shared by both jobs."""
    import biomarkers as bm

    settings = cfg.mechanism
    found: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    treated, control = study.treated_arm, study.control_arm

    if study.singlecell is not None or study.singlecell_path is not None:
        with timed("pseudobulk"):
            source = study.singlecell_path or study.singlecell
            pdata = bm.features.pseudobulk(source, sample_key="sample_id", groups_key="cell_type")
            pdata = _annotate(pdata, study)
        with timed("pseudobulk DE"):
            de = bm.mechanism.pseudobulk_de(
                pdata,
                contrasts=settings.de_contrasts,
                cell_type=settings.cell_types,
                treated_arm=treated,
                control_arm=control,
                min_cells=settings.min_cells,
            )
        _save(run, "mechanism/de.csv", de.to_frame())
        found["de_significant"] = int((de.to_frame()["qvalue"] < settings.fdr).sum())
        if settings.enrichment:
            with timed("enrichment"):
                enr = bm.mechanism.enrichment(de, gene_sets=settings.gene_sets or "immune_modules")
            _save(run, "mechanism/enrichment.csv", enr.to_frame())
        with timed("composition change"):
            comp = bm.features.composition(study.singlecell_path or study.singlecell)
            cc = bm.mechanism.composition_change(
                comp, design_table=study.design, transform=settings.composition_transform,
                treated_arm=treated,
            )  # fmt: skip
        _save(run, "mechanism/composition_change.csv", cc.to_frame())
        found["composition_significant"] = int((cc.to_frame()["qvalue"] < settings.fdr).sum())
        tables["composition"] = comp
    if settings.trajectories:
        for name, adata in study.assays.items():
            with timed(f"trajectories: {name}"):
                traj = bm.mechanism.trajectories(
                    adata, features=list(adata.var_names), treated_arm=treated,
                )  # fmt: skip
            _save(run, f"mechanism/trajectories_{name}.csv", traj.to_frame())
            if hasattr(traj, "means"):
                _save(run, f"mechanism/trajectory_means_{name}.csv", traj.means)
            tables[name] = adata
    if settings.links and tables:
        with timed("cross-modal links"):
            links = bm.mechanism.links(
                tables, design_table=study.design, outcome=outcome, fdr=settings.fdr
            )
        _save(run, "mechanism/links.csv", links.to_frame())
        found["links_significant"] = int((links.to_frame()["qvalue"] < settings.fdr).sum())
    logger.info("mechanism findings: %s", found)
    return found


def _annotate(pdata: Any, study: Study) -> Any:
    design = study.design
    for col in ("subject_id", "visit", "arm"):
        if col not in pdata.obs:
            pdata.obs[col] = pdata.obs["sample_id"].map(design[col]).to_numpy()
    return pdata


def _save(run: RunFolder, relative: str, df: Any) -> None:
    run.write_table(relative, df, index=False)
