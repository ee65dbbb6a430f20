"""Reading and validating ``panel.json``: plain JSON only, checked against the shipped schema."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from biomarkers.exceptions import InputFileError, PanelFormatError
from biomarkers.exceptions import one_line as _one_line  # the one truncation helper

__all__ = ["FORMAT", "FORMAT_VERSION", "checksum", "load_document", "schema", "validate_document"]

FORMAT = "biomarkers.panel"
FORMAT_VERSION = 1
_MAX_BYTES = 256 * 1024 * 1024


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema of ``panel.json`` shipped with the package."""
    text = resources.files("biomarkers.panel").joinpath("panel.schema.json").read_text("utf-8")
    return json.loads(text)


def checksum(doc: dict[str, Any]) -> str:
    """``sha256:`` of the canonical JSON of ``doc`` without its ``checksum`` field."""
    body = {k: v for k, v in doc.items() if k != "checksum"}
    text = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    if version != FORMAT_VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            hint = f"it is newer than this biomarkers (reads version {FORMAT_VERSION}); upgrade"
        else:
            hint = f"this biomarkers reads format_version {FORMAT_VERSION}"
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
    _check_consistency(doc, source=source)


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


def _refuse_constant(name: str) -> None:
    msg = f"non-standard JSON constant {name}"
    raise ValueError(msg)


def load_document(path: str | Path, *, verify_checksum: bool = True) -> dict[str, Any]:
    """Read and validate ``panel.json`` (or a folder holding it) without executing anything."""
    path = Path(path)
    if path.is_dir():
        path = path / "panel.json"
    if not path.is_file():
        msg = f"panel file {str(path)!r} not found; pass the folder written by panel.write() or its panel.json"
        raise InputFileError(msg)
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
        doc = json.loads(text, parse_constant=_refuse_constant)
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
    return doc
