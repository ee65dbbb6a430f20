"""Optional signed panels: HMAC-SHA256 over the canonical panel document.

The ``checksum`` of ``panel.json`` detects accidents, not tampering: anybody who edits a
coefficient can recompute it. A signature can only be recomputed with the key. The key comes
from the environment variable ``BIOMARKERS_PANEL_KEY`` (never from a file the panel names):

* at export, with the key set, ``panel.json`` gets ``"signature": "hmac-sha256:<hex>"``;
* at read, with the key set, a panel whose signature does not match is refused, and so is an
  unsigned panel unless ``BIOMARKERS_ALLOW_UNSIGNED=1`` says that is intended;
* without the key, signatures are written nowhere and not checked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

from biomarkers.exceptions import PanelFormatError

__all__ = [
    "ALLOW_UNSIGNED_ENV",
    "KEY_ENV",
    "UNSIGNED_FIELDS",
    "canonical_bytes",
    "panel_key",
    "sign_document",
    "signature",
    "verify_document",
]

KEY_ENV = "BIOMARKERS_PANEL_KEY"
ALLOW_UNSIGNED_ENV = "BIOMARKERS_ALLOW_UNSIGNED"
_PREFIX = "hmac-sha256:"
#: fields that are not part of the signed content (the checksum hashes the same content)
UNSIGNED_FIELDS = frozenset({"checksum", "signature"})


def canonical_bytes(doc: dict[str, Any]) -> bytes:
    """The canonical JSON (sorted keys, no spaces, UTF-8) of ``doc`` without checksum/signature."""
    body = {k: v for k, v in doc.items() if k not in UNSIGNED_FIELDS}
    text = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def panel_key() -> bytes | None:
    """The signing key from ``BIOMARKERS_PANEL_KEY`` (UTF-8 bytes), or ``None`` when unset."""
    key = os.environ.get(KEY_ENV, "")
    return key.encode("utf-8") if key else None


def signature(doc: dict[str, Any], key: bytes) -> str:
    """``hmac-sha256:<hex>`` of the canonical document under ``key``."""
    return _PREFIX + hmac.new(key, canonical_bytes(doc), hashlib.sha256).hexdigest()


def sign_document(doc: dict[str, Any], *, key: bytes | None = None) -> dict[str, Any]:
    """``doc`` with a ``signature`` when a key is given or configured; else without one.

    Parameters
    ----------
    doc
        A panel document (``BiomarkerPanel.to_dict()``).
    key
        The HMAC key; default :func:`panel_key`.

    Returns
    -------
    A new dict with ``signature`` set, or without ``signature`` when there is no key (a stale
    signature is never written).
    """
    key = key if key is not None else panel_key()
    body = {k: v for k, v in doc.items() if k != "signature"}
    return body if key is None else {**body, "signature": signature(doc, key)}


def verify_document(doc: dict[str, Any], *, source: str, key: bytes | None = None) -> None:
    """Refuse a panel whose signature does not match the configured key (or that has none).

    Without a key (argument or ``BIOMARKERS_PANEL_KEY``) nothing is checked.
    """
    key = key if key is not None else panel_key()
    if key is None:
        return
    found = doc.get("signature")
    if found is None:
        if os.environ.get(ALLOW_UNSIGNED_ENV, "") == "1":
            return
        msg = (
            f"{source}: the panel is not signed but {KEY_ENV} is set; re-export it with the key "
            f"set, or set {ALLOW_UNSIGNED_ENV}=1 to accept unsigned panels"
        )
        raise PanelFormatError(msg)
    if not (isinstance(found, str) and hmac.compare_digest(found, signature(doc, key))):
        msg = (
            f"{source}: signature mismatch: the panel was changed after it was signed, or it was "
            f"signed with another key; use the original panel.json or the right {KEY_ENV}"
        )
        raise PanelFormatError(msg)
