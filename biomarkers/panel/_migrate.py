"""Reading older ``panel.json`` formats: migrate a document in memory to the current version.

A version-1 panel (written before stacked models existed) is verified as it was written (its
checksum and signature cover its own bytes), then migrated in memory: ``format_version``
becomes 2 and ``migrated_from`` records the version the file was written in. Version 2 only
adds to version 1, so nothing else changes and the panel scores exactly as before.

The checksum is a panel's identity (lineage and evaluations name it), so it survives the
migration: the checksum of a migrated document is computed on the document as originally
written (:func:`as_written`). Writing a migrated panel again (:func:`biomarkers.panel.upgrade_panel`) gives a
version-2 file with the same checksum.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["MIGRATED_FROM", "as_written", "migrate"]

#: Key of a migrated document that records the version its file was written in.
MIGRATED_FROM = "migrated_from"


def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 2 adds the optional stacked model; a version-1 document is already valid."""
    return {**doc, "format_version": 2, MIGRATED_FROM: {"format_version": 1}}


#: format_version → the step that takes a document of that version one version up.
_STEPS = {1: _v1_to_v2}


def migrate(doc: dict[str, Any]) -> dict[str, Any]:
    """Return ``doc`` migrated to the current format version (``doc`` itself if it is current).

    Parameters
    ----------
    doc
        A validated panel document of a version this biomarkers reads.

    Returns
    -------
    dict
        A new document at the current version (``migrated_from`` says which version the file
        was written in), or ``doc`` unchanged when it already is at the current version.
    """
    version = doc.get("format_version")
    if version not in _STEPS:
        return doc
    out = copy.deepcopy(doc)
    while out["format_version"] in _STEPS:
        first = out.get(MIGRATED_FROM)
        out = _STEPS[out["format_version"]](out)
        if first is not None:  # a chain of steps keeps the version the file was written in
            out[MIGRATED_FROM] = first
    return out


def as_written(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as its file was first written: a migrated one back at its first version.

    Its checksum is the panel's identity, unchanged by migration. Version 2 is version 1 plus
    optional content, so going back is exact for a document migrated from version 1.
    """
    origin = doc.get(MIGRATED_FROM)
    if not isinstance(origin, dict):
        return doc
    body = {k: v for k, v in doc.items() if k != MIGRATED_FROM}
    return {**body, "format_version": origin.get("format_version")}
