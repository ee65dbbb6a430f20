"""Config patches shared by the corpus builders (``make_corpus.py`` and ``_cases_*.py``).

Each returns ``patch(cfg) -> cfg`` for the ``patch`` field of a case spec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Patch = Callable[[dict], dict]


def data(key: str, value: Any) -> Patch:
    """Set ``cfg["data"][key]``."""

    def patch(cfg):
        cfg["data"][key] = value
        return cfg

    return patch


def assay(name: str, path: str, fmt: str = "auto") -> Patch:
    """Point the cytokine assay ``name`` at ``path``."""

    def patch(cfg):
        cfg["data"]["cytokines"][name] = {"path": path, "format": fmt}
        return cfg

    return patch


def setkey(dotted: str, value: Any) -> Patch:
    """Set a dotted config key (``models.n_jobs``), creating the sections on the way."""

    def patch(cfg):
        node = cfg
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        return cfg

    return patch


def clinical(content: str | bytes, name: str = "clinical.csv") -> dict:
    """A case whose clinical file is ``content``."""
    return {"files": {name: content}, "patch": data("clinical", name)}
