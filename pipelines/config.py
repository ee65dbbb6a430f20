"""Job configurations: pydantic models, a safe YAML loader, ``--set`` overrides, path resolution.

Every job config has ``pipeline`` (which job), ``name``, ``seed``, ``output`` and ``backend``.
Unknown keys are errors with a "did you mean" suggestion; relative paths resolve against the
config file's folder; input paths must stay inside the allowed roots (the config's folder, its
parent, the working directory, and ``BIOMARKERS_ALLOWED_ROOTS``).
"""

from __future__ import annotations

import math
import os
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from biomarkers._atomic import allowed_roots, check_within_roots, register_input, set_input_roots
from biomarkers._validation import did_you_mean
from biomarkers._yaml import safe_load
from biomarkers.exceptions import ConfigError, InputFileError
from biomarkers.io._visits import DEFAULT_VISITS

__all__ = [
    "BackendConfig",
    "DataConfig",
    "DiscoverConfig",
    "EvaluateConfig",
    "JobConfig",
    "MechanismConfig",
    "SimulateConfig",
    "StudyConfig",
    "TableInput",
    "apply_overrides",
    "load_config",
    "parse_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class BackendConfig(_Strict):
    """Where the work runs: ``local`` (joblib processes) or ``dask`` (a distributed cluster)."""

    kind: Literal["local", "dask"] = Field(
        "local", description="joblib processes here, or a Dask cluster"
    )
    n_jobs: int | None = Field(default=1, ge=-1, description="parallel workers (-1: all cores)")

    @field_validator("n_jobs")
    @classmethod
    def _no_zero_workers(cls, value: int | None) -> int | None:
        if value == 0:
            msg = "0 workers cannot run anything; use 1 (one process), -1 (all cores) or a count"
            raise ValueError(msg)
        return value

    scheduler: str | None = Field(
        None, description="Dask scheduler address; none starts a LocalCluster"
    )


class AssayInput(_Strict):
    """One tabular assay file and its layout (``auto`` detects it from the content)."""

    path: Path = Field(description="the assay file")
    format: str = Field(
        "auto", description="auto, long, wide, xponent, bioplex, msd, olink, olink_wide"
    )


class TableInput(_Strict):
    """A generic subject × visit table of numbers; features are named ``NAME:column@visit``."""

    path: Path = Field(description="the table (CSV, TSV, XLSX or Parquet)")
    columns: Literal["all"] | list[str] = Field(
        "all", description="`all` (every numeric column) or the value columns to read"
    )
    unit: str | dict[str, str] | None = Field(
        None, description="one unit for every column, or column → unit"
    )
    visit_column: str = Field(
        "visit", description="column with the visit label; without it the values are baseline"
    )
    subject_column: str = Field("subject_id", description="column with the subject ID")


class DataConfig(_Strict):
    """Input files (formats: docs/formats.md). Paths are relative to the config file's folder."""

    clinical: Path = Field(description="one row per subject: subject_id, arm, covariates, outcomes")
    labs: Path | None = Field(None, description="one row per subject × visit")
    samples: Path | None = Field(
        None, description="one row per sample: sample_id, subject_id, visit"
    )
    dosing: Path | None = Field(None, description="one row per planned infusion (analysis sets)")
    singlecell: Path | None = Field(
        None, description=".h5ad, 10x .h5 / folder, or a 10x manifest CSV"
    )
    cytokines: dict[str, AssayInput] = Field(default_factory=dict, description="assay name → file")
    flow: Path | None = Field(None, description="gated population frequencies")
    tables: dict[str, TableInput] = Field(
        default_factory=dict,
        description="assay name → generic subject × visit table (features `NAME:column@visit`)",
    )
    columns: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="per file, your column → contract column"
    )
    allow_identifiers: bool = Field(False, description="accept name/DOB/phone/MRN-like columns")


class StudyConfig(_Strict):
    """The study design: arms compared, allocation and visit days.

    No arms named and a clinical table without ``arm`` (or with one arm) is a cohort; two arms
    need ``treated_arm`` (inferred for the simulated trial's labels); more than two arms need
    ``treated`` and ``control`` (several labels on a side are pooled).
    """

    treated_arm: str | None = Field(
        None, description="arm label of the treated arm (two arms; `ucMSC+SMT` inferred)"
    )
    control_arm: str | None = Field(
        None, description="arm label of the control arm (default: the other arm)"
    )
    arms: list[str] | None = Field(
        None, description="arm labels expected in clinical.csv (checked); absent: from the data"
    )
    treated: str | list[str] | None = Field(
        None, description="more than two arms: the treated side (labels pooled)"
    )
    control: str | list[str] | None = Field(
        None, description="more than two arms: the control side (labels pooled)"
    )
    comparison: Literal["pooled", "pairwise"] = Field(
        "pooled",
        description=(
            "pooled: one predictive analysis of treated vs control; pairwise: one per "
            "treated × control pair, under predictive/<treated>_vs_<control>/"
        ),
    )
    allocation: float | None = Field(
        None,
        gt=0,
        lt=1,
        description=(
            "randomisation probability of the treated side (e.g. 0.75 for 3:1); default equal "
            "allocation; feeds every CATE/BLP/Qini step"
        ),
    )
    visits: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_VISITS), description="visit label → study day"
    )


class FeaturesConfig(_Strict):
    """Which visits and feature blocks enter the FeatureTable (see docs/features.md)."""

    visits: list[str] = Field(
        default_factory=lambda: ["D0"], description="visits features come from"
    )
    blocks: dict[str, Any] | list[str] | None = Field(
        None,
        description=(
            "block → options, or a list of blocks (`biomarkers.features.available_blocks()`); "
            "default: every block the data has (clinical, each assay, composition, pseudobulk, "
            "deltas)"
        ),
    )


class ModelsConfig(_Strict):
    """The discovery engine's settings (see docs/models.md)."""

    models: list[str] = Field(
        default_factory=lambda: ["enet", "xgboost"],
        description="registry names (`biomarkers models`)",
    )
    n_splits: int = Field(default=5, ge=2, description="outer folds")
    n_repeats: int = Field(default=10, ge=1, description="outer repeats")
    inner_cv: int = Field(default=3, ge=2, description="inner folds for hyperparameters")
    n_permutations: int = Field(
        default=200, ge=0, description="label permutations of the whole pipeline"
    )
    n_bootstraps: int = Field(default=1000, ge=0, description="bootstrap resamples for CIs")
    covariates: list[str] = Field(
        default_factory=list, description="obs columns always in the model"
    )
    clinical_baseline: list[str] | None = Field(
        None, description="features of the clinical comparator"
    )
    interval: Literal["bbc", "nested_cv", "corrected_t", "bootstrap"] = Field(
        "bbc", description="interval of the primary metric (docs/models.md)"
    )
    stability: Literal["stabl", "decoy"] = Field(
        "stabl", description="decoy rule of the stability threshold (docs/models.md)"
    )
    instability_bootstraps: int = Field(
        default=20, ge=0, description="bootstrap refits of the prediction-instability plot (0: off)"
    )
    fusion: Literal["none", "stacking", "cooperative"] = Field(
        "none",
        description=(
            "how assay blocks are combined: none (early fusion, one model, in-fold imputation), "
            "stacking (one model per assay + non-negative meta-learner per missingness pattern; "
            "patients missing an assay kept) or cooperative (cooperative learning, linear); "
            "binary and continuous outcomes (docs/models.md, Multi-assay fusion)"
        ),
    )


class PredictiveConfig(_Strict):
    """Predictive-vs-prognostic analysis (runs when the study compares arms; skipped in a cohort)."""

    enabled: bool = True
    fdr: float = Field(default=0.1, gt=0, lt=1)
    method: list[Literal["interaction", "t_learner", "dr_learner"]] = Field(
        default_factory=lambda: ["interaction", "t_learner", "dr_learner"]
    )
    n_permutations: int = Field(default=200, ge=0)
    n_bootstraps: int = Field(default=500, ge=0)
    markers: list[str] | None = None
    covariates: list[str] = Field(
        default_factory=list,
        description="obs columns adjusting the interaction models (strings one-hot encoded)",
    )
    treatment_day: int = Field(
        default=0,
        description="first day on treatment: effect modifiers must be measured at or before it",
    )


class LandmarkSettings(_Strict):
    """The landmark of the models: who is analysed and from when the outcome counts."""

    day: int | Literal["auto"] | None = Field(
        "auto",
        description="landmark day (auto: the latest day of the features; null: everybody)",
    )
    time_from: Literal["origin", "landmark"] = Field(
        "origin", description="outcome evaluated from the time origin or from the landmark"
    )


class EarlyResponseSettings(_Strict):
    """Early-response markers (runs when features.visits has an on-treatment visit and two arms)."""

    enabled: bool = True
    visit: str | None = Field(
        None, description="on-treatment visit (null: the first one among features.visits)"
    )
    baseline: str | None = Field(None, description="baseline visit (null: the day-0 visit)")
    fdr: float = Field(default=0.1, gt=0, lt=1)


class MediationSettings(_Strict):
    """Mediation of the treatment effect through the top early marker (binary/continuous outcomes)."""

    enabled: bool = True
    mediator: str = Field(
        "auto", description="feature (e.g. cytokine:HGF@D7), or auto: the top early marker"
    )
    kind: Literal["interventional", "natural"] = "interventional"
    n_bootstraps: int = Field(default=500, ge=0)


class PanelConfig(_Strict):
    """Export of a locked biomarker panel from the discovery result (see docs/panel.md)."""

    enabled: bool = True
    purpose: Literal["prognosis", "treatment_selection", "early_response"] = Field(
        "prognosis",
        description=(
            "prognosis (outcome whatever the treatment), treatment_selection (baseline markers "
            "fitted for the benefit of treatment; two arms) or early_response (landmark panel)"
        ),
    )
    k: int | None = Field(default=None, ge=1)
    min_stability: float | None = Field(default=None, ge=0, le=1)
    model: str | None = None
    threshold: float | Literal["youden"] | dict[str, float] = "youden"
    max_censored_share: float = Field(
        0.5, ge=0, le=1, description="markers censored (below LOD) in more subjects: not eligible"
    )
    max_missing_share: float = Field(
        0.5, ge=0, le=1, description="markers missing in more subjects: not eligible"
    )
    min_benefit: float = Field(
        0.0, description="treatment_selection: treat if the predicted benefit is at least this"
    )
    favourable: Literal["higher", "lower"] = Field(
        "higher",
        description="treatment_selection: whether class 1 / a higher outcome value is the good one",
    )

    @field_validator("threshold", mode="before")
    @classmethod
    def _finite_threshold(cls, value: Any) -> Any:
        # ``threshold: .nan`` would silently flag no one
        values = value.values() if isinstance(value, dict) else [value]
        for v in values:
            if isinstance(v, float) and not math.isfinite(v):
                msg = (
                    f"must be a finite number (got {v}); use a probability such as 0.5 or 'youden'"
                )
                raise ValueError(msg)
        return value


class MechanismSettings(_Strict):
    """Mechanism-of-action analyses (see docs/mechanism.md)."""

    enabled: bool = True
    contrasts: list[dict[str, Any]] | None = None
    cell_type: list[str] | None = None
    composition_transform: Literal["clr", "logit", "asin_sqrt"] = "clr"
    trajectories: bool = True
    enrichment: bool = True
    gene_sets: Path | None = None
    links: bool = True
    fdr: float = Field(default=0.1, gt=0, lt=1)
    min_cells: int = Field(default=10, ge=0)


class SimulateSettings(_Strict):
    """Size and scenario of the simulated trial."""

    n_subjects: int = Field(default=100, ge=4)
    cells_per_sample: int = Field(default=200, ge=0)
    scenario: Literal["default", "null", "no_benefit", "strong"] = "default"
    cohort: Literal["development", "phase3"] = Field(
        "development", description="phase3: a second cohort with known shifts (docs/panel.md)"
    )
    phase3: dict[str, Any] | None = Field(
        None,
        description="shifts of the phase3 cohort (intercept_shift, slope_shift, lot_offset, ...)",
    )
    missing_assays: (
        dict[Literal["singlecell", "flow", "olink"], Annotated[float, Field(ge=0, lt=1)]] | None
    ) = Field(
        None,
        description="assay -> fraction of subjects who lack it entirely, e.g. {singlecell: 0.3, flow: 0.15}",
    )


class _Job(_Strict):
    name: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$", description="run name (folder)")
    ]
    seed: int = Field(0, ge=0, description="seed of every random step")
    output: Path = Field(
        Path("runs"), description="runs are written to <output>/<name>/<timestamp>/"
    )
    backend: BackendConfig = Field(default_factory=BackendConfig)
    export_ids: bool = Field(False, description="keep subject IDs in exported files")


class SimulateConfig(_Job):
    """``pipeline: simulate`` writes a simulated trial into the run folder."""

    pipeline: Literal["simulate"]
    simulate: SimulateSettings = Field(default_factory=SimulateSettings)


class DiscoverConfig(_Job):
    """``pipeline: discover``: study → scores/outcome → features → discover (→ panel, predictive)."""

    pipeline: Literal["discover"]
    data: DataConfig
    study: StudyConfig = Field(default_factory=StudyConfig)
    outcome: dict[str, Any]
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    landmark: LandmarkSettings = Field(default_factory=LandmarkSettings)
    predictive: PredictiveConfig = Field(default_factory=PredictiveConfig)
    early_response: EarlyResponseSettings = Field(default_factory=EarlyResponseSettings)
    mediation: MediationSettings = Field(default_factory=MediationSettings)
    panel: PanelConfig = Field(default_factory=PanelConfig)
    mechanism: MechanismSettings | None = None


class MechanismConfig(_Job):
    """``pipeline: mechanism``: pseudobulk DE, composition, trajectories, enrichment, links."""

    pipeline: Literal["mechanism"]
    data: DataConfig
    study: StudyConfig = Field(default_factory=StudyConfig)
    outcome: dict[str, Any] | None = None
    mechanism: MechanismSettings = Field(default_factory=MechanismSettings)


class ScoreConfig(_Job):
    """``pipeline: score``: new patients' raw files → the panel's features → scores.

    The same readers and feature builders as in training run on the new files; the panel says
    which features (and visits) it needs.
    """

    pipeline: Literal["score"]
    panel: Path = Field(description="panel.json of an exported panel")
    data: DataConfig
    study: StudyConfig = Field(default_factory=StudyConfig)
    features: FeaturesConfig | None = None
    allow_missing: Literal["impute_training_median"] | None = Field(
        None, description="fallback for missing markers (subjects are flagged)"
    )
    max_imputed_share: float = Field(
        0.5, ge=0, le=1, description="refuse subjects missing more than this share of markers"
    )


class EvaluateSettings(_Strict):
    """Evaluation of a locked panel on a new cohort, and its update (docs/panel.md, Phase III)."""

    subgroups: list[str] = Field(
        default_factory=list,
        description="pre-specified subgroup columns (e.g. arm, site, assay_lot)",
    )
    lot: str | None = Field(
        None, description="column naming the assay lot (default: the first subgroup with 'lot')"
    )
    candidates: list[str] = Field(
        default_factory=list, description="new markers the extension step of the ladder may add"
    )
    alpha: float = Field(0.05, gt=0, lt=1, description="level of each closed-testing LR test")
    n_bootstraps: int = Field(200, ge=0, description="bootstrap replicates (Brier, ICI/E50/E90)")
    update: bool = Field(False, description="write the updated panel when the ladder chooses one")
    allow_missing: Literal["impute_training_median"] | None = Field(
        None, description="fallback for missing markers, as in score"
    )


class EvaluateConfig(_Job):
    """``pipeline: evaluate``: a locked panel on a new cohort's raw files and outcomes.

    The cohort is read as ``score`` reads it (``data``, ``study``, ``features``); ``outcome`` is
    a rule as in ``discover``. Writes drift, performance, subgroups, the updating ladder and
    ``evaluation.html``; with ``evaluate.update`` the updated panel under ``updated_panel/``.
    """

    pipeline: Literal["evaluate"]
    panel: Path | None = Field(
        None, description="panel folder or panel.json (the CLI's PANEL argument overrides it)"
    )
    data: DataConfig
    study: StudyConfig = Field(default_factory=StudyConfig)
    features: FeaturesConfig | None = None
    outcome: dict[str, Any]
    cohort: str | None = Field(None, description="name of the cohort in the report")
    evaluate: EvaluateSettings = Field(default_factory=EvaluateSettings)


class PowerSettings(_Strict):
    """Grid and settings of a simulation-based power study (``biomarkers.design.power``)."""

    grid: dict[str, Any] = Field(
        default_factory=dict,
        description="design key -> value or list of values (docs/design.md, 'Grid')",
    )
    replicates: int = Field(default=50, ge=1, description="replicates per grid point")
    analyses: list[
        Literal["discover", "predictive", "early_response", "mechanism", "treatment_effect"]
    ] = Field(default_factory=lambda: ["discover", "predictive", "treatment_effect"])
    top_k: int = Field(default=10, ge=1, description="ranks counted for the prognostic recall")
    fdr: float = Field(default=0.1, gt=0, lt=1)
    alpha: float = Field(default=0.05, gt=0, lt=1, description="level of the treatment test")
    fast: bool = Field(True, description="fast per-replicate analysis settings")
    scenario: Literal["default", "null", "no_benefit", "strong", "mediation"] = "default"
    study_dir: Path | None = Field(
        None, description="resumable replicate store; default <output>/<name>/power_study"
    )

    @model_validator(mode="after")
    def _grid_ok(self) -> PowerSettings:
        from biomarkers.design._grid import expand_grid

        expand_grid(self.grid)
        return self


class PowerConfig(_Job):
    """``pipeline: power``: simulate trials over a design grid, run the analyses, score them."""

    pipeline: Literal["power"]
    power: PowerSettings = Field(default_factory=PowerSettings)


JobConfig = Annotated[
    Union[  # noqa: UP007
        SimulateConfig, DiscoverConfig, MechanismConfig, ScoreConfig, EvaluateConfig, PowerConfig
    ],
    Field(discriminator="pipeline"),
]
_JOBS: dict[str, type[_Job]] = {
    "simulate": SimulateConfig,
    "discover": DiscoverConfig,
    "mechanism": MechanismConfig,
    "score": ScoreConfig,
    "evaluate": EvaluateConfig,
    "power": PowerConfig,
}


# Keys renamed to the keyword argument they feed (issue 16); the old names are refused with the new
# name for one release, then they become ordinary unknown keys.
_RENAMED: dict[type[BaseModel], dict[str, str]] = {
    ModelsConfig: {"names": "models", "n_inner": "inner_cv"},
    PredictiveConfig: {"methods": "method"},
    MechanismSettings: {"de_contrasts": "contrasts", "cell_types": "cell_type"},
    SimulateSettings: {"subjects": "n_subjects"},
}


def read_yaml(path: str | os.PathLike) -> dict:
    """Read a YAML mapping with the shared safe loader; errors name the file and line.

    Duplicate keys, nesting deeper than 50 levels and alias bombs are refused before any object
    is built (:func:`biomarkers._yaml.safe_load`).
    """
    path = Path(path)
    if not path.is_file():
        msg = f"config file not found: {path}"
        raise InputFileError(msg)
    register_input(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        msg = f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); save the config as UTF-8"
        raise ConfigError(msg) from None
    try:
        data = safe_load(text)
    except ConfigError as err:
        msg = f"{path}: {err}"
        raise ConfigError(msg) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        if "python/" in str(err):
            problem = "Python-specific YAML tags (!!python/...) are not allowed in configs"
        msg = f"{path}:{where}: invalid YAML: {problem}"
        raise ConfigError(msg) from None
    if not isinstance(data, dict):
        msg = f"{path}: a config must be a YAML mapping (key: value), got {type(data).__name__}"
        raise ConfigError(msg)
    return data


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply ``key.path=value`` overrides (values parsed as YAML scalars/lists) to a copy."""
    import copy

    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            msg = f"--set {item!r}: expected key.path=value, e.g. --set models.n_repeats=2"
            raise ConfigError(msg)
        key, raw = item.split("=", 1)
        try:
            value = safe_load(raw) if raw.strip() else None
        except ConfigError as err:
            msg = f"--set {key.strip()}: {err}"
            raise ConfigError(msg) from None
        except yaml.YAMLError:
            value = raw
        parts = key.strip().split(".")
        node = data
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                msg = f"--set {key}: {part!r} is not a section (it holds {child!r})"
                raise ConfigError(msg)
            node = child
        node[parts[-1]] = value
    return data


def _model_of(annotation: Any) -> Any:
    """The pydantic model class inside ``annotation`` (Optional[...] / dict[str, Model]), if any."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if origin in (Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if (found := _model_of(arg)) is not None:
                return found
    if origin is dict:
        inner = _model_of(typing.get_args(annotation)[1])
        return ("dict", inner) if inner is not None else None
    if origin is Annotated:
        return _model_of(typing.get_args(annotation)[0])
    return None


def _check_keys(data: Any, model: type[BaseModel], where: str) -> None:
    if not isinstance(data, dict):
        return
    fields = model.model_fields
    for key, value in data.items():
        if key not in fields:
            prefix = f"{where}." if where else ""
            if (new := _RENAMED.get(model, {}).get(key)) is not None:
                msg = f"key {prefix}{key} was renamed to {prefix}{new}; rename it in the config"
                raise ConfigError(msg)
            msg = (
                f"unknown key {prefix}{key!r}{did_you_mean(key, fields)} "
                f"(valid keys{' in ' + where if where else ''}: {', '.join(fields)})"
            )
            raise ConfigError(msg)
        sub = _model_of(fields[key].annotation)
        path = f"{where}.{key}" if where else key
        if isinstance(sub, tuple) and isinstance(value, dict):
            for name, item in value.items():
                _check_keys(item, sub[1], f"{path}.{name}")
        elif sub is not None and not isinstance(sub, tuple):
            _check_keys(value, sub, path)


def _format_validation_error(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-"))
    value = first.get("input")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{loc}: {first['msg']}{shown}{more}"


def parse_config(
    data: dict, *, base_dir: str | os.PathLike | None = None, source: str = "config"
) -> _Job:
    """Validate a config mapping and resolve its relative paths against ``base_dir``.

    Parameters
    ----------
    data
        The parsed YAML mapping.
    base_dir
        Folder relative paths are resolved against (the config file's folder).
    source
        Name used in error messages (usually the config path).

    Returns
    -------
    A validated job config (``SimulateConfig``, ``DiscoverConfig`` or ``MechanismConfig``).
    """
    pipeline = data.get("pipeline")
    if pipeline is None:
        msg = f"{source}: missing key 'pipeline' (one of: {', '.join(_JOBS)})"
        raise ConfigError(msg)
    if not isinstance(pipeline, str):
        msg = f"{source}: pipeline must be a name (one of: {', '.join(_JOBS)}), got {pipeline!r}"
        raise ConfigError(msg)
    if pipeline not in _JOBS:
        msg = f"{source}: unknown pipeline {pipeline!r}{did_you_mean(pipeline, _JOBS)} (one of: {', '.join(_JOBS)})"
        raise ConfigError(msg)
    model = _JOBS[pipeline]
    try:
        _check_keys(data, model, "")
    except ConfigError as err:
        msg = f"{source}: {err}"
        raise ConfigError(msg) from None
    try:
        cfg = model.model_validate(data)
    except ValidationError as err:
        msg = f"{source}: {_format_validation_error(err)}"
        raise ConfigError(msg) from None
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    _resolve_paths(cfg, base.resolve())
    _check_consistency(cfg, source)
    return cfg


def _check_consistency(cfg: _Job, source: str) -> None:
    """Cross-field checks: feature visits exist in the study, models exist in the registry."""
    study = getattr(cfg, "study", None)
    features = getattr(cfg, "features", None)
    if study is not None and features is not None:
        for visit in features.visits:
            if visit not in study.visits:
                msg = (
                    f"{source}: features.visits: {visit!r} is not a visit of the study"
                    f"{did_you_mean(visit, study.visits)} (study.visits: {', '.join(study.visits)})"
                )
                raise ConfigError(msg)
    if features is not None:
        _check_blocks(features, getattr(cfg, "data", None), source)
    models = getattr(cfg, "models", None)
    if models is not None:
        from biomarkers.models import available_models

        known = set(available_models()["name"])
        for name in models.models:
            if name not in known:
                msg = (
                    f"{source}: models.models: unknown model {name!r}{did_you_mean(name, known)} "
                    f"(available: {', '.join(sorted(known))}; see `biomarkers models`)"
                )
                raise ConfigError(msg)


def _check_blocks(features: FeaturesConfig, data: DataConfig | None, source: str) -> None:
    """Blocks and options exist, and every named block's assay is one the config loads."""
    from biomarkers.features import resolve_blocks

    assays = None
    if isinstance(data, DataConfig):
        assays = [*data.cytokines, *data.tables, *(["flow"] if data.flow is not None else [])]
    singlecell = data.singlecell is not None if isinstance(data, DataConfig) else None
    try:
        resolve_blocks(features.blocks, assays=assays, singlecell=singlecell)
    except ConfigError as err:
        msg = f"{source}: {err}"
        raise ConfigError(msg) from None


def _resolve_paths(model: BaseModel, base: Path) -> None:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, Path) and not value.is_absolute():
            object.__setattr__(model, name, (base / value).resolve())
        elif isinstance(value, BaseModel):
            _resolve_paths(value, base)
        elif isinstance(value, dict):
            for item in value.values():
                if isinstance(item, BaseModel):
                    _resolve_paths(item, base)


def input_paths(cfg: _Job) -> dict[str, Path]:
    """All input files named by a config, as ``{"data.clinical": path, ...}``."""
    data = getattr(cfg, "data", None)
    found: dict[str, Path] = {}
    if data is None:
        return found
    for name in ("clinical", "labs", "samples", "dosing", "singlecell", "flow"):
        if (value := getattr(data, name)) is not None:
            found[f"data.{name}"] = value
    for name, assay in data.cytokines.items():
        found[f"data.cytokines.{name}.path"] = assay.path
    for name, table in data.tables.items():
        found[f"data.tables.{name}.path"] = table.path
    mech = getattr(cfg, "mechanism", None)
    if isinstance(mech, MechanismSettings) and mech.gene_sets is not None:
        found["mechanism.gene_sets"] = mech.gene_sets
    panel = getattr(cfg, "panel", None)
    if isinstance(panel, Path):
        found["panel"] = panel
    return found


def check_inputs(cfg: _Job, *, config_dir: Path, source: str = "config") -> None:
    """Every input exists and lies inside the allowed roots; errors name the key and the path."""
    roots = allowed_roots(config_dir)
    set_input_roots(roots)  # paths read from inside files (a 10x manifest) obey the same roots
    for key, path in input_paths(cfg).items():
        check_within_roots(path, roots, what=f"{source}: {key}")
        if not path.exists():
            msg = f"{source}: {key}: input file not found: {path}"
            raise InputFileError(msg)
        register_input(path)


def load_config(
    path: str | os.PathLike, *, overrides: list[str] | None = None, check_files: bool = True
) -> _Job:
    """Read, override, validate and resolve a job config file.

    Parameters
    ----------
    path
        The YAML config.
    overrides
        ``key.path=value`` strings (the CLI's ``--set``).
    check_files
        Also check that every input file exists and lies inside the allowed roots.
    """
    path = Path(path)
    data = read_yaml(path)
    if overrides:
        data = apply_overrides(data, overrides)
    cfg = parse_config(data, base_dir=path.parent, source=str(path))
    if check_files:
        check_inputs(cfg, config_dir=path.parent, source=str(path))
    return cfg


def _type_name(annotation: Any) -> str:
    import re

    text = str(annotation).replace("<class '", "").replace("'>", "")
    return re.sub(r"\b[\w]+\.(?=\w)", "", text)  # drop module prefixes


def reference_markdown() -> str:
    """The config reference (``docs/config.md``), generated from the pydantic models."""
    lines = [
        "# Config reference",
        "",
        "Generated from `pipelines/config.py` (`python -m pipelines.config > docs/config.md`); a test",
        "keeps it in sync. Unknown keys are errors; relative paths resolve against the config file's",
        "folder; `--set key.path=value` overrides any key. Section types are listed after the jobs.",
        "",
    ]
    seen: list[type[BaseModel]] = []

    def table(model: type[BaseModel]) -> None:
        lines.extend(["| key | type | default | description |", "|---|---|---|---|"])
        for name, info in model.model_fields.items():
            default = (
                "required"
                if info.is_required()
                else ("(section)" if info.default_factory is not None else repr(info.default))
            )
            sub = _model_of(info.annotation)
            sub = sub[1] if isinstance(sub, tuple) else sub
            if sub is not None and sub not in seen:
                seen.append(sub)
            desc = info.description or ""
            if not desc and sub is not None:
                desc = (sub.__doc__ or "").strip().splitlines()[0]
            if isinstance(info.default, Path):
                default = repr(str(info.default))
            lines.append(f"| `{name}` | `{_type_name(info.annotation)}` | `{default}` | {desc} |")
        lines.append("")

    for pipeline, model in _JOBS.items():
        lines += [f"## `pipeline: {pipeline}`", "", (model.__doc__ or "").strip(), ""]
        table(model)
    lines += [
        "## Renamed keys",
        "",
        "Keys are named like the keyword argument they feed. These old names are refused with the",
        "new one in the message for one release:",
        "",
        "| section | old key | new key |",
        "|---|---|---|",
        *(
            f"| {model.__name__} | `{old}` | `{new}` |"
            for model, renames in _RENAMED.items()
            for old, new in renames.items()
        ),
        "",
    ]
    i = 0
    while i < len(seen):
        model = seen[i]
        lines += [f"## {model.__name__}", "", (model.__doc__ or "").strip(), ""]
        table(model)
        i += 1
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(reference_markdown(), end="")
