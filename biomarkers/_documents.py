"""Reading the versioned JSON document of a saved result folder (one check for every result)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from biomarkers.exceptions import InputFileError

__all__ = ["read_document"]


def read_document(
    folder: Path, name: str, *, fmt: str, version: int, writer: str
) -> dict[str, Any]:
    """``folder / name`` as JSON, refused unless it is ``fmt`` at ``version``.

    Parameters
    ----------
    folder
        The result folder.
    name
        The document's file name (``settings.json``, ``uplift.json`` ...).
    fmt, version
        The ``format`` and ``format_version`` the document must carry.
    writer
        What writes such folders (``"DiscoveryResult.save()"``), named in the error.

    Returns
    -------
    dict
        The document.
    """
    path = folder / name
    if not path.is_file():
        msg = f"{folder}: no {name}; not a folder written by {writer}"
        raise InputFileError(msg)
    doc = json.loads(path.read_text())
    if doc.get("format") != fmt or doc.get("format_version") != version:
        msg = (
            f"{path}: format {doc.get('format')!r} version {doc.get('format_version')!r}; "
            f"expected {fmt!r} {version}"
        )
        raise InputFileError(msg)
    return doc
