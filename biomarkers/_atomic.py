"""Atomic file writes, the input guard, input roots, formula-safe tables and file hashing.

A result file either exists complete or not at all: we write to a temporary file in the same
folder and ``os.replace`` it onto the final name (atomic on POSIX).

Inside :func:`guard_inputs` (every CLI command runs in one) each file a reader opens is recorded
with :func:`register_input`, and every writer here refuses a target that is one of them, so no
command can write over a file it read. Input paths, including paths read from inside files (a
10x manifest's ``path`` column), must lie inside :func:`allowed_roots`
(:func:`check_within_roots`). Every CSV/TSV cell a spreadsheet would run as a formula is
neutralised (:func:`neutralise_formulas`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from biomarkers.exceptions import ConfigError

__all__ = [
    "allowed_roots",
    "atomic_path",
    "check_output",
    "check_within_roots",
    "guard_inputs",
    "input_roots",
    "neutralise_cell",
    "neutralise_formulas",
    "register_input",
    "set_input_roots",
    "sha256_file",
    "write_bytes",
    "write_json",
    "write_table",
    "write_text",
]

# ------------------------------------------------------------------------------ input guard
# A stack of registries, one per active guard_inputs() block; empty: nothing is recorded.
# Each maps resolved path -> path as given; the key None holds the command's input roots.
_GUARDS: list[dict[Path | None, Any]] = []
_LOCK = threading.Lock()


@contextmanager
def guard_inputs() -> Iterator[None]:
    """Within the block, record every input read and refuse to write over any of them.

    Nested blocks share the outermost registry. The CLI runs every command inside one.
    """
    with _LOCK:
        _GUARDS.append(_GUARDS[-1] if _GUARDS else {})
    try:
        yield
    finally:
        with _LOCK:
            _GUARDS.pop()


def set_input_roots(roots: Iterable[Path]) -> None:
    """Record the command's allowed input roots (its config's) for paths read from inside files."""
    if _GUARDS:
        _GUARDS[-1][None] = list(roots)


def input_roots(base_dir: str | os.PathLike) -> list[Path]:
    """The running command's input roots, else :func:`allowed_roots` of ``base_dir``."""
    if _GUARDS and _GUARDS[-1].get(None) is not None:
        return list(_GUARDS[-1][None])
    return allowed_roots(base_dir)


def register_input(*paths: str | os.PathLike | None) -> None:
    """Record ``paths`` as inputs of the running command (a no-op outside :func:`guard_inputs`)."""
    if not _GUARDS:
        return
    with _LOCK:
        for path in paths:
            if path is not None:
                _GUARDS[-1][Path(path).resolve()] = Path(path)


def check_output(path: str | os.PathLike, *, directory: bool = False) -> None:
    """Refuse to write ``path`` when it is an input read by this command (or lies inside one).

    Parameters
    ----------
    path
        The file (or, with ``directory``, the folder) about to be written.
    directory
        ``path`` is a folder that will be replaced: also refuse one that contains an input.
    """
    if not _GUARDS:
        return
    target = Path(path).resolve()
    for resolved, given in list(_GUARDS[-1].items()):
        if resolved is None:
            continue
        inside = directory and target in resolved.parents
        if target == resolved or resolved in target.parents or inside or _same_file(target, given):
            msg = (
                f"output {path} would overwrite {given}, an input of this command; "
                "choose another --out (outputs never replace their inputs)"
            )
            raise ConfigError(msg)


def _same_file(a: Path, b: Path) -> bool:
    """Hard links and the like: two names of one file."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


# ------------------------------------------------------------------------------ input roots
def allowed_roots(base_dir: str | os.PathLike) -> list[Path]:
    """Folders input files may come from.

    ``base_dir`` (the config's folder, or the folder of a file that names other files) and its
    parent, the working directory, and the ``os.pathsep``-separated folders in the
    ``BIOMARKERS_ALLOWED_ROOTS`` environment variable.
    """
    base = Path(base_dir).resolve()
    roots = [base, base.parent, Path.cwd().resolve()]
    extra = os.environ.get("BIOMARKERS_ALLOWED_ROOTS", "")
    roots += [Path(p).resolve() for p in extra.split(os.pathsep) if p]
    return roots


def check_within_roots(path: str | os.PathLike, roots: Iterable[Path], *, what: str) -> Path:
    """Return ``path`` resolved (symlinks followed); refuse it when it lies outside ``roots``.

    ``what`` names where the path came from (``"config.yaml: data.clinical"``, ``"manifest
    m.csv, row 3: path"``) and starts the error message.
    """
    roots = list(roots)
    resolved = Path(path).resolve()
    if not any(resolved == r or r in resolved.parents for r in roots):
        msg = (
            f"{what} = {path} is outside the allowed folders "
            f"({', '.join(map(str, roots[:3]))}); move the file there or add its folder to "
            "BIOMARKERS_ALLOWED_ROOTS"
        )
        raise ConfigError(msg)
    return resolved


# ------------------------------------------------------------------------------ formulas
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# numbers (-1.5, +2e-3, -inf) and dash placeholders (---, as instruments write) run nothing
_INERT = re.compile(
    r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity|nan)|-+", re.IGNORECASE
)


def neutralise_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with a
    single quote (OWASP, "CSV injection"); numbers, numeric text such as ``-1.5`` and dash
    placeholders (``---``) are kept. A carriage return inside text becomes a line feed: the
    CSV writer quotes cells holding a line feed, while a bare CR would end the row in a
    spreadsheet and start the next cell at a line start.
    """
    if not isinstance(value, str):
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        if value.startswith("\n"):
            return "'" + value
    formula = value.startswith(_FORMULA_START)
    return "'" + value if formula and not _INERT.fullmatch(value.strip()) else value


def neutralise_formulas(df):
    """A copy of ``df`` whose text cells, column names and index labels cannot run as formulas."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in {"string", "category"}:
            values = out[col].astype(object)
            out[col] = values.map(neutralise_cell)
    out.columns = out.columns.map(neutralise_cell)
    if out.index.dtype == object:
        out.index = out.index.map(neutralise_cell)
    return out


@contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` only if the block succeeds.

    Parameters
    ----------
    path
        Final destination.
    suffix
        Suffix of the temporary file (some writers infer the format from it); defaults to the
        destination's suffix.
    """
    path = Path(path)
    check_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent,
        prefix=f".{path.name}.",
        suffix=suffix if suffix is not None else path.suffix,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp creates 0600; results are ordinary files
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        _move_into_place(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _move_into_place(tmp: Path, path: Path) -> None:
    """The one step that makes a write visible (tests make it fail to simulate a full disk)."""
    os.replace(tmp, path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (LF line endings) and return the path."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any, *, indent: int = 2) -> Path:
    """Write ``obj`` as JSON atomically; keys keep their order, NaN is written as ``null``."""
    text = json.dumps(_nan_to_none(obj), indent=indent, ensure_ascii=False, allow_nan=False)
    return write_text(path, text + "\n")


def write_table(
    path: str | os.PathLike, df, *, index: bool = False, sep: str | None = None
) -> Path:
    """Write a DataFrame atomically as CSV, TSV or Parquet (by the suffix of ``path``).

    Text cells that a spreadsheet would run as formulas are neutralised in CSV/TSV
    (:func:`neutralise_formulas`); ``sep`` overrides the delimiter the suffix implies.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=index)
        else:
            if sep is None:
                sep = "\t" if path.suffix in {".tsv", ".txt"} else ","
            safe = neutralise_formulas(df)
            safe.to_csv(tmp, sep=sep, index=index, lineterminator="\n")
    return path


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    return obj


def sha256_file(path: str | os.PathLike, *, chunk_size: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()
