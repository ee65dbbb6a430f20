"""Pre-registration: a locked analysis plan, and the check of a run against it.

``biomarkers plan CONFIG`` writes ``analysis_plan.json`` (the locked plan: the resolved config,
the pre-specified markers with their hypothesised direction, the primary outcome and
population, software versions, the creation time and a SHA-256 of all of it) and
``analysis_plan.md`` (a reading copy). ``biomarkers run CONFIG --plan PLAN`` refuses a plan whose
SHA-256 does not match its content, compares the plan with the run's resolved config and
software, writes ``plan_deviations.csv`` into the run folder and records the plan in the
manifest; the report's "Analysis plan" section lists every deviation.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from biomarkers import _atomic
from biomarkers._logging import logger
from biomarkers._signing import canonical_bytes
from biomarkers.exceptions import ConfigError, InputFileError, one_line

if TYPE_CHECKING:
    from pydantic import BaseModel

    from pipelines.run import RunFolder

__all__ = [
    "PLAN_FILE",
    "PLAN_FORMAT",
    "Deviation",
    "blinding_entry",
    "check_plan",
    "default_plan_dir",
    "deviations_frame",
    "plan_document",
    "plan_summary",
    "read_plan",
    "record_plan",
    "write_plan",
]

PLAN_FORMAT = {"format": "biomarkers.plan", "format_version": 1}
PLAN_FILE = "analysis_plan.json"
#: The jobs a plan (and a blinded run) applies to: those that compare arms.
PLAN_JOBS = ("discover", "mechanism")
#: Top-level config keys that change where or how fast a run goes, not what it estimates.
_OPERATIONAL = frozenset({"name", "output", "backend", "export_ids", "plan"})
#: Keys the comparison leaves out: the plan key itself (a plan cannot name itself).
_NOT_COMPARED = frozenset({"plan"})
#: What the discover job analyses (recorded in the plan's population).
ANALYSIS_SET = (
    "randomised subjects with a known outcome (intention to treat) in the compared arms, "
    "restricted to those event-free and under follow-up at the landmark"
)


@dataclass(frozen=True)
class Deviation:
    """One difference between the locked plan and a run.

    ``kind`` is ``analysis`` (a setting that changes the estimates), ``input`` (a data file
    path), ``operational`` (run name, output folder, backend) or ``software`` (a version).
    ``planned``/``actual`` are JSON text; ``"(absent)"`` when the key is missing on that side.
    """

    key: str
    planned: str
    actual: str
    kind: str


def default_plan_dir(config: str | os.PathLike) -> Path:
    """The plan folder next to a config: ``<config stem>.plan/``."""
    config = Path(config)
    return config.with_name(f"{config.stem}.plan")


def _paths_in(model: BaseModel) -> list[Path]:
    """Every path value of a config model (nested sections and name → section maps included)."""
    from pydantic import BaseModel

    found: list[Path] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value.values() if isinstance(value, dict) else [value]
        for item in items:
            if isinstance(item, Path):
                found.append(item)
            elif isinstance(item, BaseModel):
                found.extend(_paths_in(item))
    return found


def _as_given(cfg: BaseModel, base: Path) -> dict[str, Any]:
    """The resolved config as JSON data, its paths relative to the config's folder."""
    relative = {str(p): os.path.relpath(p, base) for p in _paths_in(cfg) if p.is_absolute()}

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return relative.get(value, value) if isinstance(value, str) else value

    return walk(cfg.model_dump(mode="json"))


def _software() -> dict[str, str]:
    from pipelines._versions import package_versions

    return {"python": sys.version.split()[0], **package_versions()}


def _population(cfg: Any) -> dict[str, Any]:
    study = cfg.study
    landmark = getattr(cfg, "landmark", None)
    return {
        "analysis_set": ANALYSIS_SET,
        "landmark": landmark.model_dump(mode="json") if landmark is not None else None,
        "arms": study.arms,
        "treated_arm": study.treated_arm,
        "control_arm": study.control_arm,
        "treated": study.treated,
        "control": study.control,
        "comparison": study.comparison,
        "allocation": study.allocation,
        "strata": list(study.strata),
        "treatment_day": getattr(getattr(cfg, "predictive", None), "treatment_day", None),
    }


def _sha256(body: dict[str, Any]) -> str:
    return hashlib.sha256(
        canonical_bytes({k: v for k, v in body.items() if k != "sha256"})
    ).hexdigest()


def _check_job(cfg: Any, what: str) -> None:
    if getattr(cfg, "pipeline", None) not in PLAN_JOBS:
        msg = (
            f"{what} applies to the jobs that compare arms ({', '.join(PLAN_JOBS)}); this config "
            f"is 'pipeline: {getattr(cfg, 'pipeline', None)}'"
        )
        raise ConfigError(msg)


def plan_document(cfg: Any, *, config_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """The locked analysis plan of a validated config (a JSON-able dict with its ``sha256``).

    Parameters
    ----------
    cfg
        A validated ``discover`` or ``mechanism`` config (:func:`pipelines.config.load_config`).
    config_dir
        The config file's folder: paths are recorded relative to it, as given in the config
        (default: the working directory).

    Returns
    -------
    ``{"format", "format_version", "created", "config", "prespecified", "outcome",
    "population", "software", "sha256"}``; ``sha256`` hashes the canonical JSON (sorted keys,
    no spaces, UTF-8) of everything else.
    """
    _check_job(cfg, "an analysis plan")
    base = Path(config_dir if config_dir is not None else Path.cwd()).resolve()
    predictive = getattr(cfg, "predictive", None)
    doc = {
        **PLAN_FORMAT,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "config": _as_given(cfg, base),
        "prespecified": dict(predictive.prespecified) if predictive is not None else {},
        "outcome": cfg.outcome,
        "population": _population(cfg),
        "software": _software(),
    }
    doc["sha256"] = _sha256(doc)
    return doc


def _markdown(doc: dict[str, Any]) -> str:
    """The human-readable copy of a plan (same content as the JSON)."""
    pre = doc["prespecified"]
    lines = [
        f"# Analysis plan: {doc['config'].get('name')}",
        "",
        f"- SHA-256: `{doc['sha256']}`",
        f"- created: {doc['created']}",
        f"- job: {doc['config'].get('pipeline')}",
        "",
        "The locked plan is `analysis_plan.json` beside this file; this page is a reading copy. "
        "A run checks the JSON file (`biomarkers run CONFIG --plan analysis_plan.json`).",
        "",
        "## Pre-specified effect modifiers",
        "",
    ]
    if pre:
        lines += ["| marker | hypothesis |", "|---|---|"]
        lines += [
            f"| `{m}` | benefit of treatment larger when the marker is {d} |"
            for m, d in pre.items()
        ]
    else:
        lines.append("None pre-specified: every predictive finding is exploratory.")
    lines += ["", "## Primary outcome", "", "```yaml", _yaml(doc["outcome"]), "```", ""]
    lines += ["## Population", "", "```yaml", _yaml(doc["population"]), "```", ""]
    lines += ["## Software", "", "| package | version |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in doc["software"].items()]
    lines += ["", "## Resolved config", "", "```yaml", _yaml(doc["config"]), "```", ""]
    return "\n".join(lines)


def _yaml(obj: Any) -> str:
    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True).rstrip()


def write_plan(
    cfg: Any,
    out: str | os.PathLike | None = None,
    *,
    config_path: str | os.PathLike | None = None,
) -> Path:
    """Write the locked analysis plan of a config: ``analysis_plan.json`` and ``.md``.

    Parameters
    ----------
    cfg
        A validated ``discover`` or ``mechanism`` config.
    out
        The plan folder (created); default ``<config stem>.plan/`` next to ``config_path``.
    config_path
        The config file (paths in the plan are recorded relative to its folder).

    Returns
    -------
    Path of ``analysis_plan.json`` (written last, atomically, so a folder with it is whole).

    Raises
    ------
    ConfigError
        When the folder already holds a plan (a locked plan is never overwritten), or when
        neither ``out`` nor ``config_path`` is given.
    """
    if out is None:
        if config_path is None:
            msg = "write_plan: give the plan folder (out=) or the config file (config_path=)"
            raise ConfigError(msg)
        out = default_plan_dir(config_path)
    out = Path(out)
    target = out / PLAN_FILE
    if target.exists():
        msg = (
            f"{target} already exists: a locked plan is never overwritten; choose another "
            "folder (--out) or remove the old plan deliberately"
        )
        raise ConfigError(msg)
    if out.exists() and not out.is_dir():
        msg = f"{out}: it exists and is not a folder; choose another plan folder (--out)"
        raise ConfigError(msg)
    _atomic.check_output(out, directory=True)  # never where the command read
    base = Path(config_path).parent if config_path is not None else None
    doc = plan_document(cfg, config_dir=base)
    out.mkdir(parents=True, exist_ok=True)
    _atomic.write_text(out / "analysis_plan.md", _markdown(doc))
    _atomic.write_json(target, doc)
    logger.info("analysis plan %s (SHA-256 %s)", target, doc["sha256"][:16])
    return target


def read_plan(path: str | os.PathLike, *, cfg: Any = None) -> dict[str, Any]:
    """Read a locked plan (its file or folder), refusing one changed after it was written.

    With ``cfg`` (the run's config), a job a plan cannot apply to is refused first.

    Raises
    ------
    InputFileError
        No plan at ``path``.
    ConfigError
        Not a plan, or its SHA-256 does not match its content (the plan was edited).
    """
    if cfg is not None:
        _check_job(cfg, "a plan check")
    path = Path(path)
    file = path / PLAN_FILE if path.is_dir() else path
    if not file.is_file():
        msg = (
            f"analysis plan not found: {path}; give the analysis_plan.json (or its folder) that "
            "`biomarkers plan CONFIG` wrote"
        )
        raise InputFileError(msg)
    _atomic.register_input(file)
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        msg = f"{file}: not a readable analysis plan ({one_line(err, 80)}); lock a new one with `biomarkers plan CONFIG`"
        raise ConfigError(msg) from None
    if not isinstance(doc, dict) or doc.get("format") != PLAN_FORMAT["format"]:
        msg = f"{file}: not a biomarkers analysis plan (format {doc.get('format') if isinstance(doc, dict) else None!r}); give the analysis_plan.json of `biomarkers plan`"
        raise ConfigError(msg)
    if doc.get("format_version") != PLAN_FORMAT["format_version"]:
        msg = f"{file}: analysis plan format_version {doc.get('format_version')!r} is not supported (this version reads {PLAN_FORMAT['format_version']})"
        raise ConfigError(msg)
    try:
        actual = _sha256(doc)
    except (TypeError, ValueError):
        actual = "unhashable"
    if actual != doc.get("sha256"):
        msg = (
            f"{file}: SHA-256 mismatch: the plan was changed after it was locked (recorded "
            f"{str(doc.get('sha256'))[:16]}…, content {actual[:16]}…); restore the locked plan or "
            "lock a new one with `biomarkers plan CONFIG`"
        )
        raise ConfigError(msg)
    return doc


def _flat(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``{"a.b.c": leaf}``; lists are leaves (compared whole).

    An empty mapping has no leaf, so ``{}`` → ``{marker: higher}`` is one deviation (the new
    key), not two.
    """
    if not isinstance(obj, dict):
        return {prefix: obj}
    out: dict[str, Any] = {}
    for key, value in obj.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _kind(key: str) -> str:
    top = key.split(".", 1)[0]
    if top == "data":
        return "input"
    return "operational" if top in _OPERATIONAL else "analysis"


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _differences(planned: dict, actual: dict, *, kind=None, prefix: str = "") -> list[Deviation]:
    absent = object()
    a, b = _flat(planned), _flat(actual)
    found = []
    for key in dict.fromkeys([*a, *b]):
        if key.split(".", 1)[0] in _NOT_COMPARED:
            continue
        x, y = a.get(key, absent), b.get(key, absent)
        if x == y:
            continue
        found.append(
            Deviation(
                key=prefix + key,
                planned="(absent)" if x is absent else _text(x),
                actual="(absent)" if y is absent else _text(y),
                kind=kind or _kind(key),
            )
        )
    return found


def check_plan(
    plan: dict[str, Any] | str | os.PathLike,
    cfg: Any,
    *,
    config_dir: str | os.PathLike | None = None,
) -> list[Deviation]:
    """Every difference between a locked plan and a run's resolved config and software.

    Parameters
    ----------
    plan
        The plan (:func:`read_plan`'s dict), or its path (read and verified).
    cfg
        The run's validated config.
    config_dir
        The run config's folder (paths compared as given relative to it).

    Returns
    -------
    list of Deviation
        Config keys first (in the order of the config), then software versions; empty when
        the run follows the plan.
    """
    doc = read_plan(plan) if not isinstance(plan, dict) else plan
    _check_job(cfg, "a plan check")
    base = Path(config_dir if config_dir is not None else Path.cwd()).resolve()
    found = _differences(doc.get("config") or {}, _as_given(cfg, base))
    found += _differences(
        doc.get("software") or {}, _software(), kind="software", prefix="software."
    )
    return found


def deviations_frame(deviations: list[Deviation]) -> pd.DataFrame:
    """``key, planned, actual, kind``: one row per deviation (no row: no deviation)."""
    return pd.DataFrame(
        [asdict(d) for d in deviations], columns=["key", "planned", "actual", "kind"]
    )


def record_plan(run: RunFolder, plan: dict[str, Any], cfg: Any, *, config_dir: Path | None) -> None:
    """Check a run against its plan: ``plan_deviations.csv`` and the manifest's ``plan``."""
    found = check_plan(plan, cfg, config_dir=config_dir)
    run.write_table("plan_deviations.csv", deviations_frame(found))
    blinded = bool(run.manifest.get("blinded"))
    run.update_manifest(
        plan={
            "sha256": plan["sha256"],
            "created": plan.get("created"),
            "n_deviations": len(found),
            "checked_on": "blinded data (dry run)" if blinded else "unblinded data",
        }
    )
    if found:
        logger.info(
            "analysis plan %s…: %d deviation(s) (plan_deviations.csv): %s",
            plan["sha256"][:16], len(found), ", ".join(d.key for d in found[:5]),
        )  # fmt: skip
    else:
        logger.info("analysis plan %s…: no deviation", plan["sha256"][:16])


def blinding_entry(cfg: Any, *, seed: int | None = None) -> dict[str, Any]:
    """The manifest's ``blinding`` of a blinded run: the dummy randomisation's seed and strata.

    ``seed`` defaults to the config's seed. The entry says that the arms are a dummy, so no
    reader takes the run's arms (or its seed) for the trial's allocation.
    """
    _check_job(cfg, "--blinded")
    seed = cfg.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        msg = f"--blind-seed {seed!r}: a seed must be an integer >= 0, e.g. --blind-seed 1"
        raise ConfigError(msg)
    return {
        "seed": seed,
        "strata": list(cfg.study.strata),
        "arms": (
            "dummy randomisation (arm labels permuted within strata, same arm sizes); not the "
            "trial's allocation: no result of this run is a treatment effect"
        ),
    }


def plan_summary(cfg: Any, *, config_dir: str | os.PathLike) -> list[str]:
    """What ``biomarkers validate`` says of a config's ``plan:`` (nothing without one).

    Reads and verifies the plan (a tampered one raises, as ``run`` would) and counts the
    deviations the run would list, naming the first few keys.
    """
    plan = getattr(cfg, "plan", None)
    if plan is None:
        return []
    locked = read_plan(plan, cfg=cfg)
    deviations = check_plan(locked, cfg, config_dir=config_dir)
    if not deviations:
        return [f"plan: {plan} (SHA-256 verified), no deviation"]
    kinds = ", ".join(f"{d.key} ({d.kind})" for d in deviations[:5])
    more = f" and {len(deviations) - 5} more" if len(deviations) > 5 else ""
    return [
        f"plan: {plan} (SHA-256 verified), {len(deviations)} deviation(s) the run will list: "
        f"{kinds}{more}"
    ]
