"""Reading and validating ``panel.json``: plain JSON only, checked against the shipped schema.

Refused on read: duplicate keys at any depth (a reader could see either value), numbers that are
not finite (``NaN``, ``Infinity``, ``1e400``) anywhere, a feature scale or divisor of 0, a
checksum mismatch, and, when ``BIOMARKERS_PANEL_KEY`` is set, a missing or wrong signature
(:mod:`biomarkers._signing`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from biomarkers._atomic import register_input
from biomarkers._signing import canonical_bytes, verify_document
from biomarkers.exceptions import InputFileError, PanelFormatError
from biomarkers.exceptions import one_line as _one_line  # the one truncation helper
from biomarkers.panel._migrate import as_written, migrate

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "READ_VERSIONS",
    "checksum",
    "load_document",
    "schema",
    "validate_document",
]

FORMAT = "biomarkers.panel"
#: Version written by this biomarkers (2: optional stacked models, see docs/panel.md).
FORMAT_VERSION = 2
#: Versions read (older ones are migrated in memory by :mod:`biomarkers.panel._migrate`).
READ_VERSIONS = (1, 2)
_MAX_BYTES = 256 * 1024 * 1024


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema of ``panel.json`` shipped with the package."""
    text = resources.files("biomarkers.panel").joinpath("panel.schema.json").read_text("utf-8")
    return json.loads(text)


def checksum(doc: dict[str, Any]) -> str:
    """``sha256:`` of the canonical JSON of ``doc`` without its ``checksum`` and ``signature``."""
    _check_finite(doc, source="panel")
    return "sha256:" + hashlib.sha256(canonical_bytes(as_written(doc))).hexdigest()


def validate_document(doc: Any, *, source: str) -> None:
    """Raise :class:`PanelFormatError` unless ``doc`` is a valid panel of a known version."""
    if not isinstance(doc, dict):
        msg = f"{source}: a panel file holds a JSON object; found a JSON {type(doc).__name__}"
        raise PanelFormatError(msg)
    if doc.get("format") != FORMAT:
        msg = (
            f"{source}: not a biomarkers panel (format={doc.get('format')!r}, expected {FORMAT!r}); "
            "export panels with BiomarkerPanel.write"
        )
        raise PanelFormatError(msg)
    version = doc.get("format_version")
    if isinstance(version, bool) or version not in READ_VERSIONS:
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            hint = (
                f"it is newer than this biomarkers (reads versions up to {FORMAT_VERSION}); upgrade"
            )
        else:
            hint = f"this biomarkers reads format_version {', '.join(map(str, READ_VERSIONS))}"
        msg = f"{source}: unknown panel format_version {version!r}; {hint}"
        raise PanelFormatError(msg)
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        msg = (
            f"{source}: invalid panel at {error.json_path}: {_one_line(error.message)}; "
            "the file does not follow the biomarkers.panel schema (re-export it)"
        )
        raise PanelFormatError(msg)
    _check_finite(doc, source=source)
    _check_scales(doc, source=source)
    _check_consistency(doc, source=source)
    _check_version_content(doc, source=source)
    if doc["model"]["type"] == "stacked":
        check_stacked(doc, source=source)


def _walk(obj: Any, where: str = "$") -> Iterator[tuple[str, Any]]:
    """Every leaf value of a JSON document with its JSON path."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _walk(value, f"{where}.{key}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _walk(value, f"{where}[{i}]")
    else:
        yield where, obj


def _check_finite(doc: Any, *, source: str) -> None:
    """No NaN or infinity anywhere in the document."""
    for where, value in _walk(doc):
        if isinstance(value, float) and not math.isfinite(value):
            msg = (
                f"{source}: invalid panel at {where}: {value} is not a finite number; re-export it"
            )
            raise PanelFormatError(msg)


def _check_scales(doc: dict[str, Any], *, source: str) -> None:
    """No feature scale or ``divide`` step of 0 (scores would be ±inf)."""
    for i, feature in enumerate(doc["features"]):
        if feature.get("scale") == 0:
            msg = (
                f"{source}: invalid panel at $.features[{i}].scale: scale 0 for "
                f"{feature['name']!r} would divide by zero; re-export the panel"
            )
            raise PanelFormatError(msg)
    for k, term in enumerate(doc["model"].get("inputs", [])):
        for j, op in enumerate(term["ops"]):
            if op["op"] == "divide" and op.get("value") == 0:
                msg = (
                    f"{source}: invalid panel at $.model.inputs[{k}].ops[{j}]: divide by 0 "
                    "(a scale of 0); re-export the panel"
                )
                raise PanelFormatError(msg)


def _check_consistency(doc: dict[str, Any], *, source: str) -> None:
    names = [f["name"] for f in doc["features"]]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        msg = f"{source}: invalid panel at $.features: duplicate feature names {dup[:5]}"
        raise PanelFormatError(msg)
    model = doc["model"]
    known = set(names)
    for k, term in enumerate(model["inputs"]):
        if term["feature"] is not None and term["feature"] not in known:
            msg = (
                f"{source}: invalid panel at $.model.inputs[{k}].feature: {term['feature']!r} is "
                "not one of $.features"
            )
            raise PanelFormatError(msg)
    n = len(model["inputs"])
    coef_lists = []
    if model["type"] == "linear":
        coef_lists = [("$.model.coefficients", model["coefficients"])]
    elif model["type"] == "calibrated_linear":
        coef_lists = [
            (f"$.model.members[{i}].coefficients", m["coefficients"])
            for i, m in enumerate(model["members"])
        ]
    for path, coefs in coef_lists:
        if len(coefs) != n:
            msg = (
                f"{source}: invalid panel at {path}: {len(coefs)} coefficients for {n} model inputs"
            )
            raise PanelFormatError(msg)


def _check_version_content(doc: dict[str, Any], *, source: str) -> None:
    """What version 1 cannot hold: a stacked model, or a migration record."""
    if doc["format_version"] != 1:
        return
    if doc["model"]["type"] == "stacked":
        msg = (
            f"{source}: invalid panel at $.model.type: a stacked model needs format_version 2 "
            "(the file says 1); re-export the panel"
        )
        raise PanelFormatError(msg)
    if "migrated_from" in doc:
        msg = (
            f"{source}: invalid panel at $.migrated_from: a format_version 1 file is not "
            "migrated; re-export the panel"
        )
        raise PanelFormatError(msg)


def _refuse_constant(name: str) -> None:
    msg = f"non-standard JSON constant {name}"
    raise ValueError(msg)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        msg = f"number {text[:40]} is out of range (not a finite double)"
        raise ValueError(msg)
    return value


class _DuplicateKeyError(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            msg = f"duplicate key {key[:80]!r}"
            raise _DuplicateKeyError(msg)
        seen[key] = value
    return seen


def load_document(path: str | Path, *, verify_checksum: bool = True) -> dict[str, Any]:
    """Read and validate ``panel.json`` (or a folder holding it) without executing anything.

    The checksum and signature are verified on the document as written; a document of an older
    format version is then migrated to the current one (:func:`~biomarkers.panel._migrate.migrate`).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "panel.json"
    if not path.is_file():
        msg = f"panel file {str(path)!r} not found; pass the folder written by panel.write() or its panel.json"
        raise InputFileError(msg)
    register_input(path)
    size = path.stat().st_size
    if size == 0:
        msg = f"{path}: the panel file is empty; re-export it with BiomarkerPanel.write"
        raise PanelFormatError(msg)
    if size > _MAX_BYTES:
        msg = f"{path}: {size} bytes is too large for a panel file (limit {_MAX_BYTES}); is it a panel?"
        raise PanelFormatError(msg)
    data = path.read_bytes()
    pickle_like = data[:1] == b"\x80" or data[:2] in (b"(d", b"(l", b"}q", b"]q")
    if pickle_like or b"\x00" in data:
        kind = "a Python pickle" if pickle_like else "binary data"
        msg = (
            f"{path}: not a JSON panel file (looks like {kind}); panels are plain JSON and are "
            "never unpickled; export with BiomarkerPanel.write"
        )
        raise PanelFormatError(msg)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        msg = f"{path}: not a JSON panel file (not UTF-8 text); panels are plain JSON"
        raise PanelFormatError(msg) from None
    try:
        doc = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except _DuplicateKeyError as err:
        msg = (
            f"{path}: {err} in the panel JSON (readers disagree on which value counts), so the "
            "file is refused; re-export the panel"
        )
        raise PanelFormatError(msg) from None
    except (ValueError, RecursionError) as err:  # JSONDecodeError is a ValueError
        msg = f"{path}: not valid JSON ({_one_line(err)}); the panel file is damaged, re-export it"
        raise PanelFormatError(msg) from None
    validate_document(doc, source=str(path))
    if verify_checksum and checksum(doc) != doc["checksum"]:
        msg = (
            f"{path}: checksum mismatch: the panel was modified after export; re-export it, or read "
            "with verify_checksum=False if the edit was intended"
        )
        raise PanelFormatError(msg)
    verify_document(doc, source=str(path))
    return migrate(doc)  # verified as written; an older version is migrated in memory


def check_stacked(doc: dict[str, Any], *, source: str) -> None:
    """Blocks partition the features, weights and patterns name known blocks."""
    st = doc["model"]["stacked"]
    names = [f["name"] for f in doc["features"]]
    listed = [f for feats in st["blocks"].values() for f in feats]
    if sorted(listed) != sorted(names) or len(set(listed)) != len(listed):
        msg = (
            f"{source}: invalid panel at $.model.stacked.blocks: the blocks must list each of "
            "$.features exactly once; re-export the panel"
        )
        raise PanelFormatError(msg)
    blocks = set(st["blocks"])
    if set(st["weights"]) != blocks:
        msg = f"{source}: invalid panel at $.model.stacked.weights: one weight per block"
        raise PanelFormatError(msg)
    for i, pattern in enumerate(st["patterns"]):
        if not set(pattern["available"]) <= blocks:
            msg = (
                f"{source}: invalid panel at $.model.stacked.patterns[{i}]: unknown block(s) "
                f"{sorted(set(pattern['available']) - blocks)}"
            )
            raise PanelFormatError(msg)
    if not set(st["state"].get("blocks") or {}) <= blocks:
        msg = f"{source}: invalid panel at $.model.stacked.state.blocks: blocks not in $.model.stacked.blocks"
        raise PanelFormatError(msg)
