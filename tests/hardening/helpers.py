"""Helpers of the hardening tests: the bad-input corpus, hashing, CLI invocation."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "bad"
BASE = CORPUS / "_base"
PANEL = CORPUS / "_panel"


def case_names() -> list[str]:
    """Every case folder of the corpus (those with a ``case.json``), sorted."""
    return sorted(p.parent.name for p in CORPUS.glob("*/case.json"))


def load_case(name: str) -> dict:
    """The case's ``case.json`` plus its folder."""
    meta = json.loads((CORPUS / name / "case.json").read_text(encoding="utf-8"))
    meta["folder"] = CORPUS / name
    return meta


def tree_hashes(*folders: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folders`` (relative path → digest)."""
    out = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


#: What each command writes to when a case does not say (``None``: nothing)
_DEFAULT_OUT = {"run": "runs", "score": "scores.csv", "simulate": "sim"}


def out_target(meta: dict, out: Path) -> Path | None:
    """The ``--out`` of a case: its ``out`` (relative to the case folder), or one under ``out``.

    ``out_kind`` prepares an unusable target: ``file`` (a file where a folder is expected), ``dir``
    (a folder where a file is expected), ``under_file`` (a path below a file), ``long_name`` (a
    name longer than the file system allows).
    """
    if "out" in meta:
        return meta["folder"] / meta["out"]
    default = _DEFAULT_OUT.get(meta["command"])
    if default is None:
        return None
    kind = meta.get("out_kind")
    if kind == "file":
        (out / "taken").write_text("a file, not a folder\n")
        return out / "taken"
    if kind == "dir":
        (out / "taken").mkdir()
        return out / "taken"
    if kind == "under_file":
        (out / "taken").write_text("a file, not a folder\n")
        return out / "taken" / default
    if kind == "long_name":
        return out / ("n" * 300 + Path(default).suffix)
    if kind is not None:
        msg = f"unknown out_kind {kind!r}"
        raise ValueError(msg)
    return out / default


def cli_args(meta: dict, out: Path) -> list[str]:
    """The CLI arguments of a case, with absolute paths and outputs under ``out``."""
    command = meta["command"]
    args = [str(meta["folder"] / a) for a in meta["args"]]
    options = list(meta.get("options", []))
    target = out_target(meta, out)
    if command in {"run", "score", "simulate"}:
        return [command, *args, "--out", str(target), "--quiet", *options]
    if command == "report":
        return ["report", *args, "--quiet", *options]
    return ["validate", *args, *options]


def invoke(args: list[str], *, env: dict[str, str] | None = None):
    """Run the CLI in this process (Typer's CliRunner), warnings silenced as in a user's shell.

    ``env`` sets environment variables for the call only.

    Returns the click ``Result`` (``exit_code``, ``stdout``, ``stderr``).
    """
    import dataclasses
    import logging

    from typer.testing import CliRunner

    from biomarkers import settings
    from pipelines.cli import app

    with warnings.catch_warnings():
        # a CLI user's process has no `filterwarnings = error`; data-quality warnings are expected
        # on bad data and are not what these tests are about
        warnings.simplefilter("ignore")
        saved = dataclasses.asdict(settings)
        try:
            return CliRunner().invoke(app, args, catch_exceptions=True, env=env)
        finally:
            # the CLI configures process-wide state for its own run; undo it for the next test
            _drop_console_handlers()
            logging.captureWarnings(False)
            for key, value in saved.items():
                setattr(settings, key, value)


def _drop_console_handlers() -> None:
    """The CLI binds a console handler to the stderr of its first call; CliRunner swaps stderr."""
    import logging

    pkg = logging.getLogger("biomarkers")
    for handler in list(pkg.handlers):
        if getattr(handler, "_biomarkers_console", False):
            pkg.removeHandler(handler)


def run_cli(
    args: list[str], *, cwd: Path, timeout: float = 180, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``python -m pipelines.cli ARGS`` in a real subprocess (``env`` added to the environment)."""
    import os

    # the editable install may predate `pipelines` in setup.cfg: make the repo importable anyway
    env = {
        **os.environ,
        **(env or {}),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True, text=True, cwd=cwd, timeout=timeout, check=False, env=env,
    )  # fmt: skip


def complete_manifests(folder: Path) -> list[Path]:
    """Manifests under ``folder`` that claim ``status: complete``."""
    found = []
    for path in folder.rglob("manifest.json"):
        try:
            status = json.loads(path.read_text(encoding="utf-8")).get("status")
        except (OSError, ValueError):
            continue
        if status == "complete":
            found.append(path)
    return found


#: keys whose values are wall-clock times or machine facts, not results
# "checksum" of panel.json hashes its content including "created"
VOLATILE = {
    "created", "checksum", "started", "finished", "timestamp", "command", "platform", "python",
}  # fmt: skip


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def result_files(run_dir: Path) -> dict[str, object]:
    """Every result of a run: bytes of tables, JSON minus timestamps (log, manifest, config out)."""
    out: dict[str, object] = {}
    for path in sorted(run_dir.rglob("*")):
        rel = str(path.relative_to(run_dir))
        if (
            not path.is_file()
            or rel in {"log.txt", "manifest.json", "config.yaml"}
            or path.suffix == ".html"
        ):
            continue
        if path.suffix == ".json":
            out[rel] = _strip(json.loads(path.read_text(encoding="utf-8")))
        elif path.suffix == ".md":
            # the panel card prints its creation time
            out[rel] = [ln for ln in path.read_text().splitlines() if "created" not in ln.lower()]
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out
