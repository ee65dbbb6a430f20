"""Lineage of updated panels: a child names its parent's checksum; the chain verifies on read.

An updated panel (``panel.evaluate(...).updated_panel``) carries ``version`` (parent's + 1) and
``lineage``: the parent's checksum, name, version and creation time, the update step and its
evidence, and ``ancestors`` (the checksums of every earlier version, oldest first). Its folder
holds a verbatim copy of the parent's ``panel.json`` as ``parent_panel.json``; reading the child
checks that the copy is unmodified and is the parent the lineage names, so editing the parent
breaks the chain.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from biomarkers.exceptions import PanelFormatError
from biomarkers.panel._format import checksum

__all__ = [
    "PARENT_FILE",
    "lineage_block",
    "panel_version",
    "tripod_validation_items",
    "verify_lineage",
]

#: File name of the parent's copy beside an updated panel's ``panel.json``.
PARENT_FILE = "parent_panel.json"


def panel_version(doc: dict[str, Any]) -> int:
    """Version of a panel document (panels written before versions existed are version 1)."""
    return int(doc.get("version") or 1)


def lineage_block(parent: dict[str, Any], *, step: str, evidence: dict[str, Any]) -> dict[str, Any]:
    """The ``lineage`` of a child of ``parent`` made by update ``step``."""
    earlier = (parent.get("lineage") or {}).get("ancestors") or []
    return {
        "parent_checksum": parent["checksum"],
        "parent_name": parent["name"],
        "parent_version": panel_version(parent),
        "parent_created": parent["created"],
        "ancestors": [*earlier, parent["checksum"]],
        "update": step,
        "evidence": evidence,
    }


def verify_lineage(child: dict[str, Any], parent: dict[str, Any], *, source: str) -> None:
    """Raise :class:`PanelFormatError` unless ``parent`` is the unmodified parent of ``child``."""
    lineage = child.get("lineage")
    if not lineage:
        msg = f"{source}: the panel has no lineage (it is not an updated panel)"
        raise PanelFormatError(msg)
    actual = checksum(parent)
    if parent.get("checksum") != actual:
        msg = (
            f"{source}: lineage broken: the parent panel {parent.get('name')!r} was modified "
            f"after export (its content no longer matches its checksum); restore the parent"
        )
        raise PanelFormatError(msg)
    if actual != lineage["parent_checksum"]:
        msg = (
            f"{source}: lineage broken: the parent given has checksum {actual[:19]}… but the "
            f"panel was updated from {lineage['parent_checksum'][:19]}…; pass the original parent"
        )
        raise PanelFormatError(msg)
    earlier = (parent.get("lineage") or {}).get("ancestors") or []
    if list(lineage.get("ancestors") or []) != [*earlier, actual]:
        msg = f"{source}: lineage broken: the ancestors listed do not continue the parent's chain"
        raise PanelFormatError(msg)


def _read_json(path: Path) -> dict[str, Any]:
    from biomarkers.panel._format import validate_document

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        msg = f"{path}: cannot read the parent panel ({' '.join(str(err).split())})"
        raise PanelFormatError(msg) from None
    validate_document(doc, source=str(path))
    return doc


def check_on_read(
    doc: dict[str, Any], path: str | Path, *, parent: Any = None
) -> dict[str, Any] | None:
    """Verify an updated panel's link to its parent when the parent is at hand.

    The parent is ``parent`` (a panel folder, its ``panel.json`` or a ``BiomarkerPanel``) or
    else the ``parent_panel.json`` beside ``path``; returns the parent document (``None`` for a
    panel without lineage, or when no parent copy is found).
    """
    if not doc.get("lineage"):
        if parent is not None:
            verify_lineage(doc, {}, source=str(path))
        return None
    if parent is not None:
        if hasattr(parent, "to_dict"):
            parent_doc = parent.to_dict()
        else:
            p = Path(parent)
            parent_doc = _read_json(p / "panel.json" if p.is_dir() else p)
    else:
        p = Path(path)
        copy = (p if p.is_dir() else p.parent) / PARENT_FILE
        if not copy.is_file():
            return None
        parent_doc = _read_json(copy)
    verify_lineage(doc, parent_doc, source=str(path))
    return parent_doc


def tripod_validation_items(doc: dict[str, Any]) -> dict[str, str]:
    """TRIPOD+AI items of an external validation, filled from an updated panel's evaluation."""
    ev = doc.get("evaluation")
    if not ev:
        return {}
    metrics = ev.get("metrics") or {}

    def est(name: str) -> str:
        m = metrics.get(name)
        if not m or m.get("estimate") is None:
            return f"{name} –"
        ci = (
            f" ({m['ci_low']:.3g} to {m['ci_high']:.3g})"
            if m.get("ci_low") is not None and m.get("ci_high") is not None
            else ""
        )
        return f"{name} {m['estimate']:.3g}{ci}"

    update = ev.get("update") or {}
    drift = ev.get("drift") or {}
    lineage = doc.get("lineage") or {}
    cohort = ev.get("cohort") or "the evaluation cohort"
    shown = ("auroc", "calibration_in_the_large", "calibration_slope", "oe_ratio", "ici")
    return {
        "12a": (
            f"developed as version {lineage.get('parent_version', '?')} "
            f"({lineage.get('parent_checksum', '?')[:19]}…); evaluated externally on {cohort}"
        ),
        "12e": (
            "AUROC (DeLong CI), calibration-in-the-large, calibration slope, O/E, loess "
            "calibration curve with ICI/E50/E90, decision curve, sensitivity/specificity/PPV/NPV "
            "at the locked threshold (Wilson CIs)"
        ),
        "12f": f"{update.get('method', 'closed testing')}, alpha {update.get('alpha')}",
        "16": "drift of each marker against the stored training summaries: "
        + (", ".join(drift.get("flagged") or []) or "no marker flagged")
        + (f"; lots: {', '.join(drift['flagged_lots'])}" if drift.get("flagged_lots") else ""),
        "20a": f"{ev.get('n_subjects')} evaluated subjects, {ev.get('n_events')} of class 1"
        + (f"; excluded: {ev['excluded']}" if ev.get("excluded") else ""),
        "20c": "case-mix membership AUROC "
        + (
            f"{drift['membership_auroc']:.3f}"
            if drift.get("membership_auroc") is not None
            else "not available"
        ),
        "23a": "; ".join(est(k) for k in shown),
        "23b": "subgroups: " + (", ".join(ev.get("subgroups") or []) or "none pre-specified"),
        "24": f"{update.get('description', '')} (step {update.get('chosen')!r})",
    }
