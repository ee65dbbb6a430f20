"""The ``discover`` job: study → scores/outcome → features → discover → predictive → panel.

Each step is a library call; this module only wires them and writes results into the run folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from biomarkers._logging import logger, timed
from biomarkers._parallel import parallel_backend
from biomarkers.exceptions import ConfigError, SchemaError
from pipelines._credibility import related_results, write_credibility
from pipelines._privacy import pseudonymise_table, pseudonyms
from pipelines._steps import (
    COHORT_REASON,
    build_outcome,
    comparisons,
    load_study,
    outcome_arg,
    save_result,
    side_labels,
    write_report,
)
from pipelines.early_response import early_steps
from pipelines.mechanism import mechanism_steps
from pipelines.risk_based import risk_step
from pipelines.value import check_assay_costs, panel_provenance, value_steps

if TYPE_CHECKING:
    from anndata import AnnData

    from biomarkers.clinical import Outcome
    from biomarkers.study import Study
    from pipelines.config import DiscoverConfig
    from pipelines.run import RunFolder

__all__ = ["build_table", "run_discover"]


def build_table(cfg: DiscoverConfig, study: Study, outcome: Outcome) -> AnnData:
    """The subjects × features table the config's ``features:`` section asks for."""
    from biomarkers.features import build_feature_table

    with timed("building features"):
        return build_feature_table(
            study,
            visits=cfg.features.visits,
            blocks=cfg.features.blocks,
            outcome=outcome,
        )


def _labelled(table: AnnData, outcome: Outcome) -> AnnData:
    """Subjects with a known label (binary/continuous) or follow-up (survival)."""
    cols = ["event", "time_days"] if outcome.kind == "survival" else [outcome.name]
    known = table.obs[cols].notna().all(axis=1).to_numpy()
    if known.sum() < len(known):
        logger.info(
            "%d of %d subjects have no %s label; left out", (~known).sum(), len(known), outcome.name
        )
    if not known.any():
        msg = f"outcome {outcome.name!r}: no subject has a label; check the outcome rule and the clinical table"
        raise SchemaError(msg)
    return table[known].copy()


def run_discover(cfg: DiscoverConfig, run: RunFolder) -> dict[str, Any]:
    """Run the discovery job and write its results into ``run``."""
    study = load_study(cfg, blind_seed=run.blind_seed)
    summary = study.summary()
    run.write_table("cohort.csv", summary.to_frame(), index=False)
    outcome = build_outcome(cfg, study)
    run.write_json("outcome.json", {"name": outcome.name, **outcome.to_dict()})
    table = _labelled(build_table(cfg, study, outcome), outcome)
    ids = pseudonyms(study.clinical.index)
    if not cfg.export_ids:
        table = pseudonymise_table(table, ids)
    run.write_table("features.csv", _feature_meta(table), index=False)
    _write_cohort(run, study, table, outcome, ids if not cfg.export_ids else None)
    check_assay_costs(cfg, table)
    out: dict[str, Any] = {"n_subjects": int(table.n_obs), "n_features": int(table.n_vars)}
    _write_treatment_effect(cfg, study, outcome, run)
    # every joblib step of the models runs where backend: says (predictive and panel included)
    with parallel_backend(cfg.backend.model_dump()):
        result = _run_discovery(cfg, table, outcome, run)
        out["performance"] = _headline(result.performance)
        out.update(value_steps(cfg, table, outcome, run, n_jobs=_n_jobs(cfg)))
        if cfg.predictive.enabled:
            out["predictive"] = _run_comparisons(cfg, table, outcome, study, run)
            # predictive's landmark.csv (its baseline markers) lands in the same folder
            run.write_table("landmark.csv", result.landmark)
        if cfg.early_response.enabled:
            out["early_response"] = early_steps(cfg, table, outcome, study, run)
        if cfg.panel.enabled:
            out["panel"] = _run_panel(cfg, result, run, table=table, outcome=outcome, study=study)
    if cfg.mechanism is not None and cfg.mechanism.enabled:
        out["mechanism"] = mechanism_steps(
            cfg, study, outcome, run, ids=None if cfg.export_ids else ids
        )
    write_report(run)
    return out


def _run_discovery(cfg: DiscoverConfig, table: AnnData, outcome: Outcome, run: RunFolder) -> Any:
    from biomarkers.models import discover

    m = cfg.models
    result = save_result(
        run,
        lambda: discover(
            table,
            outcome=outcome_arg(outcome),
            models=tuple(m.models),
            cv=(m.n_splits, m.n_repeats),
            inner_cv=m.inner_cv,
            covariates=tuple(m.covariates),
            clinical_baseline=m.clinical_baseline,
            n_permutations=m.n_permutations,
            n_bootstraps=m.n_bootstraps,
            landmark=cfg.landmark.day,
            landmark_time_from=cfg.landmark.time_from,
            random_state=cfg.seed,
            n_jobs=_n_jobs(cfg),
            interval=m.interval,
            stability=m.stability,
            fusion=m.fusion,
        ),
        description="discovery (nested CV, permutations, bootstrap)",
    )
    _log_landmark(result.landmark)
    _write_budget(cfg, table, outcome, result, run)
    return result


def _write_budget(cfg: DiscoverConfig, table: AnnData, outcome: Outcome, result, run) -> None:
    """Riley sample-size budget and prediction instability of the run (docs/models.md)."""
    from biomarkers.exceptions import ConfigError
    from biomarkers.models import prediction_instability

    try:
        budget = result.sample_size_budget()
    except ConfigError as err:  # no event, or nothing to anticipate R2 from
        logger.info("sample-size budget skipped: %s", err)
    else:
        run.write_table(
            "sample_size_budget.csv",
            budget.to_frame().assign(
                n=budget.n, events=budget.events, r2_cs=budget.r2_cs, parameters=budget.parameters
            ),
        )
    n_boot = cfg.models.instability_bootstraps
    if n_boot:
        res = save_result(run, lambda: prediction_instability(
            table, outcome=outcome_arg(outcome), model=result.models[0], n_bootstraps=n_boot,
            random_state=cfg.seed, n_jobs=_n_jobs(cfg), landmark=cfg.landmark.day,
        ), description=f"prediction instability ({n_boot} bootstrap refits)")  # fmt: skip
        import matplotlib.pyplot as plt

        from biomarkers.pl import instability, save_figure

        fig = instability(res)
        for path in save_figure(fig, run.path / "instability", formats=("png",)):
            run.add_output(path.name)
        plt.close(fig)


def _log_landmark(report: pd.DataFrame | None) -> None:
    """One log line: the landmark population per arm."""
    if report is None or not len(report):
        return
    day = report.attrs.get("landmark_day")
    per_arm = "; ".join(f"{r.arm} {r.n_after}/{r.n_before}" for r in report.itertuples())
    logger.info("landmark population (day %s): %s", day, per_arm)


def _n_jobs(cfg: Any) -> int | None:
    # joblib runs n_jobs=1 sequentially even inside a Dask context: let Dask use every worker
    return -1 if cfg.backend.kind == "dask" else cfg.backend.n_jobs


def _write_cohort(
    run: RunFolder, study: Study, table: AnnData, outcome: Outcome, ids: dict[str, str] | None
) -> None:
    """CONSORT-style counts per arm and the (pseudonymised) survival data for the report."""
    clinical = study.clinical
    arm = _arm_column(clinical)
    counts = arm.groupby(arm).size().rename("randomised").to_frame()
    if study.dosing is not None and "given" in study.dosing:
        dosed = study.dosing[study.dosing["given"].astype(float) > 0]["subject_id"].unique()
        treated = clinical.index.isin(dosed) | ~arm.isin(study.treated_arms)
        counts["treated"] = arm[treated].groupby(arm[treated]).size()
    analysed = _arm_column(table.obs)
    counts["analysed"] = analysed.groupby(analysed, observed=True).size()
    run.write_table("cohort_counts.csv", counts.fillna(0).astype(int).reset_index())
    surv = outcome.table if outcome.kind == "survival" else None
    if surv is None and {"event", "time_days"} <= set(outcome.table.columns):
        surv = outcome.table
    if surv is not None:
        km = surv[["event", "time_days"]].join(arm).dropna()
        run.write_table("km.csv", km.reset_index(drop=True))


def _arm_column(frame: pd.DataFrame) -> pd.Series:
    """The ``arm`` column, or one label (``all``) for every subject of a cohort."""
    if "arm" in frame:
        return frame["arm"].astype(str).rename("arm")
    return pd.Series("all", index=frame.index, name="arm")


def _feature_meta(table: AnnData) -> pd.DataFrame:
    meta = table.var.copy()
    meta.insert(0, "feature", table.var_names)
    return meta


def _headline(performance: pd.DataFrame) -> dict[str, Any]:
    rows = performance[performance["metric"].isin(["auroc", "harrell_c", "r2"])]
    return {
        f"{r.model}:{r.metric}": [
            round(float(r.estimate), 4),
            round(float(r.ci_low), 4),
            round(float(r.ci_high), 4),
        ]
        for r in rows.itertuples()
    }


def _write_treatment_effect(
    cfg: DiscoverConfig, study: Study, outcome: Outcome, run: RunFolder
) -> None:
    """The overall effect on the outcome per comparison (every randomised subject with a label)."""
    from biomarkers.models import treatment_effect

    found = comparisons(cfg, study)
    if not found:
        logger.info("treatment effect skipped: %s", COHORT_REASON)
        return
    horizon = cfg.outcome.get("horizon_days") if outcome.kind == "survival" else None
    rows = []
    for folder, one in found.items():
        effect = treatment_effect(
            one.clinical[[]],
            outcome=outcome,
            treatment=one.treatment,
            treated=one.treated_arm,
            control=one.control_arm,
            horizon=horizon,
        )
        effect["comparison"] = f"{one.treated_arm} vs {one.control_arm}"
        rows.append(effect)
        logger.info(
            "treatment effect (%s): %s",
            folder,
            "; ".join(
                f"{r.measure} {r.estimate:.3g} [{r.ci_low:.3g}, {r.ci_high:.3g}]"
                for r in effect.itertuples()
            ),
        )
    effects = pd.concat(rows, ignore_index=True)
    first = ["measure", "estimate", "ci_low", "ci_high", "n_treated", "n_control", "method"]
    effects = effects[first + [c for c in effects.columns if c not in first]]
    run.write_table("treatment_effect.csv", effects)


def _run_comparisons(
    cfg: DiscoverConfig, table: AnnData, outcome: Outcome, study: Study, run: RunFolder
) -> dict[str, Any]:
    """The predictive analysis of every comparison the design names (none in a cohort)."""
    found = comparisons(cfg, study)
    if not found:
        logger.info("predictive steps skipped: %s", COHORT_REASON)
        return {"skipped": COHORT_REASON}
    results = {
        folder: _run_predictive(cfg, table, outcome, one, run, folder=folder)
        for folder, one in found.items()
    }
    return results["."] if list(results) == ["."] else results


def _run_predictive(
    cfg: DiscoverConfig,
    table: AnnData,
    outcome: Outcome,
    study: Study,
    run: RunFolder,
    *,
    folder: str = ".",
) -> dict[str, Any]:
    from biomarkers.models import predictive

    p = cfg.predictive
    table = table.copy()
    # the side of the comparison, not the raw arm: pooled sides ("A+B") and pairs work alike
    table.obs["comparison"] = side_labels(study, table.obs["arm"]).to_numpy()
    res = save_result(
        run,
        lambda: predictive(
            table,
            outcome=outcome_arg(outcome),
            arm="comparison",
            treated=study.treated_arm,
            covariates=tuple(p.covariates),
            markers=p.markers,
            method=tuple(p.method),
            propensity=study.allocation,
            fdr=p.fdr,
            treatment_day=p.treatment_day,
            n_permutations=p.n_permutations,
            n_bootstraps=p.n_bootstraps,
            random_state=cfg.seed,
            n_jobs=_n_jobs(cfg),
            shrinkage=p.shrinkage,
        ),
        description=f"predictive vs prognostic ({study.treated_arm} vs {study.control_arm})",
        folder=folder,
    )
    prefix = "" if folder == "." else f"{folder}/"
    run.write_table(f"{prefix}predictive_landmark.csv", res.landmark)
    if "interaction" in p.method:
        related = related_results(
            cfg, table, study, lambda t, arg: predictive(
                t, outcome=arg, arm="comparison", treated=study.treated_arm,
                covariates=tuple(p.covariates), markers=p.markers, method=("interaction",),
                propensity=study.allocation, fdr=p.fdr, treatment_day=p.treatment_day,
                random_state=cfg.seed, shrinkage="none",
            ),
        )  # fmt: skip
        write_credibility(cfg, res, related, run, prefix=prefix)
    labels = res.markers["label"].value_counts().to_dict()
    risk = risk_step(cfg, table, outcome, run, arm="comparison", treated=study.treated_arm,
                     folder=folder, n_jobs=_n_jobs(cfg))  # fmt: skip
    return {
        "treated": study.treated_arm,
        "control": study.control_arm,
        "propensity": study.allocation,
        "labels": {str(k): int(v) for k, v in labels.items()},
        "risk_based": risk,
    }


def _run_panel(
    cfg: DiscoverConfig,
    result: Any,
    run: RunFolder,
    *,
    table: AnnData,
    outcome: Outcome,
    study: Study,
) -> dict[str, Any]:
    """Export the panel the config's ``panel.purpose`` asks for (see docs/panel.md "Purpose")."""
    from biomarkers.panel import marker_eligibility

    p = cfg.panel
    latest = {  # the latest day a panel marker may be measured on, per purpose
        "prognosis": lambda: None,
        "early_response": lambda: _early_landmark(cfg, result),
        "treatment_selection": lambda: float(cfg.predictive.treatment_day),
    }[p.purpose]()
    eligibility = marker_eligibility(
        table, max_censored_share=p.max_censored_share, max_missing_share=p.max_missing_share,
        latest_day=latest,
    )  # fmt: skip
    run.write_table("panel/eligibility.csv", eligibility.reset_index())
    n_out = int((~eligibility["eligible"]).sum())
    if n_out:
        logger.info(
            "panel: %d of %d markers not eligible (panel/eligibility.csv)", n_out, len(eligibility)
        )
    candidates = eligibility.index[eligibility["eligible"]].tolist()
    if p.purpose == "treatment_selection" and run.blind_seed is not None:
        return _refuse_blinded_panel(run)
    if p.purpose == "treatment_selection":
        panel = save_result(
            run,
            lambda: _benefit_panel(cfg, table, outcome, study, candidates),
            description="panel export (treatment selection)",
            folder="panel",
        )
        return {"purpose": p.purpose, "markers": list(panel.features)}
    arms = sorted(_arm_column(table.obs).unique().tolist())
    purpose = {"kind": p.purpose, "arms": arms}
    if p.purpose == "early_response":
        purpose["landmark_day"] = latest
    if cfg.models.fusion == "stacking":  # a stacked panel: per-assay blocks, missing ones allowed
        from biomarkers.models._stacked_panel import discovery_stacked_panel

        panel = save_result(run, lambda: discovery_stacked_panel(
            result, candidates=candidates, base=p.model, threshold=p.threshold, name=cfg.name,
            purpose=purpose,
        ), description="panel export (stacked)", folder="panel")  # fmt: skip
        return {"purpose": p.purpose, "markers": list(panel.features), "stacked": True}
    panel = save_result(
        run,
        lambda: _marked(
            run,
            result.panel(
                k=p.k,
                min_stability=p.min_stability,
                model=p.model,
                threshold=p.threshold,
                name=cfg.name,
                candidates=candidates,
                purpose=purpose,
                provenance=panel_provenance(cfg),
            ),
        ),
        description="panel export",
        folder="panel",
    )
    return {"purpose": p.purpose, "markers": list(panel.features)}


def _marked(run: RunFolder, panel: Any) -> Any:
    """The panel, marked ``blinded`` when the run is (its card and panel.json say so)."""
    return panel.mark_blinded() if run.blind_seed is not None else panel


def _refuse_blinded_panel(run: RunFolder) -> dict[str, Any]:
    """A blinded run exports no treatment-selection panel: its benefit would be the dummy's."""
    reason = (
        "blinded run: no treatment-selection panel exported (its predicted benefit would come "
        "from the dummy arms); run unblinded to export it"
    )
    logger.info("panel skipped: %s", reason)
    notes = [*(run.manifest["blinding"].get("notes") or []), reason]
    run.update_manifest(blinding={**run.manifest["blinding"], "notes": notes})
    return {"purpose": "treatment_selection", "skipped": reason}


def _early_landmark(cfg: DiscoverConfig, result: Any) -> float:
    """The on-treatment landmark day of an early-response panel (refused without one)."""
    day = result.settings.get("landmark_day")
    if day is None or float(day) <= 0:
        msg = (
            "panel.purpose: early_response needs an on-treatment landmark; the discovery "
            f"landmark is {day!r}: add the visit to features.visits (e.g. [D0, D7]) and set "
            "landmark.day (e.g. 7) or leave it auto"
        )
        raise ConfigError(msg)
    return float(day)


def _benefit_panel(
    cfg: DiscoverConfig, table: AnnData, outcome: Outcome, study: Study, candidates: list[str]
) -> Any:
    """A treatment-selection panel: baseline markers ranked by the predictive analysis."""
    from biomarkers.models import predictive
    from biomarkers.panel import benefit_panel

    found = comparisons(cfg, study)
    if len(found) != 1:
        why = COHORT_REASON if not found else f"{len(found)} pairwise comparisons"
        msg = (
            f"panel.purpose: treatment_selection needs one comparison of two randomised arms "
            f"({why}); use purpose: prognosis, or study.comparison: pooled"
        )
        raise ConfigError(msg)
    if outcome.kind == "survival":
        msg = (
            "panel.purpose: treatment_selection needs a binary or continuous outcome; this one "
            "is a survival outcome: set outcome.kind: binary (e.g. transplant-free at the horizon)"
        )
        raise ConfigError(msg)
    one = found["."]
    table = table.copy()
    table.obs["comparison"] = side_labels(one, table.obs["arm"]).to_numpy()
    table = table[table.obs["comparison"].notna().to_numpy()].copy()
    markers = [c for c in candidates if c in table.var_names]
    ranking = predictive(
        table, outcome=outcome_arg(outcome), arm="comparison", treated=one.treated_arm,
        markers=markers, method=("interaction",), propensity=one.allocation,
        treatment_day=cfg.predictive.treatment_day, n_permutations=0, n_bootstraps=0,
        random_state=cfg.seed, n_jobs=_n_jobs(cfg),
    ).markers  # fmt: skip
    p = cfg.panel
    return benefit_panel(
        table, outcome=outcome.name, treated=one.treated_arm, arm="comparison",
        ranking=ranking, k=p.k or 5, favourable=p.favourable, min_benefit=p.min_benefit,
        treatment_day=cfg.predictive.treatment_day, max_censored_share=p.max_censored_share,
        max_missing_share=p.max_missing_share, name=cfg.name,
        outcome_block={"name": outcome.name, **outcome.to_dict(), "columns": None},
    )  # fmt: skip
