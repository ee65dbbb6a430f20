"""Reproducible run folders: ``runs/<name>/<UTC timestamp>/`` with config, manifest and log.

The manifest says ``status: running`` from the first moment and ``complete`` only after every result
file has been written (each atomically), so a killed run never looks complete.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import platform
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from biomarkers import _atomic
from biomarkers._logging import logger
from biomarkers.exceptions import BiomarkersError, ConfigError, one_line
from pipelines._versions import package_versions

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RUN_FORMAT",
    "RunFolder",
    "RunResult",
    "capture_warnings",
    "read_manifest",
    "run_job",
    "summarise_warnings",
    "user_os_error",
    "warning_summary",
]

RUN_FORMAT = {"format": "biomarkers.run", "format_version": 1}


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent.parent
    if not (here / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


@dataclass
class RunResult:
    """What a job returns: its folder, status and the files it wrote (relative names)."""

    run_dir: Path
    status: str
    outputs: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)


class RunFolder:
    """A run folder being written. Use :meth:`create`, then ``write_*``, then :meth:`complete`."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        self.outputs: list[str] = []
        self._handler: logging.Handler | None = None
        self._warned: set[tuple[str, str]] = set()

    @classmethod
    def create(
        cls,
        output: Path,
        *,
        name: str,
        config: dict[str, Any],
        inputs: dict[str, Path],
        seed: int,
        command: list[str] | None = None,
        blinding: dict[str, Any] | None = None,
    ) -> RunFolder:
        """Create ``output/name/<UTC timestamp>/`` and write ``config.yaml`` and the manifest.

        A blinded run (``blinding``: its seed and strata) goes to ``<UTC timestamp>-blinded/``
        and its manifest says ``"blinded": true`` (see docs/plan.md).
        """
        _atomic.check_output(Path(output) / name)  # never inside a file the run read
        path = _new_run_dir(Path(output) / name, suffix="-blinded" if blinding else "")
        config_text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
        _atomic.write_text(path / "config.yaml", config_text)
        manifest = {
            **RUN_FORMAT,
            "name": name,
            "status": "running",
            "started": _utc_now(),
            "finished": None,
            "seed": seed,
            "command": command if command is not None else sys.argv,
            "config_sha256": _sha256_text(config_text),
            "inputs": {
                key: {"path": str(p), "sha256": _atomic.sha256_file(p), "size": p.stat().st_size}
                for key, p in inputs.items()
                if p.is_file()
            },
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "packages": package_versions(),
            "git_commit": _git_commit(),
            "outputs": [],
            "blinded": blinding is not None,
        }
        if blinding is not None:
            manifest["blinding"] = dict(blinding)
        folder = cls(path, manifest)
        folder._write_manifest()
        folder._attach_log()
        return folder

    @property
    def blind_seed(self) -> int | None:
        """The dummy randomisation's seed of a blinded run (``None``: the real arms)."""
        return (self.manifest.get("blinding") or {}).get("seed")

    def update_manifest(self, **entries: Any) -> None:
        """Add entries to the manifest and write it now (a report written next reads them)."""
        self.manifest.update(entries)
        self._write_manifest()

    # ---- writing results -------------------------------------------------------------------
    def resolve(self, relative: str | os.PathLike) -> Path:
        """The path of a result file, refusing names that would escape the run folder."""
        target = (self.path / relative).resolve()
        if self.path.resolve() not in target.parents:
            msg = f"output path {str(relative)!r} would escape the run folder {self.path}"
            raise ConfigError(msg)
        return target

    def _record(self, relative: str | os.PathLike) -> Path:
        target = self.resolve(relative)  # refuse before recording
        rel = str(Path(relative))
        if rel not in self.outputs:
            self.outputs.append(rel)
        return target

    def write_table(self, relative: str, df: pd.DataFrame, *, index: bool = False) -> Path:
        """Write a DataFrame (CSV/TSV/Parquet by suffix) atomically into the run folder."""
        return _atomic.write_table(self._record(relative), df, index=index)

    def write_json(self, relative: str, obj: Any) -> Path:
        """Write JSON atomically into the run folder."""
        return _atomic.write_json(self._record(relative), obj)

    def write_text(self, relative: str, text: str) -> Path:
        """Write text atomically into the run folder."""
        return _atomic.write_text(self._record(relative), text)

    def add_output(self, relative: str) -> Path:
        """Register a file written by a library call (which already wrote it atomically)."""
        return self._record(relative)

    # ---- status ----------------------------------------------------------------------------
    def complete(self, summary: dict[str, Any] | None = None) -> RunResult:
        """Mark the run complete (last write of the run)."""
        self.manifest.update(
            status="complete", finished=_utc_now(), outputs=list(self.outputs),
            summary=summary or {},
        )  # fmt: skip
        self._write_manifest()
        self._final_report_status()
        self._detach_log()
        return RunResult(
            self.path, "complete", list(self.outputs), summary or {},
            list(self.manifest.get("warnings", [])),
        )  # fmt: skip

    def log_warning(self, category: str, message: str) -> None:
        """Write a warning to ``log.txt`` when it happens, once per distinct message."""
        if (category, message) not in self._warned:
            self._warned.add((category, message))
            self._log_to_file(logging.WARNING, f"{category}: {message}")

    def record_warnings(self, caught: list[warnings.WarningMessage]) -> list[dict[str, Any]]:
        """Store the counts of the warnings raised during the job in the manifest.

        Returns
        -------
        ``[{"category", "count", "first"}]``, one entry per warning class in order of first
        appearance (``count`` distinct warnings, ``first`` the first message), also stored as
        the manifest's ``warnings``.
        """
        self.manifest["warnings"] = summarise_warnings(caught)
        return self.manifest["warnings"]

    def fail(self, error: BaseException) -> None:
        """Mark the run failed (``interrupted`` after Ctrl-C); the error goes to ``log.txt`` only.

        The console already gets the CLI's one-line message; printing it twice would be noise.
        A full disk may refuse the manifest too: the run then stays ``running``, never complete.
        """
        interrupted = isinstance(error, KeyboardInterrupt)
        expected = interrupted or isinstance(error, BiomarkersError) or user_os_error(error)
        self._log_to_file(logging.ERROR, f"run failed: {type(error).__name__}: {error}")
        if not expected:
            self._log_to_file(logging.ERROR, "".join(traceback.format_exception(error)))
        self.manifest.update(
            status="interrupted" if interrupted else "failed", finished=_utc_now(),
            outputs=list(self.outputs), error=f"{type(error).__name__}: {error}",
        )  # fmt: skip
        try:
            self._write_manifest()
        except OSError as err:
            logger.debug("could not mark the run failed: %s", err)
        self._final_report_status()
        self._detach_log()

    def _final_report_status(self) -> None:
        """A report written during the job shows the final status, not ``running``."""
        if (report := self.path / "report.html").is_file():
            from biomarkers.report import update_status

            try:
                update_status(report, self.manifest)
            except (OSError, UnicodeDecodeError) as err:  # must not sink the run's last write
                logger.warning("report.html: final status not set (%s)", err)

    def _log_to_file(self, level: int, message: str) -> None:
        if self._handler is not None:
            self._handler.handle(
                logging.LogRecord("biomarkers", level, __file__, 0, message, None, None)
            )

    def _write_manifest(self) -> None:
        _atomic.write_json(self.path / "manifest.json", self.manifest)

    def _attach_log(self) -> None:
        handler = logging.FileHandler(self.path / "log.txt", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.DEBUG)
        pkg = logging.getLogger("biomarkers")
        pkg.addHandler(handler)
        if pkg.level == logging.NOTSET or pkg.level > logging.INFO:
            pkg.setLevel(logging.INFO)
        logging.getLogger("pipelines").addHandler(handler)
        self._handler = handler

    def _detach_log(self) -> None:
        if self._handler is not None:
            logging.getLogger("biomarkers").removeHandler(self._handler)
            logging.getLogger("pipelines").removeHandler(self._handler)
            self._handler.close()
            self._handler = None


def _new_run_dir(base: Path, *, suffix: str = "") -> Path:
    """Create ``base/<UTC timestamp>[-n]/`` exclusively: two runs never share a folder.

    ``mkdir`` without ``exist_ok`` is atomic, so a concurrent run that took the name first makes
    this one move on to the next suffix (no check-then-create race).
    """
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(10_000):
        path = base / ((stamp if n == 0 else f"{stamp}-{n}") + suffix)
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    msg = f"{base}: 10,000 runs started in the same second; choose another output folder"
    raise ConfigError(msg)


#: What the user can do about an OS error raised while writing outputs, by errno name
_OS_FIXES = {
    "EACCES": "no permission to write there; choose a folder you can write to (--out) or fix its permissions",
    "EPERM": "no permission to write there; choose a folder you can write to (--out) or fix its permissions",
    "EROFS": "the file system is read-only; choose an output folder on a writable disk (--out)",
    "ENOSPC": "the disk is full; free some space or choose an output folder on another disk (--out)",
    "EDQUOT": "the disk quota is exhausted; free some space or choose another output folder (--out)",
    "ENAMETOOLONG": "a file name is too long; use a shorter output folder or run name",
    "ENOTDIR": "part of the path is a file, not a folder; choose another output folder (--out)",
    "EISDIR": "it is a folder; give a file name (e.g. --out scores.csv)",
    "EEXIST": "it exists and is not a folder; choose another output folder (--out)",
}


def user_os_error(err: BaseException) -> ConfigError | None:
    """The one-line user error for an OS error the user can fix (permissions, full disk, ...).

    Returns ``None`` for anything else (a bug). The one place that maps ``errno`` values of
    failed writes (``EACCES``, ``EROFS``, ``ENOSPC``, ``ENAMETOOLONG``, ``ENOTDIR``, ``EISDIR``,
    ``EEXIST``) to a message naming the path and the fix.
    """
    import errno

    if not isinstance(err, OSError) or err.errno is None:
        return None
    fix = _OS_FIXES.get(errno.errorcode.get(err.errno, ""))
    if fix is None:
        return None
    path = err.filename2 if err.filename2 is not None else err.filename
    where = f"cannot write {one_line(path)}" if path is not None else "cannot write the outputs"
    return ConfigError(f"{where}: {err.strerror or err}; {fix}")


def _sha256_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_manifest(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Read a run's manifest, checking its format name and version."""
    path = Path(run_dir) / "manifest.json"
    if not path.is_file():
        msg = f"{run_dir}: no manifest.json; is this a run folder (runs/<name>/<timestamp>/)?"
        raise ConfigError(msg)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        msg = f"{path}: damaged run manifest ({one_line(err, 80)}); rerun the job to rebuild the run folder"
        raise ConfigError(msg) from None
    if not isinstance(manifest, dict):
        msg = f"{path}: damaged run manifest (a JSON {type(manifest).__name__}, not an object); rerun the job"
        raise ConfigError(msg)
    if manifest.get("format") != RUN_FORMAT["format"]:
        msg = f"{path}: not a biomarkers run manifest (format={manifest.get('format')!r})"
        raise ConfigError(msg)
    if manifest.get("format_version") != RUN_FORMAT["format_version"]:
        msg = (
            f"{path}: run manifest format_version {manifest.get('format_version')!r} is not "
            f"supported (this version reads {RUN_FORMAT['format_version']})"
        )
        raise ConfigError(msg)
    return manifest


@contextmanager
def capture_warnings(
    on_warning: Callable[[str, str], None] | None = None,
) -> Iterator[list[warnings.WarningMessage]]:
    """Record the warnings raised inside the block, each distinct one once per location.

    Deprecation, import and resource warnings of other packages stay ignored, as in Python's
    default filters; those of ``biomarkers`` and ``pipelines`` are recorded. ``on_warning``
    is called with the category name and the message as each warning is raised.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
            warnings.filterwarnings("ignore", category=category)
        warnings.filterwarnings("ignore", category=ResourceWarning)
        warnings.filterwarnings(
            "default", category=DeprecationWarning, module=r"(biomarkers|pipelines)(\.|$)"
        )
        if on_warning is not None:
            record = warnings.showwarning  # catch_warnings' recorder

            def show(message, category, filename, lineno, file=None, line=None):
                record(message, category, filename, lineno, file, line)
                on_warning(category.__name__, _text(message))

            warnings.showwarning = show  # restored when catch_warnings exits
        yield caught


def _text(message: Warning | str) -> str:
    return " ".join(str(message).split())


def _distinct(caught: list[warnings.WarningMessage]) -> list[tuple[str, str]]:
    """``(category name, message)`` of each distinct warning, in order of first appearance."""
    found = ((w.category.__name__, " ".join(str(w.message).split())) for w in caught)
    return list(dict.fromkeys(found))


def summarise_warnings(caught: list[warnings.WarningMessage]) -> list[dict[str, Any]]:
    """``[{"category", "count", "first"}]``: distinct warnings per class, and the first message."""
    by_kind: dict[str, dict[str, Any]] = {}
    for kind, text in _distinct(caught):
        entry = by_kind.setdefault(kind, {"category": kind, "count": 0, "first": text})
        entry["count"] += 1
    return list(by_kind.values())


def warning_summary(entries: list[dict[str, Any]], *, during: str = "the run") -> list[str]:
    """Console lines summarising a run's warnings: the count by kind and the first message."""
    if not entries:
        return []
    total = sum(e["count"] for e in entries)
    where = " (all in log.txt)" if during == "the run" else ""
    lines = [f"{total} warning{'s' if total != 1 else ''} during {during}{where}:"]
    lines += [f"  {e['category']} ×{e['count']}: {e['first']}" for e in entries]
    return lines


def run_job(
    cfg: Any,
    *,
    config_dir: Path | None = None,
    out: Path | None = None,
    command: list[str] | None = None,
    plan: Path | None = None,
    blinded: bool = False,
    blind_seed: int | None = None,
) -> RunResult:
    """Run the job a validated config names, in a new run folder.

    Parameters
    ----------
    cfg
        A validated job config (:func:`pipelines.config.load_config`).
    config_dir
        The config file's folder (recorded; used for the allowed input roots).
    out
        Output folder overriding ``cfg.output``.
    command
        Command line recorded in the manifest.
    plan
        A locked analysis plan to check the run against (default: the config's ``plan:``);
        a plan whose SHA-256 does not match is refused before the run starts.
    blinded
        Run on a dummy randomisation of the arms (docs/plan.md); ``blind_seed`` (default: the
        config's seed) seeds it.
    """
    from pipelines.config import input_paths
    from pipelines.plan import blinding_entry, read_plan, record_plan

    jobs = {
        "simulate": "pipelines.simulate:run_simulate",
        "discover": "pipelines.discover:run_discover",
        "mechanism": "pipelines.mechanism:run_mechanism",
        "score": "pipelines.score:run_score",
        "evaluate": "pipelines.evaluate:run_evaluate",
        "power": "pipelines.power:run_power",
    }
    module_name, func_name = jobs[cfg.pipeline].split(":")
    job = getattr(importlib.import_module(module_name), func_name)
    plan = plan if plan is not None else getattr(cfg, "plan", None)
    locked = read_plan(plan, cfg=cfg) if plan is not None else None  # a tampered one starts no run
    blinding = blinding_entry(cfg, seed=blind_seed) if blinded else None
    folder = RunFolder.create(
        Path(out) if out is not None else cfg.output,
        name=cfg.name,
        config=cfg.model_dump(mode="json"),
        inputs=input_paths(cfg),
        seed=cfg.seed,
        command=command,
        blinding=blinding,
    )
    start = time.perf_counter()
    logger.info("run %s (%s) in %s", cfg.name, cfg.pipeline, folder.path)
    with capture_warnings(folder.log_warning) as caught:
        try:
            if locked is not None:
                record_plan(folder, locked, cfg, config_dir=config_dir)
            summary = job(cfg, folder)
        except BaseException as err:
            folder.record_warnings(caught)
            folder.fail(err)
            raise
    folder.record_warnings(caught)
    logger.info("finished in %.1f s", time.perf_counter() - start)
    return folder.complete(summary)
