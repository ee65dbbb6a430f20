"""The ``validate`` command's dry run: build the study, outcome and features without fitting.

Everything a long run would refuse late — a feature visit that leaks the outcome, a block whose
data is missing, a cell type the single-cell data lacks, a clinical-baseline feature or
covariate that is not in the table — is refused here first, with the same one-line errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from biomarkers._validation import did_you_mean, format_ids
from biomarkers.exceptions import ConfigError
from pipelines._steps import COHORT_REASON, build_outcome, comparisons, load_study

if TYPE_CHECKING:
    from anndata import AnnData

    from biomarkers.clinical import Outcome
    from biomarkers.study import Study

__all__ = ["dry_run"]


def dry_run(cfg: Any, *, source: str = "config") -> list[str]:
    """Build what the job's config describes, without fitting anything.

    Parameters
    ----------
    cfg
        A validated job config (:func:`pipelines.config.load_config`).
    source
        Name used in error messages (the config path).

    Returns
    -------
    Summary lines: subjects and design, the outcome with its positive class and event count,
    the feature blocks with their feature counts (discover jobs).

    Raises
    ------
    LeakageError
        A feature visit on or after the day the outcome is assessed.
    ConfigError
        A block whose data is missing, an unknown cell type, or clinical-baseline features,
        covariates or markers that the feature table lacks.
    """
    if cfg.pipeline not in ("discover", "mechanism", "score"):
        return []
    study = load_study(cfg)
    lines = [_design_line(cfg, study)]
    outcome = build_outcome(cfg, study) if getattr(cfg, "outcome", None) else None
    if outcome is not None:
        lines.append(_outcome_line(outcome))
    _check_cell_types(cfg, study, source)
    if cfg.pipeline == "discover":
        from pipelines.discover import build_table

        table = build_table(cfg, study, outcome)
        _check_table_names(cfg, table, source)
        blocks = ", ".join(f"{b} {n}" for b, n in table.uns.get("blocks", {}).items())
        lines.append(f"features: {table.n_vars} ({blocks or 'none'})")
        lines.extend(_landmark_lines(cfg, table, outcome))
    return lines


def _design_line(cfg: Any, study: Study) -> str:
    n = len(study.clinical)
    if study.study_design == "cohort":
        return f"subjects: {n}; design: cohort; predictive steps skipped: {COHORT_REASON}"
    found = comparisons(cfg, study) if hasattr(cfg, "predictive") else {".": study}
    pairs = "; ".join(
        f"{s.treated_arm} vs {s.control_arm} (allocation {s.allocation:.3g})"
        for s in found.values()
    )
    return f"subjects: {n}; design: {study.study_design}, arms {', '.join(study.arms)}; {pairs}"


def _outcome_line(outcome: Outcome) -> str:
    column = "event" if outcome.kind == "survival" else outcome.name
    values = outcome.table[column]
    if outcome.kind == "continuous":
        return f"outcome: {outcome.name} (continuous, {int(values.notna().sum())} with a value)"
    return (
        f"outcome: {outcome.name} ({outcome.kind}); class 1 = {outcome.positive}: "
        f"{int((values == 1).sum())} of {int(values.notna().sum())} labelled subjects"
    )


def _check_cell_types(cfg: Any, study: Study, source: str) -> None:
    """Cell types named in the config (mechanism, pseudobulk block) exist in the cells."""
    named = _named_cell_types(cfg)
    if not named:
        return
    if study.singlecell is None:
        msg = (
            f"{source}: cell types {format_ids(sorted(named))} are named but the config loads "
            "no single-cell data; add data.singlecell or remove them"
        )
        raise ConfigError(msg)
    for key, wanted in named.items():
        groups = study.singlecell.obs
        column = "cell_type" if key != "features.pseudobulk.cell_types" else _groups_key(cfg)
        available = sorted(groups[column].astype(str).unique()) if column in groups else []
        unknown = [c for c in wanted if c not in available]
        if unknown:
            msg = (
                f"{source}: {key}: cell type {unknown[0]!r} is not in the single-cell "
                f"obs[{column!r}]{did_you_mean(unknown[0], available)}; available: "
                f"{', '.join(available)}"
            )
            raise ConfigError(msg)


def _named_cell_types(cfg: Any) -> dict[str, list[str]]:
    named: dict[str, list[str]] = {}
    mech = getattr(cfg, "mechanism", None)
    if mech is not None and mech.enabled and mech.cell_type:
        named["mechanism.cell_type"] = list(mech.cell_type)
    options = _pseudobulk_options(cfg)
    if options.get("cell_types"):
        named["features.pseudobulk.cell_types"] = _as_list(options["cell_types"])
    return named


def _pseudobulk_options(cfg: Any) -> dict[str, Any]:
    features = getattr(cfg, "features", None)
    blocks = getattr(features, "blocks", None)
    if isinstance(blocks, dict) and isinstance(blocks.get("pseudobulk"), dict):
        return blocks["pseudobulk"]
    return {}


def _groups_key(cfg: Any) -> str:
    return str(_pseudobulk_options(cfg).get("groups_key", "cell_type"))


def _as_list(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _check_table_names(cfg: Any, table: AnnData, source: str) -> None:
    """Clinical-baseline features, covariates and markers the config names are in the table."""
    features, obs = list(table.var_names), list(table.obs.columns)
    checks = [
        ("models.clinical_baseline", cfg.models.clinical_baseline or [], features + obs),
        ("models.covariates", cfg.models.covariates, obs),
        ("predictive.covariates", cfg.predictive.covariates, obs),
        ("predictive.markers", cfg.predictive.markers or [], features),
    ]
    for key, names, known in checks:
        missing = [n for n in names if n not in known]
        if missing:
            msg = (
                f"{source}: {key}: {missing[0]!r} is not in the feature table"
                f"{did_you_mean(missing[0], known)}; built: {format_ids(known)}; name one the "
                "feature table has"
            )
            raise ConfigError(msg)


def _landmark_lines(cfg: Any, table: AnnData, outcome: Outcome) -> list[str]:
    """Landmark population per arm: "landmark D7 (SMT): 19/29 (10 events before D7)"."""
    from biomarkers.models import landmark_population
    from pipelines._steps import outcome_arg

    day = cfg.landmark.day
    _, report = landmark_population(table, outcome=outcome_arg(outcome), landmark_day=day)
    at = report.attrs.get("landmark_day")
    if at is None or float(at) <= 0:
        return ["landmark: none (baseline features; every subject analysed)"]
    label = next((v for v, d in cfg.study.visits.items() if d == at), f"day {float(at):g}")
    return [f"landmark {label} ({r.arm}): {_landmark_words(r, label)}" for r in report.itertuples()]


def _landmark_words(row: Any, label: str) -> str:
    parts = [
        (row.event_before_landmark, f"events before {label}"),
        (row.censored_before_landmark, f"censored before {label}"),
        (row.missing_landmark_visit, f"without the {label} visit"),
    ]
    why = ", ".join(f"{int(n)} {w}" for n, w in parts if int(n))
    return f"{int(row.n_after)}/{int(row.n_before)}" + (f" ({why})" if why else "")
