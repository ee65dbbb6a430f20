"""Analyte synonyms: match a panel's markers to the spellings of another vendor's export.

The table ``analyte_synonyms.csv`` (shipped with the package) maps vendor spellings (``IL-6``,
``TNF-α``, ``IFN-γ``, ``MCP-1``) to the HGNC symbol (``IL6``, ``TNF``, ``IFNG``, ``CCL2``).
Spellings are compared after Unicode NFKC normalisation, case folding, Greek letters written
out (``α`` → ``alpha``) and with spaces, dashes, dots and underscores removed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from importlib import resources

import pandas as pd

from biomarkers._names import is_feature_name, parse_feature_name
from biomarkers._validation import format_ids
from biomarkers.exceptions import SchemaError

__all__ = ["match_markers"]

_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "κ": "kappa", "μ": "mu"}
_DROP = str.maketrans("", "", " -_.,/'’()")


def _spelling_key(name: str) -> str:
    """``IL-6``, ``il 6``, ``ＩＬ６`` → ``il6``; ``TNF-α`` → ``tnfalpha``."""
    text = unicodedata.normalize("NFKC", str(name)).casefold()
    for letter, word in _GREEK.items():
        text = text.replace(letter, word)
    return text.translate(_DROP)


@cache
def _symbols() -> dict[str, str]:
    """Spelling key → HGNC symbol, from the shipped table (one symbol per spelling)."""
    with (
        resources.files("biomarkers.panel")
        .joinpath("analyte_synonyms.csv")
        .open(encoding="utf-8") as fh
    ):
        table = pd.read_csv(fh, dtype=str)
    out: dict[str, str] = {}
    for symbol, synonym in zip(table["symbol"], table["synonym"], strict=True):
        key = _spelling_key(synonym)
        if out.setdefault(key, symbol) != symbol:  # a shipped-table bug, caught by its test
            msg = f"analyte_synonyms.csv: {synonym!r} is listed for {out[key]} and {symbol}"
            raise RuntimeError(msg)
    return out


def _canonical(name: str) -> str | None:
    """The feature name with its analyte replaced by the HGNC symbol (None: not a known analyte)."""
    if not is_feature_name(name):
        return None
    parsed = parse_feature_name(name)
    symbol = _symbols().get(_spelling_key(parsed.entity))
    return None if symbol is None else str(replace(parsed, entity=symbol))


def match_markers(wanted: Iterable[str], available: Iterable[str]) -> dict[str, str]:
    """Match markers absent from a table to the same analyte under another spelling.

    Two names match when modality, cell type and visit part are identical and the analytes are
    synonyms in the shipped table (vendor spellings, Greek letters, HGNC symbols; e.g.
    ``cytokine:IL6@D0`` and ``cytokine:IL-6@D0``, ``cytokine:TNFa@D7`` and
    ``cytokine:TNF-α@D7``, ``cytokine:IL8@D0`` and ``cytokine:CXCL8@D0``).

    Parameters
    ----------
    wanted
        Marker names needed (e.g. a panel's features).
    available
        Column names of the table at hand.

    Returns
    -------
    dict
        Wanted name → available name, only for wanted names that are not in ``available`` and
        have exactly one synonym there.

    Raises
    ------
    SchemaError
        Several columns of ``available`` are spellings of one wanted marker.

    Examples
    --------
    >>> from biomarkers.panel import match_markers
    >>> match_markers(["cytokine:IL6@D0", "cytokine:TNFa@D0"], ["cytokine:IL-6@D0", "cytokine:TNF-α@D0"])
    {'cytokine:IL6@D0': 'cytokine:IL-6@D0', 'cytokine:TNFa@D0': 'cytokine:TNF-α@D0'}
    """
    available = [str(a) for a in available]
    present = set(available)
    by_canonical: dict[str, list[str]] = {}
    for name in available:
        key = _canonical(name)
        if key is not None:
            by_canonical.setdefault(key, []).append(name)
    out: dict[str, str] = {}
    for name in wanted:
        if name in present:
            continue
        found = by_canonical.get(_canonical(name) or "", [])
        if len(found) > 1:
            msg = (
                f"marker {name!r} matches several columns {format_ids(found)} through analyte "
                "synonyms; keep one of them (or rename it to the panel's spelling)"
            )
            raise SchemaError(msg)
        if found:
            out[name] = found[0]
    return out
